/* Third-party-style kernels written with CBLAS, differentiated end to end:
 * - conjugate gradients (symv, dot, axpy, scal, copy) on a symmetric positive definite matrix,
 *   a fixed number of iterations: the gradient of a function of the solution with respect to the
 *   matrix (its upper triangle), the right-hand side and the starting guess;
 * - a damped Gauss-Newton step for linear least squares: H = J^T J + lambda I (syrk, axpy on the
 *   diagonal), g = J^T r (gemv), H d = g by conjugate gradients, theta - d. */
#include <cblas.h>
#include "blas_check.h"

/* x <- CG(S, b) from x, `iters` iterations; S symmetric (upper triangle), n x n, leading dim lds */
static void cg(int n, const R *S, int lds, const R *b, R *x, int iters) {
  R *r = malloc(n * sizeof(R)), *p = malloc(n * sizeof(R)), *Sp = malloc(n * sizeof(R));
  BLAS(copy)(n, b, 1, r, 1);
  BLAS(symv)(CblasRowMajor, CblasUpper, n, -1.0, S, lds, x, 1, 1.0, r, 1);
  BLAS(copy)(n, r, 1, p, 1);
  R rs = BLAS(dot)(n, r, 1, r, 1);
  for (int it = 0; it < iters; it++) {
    BLAS(symv)(CblasRowMajor, CblasUpper, n, 1.0, S, lds, p, 1, 0.0, Sp, 1);
    R alpha = rs / BLAS(dot)(n, p, 1, Sp, 1);
    BLAS(axpy)(n, alpha, p, 1, x, 1);
    BLAS(axpy)(n, -alpha, Sp, 1, r, 1);
    R rs_new = BLAS(dot)(n, r, 1, r, 1);
    BLAS(scal)(n, rs_new / rs, p, 1);
    BLAS(axpy)(n, 1.0, r, 1, p, 1);
    rs = rs_new;
  }
  free(r);
  free(p);
  free(Sp);
}

static R f_cg(R *A, R *x, R *y, R *s, const cfg_t *c) {
  cg(c->n, A, c->lda, x, y, c->k); /* b = x, solution in y (starting from y) */
  return loss(A, x, y);
}

static R f_gauss_newton(R *A, R *x, R *y, R *s, const cfg_t *c) {
  int m = c->m, n = c->n;
  R *J = A, *theta = x, *data = y;
  R *res = malloc(m * sizeof(R)), *H = malloc(n * n * sizeof(R)), *g = malloc(n * sizeof(R));
  R *d = calloc(n, sizeof(R)), one = 1.0;
  BLAS(copy)(m, data, 1, res, 1); /* r = J theta - data */
  BLAS(gemv)(CblasRowMajor, CblasNoTrans, m, n, 1.0, J, n, theta, 1, -1.0, res, 1);
  BLAS(syrk)(CblasRowMajor, CblasUpper, CblasTrans, n, m, 1.0, J, n, 0.0, H, n);
  BLAS(axpy)(n, s[0] * s[0], &one, 0, H, n + 1); /* + lambda I, lambda = s0^2 */
  BLAS(gemv)(CblasRowMajor, CblasTrans, m, n, 1.0, J, n, res, 1, 0.0, g, 1);
  cg(n, H, n, g, d, c->k);
  BLAS(axpy)(n, -1.0, d, 1, theta, 1);
  R rn = BLAS(nrm2)(m, res, 1);
  free(res);
  free(H);
  free(g);
  free(d);
  return loss(A, x, y) + rn * rn;
}

DIFFERENTIATE(f_cg)
DIFFERENTIATE(f_gauss_newton)

int main(void) {
  /* order trans transb uplo diag m n k(iterations) lda ldb incx incy */
  bc_diag = 6.0;
  CHECK(f_cg, 0, 0, 0, 0, 0, 0, 6, 4, 7, 0, 1, 1);
  CHECK(f_cg, 0, 0, 0, 0, 0, 0, 5, 5, 5, 0, 1, 1);
  bc_diag = 0.0;
  CHECK(f_gauss_newton, 0, 0, 0, 0, 0, 8, 4, 4, 4, 0, 1, 1);
  CHECK(f_gauss_newton, 0, 0, 0, 0, 0, 6, 3, 2, 3, 0, 1, 1);
  return bc_finish("blas/kernels");
}
