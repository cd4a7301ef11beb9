/* The objective the split-mode and nesting tests share: g(x; c) = sum_i c_i exp(0.3 x_i) x_{i+1 mod n},
 * computed through a stack array (its shadow lives on a shadow stack), a helper that is not inlined
 * and reads constant data c through a pointer, and heap scratch memory, in a loop whose count is a
 * run-time argument. Gradient, Hessian-vector product and third derivative T[u, w] analytically. */
#include "../e2e.h"

extern int enzyme_dup, enzyme_const, enzyme_out, enzyme_width, enzyme_tape, enzyme_allocated;

#define N 5

__attribute__((noinline)) static void weigh(double *t, const double *c, int n) {
  for (int i = 0; i < n; i++) t[i] *= c[i];
}

static double g(double *x, const double *c, int n) {
  double loc[N];
  for (int i = 0; i < n; i++) loc[i] = exp(0.3 * x[i]);
  weigh(loc, c, n);
  double *t = (double *)malloc(sizeof(double) * (size_t)n);
  for (int i = 0; i < n; i++) t[i] = loc[i] * x[(i + 1) % n];
  double s = 0.0;
  for (int i = 0; i < n; i++) s += t[i];
  free(t);
  return s;
}

static const double C0[N] = {1.0, -0.5, 2.0, 0.75, -1.25};
static const double X0[N] = {0.3, -1.2, 0.8, 0.1, 2.0};
static const double V0[N] = {1.0, 0.5, -0.25, 0.3, -1.0};
static const double U0[N] = {0.2, -0.7, 1.1, 0.4, 0.9};

static double e_(const double *x, int k) { return C0[k] * exp(0.3 * x[k]); }

static void g_grad_an(const double *x, double *gr, int n) {
  for (int k = 0; k < n; k++) {
    int nx = (k + 1) % n, pv = (k + n - 1) % n;
    gr[k] = 0.3 * e_(x, k) * x[nx] + e_(x, pv);
  }
}

static void g_hvp_an(const double *x, const double *v, double *hv, int n) {
  for (int k = 0; k < n; k++) {
    int nx = (k + 1) % n, pv = (k + n - 1) % n;
    hv[k] = 0.09 * e_(x, k) * x[nx] * v[k] + 0.3 * e_(x, k) * v[nx] + 0.3 * e_(x, pv) * v[pv];
  }
}

/* T[u, w]_k = sum_{j,l} d3 g / dx_k dx_j dx_l u_j w_l */
static void g_third_an(const double *x, const double *u, const double *w, double *t, int n) {
  for (int k = 0; k < n; k++) {
    int nx = (k + 1) % n, pv = (k + n - 1) % n;
    t[k] = 0.027 * e_(x, k) * x[nx] * u[k] * w[k] + 0.09 * e_(x, k) * (u[k] * w[nx] + u[nx] * w[k]) +
           0.09 * e_(x, pv) * u[pv] * w[pv];
  }
}

/* for finite differences: component k of the gradient, and of H v */
typedef struct { int k; const double *v; } g_ctx;
static double g_grad_k(double *x, void *ctx) { double gr[N]; g_grad_an(x, gr, N); return gr[((g_ctx *)ctx)->k]; }
static double g_hvp_k(double *x, void *ctx) {
  double hv[N];
  g_hvp_an(x, ((g_ctx *)ctx)->v, hv, N);
  return hv[((g_ctx *)ctx)->k];
}
