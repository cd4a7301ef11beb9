// Windows C++ exceptions (funclets: catchswitch, catchpad, cleanuppad, catchret, cleanupret)
// and SEH, compiled for x86_64-pc-windows-msvc without any headers.
// ir-corpus-flags: --target=x86_64-pc-windows-msvc -fms-extensions -fcxx-exceptions -fexceptions
// ir-corpus: -O0 -fasync-exceptions
struct Guard { int *p; explicit Guard(int *q) : p(q) { ++*p; } ~Guard() { --*p; } };
void may_throw(int n) { if (n > 3) throw n; }
double catching(double x, int n) {
  int live = 0;
  try {
    Guard g(&live);
    may_throw(n);
    return x * 2 + live;
  } catch (int k) {
    return x - k;
  } catch (...) {
    throw;
  }
}
int seh(int *p) {
  __try {
    return *p;
  } __except (1) {
    return -1;
  }
}
