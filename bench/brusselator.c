/* The 2-D Brusselator reaction-diffusion PDE on a 32x32 periodic grid (spacing h = 1/32),
 * integrated by explicit Euler steps:
 *   u' = B + u^2 v - (A + 1) u + alpha lap(u) + f(x, y),   v' = A u - u^2 v + alpha lap(v),
 * with f = 5 on the disc (x-0.3)^2 + (y-0.6)^2 <= 0.1^2. Loss = mean of u^2 + v^2 at the end.
 * Reverse-mode gradient w.r.t. the initial u, v (2 * 32 * 32) and the parameters (A, B, alpha).
 * Two rows, the same equations, data and loss: `brusselator` (step(): periodic neighbours by index
 * arithmetic) and `brusselator_peeled` (step_peeled(): the forcing tabulated, the wrap peeled).
 * Usage: brusselator [--quick] [--size STEPS] [--only NAME]  (default 500 steps of dt = 1e-3). */
#include "bench.h"

extern void __enzyme_autodiff(void *, ...);
extern void *__enzyme_augmentfwd(void *, ...);
extern void __enzyme_reverse(void *, ...);
int enzyme_dup;
int enzyme_const;
int enzyme_not_overwritten;

enum { N = 32, NN = N * N, NPARAM = 3 };

static double forcing(int i, int j) {
  double x = (double)i / N, y = (double)j / N;
  return (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6) <= 0.01 ? 5.0 : 0.0;
}

/* One explicit Euler step from (u, v) into (un, vn). */
static void step(const double *u, const double *v, double *un, double *vn, const double *par,
                 double dt) {
  double a = par[0], b = par[1], alpha = par[2] * N * N;
  for (int i = 0; i < N; i++) {
    int ip = (i + 1) % N, im = (i + N - 1) % N;
    for (int j = 0; j < N; j++) {
      int jp = (j + 1) % N, jm = (j + N - 1) % N, c = i * N + j;
      double lu = u[ip * N + j] + u[im * N + j] + u[i * N + jp] + u[i * N + jm] - 4.0 * u[c];
      double lv = v[ip * N + j] + v[im * N + j] + v[i * N + jp] + v[i * N + jm] - 4.0 * v[c];
      double uuv = u[c] * u[c] * v[c];
      un[c] = u[c] + dt * (b + uuv - (a + 1.0) * u[c] + alpha * lu + forcing(i, j));
      vn[c] = v[c] + dt * (a * u[c] - uuv + alpha * lv);
    }
  }
}

/* One grid point of step_peeled: c the point, l/r/up/dn its neighbours' indices. */
static inline void point(const double *u, const double *v, double *un, double *vn, const double *f, int c,
                         int l, int r, int up, int dn, double a, double b, double alpha, double dt) {
  double lu = u[up] + u[dn] + u[r] + u[l] - 4.0 * u[c];
  double lv = v[up] + v[dn] + v[r] + v[l] - 4.0 * v[c];
  double uuv = u[c] * u[c] * v[c];
  un[c] = u[c] + dt * (b + uuv - (a + 1.0) * u[c] + alpha * lu + f[c]);
  vn[c] = v[c] + dt * (a * u[c] - uuv + alpha * lv);
}

/* step() as a C programmer tuning for speed writes it (#17, the `brusselator_peeled` row): the
 * forcing a table made once, the periodic wrap of j peeled off each row, so that the inner loop's
 * neighbours are at unit stride and the loop vectorizes. */
static void step_peeled(const double *restrict u, const double *restrict v, double *restrict un,
                       double *restrict vn, const double *restrict par, const double *restrict f, double dt) {
  double a = par[0], b = par[1], alpha = par[2] * N * N;
  for (int i = 0; i < N; i++) {
    int row = i * N, up = ((i + 1) % N) * N, dn = ((i + N - 1) % N) * N;
    point(u, v, un, vn, f, row, row + N - 1, row + 1, up, dn, a, b, alpha, dt);
    for (int j = 1; j < N - 1; j++)
      point(u, v, un, vn, f, row + j, row + j - 1, row + j + 1, up + j, dn + j, a, b, alpha, dt);
    point(u, v, un, vn, f, row + N - 1, row + N - 2, row, up + N - 1, dn + N - 1, a, b, alpha, dt);
  }
}

__attribute__((noinline))
static double brusselator_peeled(const double *uv0, const double *par, int steps, double dt) {
  double *cur = malloc(sizeof(double) * 2 * NN), *next = malloc(sizeof(double) * 2 * NN);
  double *f = malloc(sizeof(double) * NN);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) f[i * N + j] = forcing(i, j);
  memcpy(cur, uv0, sizeof(double) * 2 * NN);
  for (int s = 0; s < steps; s++) {
    step_peeled(cur, cur + NN, next, next + NN, par, f, dt);
    double *t = cur;
    cur = next;
    next = t;
  }
  double loss = 0.0;
  for (int i = 0; i < 2 * NN; i++) loss += cur[i] * cur[i];
  free(cur);
  free(next);
  free(f);
  return loss / NN;
}

__attribute__((noinline))
static double brusselator(const double *uv0, const double *par, int steps, double dt) {
  double *cur = malloc(sizeof(double) * 2 * NN), *next = malloc(sizeof(double) * 2 * NN);
  memcpy(cur, uv0, sizeof(double) * 2 * NN);
  for (int s = 0; s < steps; s++) {
    step(cur, cur + NN, next, next + NN, par, dt);
    double *t = cur;
    cur = next;
    next = t;
  }
  double loss = 0.0;
  for (int i = 0; i < 2 * NN; i++) loss += cur[i] * cur[i];
  free(cur);
  free(next);
  return loss / NN;
}

typedef struct {
  int steps;
  double dt;
  double x[2 * NN + NPARAM], grad[2 * NN + NPARAM]; /* [u | v | A B alpha] */
  int tuned;                                         /* brusselator_peeled, else brusselator */
} bruss_problem;

static double bruss_loss(const double *x, void *ctx) {
  bruss_problem *p = ctx;
  return (p->tuned ? brusselator_peeled : brusselator)(x, x + 2 * NN, p->steps, p->dt);
}

static volatile double sink;
static void run_primal(void *ctx) { sink = bruss_loss(((bruss_problem *)ctx)->x, ctx); }

static void run_grad(void *ctx) {
  bruss_problem *p = ctx;
  memset(p->grad, 0, sizeof p->grad);
  if (p->tuned)
    __enzyme_autodiff((void *)brusselator_peeled, enzyme_dup, p->x, p->grad, enzyme_dup, p->x + 2 * NN,
                      p->grad + 2 * NN, enzyme_const, p->steps, enzyme_const, p->dt);
  else
    __enzyme_autodiff((void *)brusselator, enzyme_dup, p->x, p->grad, enzyme_dup, p->x + 2 * NN,
                      p->grad + 2 * NN, enzyme_const, p->steps, enzyme_const, p->dt);
}

/* --higher (#11): the gradient in split mode (two calls; `kept`: inputs marked
 * enzyme_not_overwritten). */
static void split(bruss_problem *p, int kept) {
  memset(p->grad, 0, sizeof p->grad);
  void *tape;
  if (kept) {
    tape = __enzyme_augmentfwd((void *)brusselator, enzyme_not_overwritten, enzyme_dup, p->x, p->grad,
                               enzyme_not_overwritten, enzyme_dup, p->x + 2 * NN, p->grad + 2 * NN,
                               enzyme_const, p->steps, enzyme_const, p->dt);
    __enzyme_reverse((void *)brusselator, enzyme_not_overwritten, enzyme_dup, p->x, p->grad,
                     enzyme_not_overwritten, enzyme_dup, p->x + 2 * NN, p->grad + 2 * NN,
                     enzyme_const, p->steps, enzyme_const, p->dt, 1.0, tape);
  } else {
    tape = __enzyme_augmentfwd((void *)brusselator, enzyme_dup, p->x, p->grad, enzyme_dup, p->x + 2 * NN,
                               p->grad + 2 * NN, enzyme_const, p->steps, enzyme_const, p->dt);
    __enzyme_reverse((void *)brusselator, enzyme_dup, p->x, p->grad, enzyme_dup, p->x + 2 * NN,
                     p->grad + 2 * NN, enzyme_const, p->steps, enzyme_const, p->dt, 1.0, tape);
  }
}
static void run_split(void *ctx) { split(ctx, 1); }
static void run_split_default(void *ctx) { split(ctx, 0); }

static int run_higher(const bench_args *a, bruss_problem *p, const char *size) {
  double want[2 * NN + NPARAM], err = 0.0;
  run_grad(p);
  memcpy(want, p->grad, sizeof want);
  for (int kept = 0; kept < 2; kept++) {
    split(p, kept);
    for (int i = 0; i < 2 * NN + NPARAM; i++) err = fmax(err, bench_rel_err(p->grad[i], want[i], 1e-12));
  }
  double tg = INFINITY, ts = INFINITY, td = INFINITY;
  for (int round = 0; round < 3; round++) { /* interleaved: a loaded machine slows them alike */
    tg = fmin(tg, bench_time(a, run_grad, p));
    ts = fmin(ts, bench_time(a, run_split, p));
    td = fmin(td, bench_time(a, run_split_default, p));
  }
  return bench_report_higher("brusselator", size, err, "grad_s", tg, "split_s", ts, "split_ratio", ts / tg,
                             "split_default_s", td, "split_default_ratio", td / tg, (const char *)NULL);
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  static bruss_problem p;
  p.steps = a.size > 0 ? (int)a.size : a.quick ? 20 : 500;
  p.dt = 1e-3;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      double x = (double)i / N, y = (double)j / N;
      p.x[i * N + j] = 22.0 * pow(y * (1.0 - y), 1.5);      /* the usual initial condition */
      p.x[NN + i * N + j] = 27.0 * pow(x * (1.0 - x), 1.5);
    }
  p.x[2 * NN] = 3.4;    /* A */
  p.x[2 * NN + 1] = 1.0; /* B */
  p.x[2 * NN + 2] = 0.01; /* alpha (diffusion, in units of the domain) */
  char size[64];
  snprintf(size, sizeof size, "%dx%d_steps%d", N, N, p.steps);
  if (a.higher) return run_higher(&a, &p, size);
  p.tuned = 1;
  double tuned = bruss_loss(p.x, &p);
  p.tuned = 0;
  double textbook = bruss_loss(p.x, &p);
  if (!(fabs(tuned - textbook) <= 1e-12 * fabs(textbook))) {
    fprintf(stderr, "brusselator: the two implementations disagree: %.17g vs %.17g\n", tuned, textbook);
    return 1;
  }
  int rc = 0;
  for (int tuned = 0; tuned < 2; tuned++) {
    const char *name = tuned ? "brusselator_peeled" : "brusselator";
    if (!bench_wanted(&a, name)) continue;
    p.tuned = tuned;
    run_grad(&p);
    double err = bench_check_grad(bruss_loss, &p, p.x, p.grad, 2 * NN + NPARAM, 4, 1e-4);
    double tp = bench_time(&a, run_primal, &p);
    double tg = bench_time(&a, run_grad, &p);
    rc |= bench_report(name, size, tp, tg, err);
  }
  return rc;
}
