/* BLAS level 1 (CBLAS): dot, axpy, scal, nrm2, asum, copy, swap, with positive, negative and
 * non-unit increments; alpha active (s[0]). */
#include <cblas.h>
#include "blas_check.h"

static R f_dot(R *A, R *x, R *y, R *s, const cfg_t *c) {
  R r = BLAS(dot)(c->n, x, c->incx, y, c->incy);
  return loss(A, x, y) + r * r;
}
static R f_dot_same(R *A, R *x, R *y, R *s, const cfg_t *c) { /* both operands one vector */
  return loss(A, x, y) + BLAS(dot)(c->n, x, c->incx, x, c->incx);
}
static R f_axpy(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(axpy)(c->n, s[0], x, c->incx, y, c->incy);
  return loss(A, x, y);
}
static R f_scal(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(scal)(c->n, s[0], x, c->incx);
  return loss(A, x, y);
}
static R f_nrm2(R *A, R *x, R *y, R *s, const cfg_t *c) {
  R r = BLAS(nrm2)(c->n, x, c->incx);
  return loss(A, x, y) + 3 * r;
}
static R f_asum(R *A, R *x, R *y, R *s, const cfg_t *c) {
  return loss(A, x, y) + 2 * BLAS(asum)(c->n, x, c->incx);
}
static R f_copy(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(copy)(c->n, x, c->incx, y, c->incy);
  return loss(A, x, y);
}
static R f_swap(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(swap)(c->n, x, c->incx, y, c->incy);
  return loss(A, x, y);
}
/* scal then dot on the scaled vector: the reverse of dot reads x after scal overwrote it */
static R f_scal_dot(R *A, R *x, R *y, R *s, const cfg_t *c) {
  R r = BLAS(dot)(c->n, x, c->incx, y, c->incy);
  BLAS(scal)(c->n, s[0], x, c->incx);
  R q = BLAS(dot)(c->n, x, c->incx, y, c->incy);
  return loss(A, x, y) + r * q;
}

DIFFERENTIATE(f_dot)
DIFFERENTIATE(f_dot_same)
DIFFERENTIATE(f_axpy)
DIFFERENTIATE(f_scal)
DIFFERENTIATE(f_nrm2)
DIFFERENTIATE(f_asum)
DIFFERENTIATE(f_copy)
DIFFERENTIATE(f_swap)
DIFFERENTIATE(f_scal_dot)

int main(void) {
  static const int incs[][2] = {{1, 1}, {2, 1}, {1, -2}, {-1, 3}, {3, -1}};
  for (unsigned k = 0; k < sizeof incs / sizeof incs[0]; k++) {
    int ix = incs[k][0], iy = incs[k][1];
    /* order trans transb uplo diag m n k lda ldb incx incy */
    CHECK(f_dot, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_dot_same, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_axpy, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_scal, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_nrm2, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_asum, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_copy, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_swap, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
    CHECK(f_scal_dot, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, ix, iy);
  }
  return bc_finish("blas/level1");
}
