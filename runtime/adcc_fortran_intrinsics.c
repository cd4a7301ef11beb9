/* Fortran runtime support: intrinsic functions flang calls its runtime for: NORM2, whole-array and
 * DIM= reductions (SUM, PRODUCT, MAXVAL, MINVAL), DOT_PRODUCT, MATMUL, and the element permutations
 * (PACK, UNPACK, SPREAD, RESHAPE, TRANSPOSE, CSHIFT, EOSHIFT), whose element map is computed by the
 * runtime function itself, run on arrays of element indices. */
#include <stdlib.h>
#include <string.h>

#include "adcc_fortran_internal.h"

enum { OP_SUM, OP_PRODUCT, OP_MAXVAL, OP_MINVAL, OP_NORM2 };

/* --- values and positions -------------------------------------------------------------------- */

static double real_at(const fdesc *d, int64_t off) { return elem_get((const char *)d->base_addr + off, d->type, 0); }

/* primal values of a real array, in element order (the reverse pass may run after they changed) */
static double *values_of(const fdesc *d) {
  int64_t n = desc_elements(d);
  double *v = malloc((size_t)(n ? n : 1) * sizeof(double));
  if (!v) adcc_fatal("out of memory saving Fortran values");
  walk w;
  int64_t k = 0;
  for (walk_init(&w, d); w.count-- > 0; walk_next(&w)) v[k++] = real_at(d, w.off);
  return v;
}

static int mask_at(const fdesc *mask, const walk *w) {
  if (!mask) return 1;
  int64_t off = 0;
  if (mask->rank)
    for (int k = 0; k < w->rank; k++) off += w->idx[k] * mask->dim[k].sm;
  const unsigned char *p = (const unsigned char *)mask->base_addr + off;
  for (size_t b = 0; b < mask->elem_len; b++)
    if (p[b]) return 1;
  return 0;
}

/* byte offset in `res` of the element of a DIM= reduction that x's element at `w` goes into */
static int64_t reduced_offset(const fdesc *res, const walk *w, int dim) {
  int64_t off = 0;
  for (int k = 0, j = 0; k < w->rank; k++)
    if (k != dim) off += w->idx[k] * res->dim[j++].sm;
  return off;
}

static void require_real(const fdesc *d) {
  if (d->type != T_F32 && d->type != T_F64)
    adcc_fatal("this Fortran intrinsic has derivatives only for REAL(4) and REAL(8) arguments");
}

/* --- NORM2 ------------------------------------------------------------------------------------ */

double adcc_fortran_norm2_fwd(const void *x_, const void *x_s_, double norm) {
  const fdesc *x = x_, *xs = x_s_;
  if (!xs || !xs->base_addr || norm == 0.0) return 0.0;
  require_real(x);
  double t = 0.0;
  walk w;
  for (walk_init(&w, x); w.count-- > 0; walk_next(&w)) t += real_at(x, w.off) * real_at(xs, w.off);
  return t / norm;
}

/* whole-array reductions and NORM2 share one record */
typedef struct {
  frecord h;
  int op;
  fdesc *x;        /* with its shadow base address */
  fdesc *mask;     /* a packed copy of the mask's selection, as bytes (or NULL) */
  double *values;  /* primal values (PRODUCT, NORM2) */
  int64_t pick;    /* MAXVAL/MINVAL: offset of the element chosen, -1: none */
  double result;
} reduce_record;

static void reduce_reverse(frecord *r_, double adj) {
  reduce_record *r = (reduce_record *)r_;
  const fdesc *x = r->x;
  walk w;
  int64_t k = 0;
  if (r->op == OP_MAXVAL || r->op == OP_MINVAL) {
    if (r->pick >= 0) elem_put((char *)x->base_addr + r->pick, x->type, 0, real_at(x, r->pick) + adj);
  } else {
    int64_t zeros = 0;
    double nonzero = 1.0;
    if (r->op == OP_PRODUCT)
      for (walk_init(&w, x); w.count-- > 0; walk_next(&w), k++)
        if (!r->mask || ((char *)r->mask)[k]) {
          if (r->values[k] == 0.0) zeros++;
          else nonzero *= r->values[k];
        }
    k = 0;
    for (walk_init(&w, x); w.count-- > 0; walk_next(&w), k++) {
      if (r->mask && !((char *)r->mask)[k]) continue;
      double partial = 1.0;
      if (r->op == OP_NORM2) partial = r->result == 0.0 ? 0.0 : r->values[k] / r->result;
      else if (r->op == OP_PRODUCT)
        partial = r->values[k] != 0.0 ? (zeros ? 0.0 : nonzero / r->values[k]) : (zeros == 1 ? nonzero : 0.0);
      elem_put((char *)x->base_addr + w.off, x->type, 0, real_at(x, w.off) + adj * partial);
    }
  }
  free(r->x);
  free(r->mask);
  free(r->values);
}

static char *selection(const fdesc *x, const fdesc *mask) {
  if (!mask) return NULL;
  char *sel = malloc((size_t)desc_elements(x) + 1);
  if (!sel) adcc_fatal("out of memory saving a Fortran mask");
  walk w;
  int64_t k = 0;
  for (walk_init(&w, x); w.count-- > 0; walk_next(&w)) sel[k++] = (char)mask_at(mask, &w);
  return sel;
}

static int64_t pick_extremum(int op, const fdesc *x, const fdesc *mask, double result) {
  walk w;
  for (walk_init(&w, x); w.count-- > 0; walk_next(&w))
    if (mask_at(mask, &w) && real_at(x, w.off) == result) return w.off;
  (void)op;
  return -1;
}

void *adcc_fortran_norm2_aug(const void *x_, const void *x_s_, double norm) {
  const fdesc *x = x_, *xs = x_s_;
  if (!xs || !xs->base_addr) return NULL;
  require_real(x);
  reduce_record *r = record_new(sizeof *r, reduce_reverse);
  r->op = OP_NORM2;
  r->x = desc_snapshot(x, xs->base_addr);
  r->values = values_of(x);
  r->result = norm;
  return r;
}

double adcc_fortran_reduce_fwd(int32_t op, const void *x_, const void *x_s_, const void *mask_, double result) {
  const fdesc *x = x_, *xs = x_s_, *mask = mask_;
  if (!xs || !xs->base_addr) return 0.0;
  require_real(x);
  walk w;
  if (op == OP_MAXVAL || op == OP_MINVAL) {
    int64_t at = pick_extremum(op, x, mask, result);
    return at < 0 ? 0.0 : real_at(xs, at);
  }
  double t = 0.0;
  if (op == OP_SUM) {
    for (walk_init(&w, x); w.count-- > 0; walk_next(&w))
      if (mask_at(mask, &w)) t += real_at(xs, w.off);
    return t;
  }
  int64_t zeros = 0; /* PRODUCT: sum over i of dx_i * prod_{j!=i} x_j */
  double nonzero = 1.0;
  for (walk_init(&w, x); w.count-- > 0; walk_next(&w))
    if (mask_at(mask, &w)) {
      double v = real_at(x, w.off);
      if (v == 0.0) zeros++;
      else nonzero *= v;
    }
  for (walk_init(&w, x); w.count-- > 0; walk_next(&w)) {
    if (!mask_at(mask, &w)) continue;
    double v = real_at(x, w.off);
    t += real_at(xs, w.off) * (v != 0.0 ? (zeros ? 0.0 : nonzero / v) : (zeros == 1 ? nonzero : 0.0));
  }
  return t;
}

void *adcc_fortran_reduce_aug(int32_t op, const void *x_, const void *x_s_, const void *mask_, double result) {
  const fdesc *x = x_, *xs = x_s_, *mask = mask_;
  if (!xs || !xs->base_addr) return NULL;
  require_real(x);
  reduce_record *r = record_new(sizeof *r, reduce_reverse);
  r->op = op;
  r->x = desc_snapshot(x, xs->base_addr);
  r->mask = (fdesc *)selection(x, mask);
  r->result = result;
  if (op == OP_PRODUCT) r->values = values_of(x);
  if (op == OP_MAXVAL || op == OP_MINVAL) r->pick = pick_extremum(op, x, mask, result);
  return r;
}

/* --- DIM= reductions: NORM2, SUM, PRODUCT, MAXVAL, MINVAL ------------------------------------- */

typedef struct {
  frecord h;
  int op, dim;
  fdesc *x, *res;      /* with their shadow base addresses */
  double *xv, *rv;     /* primal values of x and of the result */
  char *sel;           /* mask selection, or NULL */
} dim_record;

/* d res_j / d x_i for x's element k (at walk w) in the group of result element at offset `ro` */
static double dim_partial(int op, double xi, double rj, double nonzero_j, int64_t zeros_j, int picked) {
  switch (op) {
  case OP_SUM: return 1.0;
  case OP_NORM2: return rj == 0.0 ? 0.0 : xi / rj;
  case OP_PRODUCT: return xi != 0.0 ? (zeros_j ? 0.0 : rj / xi) : (zeros_j == 1 ? nonzero_j : 0.0);
  default: return picked ? 1.0 : 0.0;
  }
}

/* per result element: product of nonzero x, number of zeros (PRODUCT), or whether picked (MAX/MIN) */
typedef struct {
  double *nonzero;
  int64_t *zeros;
  char *picked;  /* per x element */
} dim_groups;

static dim_groups dim_prepare(int op, const fdesc *x, const fdesc *res, int dim, const double *xv, const double *rv,
                              const char *sel) {
  dim_groups g = {NULL, NULL, NULL};
  int64_t nres = desc_elements(res), nx = desc_elements(x);
  walk w;
  int64_t k = 0;
  if (op == OP_PRODUCT) {
    g.nonzero = malloc((size_t)(nres + 1) * sizeof(double));
    g.zeros = calloc((size_t)(nres + 1), sizeof(int64_t));
    for (int64_t j = 0; j < nres; j++) g.nonzero[j] = 1.0;
    for (walk_init(&w, x); w.count-- > 0; walk_next(&w), k++) {
      if (sel && !sel[k]) continue;
      int64_t j = reduced_offset(res, &w, dim) / (int64_t)res->elem_len;
      if (xv[k] == 0.0) g.zeros[j]++;
      else g.nonzero[j] *= xv[k];
    }
  } else if (op == OP_MAXVAL || op == OP_MINVAL) {
    g.picked = calloc((size_t)(nx + 1), 1);
    char *done = calloc((size_t)(nres + 1), 1);
    for (walk_init(&w, x); w.count-- > 0; walk_next(&w), k++) {
      if (sel && !sel[k]) continue;
      int64_t j = reduced_offset(res, &w, dim) / (int64_t)res->elem_len;
      if (!done[j] && xv[k] == rv[j]) done[j] = g.picked[k] = 1;
    }
    free(done);
  }
  return g;
}

static void dim_groups_free(dim_groups *g) {
  free(g->nonzero);
  free(g->zeros);
  free(g->picked);
}

/* forward: res_s = sum over i of partial * x_s; reverse: x_s += partial * res_s */
static void dim_apply(int op, const fdesc *x, const fdesc *xs, const fdesc *res, const fdesc *rs, int dim,
                      const double *xv, const double *rv, const char *sel, int reverse) {
  dim_groups g = dim_prepare(op, x, res, dim, xv, rv, sel);
  walk w;
  int64_t k = 0;
  for (walk_init(&w, x); w.count-- > 0; walk_next(&w), k++) {
    if (sel && !sel[k]) continue;
    int64_t ro = reduced_offset(res, &w, dim), j = ro / (int64_t)res->elem_len;
    double p = dim_partial(op, xv[k], rv[j], g.nonzero ? g.nonzero[j] : 0.0, g.zeros ? g.zeros[j] : 0,
                           g.picked ? g.picked[k] : 0);
    if (p == 0.0) continue;
    char *xe = (char *)xs->base_addr + w.off, *re = (char *)rs->base_addr + ro;
    if (reverse) elem_put(xe, xs->type, 0, elem_get(xe, xs->type, 0) + p * elem_get(re, rs->type, 0));
    else elem_put(re, rs->type, 0, elem_get(re, rs->type, 0) + p * elem_get(xe, xs->type, 0));
  }
  dim_groups_free(&g);
}

static void dim_reverse(frecord *r_, double adj) {
  (void)adj;
  dim_record *r = (dim_record *)r_;
  dim_apply(r->op, r->x, r->x, r->res, r->res, r->dim, r->xv, r->rv, r->sel, 1);
  free(r->x);
  free(r->res);
  free(r->xv);
  free(r->rv);
  free(r->sel);
}

static void dim_check(const fdesc *x, const fdesc *res) {
  require_real(x);
  for (int k = 0; k < res->rank; k++)
    if (res->dim[k].sm % (int64_t)res->elem_len) adcc_fatal("unexpected layout of a reduction result");
}

static void *dim_forward_or_aug(int op, fdesc *res, fdesc *rs, const fdesc *x, const fdesc *xs, int dim,
                                const fdesc *mask, int aug) {
  if (!rs) return NULL;
  dim_check(x, res);
  if (xs && !xs->base_addr) xs = NULL;
  dim_record *r = aug ? record_new(sizeof *r, xs ? dim_reverse : NULL) : NULL;
  rs->base_addr = NULL;
  desc_copy_meta(rs, res);
  rs->base_addr = shadow_buffer_like(res);
  if (r) ptrvec_push(&r->h.shadow, rs->base_addr);
  if (!xs) return r;
  double *xv = values_of(x), *rv = values_of(res);
  char *sel = selection(x, mask);
  if (r) {
    r->op = op;
    r->dim = dim - 1;
    r->x = desc_snapshot(x, xs->base_addr);
    r->res = desc_snapshot(res, rs->base_addr);
    r->xv = xv;
    r->rv = rv;
    r->sel = sel;
    return r;
  }
  dim_apply(op, x, xs, res, rs, dim - 1, xv, rv, sel, 0);
  free(xv);
  free(rv);
  free(sel);
  return NULL;
}

void adcc_fortran_norm2_dim_fwd(void *result, void *result_s, const void *x, const void *x_s, int32_t dim) {
  dim_forward_or_aug(OP_NORM2, result, result_s, x, x_s, dim, NULL, 0);
}

void *adcc_fortran_norm2_dim_aug(void *result, void *result_s, const void *x, const void *x_s, int32_t dim) {
  return dim_forward_or_aug(OP_NORM2, result, result_s, x, x_s, dim, NULL, 1);
}

void adcc_fortran_reduce_dim_fwd(int32_t op, void *result, void *result_s, const void *x, const void *x_s,
                                 int32_t dim, const void *mask) {
  dim_forward_or_aug(op, result, result_s, x, x_s, dim, mask, 0);
}

void *adcc_fortran_reduce_dim_aug(int32_t op, void *result, void *result_s, const void *x, const void *x_s,
                                  int32_t dim, const void *mask) {
  return dim_forward_or_aug(op, result, result_s, x, x_s, dim, mask, 1);
}

/* --- DOT_PRODUCT ---------------------------------------------------------------------------------- */

double adcc_fortran_dot_fwd(const void *x_, const void *x_s_, const void *y_, const void *y_s_) {
  const fdesc *x = x_, *xs = x_s_, *y = y_, *ys = y_s_;
  require_real(x);
  require_real(y);
  if (xs && !xs->base_addr) xs = NULL;
  if (ys && !ys->base_addr) ys = NULL;
  double t = 0.0;
  walk wx, wy;
  walk_init(&wy, y);
  for (walk_init(&wx, x); wx.count-- > 0; walk_next(&wx), walk_next(&wy)) {
    if (xs) t += real_at(xs, wx.off) * real_at(y, wy.off);
    if (ys) t += real_at(x, wx.off) * real_at(ys, wy.off);
  }
  return t;
}

typedef struct {
  frecord h;
  fdesc *x, *y;      /* with their shadow base addresses (NULL: no derivative) */
  double *xv, *yv;
} dot_record;

static void dot_reverse(frecord *r_, double adj) {
  dot_record *r = (dot_record *)r_;
  walk w;
  int64_t k = 0;
  if (r->x)
    for (walk_init(&w, r->x); w.count-- > 0; walk_next(&w), k++)
      elem_put((char *)r->x->base_addr + w.off, r->x->type, 0, real_at(r->x, w.off) + adj * r->yv[k]);
  k = 0;
  if (r->y)
    for (walk_init(&w, r->y); w.count-- > 0; walk_next(&w), k++)
      elem_put((char *)r->y->base_addr + w.off, r->y->type, 0, real_at(r->y, w.off) + adj * r->xv[k]);
  free(r->x);
  free(r->y);
  free(r->xv);
  free(r->yv);
}

void *adcc_fortran_dot_aug(const void *x_, const void *x_s_, const void *y_, const void *y_s_) {
  const fdesc *x = x_, *xs = x_s_, *y = y_, *ys = y_s_;
  if (xs && !xs->base_addr) xs = NULL;
  if (ys && !ys->base_addr) ys = NULL;
  if (!xs && !ys) return NULL;
  require_real(x);
  require_real(y);
  dot_record *r = record_new(sizeof *r, dot_reverse);
  r->x = xs ? desc_snapshot(x, xs->base_addr) : NULL;
  r->y = ys ? desc_snapshot(y, ys->base_addr) : NULL;
  r->xv = ys ? values_of(x) : NULL;
  r->yv = xs ? values_of(y) : NULL;
  return r;
}

/* --- MATMUL --------------------------------------------------------------------------------------- */

/* a rank-1 or rank-2 operand as a (rows, cols) matrix; a vector is a row on the left, a column on
 * the right, as MATMUL treats it */
typedef struct {
  const fdesc *d;
  int64_t rows, cols, rsm, csm;
} matrix;

static matrix as_matrix(const fdesc *d, int left) {
  matrix m = {d, 1, 1, 0, 0};
  if (d->rank == 2) {
    m.rows = d->dim[0].extent, m.cols = d->dim[1].extent;
    m.rsm = d->dim[0].sm, m.csm = d->dim[1].sm;
  } else if (left) {
    m.cols = d->dim[0].extent, m.csm = d->dim[0].sm;
  } else {
    m.rows = d->dim[0].extent, m.rsm = d->dim[0].sm;
  }
  return m;
}

static int64_t at(const matrix *m, int64_t i, int64_t j) { return i * m->rsm + j * m->csm; }

static double *matrix_values(const matrix *m) {
  double *v = malloc((size_t)(m->rows * m->cols + 1) * sizeof(double));
  if (!v) adcc_fatal("out of memory saving MATMUL operands");
  for (int64_t j = 0; j < m->cols; j++)
    for (int64_t i = 0; i < m->rows; i++) v[i + j * m->rows] = real_at(m->d, at(m, i, j));
  return v;
}

/* c[i,j] += sum_k a[i,k] * b[k,j], with a and b as value arrays or through shadow descriptors */
static void gemm_add(const fdesc *c, const matrix *cm, const matrix *am, const double *av, const fdesc *as,
                     const matrix *bm, const double *bv, const fdesc *bs) {
  for (int64_t j = 0; j < cm->cols; j++)
    for (int64_t i = 0; i < cm->rows; i++) {
      double t = 0.0;
      for (int64_t k = 0; k < am->cols; k++) {
        double a = av ? av[i + k * am->rows] : real_at(as, at(am, i, k));
        double b = bv ? bv[k + j * bm->rows] : real_at(bs, at(bm, k, j));
        t += a * b;
      }
      char *e = (char *)c->base_addr + at(cm, i, j);
      elem_put(e, c->type, 0, elem_get(e, c->type, 0) + t);
    }
}

static matrix result_matrix(const fdesc *res, const fdesc *a, const fdesc *b) {
  matrix m = {res, 1, 1, 0, 0};
  if (res->rank == 2) return as_matrix(res, 0);
  if (a->rank == 1) { /* vector * matrix: a row */
    m.cols = res->dim[0].extent, m.csm = res->dim[0].sm;
  } else {
    m.rows = res->dim[0].extent, m.rsm = res->dim[0].sm;
  }
  (void)b;
  return m;
}

void adcc_fortran_matmul_fwd(void *res_, void *rs_, const void *a_, const void *as_, const void *b_,
                             const void *bs_) {
  fdesc *res = res_, *rs = rs_;
  const fdesc *a = a_, *as = as_, *b = b_, *bs = bs_;
  if (!rs) return;
  require_real(a);
  require_real(b);
  rs->base_addr = NULL;
  desc_copy_meta(rs, res);
  rs->base_addr = shadow_buffer_like(res);
  matrix am = as_matrix(a, 1), bm = as_matrix(b, 0), cm = result_matrix(rs, a, b);
  double *av = matrix_values(&am), *bv = matrix_values(&bm);
  if (as && as->base_addr) { /* dA * B */
    matrix asm_ = as_matrix(as, 1);
    gemm_add(rs, &cm, &asm_, NULL, as, &bm, bv, NULL);
  }
  if (bs && bs->base_addr) { /* A * dB */
    matrix bsm = as_matrix(bs, 0);
    gemm_add(rs, &cm, &am, av, NULL, &bsm, NULL, bs);
  }
  free(av);
  free(bv);
}

typedef struct {
  frecord h;
  fdesc *a, *b, *res;   /* with their shadow base addresses */
  double *av, *bv;
} matmul_record;

static void matmul_reverse(frecord *r_, double adj) {
  (void)adj;
  matmul_record *r = (matmul_record *)r_;
  matrix am = as_matrix(r->a, 1), bm = as_matrix(r->b, 0), cm = result_matrix(r->res, r->a, r->b);
  if (r->a->base_addr) /* dA += dC * B^T */
    for (int64_t i = 0; i < am.rows; i++)
      for (int64_t k = 0; k < am.cols; k++) {
        double t = 0.0;
        for (int64_t j = 0; j < cm.cols; j++) t += real_at(r->res, at(&cm, i, j)) * r->bv[k + j * bm.rows];
        char *e = (char *)r->a->base_addr + at(&am, i, k);
        elem_put(e, r->a->type, 0, elem_get(e, r->a->type, 0) + t);
      }
  if (r->b->base_addr) /* dB += A^T * dC */
    for (int64_t k = 0; k < bm.rows; k++)
      for (int64_t j = 0; j < bm.cols; j++) {
        double t = 0.0;
        for (int64_t i = 0; i < cm.rows; i++) t += r->av[i + k * am.rows] * real_at(r->res, at(&cm, i, j));
        char *e = (char *)r->b->base_addr + at(&bm, k, j);
        elem_put(e, r->b->type, 0, elem_get(e, r->b->type, 0) + t);
      }
  free(r->a);
  free(r->b);
  free(r->res);
  free(r->av);
  free(r->bv);
}

void *adcc_fortran_matmul_aug(void *res_, void *rs_, const void *a_, const void *as_, const void *b_,
                              const void *bs_) {
  fdesc *res = res_, *rs = rs_;
  const fdesc *a = a_, *as = as_, *b = b_, *bs = bs_;
  if (!rs) return NULL;
  require_real(a);
  require_real(b);
  matmul_record *r = record_new(sizeof *r, matmul_reverse);
  rs->base_addr = NULL;
  desc_copy_meta(rs, res);
  rs->base_addr = shadow_buffer_like(res);
  ptrvec_push(&r->h.shadow, rs->base_addr);
  matrix am = as_matrix(a, 1), bm = as_matrix(b, 0);
  r->a = desc_snapshot(a, as ? as->base_addr : NULL);
  r->b = desc_snapshot(b, bs ? bs->base_addr : NULL);
  r->res = desc_snapshot(res, rs->base_addr);
  r->av = matrix_values(&am);
  r->bv = matrix_values(&bm);
  return r;
}

/* --- element permutations ------------------------------------------------------------------------- */

enum { P_PACK, P_UNPACK, P_SPREAD, P_RESHAPE, P_TRANSPOSE, P_CSHIFT, P_CSHIFT_VECTOR, P_EOSHIFT,
       P_EOSHIFT_VECTOR };

void _FortranAPack(void *, const void *, const void *, const void *, const char *, int);
void _FortranAUnpack(void *, const void *, const void *, const void *, const char *, int);
void _FortranASpread(void *, const void *, int, int64_t, const char *, int);
void _FortranAReshape(void *, const void *, const void *, const void *, const void *, const char *, int);
void _FortranATranspose(void *, const void *, const char *, int);
void _FortranACshift(void *, const void *, const void *, int, const char *, int);
void _FortranACshiftVector(void *, const void *, int64_t, const char *, int);
void _FortranAEoshift(void *, const void *, const void *, const void *, int, const char *, int);
void _FortranAEoshiftVector(void *, const void *, int64_t, const void *, const char *, int);

#define OPERAND_SHIFT 56

/* an INTEGER(8) array shaped like d holding (operand << 56) | (element number + 1) */
static fdesc *index_array(const fdesc *d, int64_t operand, char *space) {
  if (!d) return NULL;
  fdesc *x = (fdesc *)space;
  memcpy(x, d, 24 + 24 * (size_t)d->rank);
  x->elem_len = 8;
  x->type = T_INT64;
  x->attribute = ATTR_OTHER;
  x->extra = 0;
  for (int k = 0; k < x->rank; k++) x->dim[k].lower_bound = 1;
  desc_contiguous(x);
  int64_t n = desc_elements(d);
  int64_t *v = malloc((size_t)(n ? n : 1) * 8);
  if (!v) adcc_fatal("out of memory computing an element map");
  for (int64_t k = 0; k < n; k++) v[k] = (operand << OPERAND_SHIFT) | (k + 1);
  x->base_addr = v;
  return x;
}

/* The element map of the runtime function `op`: for each result element (in element order) the
 * operand and element it copies, encoded as in index_array (0: none). Its length is in *n. */
static int64_t *element_map(int op, const fdesc *res, const fdesc *a, const fdesc *b, const void *e1,
                            const void *e2, int64_t i1, int64_t i2, const char *file, int line, int64_t *n) {
  char sa[DESC_MAX_BYTES], sb[DESC_MAX_BYTES], sr[DESC_MAX_BYTES];
  fdesc *ia = index_array(a, 0, sa), *ib = index_array(b, 1, sb), *ir = (fdesc *)sr;
  memset(ir, 0, 24 + 24 * (size_t)res->rank);
  ir->elem_len = 8;
  ir->version = DESC_VERSION;
  ir->rank = res->rank;
  ir->type = T_INT64;
  ir->attribute = ATTR_ALLOCATABLE;
  switch (op) {
  case P_PACK: _FortranAPack(ir, ia, e1, ib, file, line); break;
  case P_UNPACK: _FortranAUnpack(ir, ia, e1, ib, file, line); break;
  case P_SPREAD: _FortranASpread(ir, ia, (int)i1, i2, file, line); break;
  case P_RESHAPE: _FortranAReshape(ir, ia, e1, ib, e2, file, line); break;
  case P_TRANSPOSE: _FortranATranspose(ir, ia, file, line); break;
  case P_CSHIFT: _FortranACshift(ir, ia, e1, (int)i1, file, line); break;
  case P_CSHIFT_VECTOR: _FortranACshiftVector(ir, ia, i1, file, line); break;
  case P_EOSHIFT: _FortranAEoshift(ir, ia, e1, ib, (int)i1, file, line); break;
  case P_EOSHIFT_VECTOR: _FortranAEoshiftVector(ir, ia, i1, ib, file, line); break;
  default: adcc_fatal("unknown Fortran element permutation");
  }
  free(ia ? ia->base_addr : NULL);
  free(ib ? ib->base_addr : NULL);
  *n = desc_elements(ir);
  int64_t *map = malloc((size_t)(*n ? *n : 1) * 8);
  if (!map) adcc_fatal("out of memory computing an element map");
  walk w;
  int64_t k = 0;
  for (walk_init(&w, ir); w.count-- > 0; walk_next(&w)) map[k++] = *(int64_t *)((char *)ir->base_addr + w.off);
  free(ir->base_addr);
  return map;
}

/* byte offset of element number k (element order) of d */
static int64_t offset_of(const fdesc *d, int64_t k) {
  int64_t off = 0;
  for (int r = 0; r < d->rank; r++) {
    int64_t ext = d->dim[r].extent;
    off += (k % ext) * d->dim[r].sm;
    k /= ext;
  }
  return off;
}

typedef struct {
  frecord h;
  int64_t *map, n;
  fdesc *res, *src[2];   /* with their shadow base addresses (NULL: no derivative) */
} permute_record;

static const fdesc *map_source(const fdesc *const src[2], int64_t m, int64_t *off) {
  const fdesc *s = src[m >> OPERAND_SHIFT];
  if (!s || !s->base_addr) return NULL;
  *off = offset_of(s, (m & ((1ll << OPERAND_SHIFT) - 1)) - 1);
  return s;
}

static void permute_reverse(frecord *r_, double adj) {
  (void)adj;
  permute_record *r = (permute_record *)r_;
  etype rt = etype_of(r->res);
  walk w;
  int64_t k = 0;
  for (walk_init(&w, r->res); w.count-- > 0; walk_next(&w), k++) {
    int64_t off;
    const fdesc *s = r->map[k] ? map_source((const fdesc *const *)r->src, r->map[k], &off) : NULL;
    if (s) elem_convert_add((char *)s->base_addr + off, etype_of(s), (char *)r->res->base_addr + w.off, rt, 1.0);
  }
  free(r->map);
  free(r->res);
  free(r->src[0]);
  free(r->src[1]);
}

static void permute_shadow(fdesc *res, fdesc *rs, frecord *rec) {
  rs->base_addr = NULL;
  desc_copy_meta(rs, res);
  rs->base_addr = shadow_buffer_like(res);
  if (rec) ptrvec_push(&rec->shadow, rs->base_addr);
}

void adcc_fortran_permute_fwd(int32_t op, void *res_, void *rs_, const void *a, const void *a_s, const void *b,
                              const void *b_s, const void *e1, const void *e2, int64_t i1, int64_t i2) {
  fdesc *res = res_, *rs = rs_;
  if (!rs) return;
  int64_t n;
  int64_t *map = element_map(op, res, a, b, e1, e2, i1, i2, NULL, 0, &n);
  permute_shadow(res, rs, NULL);
  const fdesc *src[2] = {a_s, b_s};
  etype rt = etype_of(res);
  walk w;
  int64_t k = 0;
  for (walk_init(&w, res); w.count-- > 0; walk_next(&w), k++) {
    int64_t off;
    const fdesc *s = map[k] ? map_source(src, map[k], &off) : NULL;
    elem_tangent((char *)rs->base_addr + w.off, rt, (const char *)res->base_addr + w.off,
                 s ? (const char *)s->base_addr + off : NULL, s ? etype_of(s) : rt, NULL);
  }
  free(map);
}

void *adcc_fortran_permute_aug(int32_t op, void *res_, void *rs_, const void *a, const void *a_s, const void *b,
                               const void *b_s, const void *e1, const void *e2, int64_t i1, int64_t i2,
                               const char *file, int32_t line) {
  fdesc *res = res_, *rs = rs_;
  if (!rs) return NULL;
  permute_record *r = record_new(sizeof *r, permute_reverse);
  r->map = element_map(op, res, a, b, e1, e2, i1, i2, file, line, &r->n);
  permute_shadow(res, rs, &r->h);
  etype rt = etype_of(res);
  if (rt.code == T_STRUCT) {
    walk w;
    for (walk_init(&w, res); w.count-- > 0; walk_next(&w))
      elem_tangent((char *)rs->base_addr + w.off, rt, (const char *)res->base_addr + w.off, NULL, rt, &r->h);
  }
  r->res = desc_snapshot(res, rs->base_addr);
  const fdesc *ops[2] = {a, b}, *shadows[2] = {a_s, b_s};
  for (int j = 0; j < 2; j++)
    if (ops[j] && shadows[j] && shadows[j]->base_addr) r->src[j] = desc_snapshot(ops[j], shadows[j]->base_addr);
  return r;
}
