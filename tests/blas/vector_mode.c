/* Forward vector mode (enzyme_width 2) through BLAS calls: each lane's tangent equals the tangent
 * of a width-1 forward call along the same direction. */
#include <cblas.h>
#include "blas_check.h"

typedef struct { R t0, t1; } R2;
extern int enzyme_width;
extern R2 __enzyme_fwddiff2(void *, ...);

static R f(R *A, R *x, R *y, R *s, const cfg_t *c) {
  BLAS(gemv)(CblasRowMajor, CblasTrans, c->m, c->n, s[0], A, c->lda, x, 1, s[1], y, 1);
  BLAS(scal)(c->n, s[1], y, 1);
  return loss(A, x, y) + BLAS(nrm2)(c->n, y, 1) * BLAS(dot)(c->m, x, 1, x, 1);
}

int main(void) {
  cfg_t c = {0, 0, 0, 0, 0, 4, 3, 0, 5, 0, 1, 1};
  state_t st, d0, d1, w, t0, t1;
  bc_size[0] = NA, bc_size[1] = NX, bc_size[2] = NY;
  bc_init(&st, 0, 5);
  for (int k = 0; k < NA + NX + NY + NS; k++) {
    *bc_elem(&d0, k) = bc_rand();
    *bc_elem(&d1, k) = bc_rand();
  }
  w = st, t0 = d0, t1 = d1;
  R2 both = __enzyme_fwddiff2((void *)f, enzyme_width, 2, enzyme_dup, w.A, t0.A, t1.A, enzyme_dup, w.x, t0.x, t1.x,
                              enzyme_dup, w.y, t0.y, t1.y, enzyme_dup, w.s, t0.s, t1.s, enzyme_const, &c);
  R one[2];
  for (int l = 0; l < 2; l++) {
    state_t v = st, t = l ? d1 : d0;
    one[l] = __enzyme_fwddiff((void *)f, enzyme_dup, v.A, t.A, enzyme_dup, v.x, t.x, enzyme_dup, v.y, t.y,
                              enzyme_dup, v.s, t.s, enzyme_const, &c);
  }
  bc_cases = 2;
  if (!bc_close(both.t0, one[0]) || !bc_close(both.t1, one[1])) {
    printf("width 2: %.9g %.9g, width 1: %.9g %.9g\n", (double)both.t0, (double)both.t1, one[0], one[1]);
    bc_fails = 1;
  }
  return bc_finish("blas/vector_mode");
}
