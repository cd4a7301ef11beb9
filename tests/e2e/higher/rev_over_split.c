// Reverse over split mode: the gradient (__enzyme_autodiff) of w . grad g(x), where grad g is
// computed by __enzyme_augmentfwd and __enzyme_reverse with a heap tape, is H w.
#include "common_s.h"

static double wg(double *x, void *w) { return g_wgrad_split(x, (double *)w, N); }

int main(void) {
  e2e_begin("higher/rev_over_split");
  double x[N], w[N], hw[N] = {0}, want[N];
  memcpy(x, X0, sizeof x);
  memcpy(w, V0, sizeof w);
#ifdef ADCC_SELFTEST
  g_hvp_an(x, w, hw, N);
#else
  __enzyme_autodiff((void *)g_wgrad_split, enzyme_dup, x, hw, enzyme_const, w, enzyme_const, N);
#endif
  g_hvp_an(x, w, want, N);
  for (int i = 0; i < N; i++) {
    check_an("Hw", i, hw[i], want[i]);
    check_fd("Hw", i, hw[i], fdv(wg, x, i, w));
  }
  return e2e_finish();
}
