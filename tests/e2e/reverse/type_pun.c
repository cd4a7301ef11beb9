// Reverse mode through doubles moved as 64-bit integers (memcpy type punning, which -O2 turns into
// i64 loads/stores and a bitcast) and struct assignment with an int field: type analysis must see
// the integers as doubles, or the gradient silently drops those paths.
#include "../e2e.h"
#include <stdint.h>

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

typedef struct { double a; int k; double b; } S;
#define N 4

static double f(const S *in, S *tmp, double *out, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) {
    tmp[i] = in[i];
    uint64_t bits;
    memcpy(&bits, &tmp[i].b, 8);
    memcpy(&out[i], &bits, 8);
    s += tmp[i].a * out[i] + sin(out[i]);
  }
  return s;
}

static double fv(double *v, void *p) {
  (void)p;
  S in[N], tmp[N];
  double out[N];
  for (int i = 0; i < N; i++) { in[i].a = v[2 * i]; in[i].k = i; in[i].b = v[2 * i + 1]; }
  return f(in, tmp, out, N);
}

int main(void) {
  e2e_begin("reverse/type_pun");
  volatile int vn = N;
  int n = vn;
  S in[N], din[N], tmp[N], dtmp[N];
  double out[N], dout[N], v[2 * N];
  memset(din, 0, sizeof din);
  memset(dtmp, 0, sizeof dtmp);
  memset(dout, 0, sizeof dout);
  for (int i = 0; i < N; i++) {
    in[i].a = 0.3 + i; in[i].k = i; in[i].b = 1.1 - 0.4 * i;
    v[2 * i] = in[i].a; v[2 * i + 1] = in[i].b;
  }
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) { din[i].a += in[i].b; din[i].b += in[i].a + cos(in[i].b); }
#else
  __enzyme_autodiff((void *)f, enzyme_dup, in, din, enzyme_dup, tmp, dtmp, enzyme_dup, out, dout, enzyme_const, n);
#endif
  for (int i = 0; i < N; i++) {
    check_an("da", i, din[i].a, in[i].b);
    check_an("db", i, din[i].b, in[i].a + cos(in[i].b));
    check_fd("da", i, din[i].a, fdv(fv, v, 2 * i, 0));
    check_fd("db", i, din[i].b, fdv(fv, v, 2 * i + 1, 0));
  }
  return e2e_finish();
}
