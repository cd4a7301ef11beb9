// Reverse mode through mutual recursion (two noinline functions calling each other with a
// decreasing int depth). No activity markers: x is an active double (out), k an int (const).
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);

__attribute__((noinline)) static double odd_step(double x, int k);

__attribute__((noinline)) static double even_step(double x, int k) {
  if (k <= 0) return x;
  return 0.5 * x + odd_step(sin(x) * 1.1, k - 1);
}

__attribute__((noinline)) static double odd_step(double x, int k) {
  if (k <= 0) return x * x;
  return even_step(x + 0.2 * x * x, k - 1) * 0.9;
}

static double f(double x, int k) { return even_step(x, k); }

/* Hand-written tangents of the pair. */
static double odd_t(double x, int k, double *d);
static double even_t(double x, int k, double *d) {
  if (k <= 0) { *d = 1.0; return x; }
  double dd, r = odd_t(sin(x) * 1.1, k - 1, &dd);
  *d = 0.5 + dd * cos(x) * 1.1;
  return 0.5 * x + r;
}
static double odd_t(double x, int k, double *d) {
  if (k <= 0) { *d = 2.0 * x; return x * x; }
  double dd, r = even_t(x + 0.2 * x * x, k - 1, &dd);
  *d = 0.9 * dd * (1.0 + 0.4 * x);
  return 0.9 * r;
}

static int kv;
static double fx(double x) { return f(x, kv); }

int main(void) {
  e2e_begin("reverse/mutual_recursion");
  const double xs[4] = {0.4, -0.7, 1.3, 0.05};
  const int ks[4] = {5, 6, 0, 9};
  for (int t = 0; t < 4; t++) {
    volatile int vk = ks[t];
    int k = vk;
    double x = xs[t], want;
    even_t(x, k, &want);
#ifdef ADCC_SELFTEST
    double d = want;
#else
    double d = __enzyme_autodiff((void *)f, x, k);
#endif
    kv = k;
    check_an("dx", t, d, want);
    check_fd("dx", t, d, fd1(fx, x));
  }
  return e2e_finish();
}
