/* GMM log-likelihood objective with a Wishart prior, as ADBench defines it: K Gaussians in d
 * dimensions, log-weights alpha, means mu, inverse covariance factor Q = L with log-diagonal and
 * strictly-lower part packed column by column (icf); n points. Reverse-mode gradient w.r.t.
 * alpha, mu and icf. Two implementations of the same objective on the same data, each timed
 * with its own gradient:
 * - `gmm`: written for speed, the way a C programmer tuning for a vectorizing compiler would: the
 *   points are the innermost loop everywhere (x transposed once, dimension-major), so every inner
 *   loop is contiguous and independent across points; Q (x - mu) is computed as Q x - Q mu.
 * - `gmm_adbench`: ADBench's loop order (points outermost, one component at a time, as in its C++
 *   reference): the second row of the results.
 * Usage: gmm [--quick] [--size N (points)] DATA  (ADBench gmm_dD_KK.txt). */
#include "bench.h"

extern void __enzyme_autodiff(void *, ...);
extern void *__enzyme_augmentfwd(void *, ...);
extern void __enzyme_reverse(void *, ...);
extern void __enzyme_fwddiff(void *, ...);
int enzyme_dup;
int enzyme_const;
int enzyme_not_overwritten;

static double log_sum_exp(const double *v, int n) {
  double mx = v[0];
  for (int i = 1; i < n; i++)
    if (v[i] > mx) mx = v[i];
  double s = 0.0;
  for (int i = 0; i < n; i++) s += exp(v[i] - mx);
  return log(s) + mx;
}

/* log of the multivariate gamma function Gamma_p(a). */
static double log_gamma_p(double a, int p) {
  double r = 0.25 * p * (p - 1) * log(M_PI);
  for (int j = 1; j <= p; j++) r += lgamma(a + 0.5 * (1 - j));
  return r;
}

/* -------- ADBench's loop order: as in ADBench, the diagonal of each Q is exponentiated once per
 * component, not once per point. */
__attribute__((noinline))
static double gmm_objective_adbench(const double *alphas, const double *means, const double *icf,
                            const double *x, int d, int k, int n, double gamma, int m) {
  int icf_sz = d * (d + 1) / 2;
  double *sum_qs = malloc(sizeof(double) * k);
  double *qdiags = malloc(sizeof(double) * k * d); /* diagonal of Q: exp of the log-diagonal */
  double *main_term = malloc(sizeof(double) * k);
  double *xc = malloc(sizeof(double) * d);
  double *qxc = malloc(sizeof(double) * d);
  for (int c = 0; c < k; c++) {
    double s = 0.0;
    for (int j = 0; j < d; j++) {
      s += icf[c * icf_sz + j];
      qdiags[c * d + j] = exp(icf[c * icf_sz + j]);
    }
    sum_qs[c] = s;
  }
  double slse = 0.0;
  for (int i = 0; i < n; i++) {
    for (int c = 0; c < k; c++) {
      const double *q = icf + c * icf_sz;
      for (int j = 0; j < d; j++) xc[j] = x[i * d + j] - means[c * d + j];
      /* Q * xc with Q = diag(exp(q[0:d])) + strictly lower part packed by columns. */
      for (int j = 0; j < d; j++) qxc[j] = qdiags[c * d + j] * xc[j];
      int li = d;
      for (int col = 0; col < d; col++)
        for (int row = col + 1; row < d; row++) qxc[row] += q[li++] * xc[col];
      double sq = 0.0;
      for (int j = 0; j < d; j++) sq += qxc[j] * qxc[j];
      main_term[c] = alphas[c] + sum_qs[c] - 0.5 * sq;
    }
    slse += log_sum_exp(main_term, k);
  }
  double lse_alphas = log_sum_exp(alphas, k);
  /* Wishart prior on each precision matrix, with n_w = d + m + 1 degrees of freedom. */
  int nw = d + m + 1;
  double prior = 0.0;
  for (int c = 0; c < k; c++) {
    const double *q = icf + c * icf_sz;
    double frob = 0.0;
    for (int j = 0; j < d; j++) frob += exp(2.0 * q[j]);
    for (int j = d; j < icf_sz; j++) frob += q[j] * q[j];
    prior += 0.5 * gamma * gamma * frob - m * sum_qs[c];
  }
  double prior_const = nw * d * (log(gamma) - 0.5 * log(2.0)) - log_gamma_p(0.5 * nw, d);
  prior -= k * prior_const;
  free(sum_qs); free(qdiags); free(main_term); free(xc); free(qxc);
  return -n * d * 0.5 * log(2.0 * M_PI) + slse - n * lse_alphas + prior;
}

/* log of the multivariate gamma function and the other constant terms of the objective */
static double gmm_constants(int d, int k, int n, double gamma, int m) {
  int nw = d + m + 1;
  double prior_const = nw * d * (log(gamma) - 0.5 * log(2.0)) - log_gamma_p(0.5 * nw, d);
  return -n * d * 0.5 * log(2.0 * M_PI) - k * prior_const;
}

/* -------- Written for speed: points innermost. */
__attribute__((noinline))
static double gmm_objective(const double *alphas, const double *means, const double *icf,
                            const double *x, int d, int k, int n, double gamma, int m) {
  int icf_sz = d * (d + 1) / 2;
  double *xt = malloc(sizeof(double) * d * n);  /* xt[j*n + i] = x[i*d + j] */
  double *qx = malloc(sizeof(double) * d * n);  /* Q (x_i - mu_c), dimension-major */
  double *mt = malloc(sizeof(double) * k * n);  /* main term of point i, component c: mt[c*n + i] */
  double *qdiag = malloc(sizeof(double) * d);
  double *qmu = malloc(sizeof(double) * d);     /* Q mu_c */
  double *mx = malloc(sizeof(double) * n);
  double *se = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++) xt[j * n + i] = x[i * d + j];
  double prior = 0.0;
  for (int c = 0; c < k; c++) {
    const double *q = icf + c * icf_sz, *mu = means + c * d;
    double sum_q = 0.0, frob = 0.0;
    for (int j = 0; j < d; j++) {
      sum_q += q[j];
      qdiag[j] = exp(q[j]);
      frob += qdiag[j] * qdiag[j];
    }
    for (int j = d; j < icf_sz; j++) frob += q[j] * q[j];
    prior += 0.5 * gamma * gamma * frob - m * sum_q;
    for (int j = 0; j < d; j++) qmu[j] = qdiag[j] * mu[j];
    int li = d;
    for (int col = 0; col < d; col++)
      for (int row = col + 1; row < d; row++) qmu[row] += q[li++] * mu[col];
    for (int j = 0; j < d; j++) {
      double a = qdiag[j], b = qmu[j];
      const double *xs = xt + j * n;
      double *ys = qx + j * n;
      for (int i = 0; i < n; i++) ys[i] = a * xs[i] - b;
    }
    li = d;
    for (int col = 0; col < d; col++)
      for (int row = col + 1; row < d; row++) {
        double a = q[li++];
        const double *xs = xt + col * n;
        double *ys = qx + row * n;
        for (int i = 0; i < n; i++) ys[i] += a * xs[i];
      }
    double base = alphas[c] + sum_q, *mc = mt + c * n;
    for (int i = 0; i < n; i++) mc[i] = base;
    for (int j = 0; j < d; j++) {
      const double *ys = qx + j * n;
      for (int i = 0; i < n; i++) mc[i] -= 0.5 * ys[i] * ys[i];
    }
  }
  /* log-sum-exp over the components, all points at once */
  for (int i = 0; i < n; i++) mx[i] = mt[i];
  for (int c = 1; c < k; c++)
    for (int i = 0; i < n; i++) mx[i] = mt[c * n + i] > mx[i] ? mt[c * n + i] : mx[i];
  for (int i = 0; i < n; i++) se[i] = 0.0;
  for (int c = 0; c < k; c++)
    for (int i = 0; i < n; i++) se[i] += exp(mt[c * n + i] - mx[i]);
  for (int i = 0; i < n; i++) se[i] = log(se[i]) + mx[i];
  double slse = 0.0;
  for (int i = 0; i < n; i++) slse += se[i];
  double lse_alphas = log_sum_exp(alphas, k);
  free(xt); free(qx); free(mt); free(qdiag); free(qmu); free(mx); free(se);
  return gmm_constants(d, k, n, gamma, m) + slse - n * lse_alphas + prior;
}

typedef struct {
  int d, k, n, m;
  double gamma;
  double *params, *grad; /* [alphas k | means k*d | icf k*icf_sz] */
  double *x;
  long nparams;
} gmm_problem;

typedef double (*gmm_fn)(const double *, const double *, const double *, const double *, int, int,
                         int, double, int);

static gmm_fn gmm_current = gmm_objective;

static double gmm_loss(const double *p, void *ctx) {
  gmm_problem *g = ctx;
  return gmm_current(p, p + g->k, p + g->k + g->k * g->d, g->x, g->d, g->k, g->n, g->gamma, g->m);
}

static volatile double sink;
static void run_primal(void *ctx) {
  gmm_problem *g = ctx;
  sink = gmm_objective(g->params, g->params + g->k, g->params + g->k + g->k * g->d, g->x, g->d, g->k,
                       g->n, g->gamma, g->m);
}
static void run_primal_adbench(void *ctx) {
  gmm_problem *g = ctx;
  sink = gmm_objective_adbench(g->params, g->params + g->k, g->params + g->k + g->k * g->d, g->x, g->d,
                               g->k, g->n, g->gamma, g->m);
}

#define GMM_GRADIENT(f)                                                                              \
  memset(g->grad, 0, sizeof(double) * g->nparams);                                                   \
  long ma = g->k, mm = g->k + g->k * g->d;                                                           \
  __enzyme_autodiff((void *)f, enzyme_dup, g->params, g->grad, enzyme_dup, g->params + ma,          \
                    g->grad + ma, enzyme_dup, g->params + mm, g->grad + mm, enzyme_const, g->x,      \
                    enzyme_const, g->d, enzyme_const, g->k, enzyme_const, g->n, enzyme_const,        \
                    g->gamma, enzyme_const, g->m)

static void run_grad(void *ctx) {
  gmm_problem *g = ctx;
  GMM_GRADIENT(gmm_objective);
}
static void run_grad_adbench(void *ctx) {
  gmm_problem *g = ctx;
  GMM_GRADIENT(gmm_objective_adbench);
}

/* checks, times and reports one implementation; returns the exit status */
static int gmm_bench(bench_args *a, gmm_problem *g, const char *name, gmm_fn f, void (*primal)(void *),
                     void (*grad)(void *)) {
  gmm_current = f;
  grad(g);
  double err = bench_check_grad(gmm_loss, g, g->params, g->grad, g->nparams, 4, 1e-3);
  double tp = bench_time(a, primal, g);
  double tg = bench_time(a, grad, g);
  char size[64];
  snprintf(size, sizeof size, "d%d_K%d_n%d", g->d, g->k, g->n);
  return bench_report(name, size, tp, tg, err);
}

/* --higher (#11): the gradient in split mode (augmented forward and reverse as two calls), and a
 * Hessian-vector product by forward mode over the gradient. */
static void split(gmm_problem *g, int kept) {
  memset(g->grad, 0, sizeof(double) * g->nparams);
  long ma = g->k, mm = g->k + g->k * g->d;
  void *tape;
  if (kept) { /* enzyme_not_overwritten: the inputs stay as they are between the halves (the
               * reverse may read them again, as combined mode does, instead of taping them) */
    tape = __enzyme_augmentfwd((void *)gmm_objective, enzyme_not_overwritten, enzyme_dup, g->params, g->grad,
                    enzyme_not_overwritten, enzyme_dup, g->params + ma, g->grad + ma,
                    enzyme_not_overwritten, enzyme_dup, g->params + mm, g->grad + mm,
                    enzyme_not_overwritten, enzyme_const, g->x, enzyme_const, g->d, enzyme_const, g->k,
                    enzyme_const, g->n, enzyme_const, g->gamma, enzyme_const, g->m);
    __enzyme_reverse((void *)gmm_objective, enzyme_not_overwritten, enzyme_dup, g->params, g->grad,
                   enzyme_not_overwritten, enzyme_dup, g->params + ma, g->grad + ma,
                   enzyme_not_overwritten, enzyme_dup, g->params + mm, g->grad + mm,
                   enzyme_not_overwritten, enzyme_const, g->x, enzyme_const, g->d, enzyme_const, g->k,
                   enzyme_const, g->n, enzyme_const, g->gamma, enzyme_const, g->m, 1.0, tape);
  } else {
    tape = __enzyme_augmentfwd((void *)gmm_objective, enzyme_dup, g->params, g->grad,
                    enzyme_dup, g->params + ma, g->grad + ma, enzyme_dup, g->params + mm, g->grad + mm,
                    enzyme_const, g->x, enzyme_const, g->d, enzyme_const, g->k, enzyme_const, g->n,
                    enzyme_const, g->gamma, enzyme_const, g->m);
    __enzyme_reverse((void *)gmm_objective, enzyme_dup, g->params, g->grad,
                   enzyme_dup, g->params + ma, g->grad + ma, enzyme_dup, g->params + mm, g->grad + mm,
                   enzyme_const, g->x, enzyme_const, g->d, enzyme_const, g->k, enzyme_const, g->n,
                   enzyme_const, g->gamma, enzyme_const, g->m, 1.0, tape);
  }
}
static void run_split(void *ctx) { split(ctx, 1); }
static void run_split_default(void *ctx) { split(ctx, 0); }

static void gmm_gradient(const double *p, double *grad, void *ctx) {
  gmm_problem *g = ctx;
  for (long i = 0; i < g->nparams; i++) grad[i] = 0.0;
  long ma = g->k, mm = g->k + g->k * g->d;
  __enzyme_autodiff((void *)gmm_objective, enzyme_dup, p, grad, enzyme_dup, p + ma, grad + ma,
                    enzyme_dup, p + mm, grad + mm, enzyme_const, g->x, enzyme_const, g->d, enzyme_const, g->k,
                    enzyme_const, g->n, enzyme_const, g->gamma, enzyme_const, g->m);
}

typedef struct { gmm_problem *g; double *v, *grad, *hv; } gmm_hvp;

static void run_hvp(void *ctx) {
  gmm_hvp *h = ctx;
  __enzyme_fwddiff((void *)gmm_gradient, enzyme_dup, h->g->params, h->v, enzyme_dup, h->grad, h->hv,
                   enzyme_const, h->g);
}

static int run_higher(const bench_args *a, gmm_problem *g, const char *size) {
  long n = g->nparams;
  double *want = malloc(sizeof(double) * n), err = 0.0;
  run_grad(g);
  memcpy(want, g->grad, sizeof(double) * n);
  for (int kept = 0; kept < 2; kept++) {
    split(g, kept);
    for (long i = 0; i < n; i++) err = fmax(err, bench_rel_err(g->grad[i], want[i], 1e-12));
  }
  gmm_hvp h = {g, malloc(sizeof(double) * n), malloc(sizeof(double) * n), malloc(sizeof(double) * n)};
  for (long i = 0; i < n; i++) h.v[i] = bench_uniform();
  run_hvp(&h);
  err = fmax(err, bench_check_hvp((void (*)(const double *, double *, void *))gmm_gradient, g, g->params, h.v,
                                  h.hv, n, 1e-5));
  double tg = INFINITY, ts = INFINITY, td = INFINITY, th = INFINITY;
  for (int round = 0; round < 3; round++) { /* interleaved: a loaded machine slows them alike */
    tg = fmin(tg, bench_time(a, run_grad, g));
    ts = fmin(ts, bench_time(a, run_split, g));
    td = fmin(td, bench_time(a, run_split_default, g));
    th = fmin(th, bench_time(a, run_hvp, &h));
  }
  return bench_report_higher("gmm", size, err, "grad_s", tg, "split_s", ts, "split_ratio", ts / tg,
                             "split_default_s", td, "split_default_ratio", td / tg, "hvp_s", th,
                             "hvp_ratio", th / tg, (const char *)NULL);
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  if (!a.data) { fprintf(stderr, "gmm: need an ADBench gmm input file\n"); return 2; }
  FILE *f = bench_open(a.data);
  gmm_problem g;
  if (fscanf(f, "%d %d %d", &g.d, &g.k, &g.n) != 3) { fprintf(stderr, "gmm: bad header\n"); return 2; }
  int icf_sz = g.d * (g.d + 1) / 2;
  g.nparams = (long)g.k * (1 + g.d + icf_sz);
  g.params = malloc(sizeof(double) * g.nparams);
  g.grad = malloc(sizeof(double) * g.nparams);
  for (long i = 0; i < g.nparams; i++) g.params[i] = bench_read_double(f);
  g.x = malloc(sizeof(double) * (size_t)g.n * g.d);
  for (long i = 0; i < (long)g.n * g.d; i++) g.x[i] = bench_read_double(f);
  g.gamma = bench_read_double(f);
  g.m = (int)bench_read_double(f);
  fclose(f);
  if (a.size > 0 && a.size < g.n) g.n = (int)a.size;
  if (a.quick && g.n > 20) g.n = 20;

  gmm_current = gmm_objective;
  double v1 = gmm_loss(g.params, &g);
  gmm_current = gmm_objective_adbench;
  double v2 = gmm_loss(g.params, &g);
  if (!(fabs(v1 - v2) <= 1e-10 * fabs(v2))) {
    fprintf(stderr, "gmm: the two implementations disagree: %.17g vs %.17g\n", v1, v2);
    return 1;
  }
  if (a.higher) {
    char size[64];
    snprintf(size, sizeof size, "d%d_K%d_n%d", g.d, g.k, g.n);
    gmm_current = gmm_objective;
    return run_higher(&a, &g, size);
  }
  int rc = 0;
  if (bench_wanted(&a, "gmm")) rc |= gmm_bench(&a, &g, "gmm", gmm_objective, run_primal, run_grad);
  if (bench_wanted(&a, "gmm_adbench"))
    rc |= gmm_bench(&a, &g, "gmm_adbench", gmm_objective_adbench, run_primal_adbench, run_grad_adbench);
  return rc;
}
