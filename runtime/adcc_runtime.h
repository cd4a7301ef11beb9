/* adcc runtime: tapes for reverse mode and shadow memory for duplicated allocations.
 * The AD code generator calls exactly these symbols (names checked by tests/test_runtime.py).
 * Tape blocks are LIFO and 16-byte aligned; shadow allocations carry a hidden size header. */
#ifndef ADCC_RUNTIME_H
#define ADCC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct adcc_tape {
  char *base;
  int64_t top;
  int64_t cap;
} adcc_tape; /* LIFO of byte blocks, each 16-byte aligned */

void adcc_tape_init(adcc_tape *t);
void *adcc_tape_push(adcc_tape *t, int64_t nbytes); /* reserve a block (size rounded up to 16) */
void *adcc_tape_pop(adcc_tape *t, int64_t nbytes);  /* release the top block of that size; valid until next push */
void *adcc_tape_grow(adcc_tape *t, int64_t nbytes); /* slow path of push: grow geometrically, then push */
void adcc_tape_free(adcc_tape *t);
void adcc_tape_note(int64_t bytes);       /* records the tape size after an augmented forward pass */
int64_t adcc_tape_last_bytes(void);       /* tape bytes of this thread's last gradient */
int64_t adcc_tape_peak_bytes(void);       /* largest tape of this thread so far */

void *adcc_shadow_alloc(int64_t nbytes); /* zeroed, 16-byte aligned, hidden size header */
void *adcc_shadow_calloc(int64_t count, int64_t size);
void *adcc_shadow_realloc_fwd(void *old_shadow, int64_t nbytes); /* reverse mode: new shadow, old copied then zeroed; old not freed */
void adcc_shadow_realloc_rev(void *old_shadow, void *new_shadow); /* bytes move back into old (zeroed since); frees new */
void *adcc_shadow_realloc(void *old_shadow, int64_t nbytes); /* forward mode: like realloc (a caller's shadow with realloc) */
int32_t adcc_shadow_free_if_ours(void *shadow); /* frees and returns 1 if adcc allocated it; else 0 (NULL: 0) */
void adcc_shadow_free(void *shadow); /* NULL ok */
void adcc_shadow_release(void *shadow, void (*user_free)(void *)); /* ours: adcc_shadow_free; else user_free */
int64_t adcc_shadow_live_count(void);
void adcc_free_later(void *p, void (*fn)(void *)); /* fn(p) at the next adcc_free_flush below it */
int64_t adcc_free_mark(void);
void adcc_free_flush(int64_t mark);     /* run the deferred frees made since `mark`, latest first */   /* heap shadows allocated and not yet released */
void *adcc_tape_grow_zeroed(adcc_tape *t, int64_t nbytes); /* grow, zeroing the new capacity (shadow tapes) */
void *adcc_shadow_stack_alloc(int64_t nbytes);           /* zeroed, LIFO (shadows of stack objects) */
void adcc_shadow_stack_free(void *shadow, int64_t nbytes); /* must be the most recent allocation */
int64_t adcc_shadow_size(void *shadow);

/* sorting (qsort/qsort_r derivatives): sorts base like qsort and returns the permutation it applied
 * (base[i] = old base[perm[i]]); permute/unpermute apply it, or its inverse, to a shadow */
int64_t *adcc_sort_permutation(void *base, int64_t n, int64_t size, void *cmp, void *arg, int32_t with_arg);
void adcc_permute(void *mem, const int64_t *perm, int64_t n, int64_t size);
void adcc_unpermute(void *mem, const int64_t *perm, int64_t n, int64_t size);
void adcc_permutation_free(int64_t *perm);

void adcc_fatal(const char *msg); /* "adcc runtime error: msg" on stderr, then abort */

#ifdef __cplusplus
}
#endif

#endif /* ADCC_RUNTIME_H */
