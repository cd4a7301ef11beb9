// Memory allocated by a helper through a `void **` (and a `double **`) out-parameter, then filled
// with memcpy (#9: forward mode lost the tangent, reverse mode the adjoint): the slot that
// receives the pointer gets a shadow, so the helper's shadow allocation reaches the caller.
#include "both.h"

static __attribute__((noinline)) int make(void **out, size_t n) {
  *out = malloc(n);
  return *out != NULL;
}

static __attribute__((noinline)) void make_pair(double **a, double **b, int n) {
  *a = (double *)calloc((size_t)n, sizeof(double));
  *b = (double *)malloc((size_t)n * sizeof(double));
}

static double fill(double *x) {
  double *t;
  if (!make((void **)&t, 3 * sizeof(double))) return 0;
  memcpy(t, x, 3 * sizeof(double));
  double s = 0;
  for (int i = 0; i < 3; i++) s += t[i] * t[i] * (i + 1);
  free(t);
  return s;
}
DECLARE_FD(fill)

static double pair(double *x) {
  double *a, *b;
  make_pair(&a, &b, 3);
  for (int i = 0; i < 3; i++) { a[i] += x[i]; b[i] = sin(a[i]); }
  double s = b[0] * b[1] + b[2];
  free(a);
  free(b);
  return s;
}
DECLARE_FD(pair)

int main(void) {
  e2e_begin("memory/outparam_alloc");
  double x[3] = {1.0, 0.5, -0.75};
  double g[3] = {2 * x[0], 4 * x[1], 6 * x[2]};
  CHECK_BOTH(fill, x, 3, g);
  double gp[3] = {cos(x[0]) * sin(x[1]), sin(x[0]) * cos(x[1]), cos(x[2])};
  CHECK_BOTH(pair, x, 3, gp);
  return e2e_finish();
}
