/* adcc runtime implementation. Push/pop are small enough to inline once the runtime's
 * bitcode is linked into an AD module; growth and failures take the out-of-line paths. */
#include "adcc_runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADCC_ALIGN 16
#define ADCC_HEADER 16 /* keeps the shadow payload 16-byte aligned */

static int64_t round_up(int64_t n) { return (n + (ADCC_ALIGN - 1)) & ~(int64_t)(ADCC_ALIGN - 1); }

/* One released tape buffer per thread, kept for the next gradient (bounded: the largest). */
static _Thread_local struct { char *base; int64_t cap; } spare;

static _Thread_local int64_t tape_last, tape_peak;

void adcc_tape_note(int64_t bytes) {
  tape_last = bytes;
  if (bytes > tape_peak) tape_peak = bytes;
}

int64_t adcc_tape_last_bytes(void) { return tape_last; }
int64_t adcc_tape_peak_bytes(void) { return tape_peak; }

void adcc_fatal(const char *msg) {
  fprintf(stderr, "adcc runtime error: %s\n", msg);
  fflush(stderr);
  abort();
}

void adcc_tape_init(adcc_tape *t) {
  t->base = NULL;
  t->top = 0;
  t->cap = 0;
}

__attribute__((noinline)) void *adcc_tape_grow(adcc_tape *t, int64_t nbytes) {
  if (nbytes < 0) adcc_fatal("negative tape block size");
  int64_t size = round_up(nbytes);
  int64_t cap = t->cap ? t->cap : 4096;
  while (cap < t->top + size) {
    if (cap > INT64_MAX / 2) adcc_fatal("tape too large");
    cap *= 2;
  }
  void *mem = NULL;
  if (!t->base && spare.base && spare.cap >= cap) {
    /* reuse the buffer a previous gradient released: no page faults, no zeroing */
    mem = spare.base;
    cap = spare.cap;
    spare.base = NULL;
    spare.cap = 0;
  } else if (posix_memalign(&mem, ADCC_ALIGN, (size_t)cap) != 0) {
    adcc_fatal("out of memory growing the tape");
  }
  if (t->base) {
    memcpy(mem, t->base, (size_t)t->top);
    free(t->base);
  }
  t->base = mem;
  t->cap = cap;
  void *block = t->base + t->top;
  t->top += size;
  return block;
}

void *adcc_tape_push(adcc_tape *t, int64_t nbytes) {
  int64_t size = round_up(nbytes);
  if (__builtin_expect(t->top + size > t->cap || nbytes < 0, 0)) return adcc_tape_grow(t, nbytes);
  void *block = t->base + t->top;
  t->top += size;
  return block;
}

void *adcc_tape_pop(adcc_tape *t, int64_t nbytes) {
  int64_t size = round_up(nbytes);
  if (__builtin_expect(size > t->top || nbytes < 0, 0)) adcc_fatal("tape underflow");
  t->top -= size;
  return t->base + t->top;
}

void adcc_tape_free(adcc_tape *t) {
  if (t->base && t->cap >= spare.cap) {
    free(spare.base);
    spare.base = t->base;
    spare.cap = t->cap;
  } else {
    free(t->base);
  }
  adcc_tape_init(t);
}

/* Shadow tapes (higher-order AD) are adjoint accumulators: what grows is zeroed. */
void *adcc_tape_grow_zeroed(adcc_tape *t, int64_t nbytes) {
  int64_t top = t->top;
  void *block = adcc_tape_grow(t, nbytes);
  memset(t->base + top, 0, (size_t)(t->cap - top));
  return block;
}

static int64_t *header_of(void *shadow) { return (int64_t *)((char *)shadow - ADCC_HEADER); }

/* Live heap shadows (open addressing, linear probing, tombstones), so that a shadow whose origin
 * the compiler could not see is released by the right function (adcc_shadow_release). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static void **live_slots;
static int64_t live_cap, live_used, live_count;
#define LIVE_TOMB ((void *)1)

static uint64_t live_hash(void *p) { return ((uint64_t)(uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull; }

static void live_insert_nolock(void *p);

static void live_rehash(int64_t cap) {
  void **old = live_slots;
  int64_t old_cap = live_cap;
  live_slots = calloc((size_t)cap, sizeof(void *));
  if (!live_slots) adcc_fatal("out of memory tracking shadow memory");
  live_cap = cap;
  live_used = live_count = 0;
  for (int64_t i = 0; i < old_cap; i++)
    if (old[i] && old[i] != LIVE_TOMB) live_insert_nolock(old[i]);
  free(old);
}

static void live_insert_nolock(void *p) {
  if ((live_used + 1) * 2 > live_cap) live_rehash(live_cap ? (live_count * 4 > live_cap ? live_cap * 2 : live_cap) : 1024);
  int64_t i = (int64_t)(live_hash(p) & (uint64_t)(live_cap - 1));
  while (live_slots[i] && live_slots[i] != LIVE_TOMB) i = (i + 1) & (live_cap - 1);
  if (!live_slots[i]) live_used++;
  live_slots[i] = p;
  live_count++;
}

static int live_remove(void *p) {
  int found = 0;
  pthread_mutex_lock(&live_lock);
  if (live_cap) {
    int64_t i = (int64_t)(live_hash(p) & (uint64_t)(live_cap - 1));
    while (live_slots[i]) {
      if (live_slots[i] == p) {
        live_slots[i] = LIVE_TOMB;
        live_count--;
        found = 1;
        break;
      }
      i = (i + 1) & (live_cap - 1);
    }
  }
  pthread_mutex_unlock(&live_lock);
  return found;
}

static int live_contains(void *p) {
  int found = 0;
  pthread_mutex_lock(&live_lock);
  if (live_cap) {
    int64_t i = (int64_t)(live_hash(p) & (uint64_t)(live_cap - 1));
    while (live_slots[i] && !found) {
      found = live_slots[i] == p;
      i = (i + 1) & (live_cap - 1);
    }
  }
  pthread_mutex_unlock(&live_lock);
  return found;
}

int64_t adcc_shadow_live_count(void) {
  pthread_mutex_lock(&live_lock);
  int64_t n = live_count;
  pthread_mutex_unlock(&live_lock);
  return n;
}

void *adcc_shadow_alloc(int64_t nbytes) {
  if (nbytes < 0) adcc_fatal("negative shadow allocation size");
  void *mem = NULL;
  if (posix_memalign(&mem, ADCC_ALIGN, (size_t)(ADCC_HEADER + nbytes)) != 0)
    adcc_fatal("out of memory allocating shadow memory");
  memset(mem, 0, (size_t)(ADCC_HEADER + nbytes));
  *(int64_t *)mem = nbytes;
  pthread_mutex_lock(&live_lock);
  live_insert_nolock((char *)mem + ADCC_HEADER);
  pthread_mutex_unlock(&live_lock);
  return (char *)mem + ADCC_HEADER;
}

void *adcc_shadow_calloc(int64_t count, int64_t size) {
  if (count < 0 || size < 0 || (size && count > INT64_MAX / size)) adcc_fatal("shadow calloc size overflow");
  return adcc_shadow_alloc(count * size);
}

int64_t adcc_shadow_size(void *shadow) { return shadow ? *header_of(shadow) : 0; }

void adcc_shadow_free(void *shadow) {
  if (shadow) {
    live_remove(shadow);
    free(header_of(shadow));
  }
}

/* Frees deferred to the end of a reverse pass (a call rule's reverse may read the memory after
 * the reverse of its free): a per-thread list, released down to a mark. */
static _Thread_local struct deferred { void *p; void (*fn)(void *); } *later;
static _Thread_local int64_t later_n, later_cap;

void adcc_free_later(void *p, void (*fn)(void *)) {
  if (!p) return;
  if (later_n == later_cap) {
    int64_t cap = later_cap ? later_cap * 2 : 64;
    struct deferred *grown = realloc(later, (size_t)cap * sizeof *later);
    if (!grown) adcc_fatal("out of memory deferring a free");
    later = grown;
    later_cap = cap;
  }
  later[later_n].p = p;
  later[later_n].fn = fn;
  later_n++;
}

int64_t adcc_free_mark(void) { return later_n; }

void adcc_free_flush(int64_t mark) {
  while (later_n > mark) {
    later_n--;
    later[later_n].fn(later[later_n].p);
  }
}

void adcc_shadow_release(void *shadow, void (*user_free)(void *)) {
  if (!shadow) return;
  if (live_remove(shadow))
    free(header_of(shadow));
  else
    user_free(shadow); /* the caller's own shadow: released like its primal */
}

int32_t adcc_shadow_free_if_ours(void *shadow) {
  if (!shadow || !live_remove(shadow)) return 0;
  free(header_of(shadow));
  return 1;
}

void *adcc_shadow_realloc_fwd(void *old_shadow, int64_t nbytes) {
  if (old_shadow && !live_contains(old_shadow))
    adcc_fatal("reverse mode cannot realloc memory whose shadow the caller allocated "
               "(differentiate the function that allocates it too)");
  void *fresh = adcc_shadow_alloc(nbytes);
  if (old_shadow) {
    int64_t old_size = adcc_shadow_size(old_shadow);
    memcpy(fresh, old_shadow, (size_t)(old_size < nbytes ? old_size : nbytes));
    memset(old_shadow, 0, (size_t)old_size);
  }
  return fresh;
}

void adcc_shadow_realloc_rev(void *old_shadow, void *new_shadow) {
  /* the old shadow was zeroed by realloc_fwd and nothing can reach it since: the adjoints of the
   * bytes realloc moved move back, whatever their type */
  if (old_shadow && new_shadow) {
    int64_t a = adcc_shadow_size(old_shadow), b = adcc_shadow_size(new_shadow);
    memcpy(old_shadow, new_shadow, (size_t)(a < b ? a : b));
  }
  adcc_shadow_free(new_shadow);
}

void *adcc_shadow_realloc(void *old_shadow, int64_t nbytes) {
  if (old_shadow && !live_contains(old_shadow)) {
    void *fresh = realloc(old_shadow, (size_t)nbytes); /* the caller's shadow: like its primal */
    if (!fresh && nbytes) adcc_fatal("out of memory reallocating shadow memory");
    return fresh;
  }
  void *fresh = adcc_shadow_alloc(nbytes);
  if (old_shadow) {
    int64_t old_size = adcc_shadow_size(old_shadow);
    memcpy(fresh, old_shadow, (size_t)(old_size < nbytes ? old_size : nbytes));
    adcc_shadow_free(old_shadow);
  }
  return fresh;
}

/* Shadows of stack objects live from the augmented forward pass to the reverse of their
 * allocation, strictly LIFO: a per-thread chunked stack (chunks never move) replaces a
 * malloc/free pair per object and call. */
typedef struct shadow_chunk {
  struct shadow_chunk *prev;
  int64_t size, used;
  _Alignas(16) char data[];
} shadow_chunk;

static _Thread_local shadow_chunk *stack_top, *stack_spare;

void *adcc_shadow_stack_alloc(int64_t nbytes) {
  if (nbytes < 0) adcc_fatal("negative shadow allocation size");
  int64_t n = (nbytes + (ADCC_ALIGN - 1)) & ~(int64_t)(ADCC_ALIGN - 1);
  if (!stack_top || stack_top->used + n > stack_top->size) {
    shadow_chunk *c = stack_spare;
    if (c && c->size >= n) {
      stack_spare = NULL;
    } else {
      int64_t size = n > (1 << 18) ? n : (1 << 18);
      c = NULL;
      if (posix_memalign((void **)&c, ADCC_ALIGN, sizeof(shadow_chunk) + (size_t)size) != 0)
        adcc_fatal("out of memory allocating shadow memory");
      c->size = size;
    }
    c->used = 0;
    c->prev = stack_top;
    stack_top = c;
  }
  void *p = stack_top->data + stack_top->used;
  stack_top->used += n;
  memset(p, 0, (size_t)n);
  return p;
}

static int in_chunk(const shadow_chunk *c, const char *p) {
  return p >= c->data && p < c->data + c->size;
}

void adcc_shadow_stack_free(void *shadow, int64_t nbytes) {
  (void)nbytes;
  char *p = shadow;
  /* Normally `shadow` is the top allocation. If frames above it were abandoned (an exception
   * or longjmp left a gradient midway), release them too: LIFO order makes that safe. */
  while (stack_top && !in_chunk(stack_top, p)) {
    shadow_chunk *c = stack_top;
    stack_top = c->prev;
    free(c);
  }
  if (!stack_top || p > stack_top->data + stack_top->used)
    adcc_fatal("shadow stack released out of order");
  stack_top->used = p - stack_top->data;
  if (stack_top->used == 0 && stack_top->prev) {
    shadow_chunk *c = stack_top;
    stack_top = c->prev;
    if (stack_spare && stack_spare->size >= c->size) {
      free(c);
    } else {
      free(stack_spare);
      stack_spare = c;
    }
  }
}

/* Derivatives of sorting (qsort, qsort_r): the values move, the permutation has no derivative.
 * The primal is sorted by a stable merge sort of indices under the program's comparator, so that
 * the permutation can be applied to shadows too: after the sort, base[i] is the old base[perm[i]]. */
typedef struct {
  const char *base;
  int64_t size;
  void *cmp;
  void *arg;
  int with_arg;
} sort_context;

static int compare_at(const sort_context *c, int64_t a, int64_t b) {
  const void *x = c->base + a * c->size, *y = c->base + b * c->size;
  if (c->with_arg) return ((int (*)(const void *, const void *, void *))c->cmp)(x, y, c->arg);
  return ((int (*)(const void *, const void *))c->cmp)(x, y);
}

static void merge_sort(const sort_context *c, int64_t *idx, int64_t *tmp, int64_t n) {
  if (n < 2) return;
  int64_t h = n / 2;
  merge_sort(c, idx, tmp, h);
  merge_sort(c, idx + h, tmp, n - h);
  int64_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = compare_at(c, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
  while (i < h) tmp[k++] = idx[i++];
  while (j < n) tmp[k++] = idx[j++];
  memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

int64_t *adcc_sort_permutation(void *base, int64_t n, int64_t size, void *cmp, void *arg, int32_t with_arg) {
  if (n < 0 || size < 0) adcc_fatal("negative qsort size");
  int64_t *perm = malloc((size_t)(n ? n : 1) * 2 * sizeof *perm);
  if (!perm) adcc_fatal("out of memory sorting");
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  sort_context c = {base, size, cmp, arg, with_arg};
  merge_sort(&c, perm, perm + n, n);
  adcc_permute(base, perm, n, size);
  return perm;
}

void adcc_permute(void *mem, const int64_t *perm, int64_t n, int64_t size) {
  if (!mem || n < 2) return;
  char *old = malloc((size_t)(n * size));
  if (!old) adcc_fatal("out of memory sorting");
  memcpy(old, mem, (size_t)(n * size));
  for (int64_t i = 0; i < n; i++) memcpy((char *)mem + i * size, old + perm[i] * size, (size_t)size);
  free(old);
}

void adcc_unpermute(void *mem, const int64_t *perm, int64_t n, int64_t size) {
  if (!mem || n < 2) return;
  char *old = malloc((size_t)(n * size));
  if (!old) adcc_fatal("out of memory sorting");
  memcpy(old, mem, (size_t)(n * size));
  for (int64_t i = 0; i < n; i++) memcpy((char *)mem + perm[i] * size, old + i * size, (size_t)size);
  free(old);
}

void adcc_permutation_free(int64_t *perm) { free(perm); }
