// Forward-over-forward: u^T H v as the directional derivative (along u) of a directional derivative
// (along v), both by __enzyme_fwddiff.
#include "common_f.h"

double __enzyme_fwddiff(void *, ...);

static double dirderiv(double *x, double *v, int n) {
#ifdef ADCC_SELFTEST
  double g[N];
  grad_an(x, g, n);
  double s = 0;
  for (int i = 0; i < n; i++) s += g[i] * v[i];
  return s;
#else
  return __enzyme_fwddiff((void *)f, enzyme_dup, x, v, enzyme_const, n);
#endif
}

static double dd(double *x, void *v) { return dirderiv(x, (double *)v, N); }

int main(void) {
  e2e_begin("higher/fwd_over_fwd");
  double x[N], v[N], u[N] = {0.2, -0.7, 1.1, 0.4, 0.9}, hv[N];
  for (int i = 0; i < N; i++) { x[i] = X0[i]; v[i] = V0[i]; }
  hvp_an(x, v, hv, N);
  double want = 0;
  for (int i = 0; i < N; i++) want += u[i] * hv[i];
#ifdef ADCC_SELFTEST
  double got = want;
#else
  double got = __enzyme_fwddiff((void *)dirderiv, enzyme_dup, x, u, enzyme_const, v, enzyme_const, N);
#endif
  check_an("uHv", 0, got, want);
  check_fd("uHv", 0, got, fd_dir(dd, x, u, N, v));
  return e2e_finish();
}
