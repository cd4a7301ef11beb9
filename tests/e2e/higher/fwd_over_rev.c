// Hessian-vector product by forward-over-reverse: __enzyme_fwddiff of a function that calls
// __enzyme_autodiff (the standard HVP), checked against the analytic Hessian and against finite
// differences of the gradient.
#include "common_f.h"

void __enzyme_autodiff(void *, ...);
void __enzyme_fwddiff(void *, ...);

static void grad(double *x, double *g, int n) {
  for (int i = 0; i < n; i++) g[i] = 0.0;
#ifdef ADCC_SELFTEST
  grad_an(x, g, n);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, g, enzyme_const, n);
#endif
}

static double grad_k(double *x, void *k) { double g[N]; grad(x, g, N); return g[*(int *)k]; }

int main(void) {
  e2e_begin("higher/fwd_over_rev");
  double x[N], v[N], g[N], hv[N] = {0}, want[N];
  for (int i = 0; i < N; i++) { x[i] = X0[i]; v[i] = V0[i]; }
#ifdef ADCC_SELFTEST
  grad(x, g, N);
  hvp_an(x, v, hv, N);
#else
  __enzyme_fwddiff((void *)grad, enzyme_dup, x, v, enzyme_dup, g, hv, enzyme_const, N);
#endif
  hvp_an(x, v, want, N);
  double gw[N];
  grad_an(x, gw, N);
  for (int i = 0; i < N; i++) {
    check_an("g", i, g[i], gw[i]);
    check_an("Hv", i, hv[i], want[i]);
    check_fd("Hv", i, hv[i], fd_dir(grad_k, x, v, N, &i));
  }
  return e2e_finish();
}
