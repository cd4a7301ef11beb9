/* BLAS level 3 (CBLAS): gemm (every transpose pair) and syrk (both triangles and transposes) in
 * both storage orders, leading dimensions larger than the matrices, alpha and beta active. */
#include <cblas.h>
#include "blas_check.h"

static R f_gemm(R *A, R *x, R *y, R *s, const cfg_t *c) {
  /* A holds op-A (at 0) and op-B (at 32); C is y */
  BLAS(gemm)(c->order, c->trans, c->transb, c->m, c->n, c->k, s[0], A, c->lda, A + 32, c->ldb, s[1], y, c->incy);
  return loss(A, x, y);
}
static R f_gemm_const(R *A, R *x, R *y, R *s, const cfg_t *c) { /* C = A B: beta = 0 */
  BLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->m, c->n, c->k, 1.0, A, c->lda, x, c->ldb, 0.0, y,
             c->incy);
  return loss(A, x, y);
}
static R f_syrk(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(syrk)(c->order, c->uplo, c->trans, c->n, c->k, s[0], A, c->lda, s[1], y, c->incy);
  return loss(A, x, y);
}

DIFFERENTIATE(f_gemm)
DIFFERENTIATE(f_gemm_const)
DIFFERENTIATE(f_syrk)

int main(void) {
  static const int orders[] = {CblasRowMajor, CblasColMajor};
  static const int transes[] = {CblasNoTrans, CblasTrans};
  static const int uplos[] = {CblasUpper, CblasLower};
  int m = 3, n = 4, k = 2;
  for (int o = 0; o < 2; o++)
    for (int ta = 0; ta < 2; ta++) {
      int ord = orders[o], row = ord == CblasRowMajor;
      for (int tb = 0; tb < 2; tb++) {
        /* stored dimensions: op(A) is m x k, op(B) k x n, C m x n */
        int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
        int lda = (row ? ac : ar) + 1, ldb = (row ? bc : br) + 2, ldc = (row ? n : m) + 1;
        /* order trans transb uplo diag m n k lda ldb incx(unused) incy(=ldc) */
        CHECK(f_gemm, ord, transes[ta], transes[tb], 0, 0, m, n, k, lda, ldb, 0, ldc);
      }
      for (int u = 0; u < 2; u++) {
        int ar = ta ? k : n, ac = ta ? n : k;
        int lda = (row ? ac : ar) + 1, ldc = n + 1;
        CHECK(f_syrk, ord, transes[ta], 0, uplos[u], 0, 0, n, k, lda, 0, 0, ldc);
      }
    }
  CHECK(f_gemm_const, 0, 0, 0, 0, 0, m, n, k, k, n, 0, n);
  return bc_finish("blas/level3");
}
