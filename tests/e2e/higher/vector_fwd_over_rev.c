// Vector forward mode over reverse mode: __enzyme_fwddiff with enzyme_width 3 of a gradient
// (__enzyme_autodiff) gives three Hessian-vector products in one call.
#include "common_s.h"

void __enzyme_fwddiff(void *, ...);

int main(void) {
  e2e_begin("higher/vector_fwd_over_rev");
  double x[N], v[3][N], gr[N], hv[3][N] = {{0}}, want[N];
  memcpy(x, X0, sizeof x);
  for (int i = 0; i < N; i++) {
    v[0][i] = V0[i];
    v[1][i] = U0[i];
    v[2][i] = i == 2 ? 1.0 : 0.0;
  }
#ifdef ADCC_SELFTEST
  g_grad(x, gr, N);
  for (int k = 0; k < 3; k++) g_hvp_an(x, v[k], hv[k], N);
#else
  __enzyme_fwddiff((void *)g_grad, enzyme_width, 3, enzyme_dup, x, v[0], v[1], v[2],
                   enzyme_dup, gr, hv[0], hv[1], hv[2], enzyme_const, N);
#endif
  for (int k = 0; k < 3; k++) {
    g_hvp_an(x, v[k], want, N);
    for (int i = 0; i < N; i++) {
      g_ctx ctx = {i, NULL};
      check_an("Hv", k * N + i, hv[k][i], want[i]);
      check_fd("Hv", k * N + i, hv[k][i], fd_dir(g_grad_k, x, v[k], N, &ctx));
    }
  }
  return e2e_finish();
}
