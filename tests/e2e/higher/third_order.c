// Third order: forward mode over reverse over reverse. The directional derivative along u of
// H(x) w (H w as the gradient of w . grad g) is the third derivative T[u, w].
#include "common_s.h"

void __enzyme_fwddiff(void *, ...);

static void hw(double *x, double *w, double *out, int n) {
  for (int i = 0; i < n; i++) out[i] = 0.0;
#ifdef ADCC_SELFTEST
  g_hvp_an(x, w, out, n);
#else
  __enzyme_autodiff((void *)g_wgrad, enzyme_dup, x, out, enzyme_const, w, enzyme_const, n);
#endif
}

int main(void) {
  e2e_begin("higher/third_order");
  double x[N], u[N], w[N], out[N], t[N] = {0}, want[N];
  memcpy(x, X0, sizeof x);
  memcpy(u, U0, sizeof u);
  memcpy(w, V0, sizeof w);
#ifdef ADCC_SELFTEST
  hw(x, w, out, N);
  g_third_an(x, u, w, t, N);
#else
  __enzyme_fwddiff((void *)hw, enzyme_dup, x, u, enzyme_const, w, enzyme_dup, out, t, enzyme_const, N);
#endif
  g_third_an(x, u, w, want, N);
  double hw0[N];
  g_hvp_an(x, w, hw0, N);
  for (int i = 0; i < N; i++) {
    g_ctx ctx = {i, w};
    check_an("Hw", i, out[i], hw0[i]);
    check_an("T[u,w]", i, t[i], want[i]);
    check_fd("T[u,w]", i, t[i], fd_dir(g_hvp_k, x, u, N, &ctx));
  }
  return e2e_finish();
}
