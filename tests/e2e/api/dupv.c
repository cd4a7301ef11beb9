// enzyme_dupv / enzyme_dupnoneedv with enzyme_width N: `enzyme_dupv, stride, x, dx` passes one
// shadow buffer whose lane k starts `k * stride` bytes after dx (here: rows of a Jacobian).
#include "../e2e.h"

#define N 4
#define W 3
typedef struct { double lane[W]; } TW;
extern TW __enzyme_fwddiff(void *, ...);
extern void __enzyme_fwddiff_void(void *, ...);
int enzyme_width, enzyme_dupv, enzyme_dupnoneedv, enzyme_const;

/* s = sum_i c_i x_i^2 + x_0 x_{n-1} */
static double energy(const double *x, const double *c, int n) {
  double s = x[0] * x[n - 1];
  for (int i = 0; i < n; i++) s += c[i] * x[i] * x[i];
  return s;
}

/* y_i = x_i * x_{i+1 mod n} */
static void ring(const double *x, double *y, int n) {
  for (int i = 0; i < n; i++) y[i] = x[i] * x[(i + 1) % n];
}

static double cs[N] = {1.0, -0.5, 2.0, 0.25};
static double ev(double *v, void *ctx) { (void)ctx; return energy(v, cs, N); }
static int ring_out;
static double rv(double *v, void *ctx) {
  (void)ctx;
  double y[N];
  ring(v, y, N);
  return y[ring_out];
}

int main(void) {
  e2e_begin("api/dupv");
  double x[N] = {0.3, -1.1, 0.7, 1.6};
  double dx[W][N] = {{0}};
  for (int k = 0; k < W; k++) dx[k][k + 1] = 1.0; /* lane k: d/dx_{k+1} */
  double want[W];
  for (int k = 0; k < W; k++) {
    int i = k + 1;
    want[k] = 2 * cs[i] * x[i] + (i == N - 1 ? x[0] : 0.0);
  }
#ifdef ADCC_SELFTEST
  TW r = {{want[0], want[1], want[2]}};
#else
  TW r = __enzyme_fwddiff((void *)energy, enzyme_width, W, enzyme_dupv, sizeof dx[0], x, dx[0], enzyme_const,
                          cs, enzyme_const, N);
#endif
  for (int k = 0; k < W; k++) {
    check_an("dupv lane", k, r.lane[k], want[k]);
    check_fd("dupv lane", k, r.lane[k], fdv(ev, x, k + 1, 0));
  }
  /* dupnoneedv on the output: every lane's tangent lands in its own row of dy */
  double y[N], dy[W][N];
  memset(dy, 0, sizeof dy);
#ifdef ADCC_SELFTEST
  for (int k = 0; k < W; k++)
    for (int i = 0; i < N; i++) dy[k][i] = dx[k][i] * x[(i + 1) % N] + x[i] * dx[k][(i + 1) % N];
#else
  __enzyme_fwddiff_void((void *)ring, enzyme_width, W, enzyme_dupv, sizeof dx[0], x, dx[0], enzyme_dupnoneedv,
                        sizeof dy[0], y, dy[0], enzyme_const, N);
#endif
  for (int k = 0; k < W; k++)
    for (int i = 0; i < N; i++) {
      ring_out = i;
      double an = dx[k][i] * x[(i + 1) % N] + x[i] * dx[k][(i + 1) % N];
      check_an("dupnoneedv row", k * N + i, dy[k][i], an);
      check_fd("dupnoneedv row", k * N + i, dy[k][i], fdv(rv, x, k + 1, 0));
    }
  return e2e_finish();
}
