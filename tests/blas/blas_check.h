/* blas_check.h - harness of adcc's BLAS derivative tests (tests/test_blas.py).
 *
 * A case is a function f(A, x, y, s, cfg) that calls one BLAS routine on the arrays A, x, y
 * (alpha = s[0], beta = s[1]) with the storage order, transposes, triangles and increments of
 * `cfg`, and returns loss(A, x, y) + the routine's result. check_case() compares, for every
 * element of A, x, y and s, the gradient from __enzyme_autodiff with central finite differences,
 * and the tangent from __enzyme_fwddiff along a random direction with the directional finite
 * difference. Build with -DUSE_FLOAT for single precision (cblas_s*, sgemm_, ...).
 * Prints "PASS <name>" and exits 0 iff everything matched.
 */
#ifndef BLAS_CHECK_H
#define BLAS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef USE_FLOAT
typedef float R;
#define BLAS(name) cblas_s##name
#define F77(name) s##name##_
#define FD_STEP 1e-2
#define TOL 3e-3
#else
typedef double R;
#define BLAS(name) cblas_d##name
#define F77(name) d##name##_
#define FD_STEP 1e-6
#define TOL 1e-6
#endif

enum { NA = 64, NX = 24, NY = 24, NS = 2 };

typedef struct {
  int order, trans, transb, uplo, diag, m, n, k, lda, ldb, incx, incy;
} cfg_t;

typedef R (*case_fn)(R *A, R *x, R *y, R *s, const cfg_t *c);
typedef void (*grad_fn)(R *A, R *dA, R *x, R *dx, R *y, R *dy, R *s, R *ds, const cfg_t *c);
typedef R (*fwd_fn)(R *A, R *dA, R *x, R *dx, R *y, R *dy, R *s, R *ds, const cfg_t *c);

extern int enzyme_dup, enzyme_const;
extern void __enzyme_autodiff(void *, ...);
extern R __enzyme_fwddiff(void *, ...);

/* Gradient and forward wrappers of one case function (Enzyme needs the function by name). */
#define DIFFERENTIATE(fn)                                                                       \
  static void grad_##fn(R *A, R *dA, R *x, R *dx, R *y, R *dy, R *s, R *ds, const cfg_t *c) {  \
    __enzyme_autodiff((void *)fn, enzyme_dup, A, dA, enzyme_dup, x, dx, enzyme_dup, y, dy,      \
                      enzyme_dup, s, ds, enzyme_const, c);                                      \
  }                                                                                             \
  static R fwd_##fn(R *A, R *dA, R *x, R *dx, R *y, R *dy, R *s, R *ds, const cfg_t *c) {      \
    return __enzyme_fwddiff((void *)fn, enzyme_dup, A, dA, enzyme_dup, x, dx, enzyme_dup, y,    \
                            dy, enzyme_dup, s, ds, enzyme_const, c);                            \
  }

#define CHECK(fn, ...)                                                                          \
  do {                                                                                          \
    cfg_t cfg_ = {__VA_ARGS__};                                                                 \
    check_case(#fn, fn, grad_##fn, fwd_##fn, &cfg_);                                            \
  } while (0)

static int bc_fails = 0, bc_cases = 0;
static double bc_diag = 0.0; /* added to A's diagonal (trsv: well conditioned) */

/* Array sizes the loss reads, set at run time: loops the compiler cannot unroll keep the
 * differentiated functions (and the test's compile time) small. */
static int bc_size[3];

/* The loss every case adds: sum w_i v_i + 0.1 v_i^2 over A, x, y (after the call). */
static R loss(const R *A, const R *x, const R *y) {
  R l = 0;
  for (int i = 0; i < bc_size[0]; i++) l += (R)(0.3 + 0.01 * i) * A[i] + (R)0.1 * A[i] * A[i];
  for (int i = 0; i < bc_size[1]; i++) l += (R)(0.5 - 0.02 * i) * x[i] + (R)0.1 * x[i] * x[i];
  for (int i = 0; i < bc_size[2]; i++) l += (R)(0.2 + 0.03 * i) * y[i] + (R)0.1 * y[i] * y[i];
  return l;
}

static unsigned bc_seed = 12345u;
static R bc_rand(void) {
  bc_seed = bc_seed * 1103515245u + 12345u;
  return (R)((double)((bc_seed >> 8) & 0xffff) / 65536.0 - 0.5);
}

typedef struct { R A[NA], x[NX], y[NY], s[NS]; } state_t;

static void bc_init(state_t *st, int diag_n, int lda) {
  for (int i = 0; i < NA; i++) st->A[i] = bc_rand();
  for (int i = 0; i < NX; i++) { /* away from 0: asum's kink */
    R r = bc_rand();
    st->x[i] = r < 0 ? r - (R)0.2 : r + (R)0.2;
  }
  for (int i = 0; i < NY; i++) st->y[i] = bc_rand();
  st->s[0] = (R)0.7 + bc_rand();
  st->s[1] = (R)-0.4 + bc_rand();
  for (int i = 0; i < diag_n; i++) st->A[i * lda + i] += (R)bc_diag;
}

static R *bc_elem(state_t *st, int k) { /* the k-th input element */
  if (k < NA) return &st->A[k];
  if (k < NA + NX) return &st->x[k - NA];
  if (k < NA + NX + NY) return &st->y[k - NA - NX];
  return &st->s[k - NA - NX - NY];
}

static double bc_eval(case_fn f, const state_t *st, const cfg_t *c) {
  state_t w = *st;
  return (double)f(w.A, w.x, w.y, w.s, c);
}

static int bc_close(double got, double want) {
  double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
  return fabs(got - want) <= TOL * scale;
}

static void check_case(const char *name, case_fn f, grad_fn g, fwd_fn fw, const cfg_t *c) {
  enum { N = NA + NX + NY + NS };
  state_t st, grad, w, dir, tan;
  int lda = c->lda, dn = c->n < c->m || c->m == 0 ? c->n : c->m;
  bc_size[0] = NA, bc_size[1] = NX, bc_size[2] = NY;
  bc_cases++;
  bc_init(&st, dn, lda);
  memset(&grad, 0, sizeof grad);
  w = st;
  g(w.A, grad.A, w.x, grad.x, w.y, grad.y, w.s, grad.s, c);
  double primal = bc_eval(f, &st, c), fd_dot = 0.0;
  int bad = 0;
  for (int k = 0; k < N; k++) {
    state_t p = st;
    R *v = bc_elem(&p, k), x0 = *v;
    R h = (R)(FD_STEP * (fabs((double)x0) + 1.0));
    *v = x0 + h;
    double fp = bc_eval(f, &p, c);
    *v = x0 - h;
    double fm = bc_eval(f, &p, c);
    double fd = (fp - fm) / (double)((x0 + h) - (x0 - h));
    double got = (double)*bc_elem(&grad, k);
    if (!bc_close(got, fd)) {
      if (bad < 6)
        printf("%s order=%d trans=%d/%d uplo=%d diag=%d inc=%d/%d: d/d[%d] got %.9g want %.9g\n", name,
               c->order, c->trans, c->transb, c->uplo, c->diag, c->incx, c->incy, k, got, fd);
      bad++;
    }
  }
  /* forward mode along a random direction, against the gradient (already checked) */
  for (int k = 0; k < N; k++) {
    *bc_elem(&dir, k) = bc_rand();
    fd_dot += (double)*bc_elem(&dir, k) * (double)*bc_elem(&grad, k);
  }
  w = st;
  tan = dir;
  double t = (double)fw(w.A, tan.A, w.x, tan.x, w.y, tan.y, w.s, tan.s, c);
  double scale = 0.0;
  for (int k = 0; k < N; k++) scale += fabs((double)*bc_elem(&dir, k) * (double)*bc_elem(&grad, k));
  if (fabs(t - fd_dot) > TOL * (scale > 1.0 ? scale : 1.0) * 10) {
    printf("%s order=%d trans=%d/%d uplo=%d diag=%d inc=%d/%d: forward got %.9g want %.9g\n", name, c->order,
           c->trans, c->transb, c->uplo, c->diag, c->incx, c->incy, t, fd_dot);
    bad++;
  }
  (void)primal;
  if (bad) bc_fails++;
}

static int bc_finish(const char *name) {
  if (bc_fails) {
    printf("FAIL %s (%d of %d cases)\n", name, bc_fails, bc_cases);
    return 1;
  }
  printf("PASS %s (%d cases)\n", name, bc_cases);
  return 0;
}

#endif
