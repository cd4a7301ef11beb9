// __enzyme_batch with derivatives: the batch of a gradient function over two points, and the
// gradient of a function that evaluates g on two points with __enzyme_batch (enzyme_scalar for the
// shared data and count, enzyme_vector for the points).
#include "common_s.h"

typedef struct { double a, b; } Two;
Two __enzyme_batch(void *, ...);
void __enzyme_batch_void(void *, ...);
extern int enzyme_scalar, enzyme_vector;

// g at x and at y, weighted
static double pair(double *x, double *y, int n) {
#ifdef ADCC_SELFTEST
  Two r = {g(x, C0, n), g(y, C0, n)};
#else
  Two r = __enzyme_batch((void *)g, enzyme_width, 2, enzyme_vector, x, y, enzyme_scalar, C0, enzyme_scalar, n);
#endif
  return 2.0 * r.a + 3.0 * r.b;
}

int main(void) {
  e2e_begin("higher/batch_nested");
  double x[N], y[N], gx[N], gy[N], want[N];
  memcpy(x, X0, sizeof x);
  for (int i = 0; i < N; i++) y[i] = U0[i];
#ifdef ADCC_SELFTEST
  g_grad(x, gx, N);
  g_grad(y, gy, N);
#else
  __enzyme_batch_void((void *)g_grad, enzyme_width, 2, enzyme_vector, x, y, enzyme_vector, gx, gy, enzyme_scalar, N);
#endif
  g_grad_an(x, want, N);
  for (int i = 0; i < N; i++) check_an("batch of grad, lane 0", i, gx[i], want[i]);
  g_grad_an(y, want, N);
  for (int i = 0; i < N; i++) check_an("batch of grad, lane 1", i, gy[i], want[i]);
  double dx[N] = {0}, dy[N] = {0};
#ifdef ADCC_SELFTEST
  g_grad_an(x, dx, N);
  g_grad_an(y, dy, N);
  for (int i = 0; i < N; i++) { dx[i] *= 2.0; dy[i] *= 3.0; }
#else
  __enzyme_autodiff((void *)pair, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, N);
#endif
  g_grad_an(x, want, N);
  for (int i = 0; i < N; i++) check_an("grad of batch, x", i, dx[i], 2.0 * want[i]);
  g_grad_an(y, want, N);
  for (int i = 0; i < N; i++) check_an("grad of batch, y", i, dy[i], 3.0 * want[i]);
  check_val("batch value", 0, pair(x, y, N), 2.0 * g(x, C0, N) + 3.0 * g(y, C0, N));
  return e2e_finish();
}
