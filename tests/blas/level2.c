/* BLAS level 2 (CBLAS): gemv, ger, symv, trmv, trsv in both storage orders, both transposes,
 * both triangles, unit and non-unit diagonals, unit, strided and negative increments; alpha and
 * beta active (s[0], s[1]). */
#include <cblas.h>
#include "blas_check.h"

static R f_gemv(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(gemv)(c->order, c->trans, c->m, c->n, s[0], A, c->lda, x, c->incx, s[1], y, c->incy);
  return loss(A, x, y);
}
static R f_gemv_const(R *A, R *x, R *y, R *s, const cfg_t *c) { /* y = A x: beta = 0 */
  BLAS(gemv)(CblasColMajor, CblasNoTrans, c->m, c->n, 1.0, A, c->lda, x, c->incx, 0.0, y, c->incy);
  return loss(A, x, y);
}
static R f_ger(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(ger)(c->order, c->m, c->n, s[0], x, c->incx, y, c->incy, A, c->lda);
  return loss(A, x, y);
}
static R f_symv(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(symv)(c->order, c->uplo, c->n, s[0], A, c->lda, x, c->incx, s[1], y, c->incy);
  return loss(A, x, y);
}
static R f_trmv(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(trmv)(c->order, c->uplo, c->trans, c->diag, c->n, A, c->lda, x, c->incx);
  return loss(A, x, y);
}
static R f_trsv(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(trsv)(c->order, c->uplo, c->trans, c->diag, c->n, A, c->lda, x, c->incx);
  return loss(A, x, y);
}
/* A is overwritten after the gemv: its reverse must have saved A and x */
static R f_gemv_overwrite(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(gemv)(c->order, c->trans, c->m, c->n, s[0], A, c->lda, x, c->incx, s[1], y, c->incy);
  for (int i = 0; i < NA; i++) A[i] = A[i] * A[i];
  for (int i = 0; i < NX; i++) x[i] = 2 * x[i];
  return loss(A, x, y);
}

/* a callee with stack temporaries the reverse reads (kept alive until then), called twice */
static __attribute__((noinline)) R gemv_norm(const R *A, const R *x, int m, int n, int lda, R alpha) {
  R t[8];
  BLAS(gemv)(CblasColMajor, CblasNoTrans, m, n, alpha, A, lda, x, 1, 0.0, t, 1);
  return BLAS(dot)(m, t, 1, t, 1);
}
static R f_stack_callee(R *A, R *x, R *y, R *s, const cfg_t *c) {
  R r = gemv_norm(A, x, c->m, c->n, c->lda, s[0]);
  x[0] = r; /* the callee's argument memory changes after it returns */
  return loss(A, x, y) + gemv_norm(A, x, c->m, c->n, c->lda, s[1]);
}

DIFFERENTIATE(f_gemv)
DIFFERENTIATE(f_stack_callee)
DIFFERENTIATE(f_gemv_const)
DIFFERENTIATE(f_ger)
DIFFERENTIATE(f_symv)
DIFFERENTIATE(f_trmv)
DIFFERENTIATE(f_trsv)
DIFFERENTIATE(f_gemv_overwrite)

int main(void) {
  static const int incs[][2] = {{1, 1}, {2, -1}, {-2, 3}};
  static const int orders[] = {CblasRowMajor, CblasColMajor};
  static const int transes[] = {CblasNoTrans, CblasTrans};
  static const int uplos[] = {CblasUpper, CblasLower};
  static const int diags[] = {CblasNonUnit, CblasUnit};
  int m = 4, n = 3;
  for (int o = 0; o < 2; o++)
    for (unsigned k = 0; k < sizeof incs / sizeof incs[0]; k++) {
      int ord = orders[o], ix = incs[k][0], iy = incs[k][1];
      int ld = (ord == CblasRowMajor ? n : m) + 1, lds = n + 2;
      CHECK(f_ger, ord, 0, 0, 0, 0, m, n, 0, ld, 0, ix, iy);
      for (int t = 0; t < 2; t++) {
        /* order trans transb uplo diag m n k lda ldb incx incy */
        CHECK(f_gemv, ord, transes[t], 0, 0, 0, m, n, 0, ld, 0, ix, iy);
        CHECK(f_gemv_overwrite, ord, transes[t], 0, 0, 0, m, n, 0, ld, 0, ix, iy);
        CHECK(f_symv, ord, 0, 0, uplos[t], 0, 0, n, 0, lds, 0, ix, iy);
        for (int u = 0; u < 2; u++)
          for (int d = 0; d < 2; d++) {
            bc_diag = 0.0;
            CHECK(f_trmv, ord, transes[t], 0, uplos[u], diags[d], 0, n, 0, lds, 0, ix, iy);
            bc_diag = 3.0;
            CHECK(f_trsv, ord, transes[t], 0, uplos[u], diags[d], 0, n, 0, lds, 0, ix, iy);
            bc_diag = 0.0;
          }
      }
    }
  CHECK(f_gemv_const, 0, 0, 0, 0, 0, m, n, 0, m + 2, 0, 1, 2);
  CHECK(f_stack_callee, 0, 0, 0, 0, 0, m, n, 0, m + 1, 0, 1, 1);
  return bc_finish("blas/level2");
}
