/* newton_cg.c - truncated Newton (Newton-CG) with Hessian-vector products from adcc.
 *
 * Fit an L2-regularized logistic regression (M samples, D features) by minimizing
 *
 *     L(w) = sum_i softplus(-y_i x_i.w) + lambda/2 |w|^2,   softplus(z) = log(1 + exp(z)),
 *
 * with Newton's method whose steps solve H p = -g by conjugate gradients, stopped early (forcing term
 * eta = min(0.5, |g|): quadratic convergence), and a backtracking line search.
 * The gradient g comes from reverse mode (__enzyme_autodiff); every product H v comes from
 * forward mode over the gradient (__enzyme_fwddiff of the function that calls __enzyme_autodiff),
 * never from a Hessian matrix. The loss and |g| are printed at every iteration; |g| must fall
 * below 1e-9 within 12 Newton steps (quadratic convergence at the end).
 *
 * Checks: the gradient against central finite differences of L and the hand-written gradient;
 * H v against central finite differences of the gradient along v and the hand-written
 * H v = sum_i s_i (1 - s_i) (x_i.v) x_i + lambda v (s_i = sigmoid(-y_i x_i.w)).
 * Under -DADCC_SELFTEST the Enzyme calls are replaced by those hand-written derivatives.
 *
 * Build: adcc -O2 samples/newton_cg.c -o newton_cg -lm && ./newton_cg
 */
#include "fd_check.h"

#include <string.h>

extern void __enzyme_autodiff(void *, ...);
extern void __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

#define M 400   /* samples */
#define D 12    /* features */
#define LAMBDA 0.1

typedef struct {
  double x[M][D];
  double y[M]; /* labels, +1 or -1 */
} dataset;

static double softplus(double z) { return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* The loss, differentiated in reverse mode. */
static double loss(const double *w, const dataset *data) {
  double l = 0.0;
  for (int i = 0; i < M; i++) {
    double z = 0.0;
    for (int j = 0; j < D; j++) z += data->x[i][j] * w[j];
    l += softplus(-data->y[i] * z);
  }
  for (int j = 0; j < D; j++) l += 0.5 * LAMBDA * w[j] * w[j];
  return l;
}

static void gradient_by_hand(const double *w, const dataset *data, double *g) {
  for (int j = 0; j < D; j++) g[j] = LAMBDA * w[j];
  for (int i = 0; i < M; i++) {
    double z = 0.0;
    for (int j = 0; j < D; j++) z += data->x[i][j] * w[j];
    double s = sigmoid(-data->y[i] * z);
    for (int j = 0; j < D; j++) g[j] -= s * data->y[i] * data->x[i][j];
  }
}

static void hvp_by_hand(const double *w, const double *v, const dataset *data, double *hv) {
  for (int j = 0; j < D; j++) hv[j] = LAMBDA * v[j];
  for (int i = 0; i < M; i++) {
    double z = 0.0, xv = 0.0;
    for (int j = 0; j < D; j++) {
      z += data->x[i][j] * w[j];
      xv += data->x[i][j] * v[j];
    }
    double s = sigmoid(-data->y[i] * z);
    for (int j = 0; j < D; j++) hv[j] += s * (1.0 - s) * xv * data->x[i][j];
  }
}

/* g = grad L(w): reverse mode. */
static void gradient(const double *w, double *g, const dataset *data) {
  for (int j = 0; j < D; j++) g[j] = 0.0;
#ifdef ADCC_SELFTEST
  gradient_by_hand(w, data, g);
#else
  __enzyme_autodiff((void *)loss, enzyme_dup, w, g, enzyme_const, data);
#endif
}

/* hv = H(w) v: forward mode over the gradient (the tangent of g along v). */
static void hessian_vector(const double *w, const double *v, double *hv, const dataset *data) {
  double g[D];
  for (int j = 0; j < D; j++) hv[j] = 0.0;
#ifdef ADCC_SELFTEST
  (void)g;
  hvp_by_hand(w, v, data, hv);
#else
  __enzyme_fwddiff((void *)gradient, enzyme_dup, w, v, enzyme_dup, g, hv, enzyme_const, data);
#endif
}

static double dot(const double *a, const double *b) {
  double s = 0.0;
  for (int j = 0; j < D; j++) s += a[j] * b[j];
  return s;
}

/* Solve H p = -g approximately by conjugate gradients: stop when |H p + g| <= eta |g|. */
static int newton_cg_step(const double *w, const double *g, double *p, const dataset *data) {
  double r[D], d[D], hd[D];
  double gnorm = sqrt(dot(g, g)), eta = fmin(0.5, gnorm);
  for (int j = 0; j < D; j++) {
    p[j] = 0.0;
    r[j] = -g[j];
    d[j] = r[j];
  }
  double rr = dot(r, r);
  int it = 0;
  while (it < 4 * D && sqrt(rr) > eta * gnorm) {
    hessian_vector(w, d, hd, data);
    double dhd = dot(d, hd);
    if (dhd <= 0.0) break; /* not positive definite along d (cannot happen here: lambda > 0) */
    double alpha = rr / dhd;
    for (int j = 0; j < D; j++) {
      p[j] += alpha * d[j];
      r[j] -= alpha * hd[j];
    }
    double rr_new = dot(r, r);
    for (int j = 0; j < D; j++) d[j] = r[j] + (rr_new / rr) * d[j];
    rr = rr_new;
    it++;
  }
  if (it == 0)
    for (int j = 0; j < D; j++) p[j] = -g[j];
  return it;
}

/* deterministic data: two overlapping Gaussian-like clouds (no RNG library needed) */
static void make_data(dataset *data) {
  unsigned long long s = 0x2545F4914F6CDD1DULL;
  double truth[D];
  for (int j = 0; j < D; j++) truth[j] = sin(1.3 * j + 0.4);
  for (int i = 0; i < M; i++) {
    double z = 0.0;
    for (int j = 0; j < D; j++) {
      s ^= s >> 12;
      s ^= s << 25;
      s ^= s >> 27;
      double u = (double)((s * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
      data->x[i][j] = 2.0 * u - 1.0;
      z += data->x[i][j] * truth[j];
    }
    data->y[i] = sin(37.0 * i) > -0.4 * z ? 1.0 : -1.0; /* noisy labels */
  }
}

typedef struct { const dataset *data; int k; const double *v; } fd_ctx;
static double loss_v(double *w, void *ctx) { return loss(w, ((fd_ctx *)ctx)->data); }
static double grad_k(double *w, void *ctx) {
  fd_ctx *c = ctx;
  double g[D];
  gradient_by_hand(w, c->data, g);
  return g[c->k];
}

int main(void) {
  static dataset data;
  make_data(&data);
  double w[D] = {0}, g[D], p[D];
  for (int j = 0; j < D; j++) w[j] = 0.1 * cos(j);

  /* derivatives at the starting point: gradient and two Hessian-vector products */
  printf("checking derivatives at the starting point\n");
  gradient(w, g, &data);
  double want[D], fd[D];
  gradient_by_hand(w, &data, want);
  fd_ctx ctx = {&data, 0, NULL};
  fd_gradient(loss_v, w, D, &ctx, fd);
  double e1 = fdc_check_all("grad vs FD", g, fd, D, FDC_RTOL);
  double e2 = fdc_check_all("grad vs hand-written", g, want, D, FDC_RTOL_AN);
  printf("  gradient: max rel err %.2e (FD), %.2e (hand-written)\n", e1, e2);
  for (int trial = 0; trial < 2; trial++) {
    double v[D], hv[D], hv_want[D], hv_fd[D];
    for (int j = 0; j < D; j++) v[j] = trial == 0 ? cos(2.1 * j) : (j == 3 ? 1.0 : 0.0);
    hessian_vector(w, v, hv, &data);
    hvp_by_hand(w, v, &data, hv_want);
    for (int k = 0; k < D; k++) {
      fd_ctx c = {&data, k, v};
      hv_fd[k] = fd_directional(grad_k, w, v, D, &c);
    }
    double e3 = fdc_check_all("Hv vs FD of the gradient", hv, hv_fd, D, FDC_RTOL);
    double e4 = fdc_check_all("Hv vs hand-written", hv, hv_want, D, FDC_RTOL_AN);
    printf("  H v (direction %d): max rel err %.2e (FD of the gradient), %.2e (hand-written)\n", trial, e3, e4);
  }

  /* truncated Newton */
  printf("Newton-CG on the logistic loss (%d samples, %d features)\n", M, D);
  double l = loss(w, &data), gnorm = 0.0;
  int newton = 0, hvps = 0, decreasing = 1;
  for (; newton < 12; newton++) {
    gradient(w, g, &data);
    gnorm = sqrt(dot(g, g));
    printf("  iter %2d  loss %.12f  |g| %.3e\n", newton, l, gnorm);
    if (gnorm < 1e-9) break;
    hvps += newton_cg_step(w, g, p, &data);
    double t = 1.0, slope = dot(g, p), trial[D], lt;
    for (;;) { /* Armijo backtracking; near the minimum the decrease is below rounding: full step */
      for (int j = 0; j < D; j++) trial[j] = w[j] + t * p[j];
      lt = loss(trial, &data);
      if (lt <= l + 1e-4 * t * slope || -slope < 1e-12 * fabs(l) || t < 1e-10) break;
      t *= 0.5;
    }
    if (!(lt <= l + 1e-12 * fabs(l))) decreasing = 0;
    memcpy(w, trial, sizeof w);
    l = lt;
  }
  printf("  %d Newton steps, %d Hessian-vector products\n", newton, hvps);
  fdc_check("loss decreases at every step", 0, decreasing, 1.0, 0.0);
  fdc_check("converged: |g| < 1e-9", 0, gnorm < 1e-9, 1.0, 0.0);
  return fdc_report("newton_cg");
}
