// Reverse-over-reverse: the gradient of w . grad f(x) is H w (inner gradient through
// __enzyme_autodiff inside a function differentiated by __enzyme_autodiff).
#include "common_f.h"

void __enzyme_autodiff(void *, ...);

static double wgrad(double *x, double *w, int n) {
  double g[N];
  for (int i = 0; i < n; i++) g[i] = 0.0;
#ifdef ADCC_SELFTEST
  grad_an(x, g, n);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, g, enzyme_const, n);
#endif
  double s = 0;
  for (int i = 0; i < n; i++) s += w[i] * g[i];
  return s;
}

static double wg(double *x, void *w) { return wgrad(x, (double *)w, N); }

int main(void) {
  e2e_begin("higher/rev_over_rev");
  double x[N], w[N], hw[N] = {0}, want[N];
  for (int i = 0; i < N; i++) { x[i] = X0[i]; w[i] = V0[i]; }
#ifdef ADCC_SELFTEST
  hvp_an(x, w, hw, N);
#else
  __enzyme_autodiff((void *)wgrad, enzyme_dup, x, hw, enzyme_const, w, enzyme_const, N);
#endif
  hvp_an(x, w, want, N);
  for (int i = 0; i < N; i++) {
    check_an("Hw", i, hw[i], want[i]);
    check_fd("Hw", i, hw[i], fdv(wg, x, i, w));
  }
  return e2e_finish();
}
