// Reverse over split mode: the gradient (__enzyme_autodiff) of w . grad g(x), where grad g is
// computed by __enzyme_augmentfwd and __enzyme_reverse with a heap tape, is H w.
#include "common_s.h"

void *__enzyme_augmentfwd(void *, ...);
void __enzyme_reverse(void *, ...);
void __enzyme_autodiff(void *, ...);

static double wgrad(double *x, double *w, int n) {
  double gr[N];
  for (int i = 0; i < n; i++) gr[i] = 0.0;
#ifdef ADCC_SELFTEST
  g_grad_an(x, gr, n);
#else
  void *tape = __enzyme_augmentfwd((void *)g, enzyme_dup, x, gr, enzyme_const, C0, enzyme_const, n);
  __enzyme_reverse((void *)g, enzyme_dup, x, gr, enzyme_const, C0, enzyme_const, n, 1.0, tape);
#endif
  double s = 0.0;
  for (int i = 0; i < n; i++) s += w[i] * gr[i];
  return s;
}

static double wg(double *x, void *w) { return wgrad(x, (double *)w, N); }

int main(void) {
  e2e_begin("higher/rev_over_split");
  double x[N], w[N], hw[N] = {0}, want[N];
  memcpy(x, X0, sizeof x);
  memcpy(w, V0, sizeof w);
#ifdef ADCC_SELFTEST
  g_hvp_an(x, w, hw, N);
#else
  __enzyme_autodiff((void *)wgrad, enzyme_dup, x, hw, enzyme_const, w, enzyme_const, N);
#endif
  g_hvp_an(x, w, want, N);
  for (int i = 0; i < N; i++) {
    check_an("Hw", i, hw[i], want[i]);
    check_fd("Hw", i, hw[i], fdv(wg, x, i, w));
  }
  return e2e_finish();
}
