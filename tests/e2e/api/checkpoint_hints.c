// Enzyme's checkpointing hints change how much Enzyme tapes, never a derivative's value:
// __enzyme_set_checkpointing(schedule, budget) and __enzyme_set_mincut(enable) at the top of a
// loop body (what [[enzyme::checkpoint]] and [[enzyme_set_mincut]] emit), and
// __enzyme_ptr_size_hint(p, bytes, space) before the loop. adcc accepts and drops them: the
// gradient (reverse) and every directional derivative (forward) of the hinted loop equal those
// of the same loop without hints, the hand-written tangent and finite differences; the primal
// runs as before (the hints are gone from the program: nothing defines them).
#include "../e2e.h"

#include <stddef.h>

#define N 4
#define STEPS 6

extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const;
#ifndef ADCC_SELFTEST
extern void __enzyme_set_checkpointing(long, long);
extern void __enzyme_set_mincut(long);
extern void __enzyme_ptr_size_hint(void *, size_t, size_t);
#define HINT_SIZE(p, bytes) __enzyme_ptr_size_hint(p, bytes, 0)
#define HINT_LOOP() (__enzyme_set_checkpointing(2, 3), __enzyme_set_mincut(0))
#else
#define HINT_SIZE(p, bytes) ((void)(p), (void)(bytes))
#define HINT_LOOP() ((void)0)
#endif

__attribute__((noinline)) static void hinted_loop(double *u, long n) {
  HINT_SIZE(u, N * sizeof(double));
  for (long i = 0; i < n; i++) {
    HINT_LOOP();
    double t[N];
    for (int k = 0; k < N; k++) t[k] = sin(u[k]) + 0.5 * u[(k + 1) % N] * u[k];
    for (int k = 0; k < N; k++) u[k] = t[k];
  }
}

static double f(double *x, long n) {
  double u[N];
  for (int k = 0; k < N; k++) u[k] = x[k];
  hinted_loop(u, n);
  double r = 0;
  for (int k = 0; k < N; k++) r += u[k] * u[k];
  return r;
}

/* the hand-written tangent of f in direction dx */
static double f_tangent(const double *x, const double *dx, long n) {
  double u[N], du[N];
  for (int k = 0; k < N; k++) u[k] = x[k], du[k] = dx[k];
  for (long i = 0; i < n; i++) {
    double t[N], dt[N];
    for (int k = 0; k < N; k++) {
      int j = (k + 1) % N;
      t[k] = sin(u[k]) + 0.5 * u[j] * u[k];
      dt[k] = cos(u[k]) * du[k] + 0.5 * (du[j] * u[k] + u[j] * du[k]);
    }
    for (int k = 0; k < N; k++) u[k] = t[k], du[k] = dt[k];
  }
  double r = 0;
  for (int k = 0; k < N; k++) r += 2 * u[k] * du[k];
  return r;
}

static double f_steps(double *v, void *ctx) { return f(v, *(long *)ctx); }

int main(void) {
  e2e_begin("api/checkpoint_hints");
  double x[N] = {0.3, 0.7, 1.1, 0.45};
  long n = STEPS;
  double grad[N] = {0};
#ifdef ADCC_SELFTEST
  for (int k = 0; k < N; k++) {
    double e[N] = {0};
    e[k] = 1;
    grad[k] = f_tangent(x, e, n);
  }
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, grad, enzyme_const, n);
#endif
  for (int k = 0; k < N; k++) {
    double e[N] = {0};
    e[k] = 1;
    double want = f_tangent(x, e, n);
#ifdef ADCC_SELFTEST
    double t = want;
#else
    double de[N] = {0};
    de[k] = 1;
    double t = __enzyme_fwddiff((void *)f, enzyme_dup, x, de, enzyme_const, n);
#endif
    check_an("grad", k, grad[k], want);
    check_an("tangent", k, t, want);
    check_fd("grad", k, grad[k], fdv(f_steps, x, k, &n));
  }
  double u[N] = {0.3, 0.7, 1.1, 0.45};
  hinted_loop(u, 1);
  check_val("primal", 0, u[0], sin(0.3) + 0.5 * 0.7 * 0.3);
  return e2e_finish();
}
