// Reverse mode through a struct that holds a pointer, a double and an int, copied by value
// (a mixed memcpy): the pointer field's shadow must move with the copy, the double's adjoint
// must flow back to the source, the int is inactive.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

typedef struct { double *w; double scale; int n; } layer;
#define N 5

static double f(const layer *in, layer *saved) {
  layer l = *in;      /* struct copy */
  *saved = l;         /* and another one into dup memory */
  double s = 0.0;
  for (int i = 0; i < l.n; i++) s += sin(saved->w[i]) * l.scale * saved->scale;
  return s;
}

static double fv(double *v, void *p) {
  (void)p;
  layer in = {v, v[N], N}, saved;
  return f(&in, &saved);
}

int main(void) {
  e2e_begin("reverse/struct_ptr_copy");
  double v[N + 1], dw[N] = {0};
  for (int i = 0; i < N; i++) v[i] = 0.3 * i - 0.5;
  v[N] = 1.7;
  layer in = {v, v[N], N}, din = {dw, 0.0, 0}, saved, dsaved = {0};
#ifdef ADCC_SELFTEST
  double sumsin = 0.0;
  for (int i = 0; i < N; i++) { dw[i] += cos(v[i]) * v[N] * v[N]; sumsin += sin(v[i]); }
  din.scale += 2.0 * v[N] * sumsin;
#else
  __enzyme_autodiff((void *)f, enzyme_dup, &in, &din, enzyme_dup, &saved, &dsaved);
#endif
  double sumsin2 = 0.0;
  for (int i = 0; i < N; i++) sumsin2 += sin(v[i]);
  for (int i = 0; i < N; i++) {
    check_an("dw", i, dw[i], cos(v[i]) * v[N] * v[N]);
    check_fd("dw", i, dw[i], fdv(fv, v, i, 0));
  }
  check_an("dscale", 0, din.scale, 2.0 * v[N] * sumsin2);
  check_fd("dscale", 0, din.scale, fdv(fv, v, N, 0));
  return e2e_finish();
}
