/* Gradient/primal time of code that calls BLAS (issue #13): f(A, x) = ||A x||^2 with a
 * 1000 x 1000 cblas_dgemv, and a dense layer loss(W, X) = sum tanh(W X) with a 512^3
 * cblas_dgemm, each next to the same gradient written by hand with the same BLAS calls (the floor
 * for any derivative that calls BLAS; adjoints accumulate into dA, dx as Enzyme's do). Prints one
 * JSON line per case, plus the times of the gradient's parts for the gemv case. OpenBLAS threads:
 * OPENBLAS_NUM_THREADS (run_blas.py sets and reports it). */
#include <cblas.h>
#include "../bench.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

__attribute__((noinline)) double norm_ax(const double *A, const double *x, int n) {
  double *t = malloc(n * sizeof(double));
  cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0, A, n, x, 1, 0.0, t, 1);
  double r = cblas_ddot(n, t, 1, t, 1);
  free(t);
  return r;
}

__attribute__((noinline)) void norm_ax_by_hand(const double *A, double *dA, const double *x, double *dx, int n) {
  double *t = malloc(n * sizeof(double));
  cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0, A, n, x, 1, 0.0, t, 1);
  cblas_dger(CblasRowMajor, n, n, 2.0, t, 1, x, 1, dA, n);                    /* dA += 2 t x^T */
  cblas_dgemv(CblasRowMajor, CblasTrans, n, n, 2.0, A, n, t, 1, 1.0, dx, 1);  /* dx += 2 A^T t */
  free(t);
}

__attribute__((noinline)) double layer(const double *W, const double *X, int n) {
  double *Y = malloc((size_t)n * n * sizeof(double));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, W, n, X, n, 0.0, Y, n);
  double s = 0.0;
  for (int i = 0; i < n * n; i++) s += tanh(Y[i]);
  free(Y);
  return s;
}

__attribute__((noinline)) void layer_by_hand(const double *W, double *dW, const double *X, double *dX, int n) {
  double *Y = malloc((size_t)n * n * sizeof(double));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, W, n, X, n, 0.0, Y, n);
  for (int i = 0; i < n * n; i++) {
    double t = tanh(Y[i]);
    Y[i] = 1.0 - t * t;
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, Y, n, X, n, 1.0, dW, n);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, W, n, Y, n, 1.0, dX, n);
  free(Y);
}

typedef struct {
  int n;
  double *a, *da, *b, *db, *t; /* (A, x) or (W, X); t: scratch */
} ctx_t;

static volatile double sink;
static void norm_primal(void *p) { ctx_t *c = p; sink = norm_ax(c->a, c->b, c->n); }
static void norm_grad(void *p) {
  ctx_t *c = p;
  __enzyme_autodiff((void *)norm_ax, enzyme_dup, c->a, c->da, enzyme_dup, c->b, c->db, enzyme_const, c->n);
}
static void norm_hand(void *p) { ctx_t *c = p; norm_ax_by_hand(c->a, c->da, c->b, c->db, c->n); }
static void part_gemv(void *p) {
  ctx_t *c = p;
  cblas_dgemv(CblasRowMajor, CblasNoTrans, c->n, c->n, 1.0, c->a, c->n, c->b, 1, 0.0, c->t, 1);
}
static void part_ger(void *p) { ctx_t *c = p; cblas_dger(CblasRowMajor, c->n, c->n, 1.0, c->t, 1, c->b, 1, c->da, c->n); }
static void part_gemv_t(void *p) {
  ctx_t *c = p;
  cblas_dgemv(CblasRowMajor, CblasTrans, c->n, c->n, 1.0, c->a, c->n, c->t, 1, 1.0, c->db, 1);
}
static void layer_primal(void *p) { ctx_t *c = p; sink = layer(c->a, c->b, c->n); }
static void layer_grad(void *p) {
  ctx_t *c = p;
  __enzyme_autodiff((void *)layer, enzyme_dup, c->a, c->da, enzyme_dup, c->b, c->db, enzyme_const, c->n);
}
static void layer_hand(void *p) { ctx_t *c = p; layer_by_hand(c->a, c->da, c->b, c->db, c->n); }

/* the gradient's error along random directions (both operands as one vector) */
static double check(ctx_t *c, long na, long nb, void (*grad)(void *), double (*f)(const double *, const double *, int)) {
  long n = na + nb;
  double *x = malloc(n * sizeof *x), *g = calloc(n, sizeof *g), *v = malloc(n * sizeof *v), worst = 0.0;
  memcpy(x, c->a, na * sizeof *x);
  memcpy(x + na, c->b, nb * sizeof *x);
  memset(c->da, 0, na * sizeof *x);
  memset(c->db, 0, nb * sizeof *x);
  grad(c);
  memcpy(g, c->da, na * sizeof *x);
  memcpy(g + na, c->db, nb * sizeof *x);
  for (int d = 0; d < 3; d++) {
    double gv = 0.0, fs[4], h = 1e-4;
    for (long i = 0; i < n; i++) { v[i] = bench_uniform(); gv += g[i] * v[i]; }
    const double steps[4] = {2.0, 1.0, -1.0, -2.0};
    for (int s = 0; s < 4; s++) {
      double *y = malloc(n * sizeof *y);
      for (long i = 0; i < n; i++) y[i] = x[i] + steps[s] * h * v[i];
      fs[s] = f(y, y + na, c->n);
      free(y);
    }
    double fd = (-fs[0] + 8.0 * fs[1] - 8.0 * fs[2] + fs[3]) / (12.0 * h);
    double e = bench_rel_err(gv, fd, 1e-8);
    if (!(e <= worst)) worst = e;
  }
  free(x), free(g), free(v);
  return worst;
}

static void emit(const char *name, int size, double p, double g, double h) {
  printf("{\"name\": \"%s\", \"size\": %d, \"primal_s\": %.6g, \"grad_s\": %.6g, \"ratio\": %.3f, "
         "\"hand_s\": %.6g, \"hand_ratio\": %.3f}\n", name, size, p, g, g / p, h, h / p);
}

int main(int argc, char **argv) {
  bench_args args = bench_parse(argc, argv);
  int n = args.quick ? 200 : 1000, m = args.quick ? 128 : 512, rc = 0;
  ctx_t c = {n, malloc((size_t)n * n * 8), calloc((size_t)n * n, 8), malloc(n * 8), calloc(n, 8), malloc(n * 8)};
  for (long i = 0; i < (long)n * n; i++) c.a[i] = bench_uniform() / sqrt(n);
  for (int i = 0; i < n; i++) c.b[i] = bench_uniform();
  double err = check(&c, (long)n * n, n, norm_grad, norm_ax);
  emit("norm_ax_gemv", n, bench_time(&args, norm_primal, &c), bench_time(&args, norm_grad, &c),
       bench_time(&args, norm_hand, &c));
  printf("{\"name\": \"parts\", \"gemv_s\": %.6g, \"ger_s\": %.6g, \"gemv_t_s\": %.6g}\n",
         bench_time(&args, part_gemv, &c), bench_time(&args, part_ger, &c), bench_time(&args, part_gemv_t, &c));
  rc |= bench_report("norm_ax_gemv_check", "1000", 1.0, 1.0, err) != 0;

  ctx_t l = {m, malloc((size_t)m * m * 8), calloc((size_t)m * m, 8), malloc((size_t)m * m * 8),
             calloc((size_t)m * m, 8), NULL};
  for (long i = 0; i < (long)m * m; i++) { l.a[i] = bench_uniform() / sqrt(m); l.b[i] = bench_uniform(); }
  err = check(&l, (long)m * m, (long)m * m, layer_grad, layer);
  emit("layer_gemm", m, bench_time(&args, layer_primal, &l), bench_time(&args, layer_grad, &l),
       bench_time(&args, layer_hand, &l));
  rc |= bench_report("layer_gemm_check", "512", 1.0, 1.0, err) != 0;
  return rc;
}
