/* Explicit Euler and classical RK4 integration of a chain of N coupled nonlinear (pendulum)
 * oscillators with fixed ends: q_i' = p_i, p_i' = -omega^2 sin q_i + kappa (q_{i-1} - 2 q_i +
 * q_{i+1}) - delta p_i. Loss = sum_i (q_i^2 + p_i^2) at the final time. Reverse-mode gradient
 * w.r.t. the initial state (2N) and the parameters (omega, kappa, delta).
 * Usage: ode [--quick] [--size STEPS]  (default 100000 steps; the Enzyme paper used 10^6). */
#include "bench.h"

extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
typedef struct { double d[4]; } ode_tangents4;
extern ode_tangents4 __enzyme_fwddiff4(void *, ...);
extern ode_tangents4 __enzyme_batch(void *, ...);
int enzyme_dup;
int enzyme_const;
int enzyme_width, enzyme_dupv, enzyme_vector, enzyme_scalar;

enum { NOSC = 8, NSTATE = 2 * NOSC, NPARAM = 3 };

static void rhs(const double *y, const double *par, double *dy) {
  const double *q = y, *p = y + NOSC;
  double w2 = par[0] * par[0];
  for (int i = 0; i < NOSC; i++) {
    double left = i > 0 ? q[i - 1] : 0.0, right = i < NOSC - 1 ? q[i + 1] : 0.0;
    dy[i] = p[i];
    dy[NOSC + i] = -w2 * sin(q[i]) + par[1] * (left - 2.0 * q[i] + right) - par[2] * p[i];
  }
}

static double final_loss(const double *y) {
  double s = 0.0;
  for (int i = 0; i < NSTATE; i++) s += y[i] * y[i];
  return s;
}

__attribute__((noinline))
static double euler(const double *y0, const double *par, int steps, double dt) {
  double y[NSTATE], dy[NSTATE];
  memcpy(y, y0, sizeof y);
  for (int s = 0; s < steps; s++) {
    rhs(y, par, dy);
    for (int i = 0; i < NSTATE; i++) y[i] += dt * dy[i];
  }
  return final_loss(y);
}

__attribute__((noinline))
static double rk4(const double *y0, const double *par, int steps, double dt) {
  double y[NSTATE], k1[NSTATE], k2[NSTATE], k3[NSTATE], k4[NSTATE], tmp[NSTATE];
  memcpy(y, y0, sizeof y);
  for (int s = 0; s < steps; s++) {
    rhs(y, par, k1);
    for (int i = 0; i < NSTATE; i++) tmp[i] = y[i] + 0.5 * dt * k1[i];
    rhs(tmp, par, k2);
    for (int i = 0; i < NSTATE; i++) tmp[i] = y[i] + 0.5 * dt * k2[i];
    rhs(tmp, par, k3);
    for (int i = 0; i < NSTATE; i++) tmp[i] = y[i] + dt * k3[i];
    rhs(tmp, par, k4);
    for (int i = 0; i < NSTATE; i++) y[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
  }
  return final_loss(y);
}

typedef double (*integrator)(const double *, const double *, int, double);

typedef struct {
  integrator method;
  int steps;
  double dt;
  double x[NSTATE + NPARAM], grad[NSTATE + NPARAM]; /* [y0 | omega kappa delta] */
} ode_problem;

static double ode_loss(const double *x, void *ctx) {
  ode_problem *o = ctx;
  return o->method(x, x + NSTATE, o->steps, o->dt);
}

static volatile double sink;
static void run_primal(void *ctx) { sink = ode_loss(((ode_problem *)ctx)->x, ctx); }

/* One gradient function per integrator, not one function with two call sites: adcc's pre-AD
 * optimization merges `if (c) autodiff(euler, ...) else autodiff(rk4, ...)` into one call of a
 * phi of the two functions, which it then rejects (#5, bench/README.md). */
static void run_grad_euler(void *ctx) {
  ode_problem *o = ctx;
  memset(o->grad, 0, sizeof o->grad);
  __enzyme_autodiff((void *)euler, enzyme_dup, o->x, o->grad, enzyme_dup, o->x + NSTATE,
                    o->grad + NSTATE, enzyme_const, o->steps, enzyme_const, o->dt);
}

static void run_grad_rk4(void *ctx) {
  ode_problem *o = ctx;
  memset(o->grad, 0, sizeof o->grad);
  __enzyme_autodiff((void *)rk4, enzyme_dup, o->x, o->grad, enzyme_dup, o->x + NSTATE,
                    o->grad + NSTATE, enzyme_const, o->steps, enzyme_const, o->dt);
}

static int run(const bench_args *a, const char *name, integrator method, void (*run_grad)(void *),
               int steps) {
  ode_problem o = {method, steps, 10.0 / steps < 1e-3 ? 10.0 / steps : 1e-3, {0}, {0}};
  for (int i = 0; i < NOSC; i++) {
    o.x[i] = 0.8 * sin(0.9 * i + 0.3);        /* angles */
    o.x[NOSC + i] = 0.3 * cos(1.7 * i);        /* momenta */
  }
  o.x[NSTATE] = 1.3;                          /* omega */
  o.x[NSTATE + 1] = 0.7;                      /* kappa */
  o.x[NSTATE + 2] = 0.05;                     /* delta */
  run_grad(&o);
  double err = bench_check_grad(ode_loss, &o, o.x, o.grad, NSTATE + NPARAM, 4, 1e-4);
  double tp = bench_time(a, run_primal, &o);
  double tg = bench_time(a, run_grad, &o);
  char size[64];
  snprintf(size, sizeof size, "N%d_steps%d", NOSC, steps);
  return bench_report(name, size, tp, tg, err);
}

/* --higher (#11): directional derivatives of the RK4 loss along 4 directions of (y0, params):
 * one forward derivative; the 4 at once in vector forward mode (enzyme_width 4); and
 * __enzyme_batch of the one-direction function over the 4 directions. */
enum { NX = NSTATE + NPARAM };
typedef struct { ode_problem *o; double dir[4][NX], jvp[4]; } ode_dirs;

static double rk4_jvp(const double *x, const double *dx, int steps, double dt) {
  return __enzyme_fwddiff((void *)rk4, enzyme_dup, x, dx, enzyme_dup, x + NSTATE, dx + NSTATE,
                          enzyme_const, steps, enzyme_const, dt);
}
static void run_fwd1(void *ctx) {
  ode_dirs *d = ctx;
  d->jvp[0] = rk4_jvp(d->o->x, d->dir[0], d->o->steps, d->o->dt);
}
static void run_fwd4(void *ctx) {
  ode_dirs *d = ctx;
  ode_problem *o = d->o;
  ode_tangents4 t = __enzyme_fwddiff4((void *)rk4, enzyme_width, 4,
                                      enzyme_dupv, sizeof d->dir[0], o->x, d->dir[0],
                                      enzyme_dupv, sizeof d->dir[0], o->x + NSTATE, d->dir[0] + NSTATE,
                                      enzyme_const, o->steps, enzyme_const, o->dt);
  memcpy(d->jvp, t.d, sizeof t.d);
}
static void run_batch4(void *ctx) {
  ode_dirs *d = ctx;
  ode_problem *o = d->o;
  ode_tangents4 t = __enzyme_batch((void *)rk4_jvp, enzyme_width, 4, enzyme_scalar, o->x,
                                   enzyme_vector, d->dir[0], d->dir[1], d->dir[2], d->dir[3],
                                   enzyme_scalar, o->steps, enzyme_scalar, o->dt);
  memcpy(d->jvp, t.d, sizeof t.d);
}

static int run_higher(const bench_args *a, int steps) {
  ode_problem o = {rk4, steps, 10.0 / steps < 1e-3 ? 10.0 / steps : 1e-3, {0}, {0}};
  for (int i = 0; i < NOSC; i++) {
    o.x[i] = 0.8 * sin(0.9 * i + 0.3);
    o.x[NOSC + i] = 0.3 * cos(1.7 * i);
  }
  o.x[NSTATE] = 1.3;
  o.x[NSTATE + 1] = 0.7;
  o.x[NSTATE + 2] = 0.05;
  ode_dirs d = {&o, {{0}}, {0}};
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < NX; i++) d.dir[k][i] = bench_uniform();
  double want[4], err = 0.0;
  for (int k = 0; k < 4; k++) want[k] = bench_fd_dir(ode_loss, &o, o.x, d.dir[k], NX, 1e-4);
  run_fwd4(&d);
  for (int k = 0; k < 4; k++) err = fmax(err, bench_rel_err(d.jvp[k], want[k], 1e-8));
  run_batch4(&d);
  for (int k = 0; k < 4; k++) err = fmax(err, bench_rel_err(d.jvp[k], want[k], 1e-8));
  run_fwd1(&d);
  err = fmax(err, bench_rel_err(d.jvp[0], want[0], 1e-8));
  double t1 = INFINITY, t4 = INFINITY, tb = INFINITY;
  for (int round = 0; round < 3; round++) { /* interleaved: a loaded machine slows them alike */
    t1 = fmin(t1, bench_time(a, run_fwd1, &d));
    t4 = fmin(t4, bench_time(a, run_fwd4, &d));
    tb = fmin(tb, bench_time(a, run_batch4, &d));
  }
  char size[64];
  snprintf(size, sizeof size, "N%d_steps%d", NOSC, steps);
  return bench_report_higher("ode_rk4", size, err, "fwd1_s", t1, "width4_s", t4, "width4_ratio", t4 / t1,
                             "batch4_s", tb, "batch4_ratio", tb / t1, (const char *)NULL);
}

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  int steps = a.size > 0 ? (int)a.size : a.quick ? 1000 : 100000;
  if (a.higher) return run_higher(&a, steps);
  int status = 0;
  if (bench_wanted(&a, "ode_euler")) status |= run(&a, "ode_euler", euler, run_grad_euler, steps);
  if (bench_wanted(&a, "ode_rk4")) status |= run(&a, "ode_rk4", rk4, run_grad_rk4, steps);
  return status;
}
