/* Explicit Euler and classical RK4 integration of a chain of N coupled nonlinear (pendulum)
 * oscillators with fixed ends: q_i' = p_i, p_i' = -omega^2 sin q_i + kappa (q_{i-1} - 2 q_i +
 * q_{i+1}) - delta p_i. Loss = sum_i (q_i^2 + p_i^2) at the final time. Reverse-mode gradient
 * w.r.t. the initial state (2N) and the parameters (omega, kappa, delta).
 * Usage: ode [--quick] [--size STEPS]  (default 100000 steps; the Enzyme paper used 10^6). */
#include "bench.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup;
int enzyme_const;

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

int main(int argc, char **argv) {
  bench_args a = bench_parse(argc, argv);
  int steps = a.size > 0 ? (int)a.size : a.quick ? 1000 : 100000;
  int status = run(&a, "ode_euler", euler, run_grad_euler, steps);
  status |= run(&a, "ode_rk4", rk4, run_grad_rk4, steps);
  return status;
}
