/* The reverse of a parallel stencil loop (issue #13): a 1-D heat equation u_t = alpha u_xx,
 * explicit time steps, each an `omp parallel for` over the grid, buffers swapped between steps;
 * the loss is the energy of the final state. Primal and gradient (with respect to the initial
 * state and alpha) timed with 1 and 2 OpenMP threads (omp_set_num_threads): wall time (bench.h)
 * and CPU time of all threads; the gradient is checked against 4th-order central differences
 * along random directions. JSON lines per thread count. Built without -fopenmp (no omp.h), the
 * pragmas are ignored and one serial row is reported (the serial reverse of the same stencil). */
#ifdef _OPENMP
#include <omp.h>
#else
static void omp_set_num_threads(int n) { (void)n; }
#endif

#include "../bench.h"

#include <sys/resource.h>

extern double __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

__attribute__((noinline)) double heat(double *u, double *w, int n, int steps, double alpha) {
  for (int t = 0; t < steps; t++) {
#pragma omp parallel for
    for (int i = 1; i < n - 1; i++) w[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
    w[0] = u[0];
    w[n - 1] = u[n - 1];
    double *s = u;
    u = w;
    w = s;
  }
  double e = 0.0;
#pragma omp parallel for reduction(+ : e)
  for (int i = 0; i < n; i++) e += u[i] * u[i];
  return e;
}

typedef struct {
  int n, steps;
  double alpha, dalpha;
  double *u0, *u, *w, *du, *dw;
} ctx_t;

static volatile double sink;

static void primal(void *p) {
  ctx_t *c = p;
  memcpy(c->u, c->u0, (size_t)c->n * sizeof(double));
  sink = heat(c->u, c->w, c->n, c->steps, c->alpha);
}

static void gradient(void *p) {
  ctx_t *c = p;
  memcpy(c->u, c->u0, (size_t)c->n * sizeof(double));
  memset(c->du, 0, (size_t)c->n * sizeof(double));
  memset(c->dw, 0, (size_t)c->n * sizeof(double));
  c->dalpha = __enzyme_autodiff((void *)heat, enzyme_dup, c->u, c->du, enzyme_dup, c->w, c->dw, enzyme_const,
                                c->n, enzyme_const, c->steps, c->alpha);
}

/* the oracle's view: parameters (u0, alpha) -> loss */
static double loss(const double *x, void *p) {
  ctx_t *c = p;
  memcpy(c->u, x, (size_t)c->n * sizeof(double));
  return heat(c->u, c->w, c->n, c->steps, x[c->n]);
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds per call (all threads), the minimum over samples: the work a call does, which
 * other jobs on a loaded machine do not inflate the way they inflate wall time */
static double cpu_time(const bench_args *a, void (*fn)(void *), void *ctx) {
  double best = INFINITY, spent = 0.0;
  for (int s = 0; s < a->min_samples || spent < a->min_total_s; s++) {
    double w0 = bench_now(), c0 = cpu_now();
    fn(ctx);
    double dc = cpu_now() - c0;
    spent += bench_now() - w0;
    if (dc < best) best = dc;
  }
  return best;
}

/* minor page faults per call of fn, after a warm-up call (a gradient that maps fresh tape memory
 * on every call pays a fault per page, serialized on the kernel's memory map) */
static double faults_per_call(void (*fn)(void *), void *ctx) {
  enum { CALLS = 5 };
  struct rusage a, b;
  fn(ctx);
  getrusage(RUSAGE_SELF, &a);
  for (int k = 0; k < CALLS; k++) fn(ctx);
  getrusage(RUSAGE_SELF, &b);
  return (double)(b.ru_minflt - a.ru_minflt) / CALLS;
}

int main(int argc, char **argv) {
  bench_args args = bench_parse(argc, argv);
  /* --size N: grid points (default 2^18: the arrays fit the caches, the tape does not) */
  int n = args.size ? (int)args.size : args.quick ? 4096 : 1 << 18, rc = 0;
  int steps = args.quick ? 5 : n > (1 << 20) ? 4 : 20;
  ctx_t c = {n, steps, 0.2, 0.0, malloc((size_t)n * 8), malloc((size_t)n * 8), malloc((size_t)n * 8),
             malloc((size_t)n * 8), malloc((size_t)n * 8)};
  for (int i = 0; i < n; i++) c.u0[i] = sin(0.001 * i) + 0.1 * bench_uniform();
  char size[64];
  snprintf(size, sizeof size, "%dx%d", n, steps);
#ifdef _OPENMP
  const int max_threads = 2;
#else
  const int max_threads = 1;
#endif
  for (int threads = 1; threads <= max_threads; threads++) {
    omp_set_num_threads(threads);
    gradient(&c);
    double *x = malloc((size_t)(n + 1) * 8), *g = malloc((size_t)(n + 1) * 8);
    memcpy(x, c.u0, (size_t)n * 8);
    x[n] = c.alpha;
    memcpy(g, c.du, (size_t)n * 8);
    g[n] = c.dalpha;
    double err = bench_check_grad(loss, &c, x, g, n + 1, 3, 1e-3);
    free(x), free(g);
    double tp = bench_time(&args, primal, &c), tg = bench_time(&args, gradient, &c);
    double cp = cpu_time(&args, primal, &c), cg = cpu_time(&args, gradient, &c);
    double faults = faults_per_call(gradient, &c);
    char name[64];
    snprintf(name, sizeof name, "heat_stencil_t%d", threads);
    printf("{\"name\": \"%s_cpu\", \"size\": \"%s\", \"threads\": %d, \"primal_cpu_s\": %.6e, "
           "\"grad_cpu_s\": %.6e, \"grad_faults_per_call\": %.1f}\n", name, size, threads, cp, cg, faults);
    rc |= bench_report(name, size, tp, tg, err) != 0;
  }
  return rc;
}
