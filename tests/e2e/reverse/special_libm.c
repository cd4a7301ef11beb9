// Reverse mode through erf, erfc, cbrt, hypot, expm1 and log1p combined in one function over a
// dup array (cbrt of a negative value, hypot of two active entries). No activity markers.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);

#define N 7

static double f(const double *x) {
  return erf(x[0]) * x[1] + erfc(x[1] * x[2]) + cbrt(x[2]) * x[3] + hypot(x[3], x[4]) +
         expm1(x[5] * x[0]) + log1p(x[6] * x[6]) * x[5];
}

static void df(const double *x, double *g) {
  const double c = 2.0 / sqrt(3.14159265358979323846);
  g[0] += c * exp(-x[0] * x[0]) * x[1] + exp(x[5] * x[0]) * x[5];
  g[1] += erf(x[0]) - c * exp(-x[1] * x[1] * x[2] * x[2]) * x[2];
  g[2] += -c * exp(-x[1] * x[1] * x[2] * x[2]) * x[1] + x[3] / (3.0 * cbrt(x[2]) * cbrt(x[2]));
  double h = hypot(x[3], x[4]);
  g[3] += cbrt(x[2]) + x[3] / h;
  g[4] += x[4] / h;
  g[5] += exp(x[5] * x[0]) * x[0] + log1p(x[6] * x[6]);
  g[6] += 2.0 * x[6] / (1.0 + x[6] * x[6]) * x[5];
}

static double fv(double *v, void *p) { (void)p; return f(v); }

int main(void) {
  e2e_begin("reverse/special_libm");
  double x[N] = {0.4, -0.8, -1.7, 1.2, -0.5, 0.3, 2.1}, dx[N] = {0}, want[N] = {0};
  df(x, want);
#ifdef ADCC_SELFTEST
  df(x, dx);
#else
  __enzyme_autodiff((void *)f, x, dx);
#endif
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  return e2e_finish();
}
