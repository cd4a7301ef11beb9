/* Fortran BLAS spellings (ddot_, dgemv_, dgemm_, ... arguments by reference, as f77blas.h and
 * Fortran programs call them): every routine once or twice, alpha and beta passed by reference
 * from active memory. */
#include "blas_check.h"

typedef int I;
extern R F77(dot)(const I *, const R *, const I *, const R *, const I *);
extern R F77(nrm2)(const I *, const R *, const I *);
extern R F77(asum)(const I *, const R *, const I *);
extern void F77(axpy)(const I *, const R *, const R *, const I *, R *, const I *);
extern void F77(scal)(const I *, const R *, R *, const I *);
extern void F77(copy)(const I *, const R *, const I *, R *, const I *);
extern void F77(gemv)(const char *, const I *, const I *, const R *, const R *, const I *, const R *, const I *,
                      const R *, R *, const I *);
extern void F77(ger)(const I *, const I *, const R *, const R *, const I *, const R *, const I *, R *, const I *);
extern void F77(symv)(const char *, const I *, const R *, const R *, const I *, const R *, const I *, const R *,
                      R *, const I *);
extern void F77(trmv)(const char *, const char *, const char *, const I *, const R *, const I *, R *, const I *);
extern void F77(trsv)(const char *, const char *, const char *, const I *, const R *, const I *, R *, const I *);
extern void F77(gemm)(const char *, const char *, const I *, const I *, const I *, const R *, const R *, const I *,
                      const R *, const I *, const R *, R *, const I *);
extern void F77(syrk)(const char *, const char *, const I *, const I *, const R *, const R *, const I *, const R *,
                      R *, const I *);

static const char *T_[] = {"N", "T"}, *U_[] = {"U", "L"}, *D_[] = {"N", "U"};

static R f_level1(R *A, R *x, R *y, R *s, const cfg_t *c) {
  I n = c->n, ix = c->incx, iy = c->incy;
  R r = F77(dot)(&n, x, &ix, y, &iy);
  F77(axpy)(&n, &s[0], x, &ix, y, &iy);
  R q = F77(nrm2)(&n, y, &iy) + F77(asum)(&n, x, &ix);
  F77(scal)(&n, &s[1], x, &ix);
  F77(copy)(&n, x, &ix, A, &iy);
  return loss(A, x, y) + r * q;
}
static R f_level2(R *A, R *x, R *y, R *s, const cfg_t *c) {
  I m = c->m, n = c->n, lda = c->lda, ix = c->incx, iy = c->incy;
  F77(gemv)(T_[c->trans], &m, &n, &s[0], A, &lda, x, &ix, &s[1], y, &iy);
  F77(ger)(&m, &n, &s[1], y, &iy, x, &ix, A + 20, &lda);
  F77(symv)(U_[c->uplo], &n, &s[0], A + 40, &lda, y, &iy, &s[1], x, &ix);
  F77(trmv)(U_[c->uplo], T_[c->trans], D_[c->diag], &n, A, &lda, x, &ix);
  return loss(A, x, y);
}
static R f_trsv(R *A, R *x, R *y, R *s, const cfg_t *c) {
  I n = c->n, lda = c->lda, ix = c->incx;
  F77(trsv)(U_[c->uplo], T_[c->trans], D_[c->diag], &n, A, &lda, x, &ix);
  return loss(A, x, y);
}
static R f_level3(R *A, R *x, R *y, R *s, const cfg_t *c) {
  I m = c->m, n = c->n, k = c->k, lda = c->lda, ldb = c->ldb, ldc = c->incy;
  F77(gemm)(T_[c->trans], T_[c->transb], &m, &n, &k, &s[0], A, &lda, A + 32, &ldb, &s[1], y, &ldc);
  F77(syrk)(U_[c->uplo], T_[c->trans], &m, &k, &s[1], A, &lda, &s[0], x, &m);
  return loss(A, x, y);
}

DIFFERENTIATE(f_level1)
DIFFERENTIATE(f_level2)
DIFFERENTIATE(f_trsv)
DIFFERENTIATE(f_level3)

int main(void) {
  /* order(unused) trans transb uplo diag m n k lda ldb incx incy */
  CHECK(f_level1, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 1);
  CHECK(f_level1, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2, -3);
  for (int t = 0; t < 2; t++)
    for (int u = 0; u < 2; u++) {
      CHECK(f_level2, 0, t, 0, u, t ^ u, 3, 3, 0, 5, 0, 1, 1);
      CHECK(f_level2, 0, t, 0, u, u, 3, 3, 0, 4, 0, -2, 2);
      bc_diag = 3.0;
      CHECK(f_trsv, 0, t, 0, u, t, 0, 3, 0, 4, 0, -2, 1);
      bc_diag = 0.0;
      for (int tb = 0; tb < 2; tb++) {
        int m = 3, n = 4, k = 2, lda = (t ? k : m) + 1, ldb = (tb ? n : k) + 1;
        CHECK(f_level3, 0, t, tb, u, 0, m, n, k, lda, ldb, 0, m + 1);
      }
    }
  return bc_finish("blas/fortran");
}
