/* adcc runtime, Fortran part: derivatives of flang's runtime library calls on array descriptors.
 * adcc/ad/rules/fortran.py emits calls to exactly these symbols (names checked by tests/test_runtime.py).
 *
 * A descriptor's shadow is a descriptor with the same bounds, strides and type whose base address is
 * the shadow data. Forward helpers run after the primal call and update one tangent lane. Augmented
 * helpers perform the primal operation, give the shadow its new shape (zeroed: it accumulates
 * adjoints) and return a record (NULL: nothing to undo); adcc_fortran_reverse runs the record's
 * reverse pass and frees it. Shadows a record allocated are freed by its reverse; buffers the primal
 * operation would free (reallocation, deallocation) stay alive until then. */
#ifndef ADCC_FORTRAN_H
#define ADCC_FORTRAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shadow descriptor to use for d, called before each call that uses it: it takes d's bounds,
 * strides and type (the augmented pass does not copy the integers flang stores into descriptors).
 * NULL when d_s is NULL or describes d's own data (a shadow made of the primal: data without
 * derivative, which the helpers must neither read tangents from nor write them into). */
void *adcc_fortran_shadow(const void *d, void *d_s);

/* ASSIGNMENT (=), also to temporaries and polymorphic variables (`kind` 0, 1, 2): realloc-on-assign,
 * conversion, scalar broadcast, deep copy */
void adcc_fortran_assign_fwd(void *to, void *to_s, const void *from, const void *from_s);
void *adcc_fortran_assign_aug(void *to, void *to_s, const void *from, const void *from_s, const char *file,
                              int32_t line, int32_t kind);
/* ALLOCATE / DEALLOCATE of allocatables and pointers (after the primal, or in place of it) */
void adcc_fortran_allocate_fwd(void *d, void *d_s);
void *adcc_fortran_allocate_aug(void *d, void *d_s);
void adcc_fortran_allocate_source_fwd(void *d, void *d_s, const void *source, const void *source_s);
void *adcc_fortran_allocate_source_aug(void *d, void *d_s, const void *source, const void *source_s);
void adcc_fortran_deallocate_fwd(void *d_s);
void *adcc_fortran_deallocate_aug(void *d, void *d_s);
/* MOVE_ALLOC(from, to): the shadow buffer moves with the primal one */
void adcc_fortran_move_alloc_fwd(void *to, void *to_s, void *from, void *from_s);
void *adcc_fortran_move_alloc_aug(void *to, void *to_s, void *from, void *from_s, const void *derived,
                                  int32_t has_stat, const void *errmsg, const char *file, int32_t line);
/* derived types: automatic deallocation of components, default initialization */
void adcc_fortran_destroy_fwd(void *d_s);
void *adcc_fortran_destroy_aug(void *d, void *d_s);
void adcc_fortran_initialize_shadow(void *d_s, const char *file, int32_t line);
/* copy-in/copy-out temporaries of non-contiguous actual arguments */
void adcc_fortran_copy_in_fwd(void *temp, void *temp_s, const void *var, const void *var_s);
void *adcc_fortran_copy_in_aug(void *temp, void *temp_s, const void *var, const void *var_s, const char *file,
                               int32_t line);
void adcc_fortran_copy_out_fwd(void *var, void *var_s, void *temp, void *temp_s);
void *adcc_fortran_copy_out_aug(void *var, void *var_s, void *temp, void *temp_s, const char *file, int32_t line);
/* NORM2, whole array and along a dimension */
double adcc_fortran_norm2_fwd(const void *x, const void *x_s, double norm);
void *adcc_fortran_norm2_aug(const void *x, const void *x_s, double norm);
void adcc_fortran_norm2_dim_fwd(void *result, void *result_s, const void *x, const void *x_s, int32_t dim);
void *adcc_fortran_norm2_dim_aug(void *result, void *result_s, const void *x, const void *x_s, int32_t dim);
/* SUM, PRODUCT, MAXVAL, MINVAL of a whole array (optional MASK), DOT_PRODUCT */
double adcc_fortran_reduce_fwd(int32_t op, const void *x, const void *x_s, const void *mask, double result);
void *adcc_fortran_reduce_aug(int32_t op, const void *x, const void *x_s, const void *mask, double result);
void adcc_fortran_reduce_dim_fwd(int32_t op, void *result, void *result_s, const void *x, const void *x_s,
                                 int32_t dim, const void *mask);
void *adcc_fortran_reduce_dim_aug(int32_t op, void *result, void *result_s, const void *x, const void *x_s,
                                  int32_t dim, const void *mask);
double adcc_fortran_dot_fwd(const void *x, const void *x_s, const void *y, const void *y_s);
void *adcc_fortran_dot_aug(const void *x, const void *x_s, const void *y, const void *y_s);
/* MATMUL (result allocated by the primal call) */
void adcc_fortran_matmul_fwd(void *result, void *result_s, const void *a, const void *a_s, const void *b,
                             const void *b_s);
void *adcc_fortran_matmul_aug(void *result, void *result_s, const void *a, const void *a_s, const void *b,
                              const void *b_s);
/* element permutations and copies: PACK, UNPACK, SPREAD, RESHAPE, TRANSPOSE, CSHIFT, EOSHIFT.
 * `op` names the runtime function; args are its descriptor arguments after the result (and their
 * shadows), ints its integer arguments; the element map comes from running it on element indices. */
void adcc_fortran_permute_fwd(int32_t op, void *result, void *result_s, const void *a, const void *a_s,
                              const void *b, const void *b_s, const void *extra1, const void *extra2,
                              int64_t int1, int64_t int2);
void *adcc_fortran_permute_aug(int32_t op, void *result, void *result_s, const void *a, const void *a_s,
                               const void *b, const void *b_s, const void *extra1, const void *extra2,
                               int64_t int1, int64_t int2, const char *file, int32_t line);
/* array constructors with run-time sizes */
void *adcc_fortran_constructor_init_aug(void *vector, void *vector_s, void *to, void *to_s);
void *adcc_fortran_constructor_push_aug(void *vector, void *vector_s, const void *from, const void *from_s,
                                        int32_t scalar);
void adcc_fortran_constructor_push_fwd(void *vector_s, const void *from, const void *from_s, int32_t scalar);
/* values read from files or made by RANDOM_NUMBER have no derivative */
void adcc_fortran_zero_fwd(void *d_s);
void *adcc_fortran_zero_aug(void *d_s);
void adcc_fortran_zero_scalar_fwd(void *p_s, int64_t bytes);
void *adcc_fortran_zero_scalar_aug(void *p_s, int64_t bytes);

/* arguments of `call autodiff(f, ...)` that f receives as addresses: the data of a descriptor, a packed
 * copy when it is not contiguous, copied back and freed after the call */
void *adcc_fortran_arg_address(const void *d);
void adcc_fortran_arg_done(const void *d, void *address);

/* a module variable's descriptor shadow at the start of a derivative: zero data shaped like d's */
void adcc_fortran_global_shadow(const void *d, void *d_s);

/* the reverse pass of any record (adj: the adjoint of a scalar result, else 0) */
void adcc_fortran_reverse(void *record, double adj);

#ifdef __cplusplus
}
#endif

#endif /* ADCC_FORTRAN_H */
