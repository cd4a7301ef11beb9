/* Fortran runtime support: descriptors, derived-type descriptions, element operations on shadows,
 * and the reverse-pass records (see adcc_fortran_internal.h for the layouts). */
#include <stdlib.h>
#include <string.h>

#include "adcc_fortran_internal.h"

/* --- descriptors ------------------------------------------------------------------------------ */

int64_t desc_elements(const fdesc *d) {
  int64_t n = 1;
  for (int k = 0; k < d->rank; k++) n *= d->dim[k].extent > 0 ? d->dim[k].extent : 0;
  return n;
}

size_t desc_bytes(const fdesc *d) { return 24 + 24 * (size_t)d->rank + ((d->extra & 1) ? 16 : 0); }

size_t desc_data_bytes(const fdesc *d) { return (size_t)desc_elements(d) * d->elem_len; }

int desc_same_shape(const fdesc *a, const fdesc *b) {
  if (a->rank != b->rank) return 0;
  for (int k = 0; k < a->rank; k++)
    if (a->dim[k].extent != b->dim[k].extent) return 0;
  return 1;
}

void desc_copy_meta(fdesc *to, const fdesc *from) {
  void *base = to->base_addr;
  memcpy(to, from, desc_bytes(from));
  to->base_addr = base;
}

void *adcc_fortran_shadow(const void *d, void *d_s) {
  const fdesc *p = d;
  fdesc *s = d_s;
  if (!p || !s || p == s || (p->base_addr && s->base_addr == p->base_addr)) return NULL;
  if (p->rank <= FMAX_RANK) desc_copy_meta(s, p);
  return s;
}

fdesc *desc_snapshot(const fdesc *d, void *base) {
  fdesc *c = malloc(DESC_MAX_BYTES);
  if (!c) adcc_fatal("out of memory saving a Fortran descriptor");
  memcpy(c, d, desc_bytes(d));
  c->base_addr = base;
  return c;
}

void desc_contiguous(fdesc *d) {
  int64_t sm = (int64_t)d->elem_len;
  for (int k = 0; k < d->rank; k++) {
    d->dim[k].sm = sm;
    sm *= d->dim[k].extent > 0 ? d->dim[k].extent : 1;
  }
}

etype etype_of(const fdesc *d) {
  etype t = {d->type, d->elem_len, NULL};
  if (d->type == T_STRUCT && (d->extra & 1))
    t.dt = *(const char *const *)((const char *)d + 24 + 24 * d->rank);
  return t;
}

void walk_init(walk *w, const fdesc *d) {
  w->rank = d->rank;
  w->off = 0;
  w->count = desc_elements(d);
  for (int k = 0; k < d->rank; k++) {
    w->ext[k] = d->dim[k].extent;
    w->sm[k] = d->dim[k].sm;
    w->idx[k] = 0;
  }
}

void walk_next(walk *w) {
  for (int k = 0; k < w->rank; k++) {
    w->off += w->sm[k];
    if (++w->idx[k] < w->ext[k]) return;
    w->off -= w->sm[k] * w->ext[k];
    w->idx[k] = 0;
  }
}

void *shadow_buffer_like(const fdesc *d) {
  size_t n = desc_data_bytes(d);
  return adcc_shadow_alloc((int64_t)(n ? n : 1));
}

/* --- element types ------------------------------------------------------------------------------ */

int float_components(int8_t code) {
  return code == T_F32 || code == T_F64 ? 1 : code == T_C32 || code == T_C64 ? 2 : 0;
}

int is_unsupported_float(int8_t code) {
  return (code >= 25 && code <= 26) || (code >= 29 && code <= 33) || (code >= 36 && code <= 38);
}

double elem_get(const char *p, int8_t code, int comp) {
  if (code == T_F32 || code == T_C32) return ((const float *)p)[comp];
  return ((const double *)p)[comp];
}

void elem_put(char *p, int8_t code, int comp, double v) {
  if (code == T_F32 || code == T_C32)
    ((float *)p)[comp] = (float)v;
  else
    ((double *)p)[comp] = v;
}

static void unsupported(int8_t code) {
  (void)code;
  adcc_fatal("derivatives of REAL/COMPLEX data of kinds other than 4 and 8 are not supported");
}

/* --- derived types (flang-rt typeInfo::DerivedType and Component) ------------------------------- */

#define DT_SIZE_IN_BYTES 88
#define DT_COMPONENTS 232 /* a rank-1 descriptor of Component */
#define C_GENRE 24
#define C_CATEGORY 25
#define C_KIND 26
#define C_RANK 27
#define C_OFFSET 32
#define C_CHARLEN 40      /* Value {genre, value} */
#define C_DERIVED 56      /* a rank-0 descriptor of DerivedType */
#define C_BOUNDS 160      /* a rank-2 descriptor of Value, (2, rank) */

enum { G_DATA = 1, G_POINTER = 2, G_ALLOCATABLE = 3 };
enum { CAT_INTEGER, CAT_UNSIGNED, CAT_REAL, CAT_COMPLEX, CAT_CHARACTER, CAT_LOGICAL, CAT_DERIVED }; /* common::TypeCategory */

typedef struct {
  int genre;
  etype t;
  int64_t offset, count;
} component;

int64_t dt_size(const char *dt) { return *(const int64_t *)(dt + DT_SIZE_IN_BYTES); }

static int64_t dt_count(const char *dt) {
  const fdesc *c = (const fdesc *)(dt + DT_COMPONENTS);
  return c->base_addr ? c->dim[0].extent : 0;
}

static int64_t value_of(const char *v) {
  if (v[0] != 2) adcc_fatal("derivatives through derived types with LEN parameters are not supported");
  return *(const int64_t *)(v + 8);
}

static etype component_type(const char *c) {
  int kind = (unsigned char)c[C_KIND];
  switch (c[C_CATEGORY]) {
  case CAT_REAL:
    return (etype){kind == 4 ? T_F32 : kind == 8 ? T_F64 : 29, (size_t)kind, NULL};
  case CAT_COMPLEX:
    return (etype){kind == 4 ? T_C32 : kind == 8 ? T_C64 : 36, 2 * (size_t)kind, NULL};
  case CAT_DERIVED: {
    const char *dt = ((const fdesc *)(c + C_DERIVED))->base_addr;
    return (etype){T_STRUCT, (size_t)dt_size(dt), dt};
  }
  case CAT_CHARACTER:
    return (etype){40, (size_t)kind * (size_t)value_of(c + C_CHARLEN), NULL};
  default:
    return (etype){9, (size_t)kind, NULL};
  }
}

static component dt_component(const char *dt, int64_t i) {
  const fdesc *cs = (const fdesc *)(dt + DT_COMPONENTS);
  const char *c = (const char *)cs->base_addr + i * cs->dim[0].sm;
  component out = {c[C_GENRE], component_type(c), *(const int64_t *)(c + C_OFFSET), 1};
  if (out.genre == G_DATA) {
    const char *bounds = ((const fdesc *)(c + C_BOUNDS))->base_addr;
    for (int k = 0; k < (unsigned char)c[C_RANK]; k++) {
      int64_t n = value_of(bounds + 32 * k + 16) - value_of(bounds + 32 * k) + 1;
      out.count *= n > 0 ? n : 0;
    }
  } else if (out.genre != G_POINTER && out.genre != G_ALLOCATABLE) {
    adcc_fatal("derivatives through derived types with automatic components are not supported");
  }
  return out;
}

/* --- element operations ------------------------------------------------------------------------- */

static int active_type(etype t) {
  if (is_unsupported_float(t.code)) unsupported(t.code);
  return float_components(t.code) || (t.code == T_STRUCT && t.dt);
}

void elem_zero(char *s, etype t) {
  if (float_components(t.code)) {
    memset(s, 0, t.len);
    return;
  }
  if (!active_type(t) || t.code != T_STRUCT) return;
  for (int64_t i = 0, n = dt_count(t.dt); i < n; i++) {
    component c = dt_component(t.dt, i);
    if (c.genre == G_DATA) {
      for (int64_t j = 0; j < c.count; j++) elem_zero(s + c.offset + j * (int64_t)c.t.len, c.t);
    } else if (c.genre == G_ALLOCATABLE) {
      fdesc *d = (fdesc *)(s + c.offset);
      if (!d->base_addr) continue;
      walk w;
      etype et = etype_of(d);
      for (walk_init(&w, d); w.count-- > 0; walk_next(&w)) elem_zero((char *)d->base_addr + w.off, et);
    }
  }
}

void elem_convert_add(char *dst, etype dt, const char *src, etype st, double scale) {
  int nd = float_components(dt.code), ns = float_components(st.code);
  if (nd && ns) {
    for (int c = 0; c < nd && c < ns; c++)
      elem_put(dst, dt.code, c, elem_get(dst, dt.code, c) + scale * elem_get(src, st.code, c));
  } else if (dt.code == T_STRUCT && st.code == T_STRUCT) {
    elem_add(dst, src, dt);
  } else if (is_unsupported_float(dt.code) || is_unsupported_float(st.code)) {
    unsupported(dt.code);
  }
}

void elem_add(char *dst, const char *src, etype t) {
  if (float_components(t.code)) {
    elem_convert_add(dst, t, src, t, 1.0);
    return;
  }
  if (!active_type(t) || t.code != T_STRUCT) return;
  for (int64_t i = 0, n = dt_count(t.dt); i < n; i++) {
    component c = dt_component(t.dt, i);
    if (c.genre == G_DATA) {
      for (int64_t j = 0; j < c.count; j++) {
        int64_t o = c.offset + j * (int64_t)c.t.len;
        elem_add(dst + o, src + o, c.t);
      }
    } else if (c.genre == G_ALLOCATABLE) {
      fdesc *d = (fdesc *)(dst + c.offset);
      const fdesc *s = (const fdesc *)(src + c.offset);
      if (!d->base_addr || !s->base_addr || desc_elements(d) != desc_elements(s)) continue;
      walk wd, ws;
      etype et = etype_of(d);
      walk_init(&ws, s);
      for (walk_init(&wd, d); wd.count-- > 0; walk_next(&wd), walk_next(&ws))
        elem_add((char *)d->base_addr + wd.off, (const char *)s->base_addr + ws.off, et);
    }
  }
}

static void tangent_component(fdesc *ds, const fdesc *dp, const fdesc *fs, frecord *rec);

void elem_tangent(char *to_s, etype tt, const char *to_p, const char *from_s, etype ft, frecord *rec) {
  int nt = float_components(tt.code);
  if (nt) {
    if (rec) return; /* augmented pass: adjoints accumulate where they are (new shadows are zero) */
    int nf = from_s ? float_components(ft.code) : 0;
    if (from_s && is_unsupported_float(ft.code)) unsupported(ft.code);
    for (int c = 0; c < nt; c++) elem_put(to_s, tt.code, c, c < nf ? elem_get(from_s, ft.code, c) : 0.0);
    return;
  }
  if (is_unsupported_float(tt.code)) unsupported(tt.code);
  if (tt.code != T_STRUCT || !tt.dt) {
    memcpy(to_s, to_p, tt.len); /* integers, logicals, characters: the shadow mirrors the primal */
    return;
  }
  if (from_s && ft.dt != tt.dt) from_s = NULL;
  for (int64_t i = 0, n = dt_count(tt.dt); i < n; i++) {
    component c = dt_component(tt.dt, i);
    if (c.genre == G_DATA) {
      for (int64_t j = 0; j < c.count; j++) {
        int64_t o = c.offset + j * (int64_t)c.t.len;
        elem_tangent(to_s + o, c.t, to_p + o, from_s ? from_s + o : NULL, c.t, rec);
      }
    } else if (c.genre == G_ALLOCATABLE) {
      tangent_component((fdesc *)(to_s + c.offset), (const fdesc *)(to_p + c.offset),
                        from_s ? (const fdesc *)(from_s + c.offset) : NULL, rec);
    } else { /* a pointer component of the shadow points where the source's shadow points */
      fdesc *ds = (fdesc *)(to_s + c.offset);
      record_save(rec, ds);
      const fdesc *dp = (const fdesc *)(to_p + c.offset);
      desc_copy_meta(ds, dp);
      ds->base_addr = from_s ? ((const fdesc *)(from_s + c.offset))->base_addr : NULL;
    }
  }
}

/* The shadow `ds` of an allocatable component after its primal `dp` was assigned from a component
 * whose shadow is `fs`. In the augmented pass (`rec`) new shadows are kept in the record and old
 * ones left alive (their allocation's reverse frees them); in forward mode old ones are released. */
static void tangent_component(fdesc *ds, const fdesc *dp, const fdesc *fs, frecord *rec) {
  void *old = ds->base_addr;
  fdesc *old_meta = old && !rec ? desc_snapshot(ds, old) : NULL;
  record_save(rec, ds);
  int renew = dp->base_addr && (!old || !desc_same_shape(ds, dp) || ds->elem_len != dp->elem_len);
  desc_copy_meta(ds, dp);
  if (!dp->base_addr) {
    ds->base_addr = NULL;
  } else {
    if (renew) {
      ds->base_addr = shadow_buffer_like(dp);
      if (rec) ptrvec_push(&rec->shadow, ds->base_addr);
    }
    if (fs && (!fs->base_addr || desc_elements(fs) != desc_elements(dp))) fs = NULL;
    etype et = etype_of(dp), fet = fs ? etype_of(fs) : et;
    walk wd, wf;
    if (fs) walk_init(&wf, fs);
    for (walk_init(&wd, dp); wd.count-- > 0; walk_next(&wd)) {
      elem_tangent((char *)ds->base_addr + wd.off, et, (const char *)dp->base_addr + wd.off,
                   fs ? (const char *)fs->base_addr + wf.off : NULL, fet, rec);
      if (fs) walk_next(&wf);
    }
  }
  if (old_meta && (renew || !dp->base_addr)) {
    walk w;
    etype et = etype_of(old_meta);
    for (walk_init(&w, old_meta); w.count-- > 0; walk_next(&w)) elem_release((char *)old + w.off, et);
    adcc_shadow_release(old, free);
  }
  free(old_meta);
}

void elem_release(char *s, etype t) {
  if (t.code != T_STRUCT || !t.dt) return;
  for (int64_t i = 0, n = dt_count(t.dt); i < n; i++) {
    component c = dt_component(t.dt, i);
    if (c.genre == G_DATA && c.t.code == T_STRUCT) {
      for (int64_t j = 0; j < c.count; j++) elem_release(s + c.offset + j * (int64_t)c.t.len, c.t);
    } else if (c.genre == G_ALLOCATABLE) {
      fdesc *d = (fdesc *)(s + c.offset);
      if (!d->base_addr) continue;
      walk w;
      etype et = etype_of(d);
      for (walk_init(&w, d); w.count-- > 0; walk_next(&w)) elem_release((char *)d->base_addr + w.off, et);
      adcc_shadow_release(d->base_addr, free);
      d->base_addr = NULL;
    }
  }
}

void elem_detach(char *p, char *s, etype t, frecord *rec) {
  if (t.code != T_STRUCT || !t.dt) return;
  for (int64_t i = 0, n = dt_count(t.dt); i < n; i++) {
    component c = dt_component(t.dt, i);
    if (c.genre == G_DATA && c.t.code == T_STRUCT) {
      for (int64_t j = 0; j < c.count; j++) {
        int64_t o = c.offset + j * (int64_t)c.t.len;
        elem_detach(p + o, s ? s + o : NULL, c.t, rec);
      }
    } else if (c.genre == G_ALLOCATABLE) {
      fdesc *dp = (fdesc *)(p + c.offset), *ds = s ? (fdesc *)(s + c.offset) : NULL;
      if (!dp->base_addr) continue;
      if (ds && (!ds->base_addr || desc_elements(ds) != desc_elements(dp))) ds = NULL;
      walk w;
      etype et = etype_of(dp);
      for (walk_init(&w, dp); w.count-- > 0; walk_next(&w))
        elem_detach((char *)dp->base_addr + w.off, ds ? (char *)ds->base_addr + w.off : NULL, et, rec);
      ptrvec_push(&rec->primal, dp->base_addr);
      dp->base_addr = NULL;
      if (s) {
        record_save(rec, (fdesc *)(s + c.offset));
        ((fdesc *)(s + c.offset))->base_addr = NULL;
      }
    }
  }
}

static void scrub_fix(char *s, etype t) {
  if (float_components(t.code)) {
    memset(s, 0, t.len);
    return;
  }
  if (t.code != T_STRUCT || !t.dt) return;
  for (int64_t i = 0, n = dt_count(t.dt); i < n; i++) {
    component c = dt_component(t.dt, i);
    if (c.genre == G_DATA) {
      for (int64_t j = 0; j < c.count; j++) scrub_fix(s + c.offset + j * (int64_t)c.t.len, c.t);
    } else {
      ((fdesc *)(s + c.offset))->base_addr = NULL;
    }
  }
}

void elem_scrub(char *s, const char *p, etype t) {
  if (is_unsupported_float(t.code)) unsupported(t.code);
  memcpy(s, p, t.len);
  scrub_fix(s, t);
}

/* --- pointer lists and records ---------------------------------------------------------------- */

void ptrvec_push(ptrvec *v, void *p) {
  if (!p) return;
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 4;
    v->p = realloc(v->p, (size_t)v->cap * sizeof(void *));
    if (!v->p) adcc_fatal("out of memory in a Fortran derivative");
  }
  v->p[v->n++] = p;
}

void ptrvec_free_primal(ptrvec *v) {
  for (int64_t i = 0; i < v->n; i++) free(v->p[i]);
  free(v->p);
  v->p = NULL;
  v->n = v->cap = 0;
}

void ptrvec_free_shadow(ptrvec *v) {
  for (int64_t i = 0; i < v->n; i++) adcc_shadow_release(v->p[i], free);
  free(v->p);
  v->p = NULL;
  v->n = v->cap = 0;
}

void record_save(frecord *r, fdesc *d) {
  if (!r || !d) return;
  ptrvec_push(&r->undo, d);
  ptrvec_push(&r->undo, desc_snapshot(d, d->base_addr));
}

void *record_new(size_t bytes, void (*reverse)(frecord *, double)) {
  frecord *r = calloc(1, bytes);
  if (!r) adcc_fatal("out of memory recording a Fortran derivative");
  r->reverse = reverse;
  return r;
}

void adcc_fortran_reverse(void *record, double adj) {
  frecord *r = record;
  if (!r) return;
  if (r->reverse) r->reverse(r, adj);
  for (int64_t i = r->undo.n - 2; i >= 0; i -= 2) {
    fdesc *saved = r->undo.p[i + 1];
    memcpy(r->undo.p[i], saved, desc_bytes(saved));
    free(saved);
  }
  free(r->undo.p);
  ptrvec_free_primal(&r->primal);
  ptrvec_free_shadow(&r->shadow);
  free(r);
}
