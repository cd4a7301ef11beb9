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

E2E_UNUSED static double g(double *x, const double *c, int n) {
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

E2E_UNUSED static void g_grad_an(const double *x, double *gr, int n) {
  for (int k = 0; k < n; k++) {
    int nx = (k + 1) % n, pv = (k + n - 1) % n;
    gr[k] = 0.3 * e_(x, k) * x[nx] + e_(x, pv);
  }
}

E2E_UNUSED static void g_hvp_an(const double *x, const double *v, double *hv, int n) {
  for (int k = 0; k < n; k++) {
    int nx = (k + 1) % n, pv = (k + n - 1) % n;
    hv[k] = 0.09 * e_(x, k) * x[nx] * v[k] + 0.3 * e_(x, k) * v[nx] + 0.3 * e_(x, pv) * v[pv];
  }
}

/* T[u, w]_k = sum_{j,l} d3 g / dx_k dx_j dx_l u_j w_l */
E2E_UNUSED static void g_third_an(const double *x, const double *u, const double *w, double *t, int n) {
  for (int k = 0; k < n; k++) {
    int nx = (k + 1) % n, pv = (k + n - 1) % n;
    t[k] = 0.027 * e_(x, k) * x[nx] * u[k] * w[k] + 0.09 * e_(x, k) * (u[k] * w[nx] + u[nx] * w[k]) +
           0.09 * e_(x, pv) * u[pv] * w[pv];
  }
}

/* for finite differences: component k of the gradient, and of H v */
typedef struct { int k; const double *v; } g_ctx;
E2E_UNUSED static double g_grad_k(double *x, void *ctx) { double gr[N]; g_grad_an(x, gr, N); return gr[((g_ctx *)ctx)->k]; }
E2E_UNUSED static double g_hvp_k(double *x, void *ctx) {
  double hv[N];
  g_hvp_an(x, ((g_ctx *)ctx)->v, hv, N);
  return hv[((g_ctx *)ctx)->k];
}

/* Gradients of g that the nesting tests differentiate again (under ADCC_SELFTEST: the analytic
 * one): combined mode, and split mode with a heap tape; w . grad g through either. */
void __enzyme_autodiff(void *, ...);
void *__enzyme_augmentfwd(void *, ...);
void __enzyme_reverse(void *, ...);

E2E_UNUSED static void g_grad(double *x, double *gr, int n) {
  for (int i = 0; i < n; i++) gr[i] = 0.0;
#ifdef ADCC_SELFTEST
  g_grad_an(x, gr, n);
#else
  __enzyme_autodiff((void *)g, enzyme_dup, x, gr, enzyme_const, C0, enzyme_const, n);
#endif
}

E2E_UNUSED static void g_grad_split(double *x, double *gr, int n) {
  for (int i = 0; i < n; i++) gr[i] = 0.0;
#ifdef ADCC_SELFTEST
  g_grad_an(x, gr, n);
#else
  void *tape = __enzyme_augmentfwd((void *)g, enzyme_dup, x, gr, enzyme_const, C0, enzyme_const, n);
  __enzyme_reverse((void *)g, enzyme_dup, x, gr, enzyme_const, C0, enzyme_const, n, 1.0, tape);
#endif
}

static double g_dot(const double *w, const double *gr, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += w[i] * gr[i];
  return s;
}

E2E_UNUSED static double g_wgrad(double *x, double *w, int n) {
  double gr[N];
  g_grad(x, gr, n);
  return g_dot(w, gr, n);
}

E2E_UNUSED static double g_wgrad_split(double *x, double *w, int n) {
  double gr[N];
  g_grad_split(x, gr, n);
  return g_dot(w, gr, n);
}

E2E_UNUSED static double g_wgrad_v(double *x, void *w) { return g_wgrad(x, (double *)w, N); }
