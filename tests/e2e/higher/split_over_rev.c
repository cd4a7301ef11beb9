// Split mode over reverse mode: __enzyme_augmentfwd / __enzyme_reverse of w . grad g(x), where the
// inner gradient is __enzyme_autodiff; several tapes alive, reversed in the other order.
#include "common_s.h"

int main(void) {
  e2e_begin("higher/split_over_rev");
  double x[2][N], w[N], hw[2][N] = {{0}}, want[N];
  memcpy(x[0], X0, sizeof x[0]);
  for (int i = 0; i < N; i++) x[1][i] = X0[i] * 0.5 - 0.1;
  memcpy(w, V0, sizeof w);
#ifdef ADCC_SELFTEST
  g_hvp_an(x[0], w, hw[0], N);
  g_hvp_an(x[1], w, hw[1], N);
#else
  void *t0 = __enzyme_augmentfwd((void *)g_wgrad, enzyme_dup, x[0], hw[0], enzyme_const, w, enzyme_const, N);
  void *t1 = __enzyme_augmentfwd((void *)g_wgrad, enzyme_dup, x[1], hw[1], enzyme_const, w, enzyme_const, N);
  __enzyme_reverse((void *)g_wgrad, enzyme_dup, x[0], hw[0], enzyme_const, w, enzyme_const, N, 1.0, t0);
  __enzyme_reverse((void *)g_wgrad, enzyme_dup, x[1], hw[1], enzyme_const, w, enzyme_const, N, 1.0, t1);
#endif
  for (int k = 0; k < 2; k++) {
    g_hvp_an(x[k], w, want, N);
    for (int i = 0; i < N; i++) {
      check_an("Hw", k * N + i, hw[k][i], want[i]);
      check_fd("Hw", k * N + i, hw[k][i], fdv(g_wgrad_v, x[k], i, w));
    }
  }
  return e2e_finish();
}
