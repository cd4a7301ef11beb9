/* The objective the higher-order tests share: f(x) = sum_i sin(x_i) * x_{i+1 mod n}, computed
 * through heap scratch, a loop whose count is a run-time argument and a noinline helper, so the
 * inner derivative has a growing tape, shadow heap memory and calls. */
#include "../e2e.h"

extern int enzyme_dup, enzyme_const, enzyme_out;

__attribute__((noinline)) static double mul(double a, double b) { return a * b; }

static double f(double *x, int n) {
  double *t = (double *)malloc(sizeof(double) * (size_t)n);
  for (int i = 0; i < n; i++) t[i] = sin(x[i]);
  double s = 0.0;
  for (int i = 0; i < n; i++) s += mul(t[i], x[(i + 1) % n]);
  free(t);
  return s;
}

static void grad_an(const double *x, double *g, int n) {
  for (int i = 0; i < n; i++) g[i] = cos(x[i]) * x[(i + 1) % n] + sin(x[(i + n - 1) % n]);
}

static void hvp_an(const double *x, const double *v, double *hv, int n) {
  for (int i = 0; i < n; i++) {
    int nx = (i + 1) % n, pv = (i + n - 1) % n;
    hv[i] = -sin(x[i]) * x[nx] * v[i] + cos(x[i]) * v[nx] + cos(x[pv]) * v[pv];
  }
}

#define N 5
static const double X0[N] = {0.3, -1.2, 0.8, 0.1, 2.0};
static const double V0[N] = {1.0, 0.5, -0.25, 0.3, -1.0};
