/* Fortran runtime support: assignment, allocation, deallocation, MOVE_ALLOC, derived-type
 * destruction and initialization, copy-in/copy-out temporaries, array constructors, and values
 * without derivatives (input, RANDOM_NUMBER). See adcc_fortran.h for the conventions. */
#include <stdlib.h>
#include <string.h>

#include "adcc_fortran_internal.h"

/* --- shapes of shadows ------------------------------------------------------------------------ */

/* Give shadow `s` the shape of its primal `p`: a new zeroed buffer when the shape changed (kept in
 * the record in the augmented pass). Returns a snapshot of the old shadow when it was replaced. */
static fdesc *reshape_shadow(fdesc *s, const fdesc *p, frecord *rec) {
  void *old = s->base_addr;
  record_save(rec, s);
  int renew = p->base_addr && (!old || !desc_same_shape(s, p) || s->elem_len != p->elem_len);
  fdesc *before = old && (renew || !p->base_addr) ? desc_snapshot(s, old) : NULL;
  desc_copy_meta(s, p);
  if (!p->base_addr) {
    s->base_addr = NULL;
  } else if (renew) {
    s->base_addr = shadow_buffer_like(p);
    if (rec) ptrvec_push(&rec->shadow, s->base_addr);
  }
  return before;
}

/* Forward mode: release a replaced shadow and what its elements own. */
static void release_old(fdesc *old) {
  if (!old) return;
  walk w;
  etype t = etype_of(old);
  if (t.code == T_STRUCT)
    for (walk_init(&w, old); w.count-- > 0; walk_next(&w)) elem_release((char *)old->base_addr + w.off, t);
  adcc_shadow_release(old->base_addr, free);
  free(old);
}

static void span(const fdesc *d, const char **lo, const char **hi) {
  const char *a = d->base_addr, *b = a + d->elem_len;
  for (int k = 0; k < d->rank; k++) {
    int64_t reach = (d->dim[k].extent - 1) * d->dim[k].sm;
    if (d->dim[k].extent <= 0) return (void)(*lo = *hi = a);
    if (reach < 0) a += reach; else b += reach;
  }
  *lo = a;
  *hi = b;
}

static int overlaps(const fdesc *x, const fdesc *y) {
  if (!x->base_addr || !y->base_addr) return 0;
  const char *xl, *xh, *yl, *yh;
  span(x, &xl, &xh);
  span(y, &yl, &yh);
  return xl < yh && yl < xh;
}

/* A contiguous copy of d's elements (the caller frees it); its descriptor is returned in `out`. */
static void *packed_copy(const fdesc *d, fdesc *out) {
  memcpy(out, d, desc_bytes(d));
  desc_contiguous(out);
  char *buf = malloc(desc_data_bytes(d) + 1);
  if (!buf) adcc_fatal("out of memory copying Fortran data");
  walk w;
  int64_t k = 0;
  for (walk_init(&w, d); w.count-- > 0; walk_next(&w), k++)
    memcpy(buf + k * (int64_t)d->elem_len, (const char *)d->base_addr + w.off, d->elem_len);
  out->base_addr = buf;
  return buf;
}

/* to_s = tangent of `to = from` (forward), or only its structure (augmented pass, `rec` set).
 * A scalar `from` is broadcast; from_s NULL: the source has no derivative. */
static void copy_tangents(fdesc *to_s, const fdesc *to, const fdesc *from, const fdesc *from_s, frecord *rec) {
  char tmp_space[DESC_MAX_BYTES];
  void *tmp = NULL;
  if (from_s && !from_s->base_addr) from_s = NULL;
  if (from_s && !rec && overlaps(to_s, from_s)) {
    tmp = packed_copy(from_s, (fdesc *)tmp_space);
    from_s = (const fdesc *)tmp_space;
  }
  etype tt = etype_of(to), ft = from_s ? etype_of(from_s) : etype_of(from);
  walk wt, wf;
  int broadcast = !from_s || from_s->rank == 0 || desc_elements(from_s) != desc_elements(to);
  if (from_s && !broadcast) walk_init(&wf, from_s);
  for (walk_init(&wt, to); wt.count-- > 0; walk_next(&wt)) {
    const char *src = from_s ? (const char *)from_s->base_addr + (broadcast ? 0 : wf.off) : NULL;
    elem_tangent((char *)to_s->base_addr + wt.off, tt, (const char *)to->base_addr + wt.off, src, ft, rec);
    if (from_s && !broadcast) walk_next(&wf);
  }
  free(tmp);
}

/* from_s += to_s (element by element, converting; summed into a scalar), then to_s = 0. When the
 * two overlap (x(2:n) = x(1:n-1)), to_s is copied and zeroed first. */
static void accumulate_copy(const fdesc *to_s, const fdesc *from_s) {
  if (!to_s->base_addr) return;
  etype tt = etype_of(to_s);
  if (from_s && !from_s->base_addr) from_s = NULL;
  char space[DESC_MAX_BYTES];
  fdesc *packed = (fdesc *)space;
  void *tmp = NULL;
  walk wt, wf;
  if (from_s && tt.code != T_STRUCT && overlaps(to_s, from_s)) tmp = packed_copy(to_s, packed);
  if (!from_s || tmp)
    for (walk_init(&wt, to_s); wt.count-- > 0; walk_next(&wt)) elem_zero((char *)to_s->base_addr + wt.off, tt);
  if (!from_s) return;
  const fdesc *src = tmp ? packed : to_s;
  etype ft = etype_of(from_s);
  int scalar = from_s->rank == 0 || desc_elements(from_s) != desc_elements(to_s);
  if (!scalar) walk_init(&wf, from_s);
  for (walk_init(&wt, src); wt.count-- > 0; walk_next(&wt)) {
    char *f = (char *)from_s->base_addr + (scalar ? 0 : wf.off);
    char *t = (char *)src->base_addr + wt.off;
    if (f != t) {
      elem_convert_add(f, ft, t, tt, 1.0);
      if (!tmp) elem_zero(t, tt);
    }
    if (!scalar) walk_next(&wf);
  }
  free(tmp);
}

/* --- ASSIGNMENT --------------------------------------------------------------------------------- */

typedef struct {
  frecord h;
  fdesc *to, *from; /* with their shadow base addresses */
} copy_record;

static void copy_reverse(frecord *r, double adj) {
  (void)adj;
  copy_record *c = (copy_record *)r;
  if (c->to) accumulate_copy(c->to, c->from);
  free(c->to);
  free(c->from);
}

static copy_record *copy_record_new(void) { return record_new(sizeof(copy_record), copy_reverse); }

static int reallocates(const fdesc *to, const fdesc *from) {
  return to->attribute == ATTR_ALLOCATABLE && (!to->base_addr || (from->rank > 0 && !desc_same_shape(to, from)));
}

void adcc_fortran_assign_fwd(void *to, void *to_s, const void *from, const void *from_s) {
  if (!to_s) return;
  fdesc *old = reshape_shadow(to_s, to, NULL);
  if (((fdesc *)to)->base_addr) copy_tangents(to_s, to, from, from_s, NULL);
  release_old(old);
}

void *adcc_fortran_assign_aug(void *to_, void *to_s_, const void *from_, const void *from_s_, const char *file,
                              int32_t line, int32_t kind) {
  fdesc *to = to_, *to_s = to_s_;
  const fdesc *from = from_, *from_s = from_s_;
  void *kept = NULL;
  if (reallocates(to, from) && to->base_addr && to->type != T_STRUCT) {
    kept = to->base_addr; /* the reverse pass frees it */
    to->base_addr = NULL;
  }
  if (kind == 2) _FortranAAssignPolymorphic(to, from, file, line);
  else if (kind == 1) _FortranAAssignTemporary(to, from, file, line);
  else _FortranAAssign(to, from, file, line);
  if (!to_s && !kept) return NULL;
  copy_record *r = copy_record_new();
  ptrvec_push(&r->h.primal, kept);
  if (to_s) {
    free(reshape_shadow(to_s, to, &r->h));
    if (to->base_addr) copy_tangents(to_s, to, from, from_s, &r->h);
    r->to = desc_snapshot(to, to_s->base_addr);
    if (from_s && from_s->base_addr) r->from = desc_snapshot(from, from_s->base_addr);
  }
  return r;
}

/* --- copy-in / copy-out ------------------------------------------------------------------------- */

void adcc_fortran_copy_in_fwd(void *temp, void *temp_s, const void *var, const void *var_s) {
  if (!temp_s) return;
  release_old(reshape_shadow(temp_s, temp, NULL));
  copy_tangents(temp_s, temp, var, var_s, NULL);
}

void *adcc_fortran_copy_in_aug(void *temp, void *temp_s, const void *var, const void *var_s, const char *file,
                               int32_t line) {
  _FortranACopyInAssign(temp, var, file, line);
  if (!temp_s) return NULL;
  copy_record *r = copy_record_new();
  record_save(&r->h, temp_s);
  ((fdesc *)temp_s)->base_addr = NULL;
  free(reshape_shadow(temp_s, temp, &r->h));
  copy_tangents(temp_s, temp, var, var_s, &r->h);
  r->to = desc_snapshot(temp, ((fdesc *)temp_s)->base_addr);
  if (var_s && ((const fdesc *)var_s)->base_addr) r->from = desc_snapshot(var, ((const fdesc *)var_s)->base_addr);
  return r;
}

void adcc_fortran_copy_out_fwd(void *var, void *var_s, void *temp, void *temp_s) {
  fdesc *ts = temp_s;
  if (var && var_s && ts && ts->base_addr) {
    fdesc *vs = var_s;
    fdesc *old = reshape_shadow(vs, var, NULL);
    copy_tangents(vs, var, ts, ts, NULL);
    release_old(old);
  }
  (void)temp;
  if (ts && ts->base_addr) {
    release_old(desc_snapshot(ts, ts->base_addr));
    ts->base_addr = NULL;
  }
}

void *adcc_fortran_copy_out_aug(void *var_, void *var_s, void *temp_, void *temp_s, const char *file,
                                int32_t line) {
  fdesc *var = var_, *temp = temp_;
  if (temp->type == T_STRUCT) {
    _FortranACopyOutAssign(var, temp, file, line); /* deep copies and frees components */
  } else {
    if (var) _FortranAAssign(var, temp, file, line);
  }
  copy_record *r = copy_record_new();
  if (temp->type != T_STRUCT) {
    ptrvec_push(&r->h.primal, temp->base_addr);
    temp->base_addr = NULL;
  }
  if (var && var_s && temp_s && ((fdesc *)temp_s)->base_addr) { /* reverse: temp_s += var_s; var_s = 0 */
    r->to = desc_snapshot(var, ((fdesc *)var_s)->base_addr);
    r->from = desc_snapshot(temp_s, ((fdesc *)temp_s)->base_addr);
  }
  return r;
}

/* --- ALLOCATE / DEALLOCATE ---------------------------------------------------------------------- */

typedef struct {
  frecord h;
} plain_record;

static void shadow_allocate(fdesc *d, fdesc *d_s, frecord *rec) {
  if (!d_s || !d->base_addr) return;
  fdesc *old = reshape_shadow(d_s, d, rec);
  etype t = etype_of(d);
  if (t.code == T_STRUCT) { /* components as the primal's default initialization left them */
    walk w;
    for (walk_init(&w, d); w.count-- > 0; walk_next(&w))
      elem_scrub((char *)d_s->base_addr + w.off, (const char *)d->base_addr + w.off, t);
  }
  if (rec) free(old);
  else release_old(old);
}

void adcc_fortran_allocate_fwd(void *d, void *d_s) {
  if (d_s) ((fdesc *)d_s)->base_addr = NULL; /* a shadow of an unallocated object owns nothing */
  shadow_allocate(d, d_s, NULL);
}

void *adcc_fortran_allocate_aug(void *d, void *d_s) {
  if (!d_s) return NULL;
  plain_record *r = record_new(sizeof *r, NULL);
  record_save(&r->h, d_s);
  ((fdesc *)d_s)->base_addr = NULL;
  shadow_allocate(d, d_s, &r->h);
  return r;
}

/* ALLOCATE(d, SOURCE=source): an allocation, then a copy */
void adcc_fortran_allocate_source_fwd(void *d, void *d_s, const void *source, const void *source_s) {
  if (!d_s) return;
  adcc_fortran_allocate_fwd(d, d_s);
  copy_tangents(d_s, d, source, source_s, NULL);
}

void *adcc_fortran_allocate_source_aug(void *d, void *d_s, const void *source, const void *source_s) {
  if (!d_s) return NULL;
  copy_record *r = copy_record_new();
  record_save(&r->h, d_s);
  ((fdesc *)d_s)->base_addr = NULL;
  shadow_allocate(d, d_s, &r->h);
  copy_tangents(d_s, d, source, source_s, &r->h);
  r->to = desc_snapshot(d, ((fdesc *)d_s)->base_addr);
  if (source_s && ((const fdesc *)source_s)->base_addr)
    r->from = desc_snapshot(source, ((const fdesc *)source_s)->base_addr);
  return r;
}

void adcc_fortran_deallocate_fwd(void *d_s) {
  fdesc *s = d_s;
  if (!s || !s->base_addr) return;
  release_old(desc_snapshot(s, s->base_addr));
  s->base_addr = NULL;
}

/* The augmented pass's deallocation of d's elements' allocatable components (and of their
 * shadows in s): unhooked, and freed by the reverse of `rec` (primal) or of their allocation. */
static void detach_components(fdesc *d, fdesc *s, frecord *rec) {
  etype t = etype_of(d);
  if (t.code != T_STRUCT || !d->base_addr) return;
  int paired = s && s->base_addr && desc_elements(s) == desc_elements(d);
  walk w;
  for (walk_init(&w, d); w.count-- > 0; walk_next(&w))
    elem_detach((char *)d->base_addr + w.off, paired ? (char *)s->base_addr + w.off : NULL, t, rec);
}

/* The augmented pass's deallocation of d itself: the buffers stay alive until the reverse. */
static void detach_allocation(fdesc *d, fdesc *s, frecord *rec) {
  detach_components(d, s, rec);
  ptrvec_push(&rec->primal, d->base_addr);
  d->base_addr = NULL;
  if (s) { /* freed by the reverse of its allocation */
    record_save(rec, s);
    s->base_addr = NULL;
  }
}

void *adcc_fortran_deallocate_aug(void *d_, void *d_s) {
  fdesc *d = d_;
  if (!d->base_addr) adcc_fatal("DEALLOCATE of an object that is not allocated");
  plain_record *r = record_new(sizeof *r, NULL);
  detach_allocation(d, d_s, &r->h);
  return r;
}

/* --- MOVE_ALLOC ------------------------------------------------------------------------------- */

/* After MOVE_ALLOC: the shadow buffer moves with the primal one. A replaced shadow of `to` is
 * released (forward mode) or left to the reverse of its allocation (augmented pass, `rec` set). */
static void move_shadow(fdesc *to, fdesc *to_s, fdesc *from, fdesc *from_s, frecord *rec) {
  void *moved = from_s ? from_s->base_addr : NULL;
  record_save(rec, to_s);
  record_save(rec, from_s);
  if (to_s) {
    if (!rec && to_s->base_addr && to_s->base_addr != moved) release_old(desc_snapshot(to_s, to_s->base_addr));
    desc_copy_meta(to_s, to);
    to_s->base_addr = moved;
    if (!moved && to->base_addr) { /* moved from an object without derivative */
      to_s->base_addr = shadow_buffer_like(to);
      if (rec) ptrvec_push(&rec->shadow, to_s->base_addr);
      etype t = etype_of(to);
      if (t.code == T_STRUCT) {
        walk w;
        for (walk_init(&w, to); w.count-- > 0; walk_next(&w))
          elem_scrub((char *)to_s->base_addr + w.off, (const char *)to->base_addr + w.off, t);
      }
    }
  }
  if (from_s) {
    desc_copy_meta(from_s, from);
    from_s->base_addr = NULL;
  }
}

void adcc_fortran_move_alloc_fwd(void *to, void *to_s, void *from, void *from_s) {
  move_shadow(to, to_s, from, from_s, NULL);
}

void *adcc_fortran_move_alloc_aug(void *to_, void *to_s, void *from, void *from_s, const void *derived,
                                  int32_t has_stat, const void *errmsg, const char *file, int32_t line) {
  fdesc *to = to_;
  plain_record *r = record_new(sizeof *r, NULL);
  if (to->base_addr) { /* its deallocation waits for the reverse pass; move_shadow sets to_s */
    detach_components(to, to_s, &r->h);
    ptrvec_push(&r->h.primal, to->base_addr);
    to->base_addr = NULL;
  }
  _FortranAMoveAlloc(to, from, derived, has_stat != 0, errmsg, file, line);
  move_shadow(to, to_s, from, from_s, &r->h);
  return r;
}

/* --- derived types: destruction and default initialization --------------------------------------- */

void adcc_fortran_destroy_fwd(void *d_s) {
  fdesc *s = d_s;
  if (!s || !s->base_addr) return;
  etype t = etype_of(s);
  walk w;
  for (walk_init(&w, s); w.count-- > 0; walk_next(&w)) elem_release((char *)s->base_addr + w.off, t);
}

void *adcc_fortran_destroy_aug(void *d_, void *d_s) {
  fdesc *d = d_;
  if (!d->base_addr) return NULL;
  plain_record *r = record_new(sizeof *r, NULL);
  detach_components(d, d_s, &r->h);
  return r;
}

void adcc_fortran_initialize_shadow(void *d_s, const char *file, int32_t line) {
  fdesc *s = d_s;
  if (!s || !s->base_addr) return;
  _FortranAInitialize(s, file, line);
  etype t = etype_of(s);
  walk w;
  for (walk_init(&w, s); w.count-- > 0; walk_next(&w)) {
    char *e = (char *)s->base_addr + w.off;
    elem_scrub(e, e, t);
  }
}

/* --- array constructors ------------------------------------------------------------------------- */

/* flang-rt's ArrayConstructorVector: {Descriptor &to; SubscriptValue nextValuePosition; ...}.
 * In the augmented pass its shadow holds our own state: the shadow buffer of the result, which
 * grows with the primal's and lives until the reverse of the constructor's start. */
typedef struct {
  fdesc *to_s;
  char *buf;
  size_t cap;
  int owned; /* buf was allocated here (not the shadow of a buffer flang allocated beforehand) */
} constructor;

typedef struct {
  frecord h;
  constructor *c;
  int64_t first, count;
  fdesc *from; /* with its shadow base address */
  int scalar;
} push_record;

static void init_reverse(frecord *r, double adj) {
  (void)adj;
  constructor *c = ((push_record *)r)->c;
  if (c->owned) adcc_shadow_free(c->buf);
  free(c);
}

void *adcc_fortran_constructor_init_aug(void *vector, void *vector_s, void *to, void *to_s) {
  (void)vector;
  push_record *r = record_new(sizeof *r, init_reverse);
  r->c = calloc(1, sizeof(constructor));
  if (!r->c) adcc_fatal("out of memory in a Fortran array constructor");
  r->c->to_s = to_s;
  if (to_s) { /* flang allocates the result beforehand when it knows its size */
    fdesc *s = to_s;
    record_save(&r->h, s);
    const fdesc *p = to;
    if (!p->base_addr) s->base_addr = NULL;
    desc_copy_meta(s, p);
    r->c->buf = s->base_addr;
    r->c->cap = s->base_addr ? desc_data_bytes(p) : 0;
  }
  *(constructor **)vector_s = r->c;
  return r;
}

static void push_reverse(frecord *r_, double adj) {
  (void)adj;
  push_record *r = (push_record *)r_;
  fdesc *to_s = r->c->to_s;
  etype t = etype_of(to_s);
  int64_t len = (int64_t)to_s->elem_len;
  walk w;
  if (r->from && !r->scalar) walk_init(&w, r->from);
  for (int64_t k = 0; k < r->count; k++) {
    char *v = r->c->buf + (r->first + k) * len;
    if (r->from) {
      char *f = (char *)r->from->base_addr + (r->scalar ? 0 : w.off);
      elem_convert_add(f, r->scalar ? t : etype_of(r->from), v, t, 1.0);
      if (!r->scalar) walk_next(&w);
    }
    elem_zero(v, t);
  }
  free(r->from);
}

void *adcc_fortran_constructor_push_aug(void *vector, void *vector_s, const void *from, const void *from_s,
                                        int32_t scalar) {
  constructor *c = *(constructor **)vector_s;
  const fdesc *to = *(fdesc **)vector;
  int64_t next = *(const int64_t *)((const char *)vector + 8);
  int64_t count = scalar ? 1 : desc_elements(from);
  size_t need = (size_t)(*(const int64_t *)((const char *)vector + 16)) * to->elem_len;
  if (need < (size_t)next * to->elem_len) need = (size_t)next * to->elem_len;
  if (need > c->cap) { /* the primal grew: so does the shadow */
    char *bigger = adcc_shadow_alloc((int64_t)(need ? need : 1));
    if (c->buf) memcpy(bigger, c->buf, c->cap);
    if (c->owned) adcc_shadow_free(c->buf);
    c->buf = bigger;
    c->cap = need;
    c->owned = 1;
  }
  push_record *r = record_new(sizeof *r, push_reverse);
  if (c->to_s) {
    record_save(&r->h, c->to_s);
    desc_copy_meta(c->to_s, to);
    c->to_s->base_addr = c->buf;
  }
  etype t = etype_of(to);
  if (t.code == T_STRUCT) /* the shadows of the new elements' allocatable components */
    for (int64_t k = next - count; k < next; k++)
      elem_tangent(c->buf + k * (int64_t)t.len, t, (const char *)to->base_addr + k * (int64_t)t.len, NULL, t, &r->h);
  r->c = c;
  r->first = next - count;
  r->count = count;
  r->scalar = scalar;
  if (from_s && scalar) {
    r->from = desc_snapshot(to, (void *)from_s); /* a scalar of the result's type */
    r->from->rank = 0;
  } else if (from_s && ((const fdesc *)from_s)->base_addr) {
    r->from = desc_snapshot(from, ((const fdesc *)from_s)->base_addr);
  }
  return r;
}

void adcc_fortran_constructor_push_fwd(void *vector_s, const void *from, const void *from_s, int32_t scalar) {
  const fdesc *f = from;
  if (scalar) {
    const fdesc *to = *(fdesc **)vector_s;
    char zero[64] = {0};
    if (to->elem_len > sizeof zero) adcc_fatal("array constructor element too large");
    extern void _FortranAPushArrayConstructorSimpleScalar(void *, void *);
    _FortranAPushArrayConstructorSimpleScalar(vector_s, from_s ? (void *)from_s : zero);
    return;
  }
  if (from_s && ((const fdesc *)from_s)->base_addr) {
    _FortranAPushArrayConstructorValue(vector_s, from_s);
    return;
  }
  char space[DESC_MAX_BYTES];
  fdesc *z = (fdesc *)space;
  memcpy(z, f, desc_bytes(f));
  desc_contiguous(z);
  z->base_addr = shadow_buffer_like(f);
  _FortranAPushArrayConstructorValue(vector_s, z);
  adcc_shadow_free(z->base_addr);
}

/* --- values without derivative ---------------------------------------------------------------- */

static void zero_all(const fdesc *s) {
  if (!s || !s->base_addr) return;
  etype t = etype_of(s);
  walk w;
  for (walk_init(&w, s); w.count-- > 0; walk_next(&w)) elem_zero((char *)s->base_addr + w.off, t);
}

void adcc_fortran_zero_fwd(void *d_s) { zero_all(d_s); }

static void zero_reverse(frecord *r, double adj) {
  (void)adj;
  copy_record *c = (copy_record *)r;
  zero_all(c->to);
  free(c->to);
}

void *adcc_fortran_zero_aug(void *d_s) {
  if (!d_s || !((fdesc *)d_s)->base_addr) return NULL;
  copy_record *r = record_new(sizeof *r, zero_reverse);
  r->to = desc_snapshot(d_s, ((fdesc *)d_s)->base_addr);
  return r;
}

void adcc_fortran_zero_scalar_fwd(void *p_s, int64_t bytes) {
  if (p_s) memset(p_s, 0, (size_t)bytes);
}

typedef struct {
  frecord h;
  void *p;
  int64_t bytes;
} scalar_record;

static void zero_scalar_reverse(frecord *r, double adj) {
  (void)adj;
  scalar_record *s = (scalar_record *)r;
  memset(s->p, 0, (size_t)s->bytes);
}

void *adcc_fortran_zero_scalar_aug(void *p_s, int64_t bytes) {
  if (!p_s) return NULL;
  scalar_record *r = record_new(sizeof *r, zero_scalar_reverse);
  r->p = p_s;
  r->bytes = bytes;
  return r;
}

/* --- arguments of the adcc_ad module's calls --------------------------------------------------- */

static int contiguous(const fdesc *d) {
  int64_t sm = (int64_t)d->elem_len;
  for (int k = 0; k < d->rank; k++) {
    if (d->dim[k].extent > 1 && d->dim[k].sm != sm) return 0;
    sm *= d->dim[k].extent;
  }
  return 1;
}

void *adcc_fortran_arg_address(const void *d_) {
  const fdesc *d = d_;
  if (!d->base_addr || contiguous(d)) return d->base_addr;
  char space[DESC_MAX_BYTES];
  return packed_copy(d, (fdesc *)space);
}

void adcc_fortran_arg_done(const void *d_, void *address) {
  const fdesc *d = d_;
  if (address == d->base_addr) return;
  walk w;
  int64_t k = 0;
  for (walk_init(&w, d); w.count-- > 0; walk_next(&w), k++)
    memcpy((char *)d->base_addr + w.off, (char *)address + k * (int64_t)d->elem_len, d->elem_len);
  free(address);
}

void adcc_fortran_global_shadow(const void *d_, void *d_s) {
  const fdesc *d = d_;
  fdesc *s = d_s;
  if (d->rank > FMAX_RANK) return;
  void *keep = s->base_addr && d->base_addr && desc_same_shape(s, d) && s->elem_len == d->elem_len
                   ? s->base_addr : NULL;
  if (s->base_addr && !keep) release_old(desc_snapshot(s, s->base_addr));
  desc_copy_meta(s, d);
  s->base_addr = keep ? keep : d->base_addr ? shadow_buffer_like(d) : NULL;
  if (!s->base_addr) return;
  etype t = etype_of(d);
  if (t.code != T_STRUCT) {
    memset(s->base_addr, 0, desc_data_bytes(d));
    return;
  }
  walk w; /* zero values, allocatable components shaped like the primal's */
  for (walk_init(&w, d); w.count-- > 0; walk_next(&w)) {
    char *e = (char *)s->base_addr + w.off;
    if (!keep) elem_scrub(e, (const char *)d->base_addr + w.off, t);
    elem_tangent(e, t, (const char *)d->base_addr + w.off, NULL, t, NULL);
  }
}
