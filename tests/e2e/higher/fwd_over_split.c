// Hessian-vector products by forward mode over a gradient computed in split mode: the tape is a
// heap object (void *) in one gradient, a caller's stack buffer (enzyme_allocated) in the other.
#include "common_s.h"

void __enzyme_fwddiff(void *, ...);

static void grad_buffer(double *x, double *gr, int n) {
  for (int i = 0; i < n; i++) gr[i] = 0.0;
#ifdef ADCC_SELFTEST
  g_grad_an(x, gr, n);
#else
  _Alignas(16) char buffer[128];
  __enzyme_augmentfwd((void *)g, enzyme_allocated, sizeof buffer, enzyme_tape, buffer,
                      enzyme_dup, x, gr, enzyme_const, C0, enzyme_const, n);
  __enzyme_reverse((void *)g, enzyme_allocated, sizeof buffer, enzyme_tape, buffer,
                   enzyme_dup, x, gr, enzyme_const, C0, enzyme_const, n, 1.0);
#endif
}

int main(void) {
  e2e_begin("higher/fwd_over_split");
  double x[N], v[N], gr[N], hv[N], want[N], gw[N];
  memcpy(x, X0, sizeof x);
  memcpy(v, V0, sizeof v);
  g_hvp_an(x, v, want, N);
  g_grad_an(x, gw, N);
  for (int variant = 0; variant < 2; variant++) {
    memset(hv, 0, sizeof hv);
#ifdef ADCC_SELFTEST
    (variant ? grad_buffer : g_grad_split)(x, gr, N);
    g_hvp_an(x, v, hv, N);
#else
    if (variant)
      __enzyme_fwddiff((void *)grad_buffer, enzyme_dup, x, v, enzyme_dup, gr, hv, enzyme_const, N);
    else
      __enzyme_fwddiff((void *)g_grad_split, enzyme_dup, x, v, enzyme_dup, gr, hv, enzyme_const, N);
#endif
    for (int i = 0; i < N; i++) {
      g_ctx ctx = {i, NULL};
      check_an(variant ? "g (buffer)" : "g (heap)", i, gr[i], gw[i]);
      check_an(variant ? "Hv (buffer)" : "Hv (heap)", i, hv[i], want[i]);
      check_fd(variant ? "Hv (buffer)" : "Hv (heap)", i, hv[i], fd_dir(g_grad_k, x, v, N, &ctx));
    }
  }
  return e2e_finish();
}
