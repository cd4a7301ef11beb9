// Reverse mode of integer powers: a hand-rolled binary-exponentiation loop (negative exponents
// invert first) and __builtin_powi (llvm.powi), with per-entry exponents from a const int array.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 6

static double ipow(double x, int k) {
  if (k < 0) {
    x = 1.0 / x;
    k = -k;
  }
  double r = 1.0;
  while (k) {
    if (k & 1) r *= x;
    x *= x;
    k >>= 1;
  }
  return r;
}

static double f(const double *x, const int *k, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += ipow(x[i], k[i]) + 0.5 * __builtin_powi(x[i], k[i] + 1);
  return s;
}

static void df(const double *x, const int *k, int n, double *g) {
  for (int i = 0; i < n; i++)
    g[i] += k[i] * pow(x[i], k[i] - 1) + 0.5 * (k[i] + 1) * pow(x[i], k[i]);
}

static const int KS[N] = {7, -3, 0, 1, 12, -6};
static double fv(double *v, void *p) { (void)p; return f(v, KS, N); }

int main(void) {
  e2e_begin("reverse/powi_loop");
  volatile int vn = N;
  int n = vn;
  int k[N];
  double x[N] = {1.1, -0.8, 1.7, -1.4, 0.93, 1.25}, dx[N] = {0}, want[N] = {0};
  for (int i = 0; i < N; i++) k[i] = KS[i];
  df(x, k, n, want);
#ifdef ADCC_SELFTEST
  df(x, k, n, dx);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, k, enzyme_const, n);
#endif
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  return e2e_finish();
}
