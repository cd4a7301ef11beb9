/* omp_check.h - harness of adcc's OpenMP derivative tests (tests/test_openmp.py).
 *
 * A case is a function f(x, w, n) whose body holds OpenMP constructs: it reads x[0..NX) and
 * w[0..NW) (w may be overwritten) and returns a value; the checked function is
 * loss(x, w after f) + f(x, w, n). check_case() compares the gradient from __enzyme_autodiff with
 * central finite differences for every element of x and w, and the tangent from __enzyme_fwddiff
 * along a random direction with the directional finite difference. Run with OMP_NUM_THREADS=2;
 * the tests run every program many times (races show as sporadic mismatches). Build with
 * -DUSE_FLOAT for single precision. Prints "PASS <name>" and exits 0 iff everything matched.
 */
#ifndef OMP_CHECK_H
#define OMP_CHECK_H

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef USE_FLOAT
typedef float R;
#define FD_STEP 1e-2
#define TOL 4e-3
#else
typedef double R;
#define FD_STEP 1e-6
#define TOL 1e-6
#endif

enum { NX = 48, NW = 48 };

typedef R (*case_fn)(R *x, R *w, int n);
typedef void (*grad_fn)(R *x, R *dx, R *w, R *dw, int n);
typedef R (*fwd_fn)(R *x, R *dx, R *w, R *dw, int n);

extern int enzyme_dup, enzyme_const;
extern void __enzyme_autodiff(void *, ...);
extern R __enzyme_fwddiff(void *, ...);

/* The checked function: the case plus a loss over everything it may have written. */
#define DIFFERENTIATE(fn)                                                                  \
  static R full_##fn(R *x, R *w, int n) {                                                  \
    R r = fn(x, w, n);                                                                     \
    for (int i = 0; i < NX; i++) r += (R)(0.3 + 0.01 * i) * x[i] + (R)0.1 * x[i] * x[i];  \
    for (int i = 0; i < NW; i++) r += (R)(0.2 - 0.02 * i) * w[i] + (R)0.1 * w[i] * w[i];  \
    return r;                                                                              \
  }                                                                                        \
  static void grad_##fn(R *x, R *dx, R *w, R *dw, int n) {                                 \
    __enzyme_autodiff((void *)full_##fn, enzyme_dup, x, dx, enzyme_dup, w, dw, enzyme_const, n); \
  }                                                                                        \
  static R fwd_##fn(R *x, R *dx, R *w, R *dw, int n) {                                     \
    return __enzyme_fwddiff((void *)full_##fn, enzyme_dup, x, dx, enzyme_dup, w, dw,       \
                            enzyme_const, n);                                              \
  }

#define CHECK(fn, n) check_case(#fn, full_##fn, grad_##fn, fwd_##fn, n)

static int oc_fails = 0, oc_cases = 0;

static unsigned oc_seed = 12345u;
static R oc_rand(void) {
  oc_seed = oc_seed * 1103515245u + 12345u;
  return (R)((double)((oc_seed >> 8) & 0xffff) / 65536.0 - 0.5);
}

typedef struct { R x[NX], w[NW]; } state_t;

static R *oc_elem(state_t *st, int k) { return k < NX ? &st->x[k] : &st->w[k - NX]; }

static double oc_eval(case_fn f, const state_t *st, int n) {
  state_t c = *st;
  return (double)f(c.x, c.w, n);
}

static int oc_close(double got, double want) {
  double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
  return fabs(got - want) <= TOL * scale; /* false for NaN */
}

static void oc_mismatch(const char *name, const char *what, int k, double got, double want) {
  if (oc_fails < 40) printf("%s: %s %d got %.9g want %.9g\n", name, what, k, got, want);
  oc_fails++;
}

static void check_case(const char *name, case_fn f, grad_fn g, fwd_fn fw, int n) {
  enum { N = NX + NW };
  state_t st, grad, w, dir, tan;
  oc_cases++;
  for (int k = 0; k < N; k++) *oc_elem(&st, k) = oc_rand() + (R)0.1 * (R)(k % 7);
  /* reverse mode: every element against central differences */
  memset(&grad, 0, sizeof grad);
  w = st;
  g(w.x, grad.x, w.w, grad.w, n);
  for (int k = 0; k < N; k++) {
    state_t p = st, m = st;
    *oc_elem(&p, k) += (R)FD_STEP;
    *oc_elem(&m, k) -= (R)FD_STEP;
    double fd = (oc_eval(f, &p, n) - oc_eval(f, &m, n)) / (double)(*oc_elem(&p, k) - *oc_elem(&m, k));
    if (!oc_close((double)*oc_elem(&grad, k), fd)) oc_mismatch(name, "gradient", k, *oc_elem(&grad, k), fd);
  }
  /* forward mode: the tangent along a random direction, and the primal result */
  for (int k = 0; k < N; k++) *oc_elem(&dir, k) = oc_rand();
  w = st;
  tan = dir;
  R t = fw(w.x, tan.x, w.w, tan.w, n);
  state_t p = st, m = st;
  for (int k = 0; k < N; k++) {
    *oc_elem(&p, k) += (R)FD_STEP * *oc_elem(&dir, k);
    *oc_elem(&m, k) -= (R)FD_STEP * *oc_elem(&dir, k);
  }
  double fd = (oc_eval(f, &p, n) - oc_eval(f, &m, n)) / (2 * FD_STEP);
  if (!oc_close((double)t, fd)) oc_mismatch(name, "tangent", 0, t, fd);
}

static int oc_finish(const char *program) {
  if (oc_fails) {
    printf("FAIL %s (%d mismatches in %d cases)\n", program, oc_fails, oc_cases);
    return 1;
  }
  printf("PASS %s (%d cases, %d threads)\n", program, oc_cases, omp_get_max_threads());
  return 0;
}

#endif
