/* Internal to the Fortran part of the adcc runtime: flang's descriptors, its derived-type
 * descriptions, element operations on shadows, and reverse-pass records.
 *
 * flang's descriptor is ISO_Fortran_binding's CFI_cdesc_t (base address, element length, version,
 * rank, type code, attribute, extra) followed by `rank` dimensions {lower bound, extent, byte
 * stride} and, when bit 0 of `extra` is set, an addendum whose first word points to the derived
 * type's description (typeInfo::DerivedType of flang-rt, laid out as __fortran_type_info.mod). */
#ifndef ADCC_FORTRAN_INTERNAL_H
#define ADCC_FORTRAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "adcc_fortran.h"
#include "adcc_runtime.h"

#define FMAX_RANK 15

typedef struct {
  int64_t lower_bound, extent, sm;
} fdim;

typedef struct {
  void *base_addr;
  size_t elem_len;
  int32_t version;
  uint8_t rank;
  int8_t type;
  uint8_t attribute;
  uint8_t extra;
  fdim dim[];
} fdesc;

enum { ATTR_OTHER = 0, ATTR_POINTER = 1, ATTR_ALLOCATABLE = 2 };
enum { T_INT64 = 10, T_F32 = 27, T_F64 = 28, T_C32 = 34, T_C64 = 35, T_STRUCT = 42 };
#define DESC_VERSION 20240719
#define DESC_MAX_BYTES (24 + 24 * FMAX_RANK + 16)

/* the type of an element: a type code, its size and, for derived types, their description */
typedef struct {
  int8_t code;       /* T_F32, T_F64, T_C32, T_C64, T_STRUCT, or another (inactive) code */
  size_t len;
  const char *dt;    /* typeInfo::DerivedType, for T_STRUCT */
} etype;

/* element order walk over a descriptor: `off` is the byte offset of the current element */
typedef struct {
  int rank;
  int64_t ext[FMAX_RANK], sm[FMAX_RANK], idx[FMAX_RANK];
  int64_t off, count;
} walk;

/* a growable list of pointers (buffers a record frees) */
typedef struct {
  void **p;
  int64_t n, cap;
} ptrvec;

/* descriptors */
int64_t desc_elements(const fdesc *d);
size_t desc_bytes(const fdesc *d);            /* header, dimensions and addendum */
size_t desc_data_bytes(const fdesc *d);       /* elements times element length */
int desc_same_shape(const fdesc *a, const fdesc *b);
void desc_copy_meta(fdesc *to, const fdesc *from); /* everything but the base address */
fdesc *desc_snapshot(const fdesc *d, void *base);  /* a heap copy with another base address */
void desc_contiguous(fdesc *d);                /* byte strides of a freshly allocated array */
etype etype_of(const fdesc *d);
void walk_init(walk *w, const fdesc *d);
void walk_next(walk *w);
void *shadow_buffer_like(const fdesc *d);     /* zeroed shadow data for d's elements */

/* element types */
int float_components(int8_t code);             /* 1 real, 2 complex, 0 not floating point */
int is_unsupported_float(int8_t code);
double elem_get(const char *p, int8_t code, int comp);
void elem_put(char *p, int8_t code, int comp, double v);

/* element operations on shadows (derived types recursively, through allocatable components) */
void elem_zero(char *s, etype t);
void elem_add(char *dst, const char *src, etype t);           /* adjoints: dst += src */
void elem_convert_add(char *dst, etype dt, const char *src, etype st, double scale);
typedef struct frecord frecord;
/* to_s = tangent of an element assigned from one whose shadow is from_s (forward mode, rec NULL);
 * in the augmented pass (rec set) only the structure: allocatable components shaped like the
 * primal's (new shadows and the descriptors changed are kept in rec), values left as they are */
void elem_tangent(char *to_s, etype tt, const char *to_p, const char *from_s, etype ft, frecord *rec);
void elem_release(char *s, etype t);                          /* frees allocatable components */
void elem_detach(char *p, char *s, etype t, frecord *rec);    /* unhooks them, keeping them alive */
void elem_scrub(char *s, const char *p, etype t);             /* shadow of a new object: p's structure, zero values */

/* derived type descriptions */
int64_t dt_size(const char *dt);

/* pointer lists */
void ptrvec_push(ptrvec *v, void *p);
void ptrvec_free_primal(ptrvec *v);   /* free() each, then the list */
void ptrvec_free_shadow(ptrvec *v);   /* adcc_shadow_release each, then the list */

/* reverse-pass records: every record starts with this header. Its reverse runs the operation's
 * reverse, then puts back the shadow descriptors the augmented pass changed in place (so that each
 * reverse sees the shadows as they were right after its own operation), then frees. */
struct frecord {
  void (*reverse)(frecord *r, double adj);
  ptrvec primal;   /* primal buffers the augmented pass kept alive */
  ptrvec shadow;   /* shadows the augmented pass allocated */
  ptrvec undo;     /* pairs: a shadow descriptor, a copy of what it held before */
};
void *record_new(size_t bytes, void (*reverse)(frecord *, double));
void record_save(frecord *r, fdesc *d);   /* before changing shadow descriptor d in place */

/* flang's runtime */
void _FortranAAssign(void *to, const void *from, const char *file, int line);
void _FortranAAssignTemporary(void *to, const void *from, const char *file, int line);
void _FortranAAssignPolymorphic(void *to, const void *from, const char *file, int line);
void _FortranACopyOutAssign(void *var, void *temp, const char *file, int line);
void _FortranACopyInAssign(void *temp, const void *var, const char *file, int line);
int32_t _FortranAMoveAlloc(void *to, void *from, const void *derived, _Bool has_stat, const void *errmsg,
                           const char *file, int line);
void _FortranAInitialize(const void *d, const char *file, int line);
void _FortranADestroy(const void *d);
void _FortranAPushArrayConstructorValue(void *vector, const void *from);

#endif /* ADCC_FORTRAN_INTERNAL_H */
