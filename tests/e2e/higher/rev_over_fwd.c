// Hessian-vector product by reverse-over-forward: the gradient (__enzyme_autodiff) of a directional
// derivative (__enzyme_fwddiff) is H v.
#include "common_f.h"

double __enzyme_fwddiff(void *, ...);
void __enzyme_autodiff(void *, ...);

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
  e2e_begin("higher/rev_over_fwd");
  double x[N], v[N], hv[N] = {0}, want[N];
  for (int i = 0; i < N; i++) { x[i] = X0[i]; v[i] = V0[i]; }
#ifdef ADCC_SELFTEST
  hvp_an(x, v, hv, N);
#else
  __enzyme_autodiff((void *)dirderiv, enzyme_dup, x, hv, enzyme_const, v, enzyme_const, N);
#endif
  hvp_an(x, v, want, N);
  for (int i = 0; i < N; i++) {
    check_an("Hv", i, hv[i], want[i]);
    check_fd("Hv", i, hv[i], fdv(dd, x, i, v));
  }
  return e2e_finish();
}
