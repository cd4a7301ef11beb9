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

/* Heap bytes the runtime holds for tape records, shadow stacks and split-mode tape headers
 * (cached buffers included), and split-mode tapes recorded and not yet released: the counters a
 * leak test reads (adcc_tape_live_bytes, adcc_split_tape_live_count). */
static int64_t held_bytes, split_live;

static void held(int64_t delta) { __atomic_fetch_add(&held_bytes, delta, __ATOMIC_RELAXED); }

int64_t adcc_tape_live_bytes(void) { return __atomic_load_n(&held_bytes, __ATOMIC_RELAXED); }
int64_t adcc_split_tape_live_count(void) { return __atomic_load_n(&split_live, __ATOMIC_RELAXED); }

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
  } else {
    held(cap);
  }
  if (t->base) {
    memcpy(mem, t->base, (size_t)t->top);
    if (t->base != (char *)t + ADCC_SPLIT_TAPE_HEADER) { /* else: the records inside a split tape */
      free(t->base);
      held(-t->cap);
    }
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
    held(-spare.cap);
    spare.base = t->base;
    spare.cap = t->cap;
  } else {
    free(t->base);
    held(-t->cap);
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

/* The shadow of a tape (higher-order AD) follows its primal: records sit at the same offsets, so
 * after each growth of the primal the shadow gets at least the primal's capacity (old contents
 * kept; new bytes zeroed when it accumulates adjoints) and its top. Returns the shadow of the
 * primal's block. */
void *adcc_tape_mirror(adcc_tape *shadow, const adcc_tape *primal, void *primal_block, int32_t zeroed) {
  if (shadow->cap < primal->cap) {
    void *mem = NULL;
    if (posix_memalign(&mem, ADCC_ALIGN, (size_t)primal->cap) != 0) adcc_fatal("out of memory growing a tape");
    held(primal->cap);
    if (shadow->base) memcpy(mem, shadow->base, (size_t)shadow->cap);
    if (zeroed) memset((char *)mem + shadow->cap, 0, (size_t)(primal->cap - shadow->cap));
    if (shadow->base && shadow->base != (char *)shadow + ADCC_SPLIT_TAPE_HEADER) {
      free(shadow->base);
      held(-shadow->cap);
    }
    shadow->base = mem;
    shadow->cap = primal->cap;
  }
  shadow->top = primal->top;
  return shadow->base + ((char *)primal_block - primal->base);
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

void adcc_shadow_release(void *shadow, void (*user_free)(void *)) {
  if (!shadow) return;
  if (live_remove(shadow))
    free(header_of(shadow));
  else
    user_free(shadow); /* the caller's own shadow: released like its primal */
}

void *adcc_shadow_realloc_fwd(void *old_shadow, int64_t nbytes) {
  void *fresh = adcc_shadow_alloc(nbytes);
  if (old_shadow) {
    int64_t old_size = adcc_shadow_size(old_shadow);
    memcpy(fresh, old_shadow, (size_t)(old_size < nbytes ? old_size : nbytes));
    memset(old_shadow, 0, (size_t)old_size);
  }
  return fresh;
}

void adcc_shadow_realloc_rev(void *old_shadow, void *new_shadow) {
  if (old_shadow && new_shadow) {
    int64_t a = adcc_shadow_size(old_shadow), b = adcc_shadow_size(new_shadow);
    int64_t n = (a < b ? a : b) / (int64_t)sizeof(double);
    double *dst = old_shadow;
    const double *src = new_shadow;
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
  }
  adcc_shadow_free(new_shadow);
}

/* Shadows of stack objects live from the augmented forward pass to the reverse of their
 * allocation, strictly LIFO within one tape: a chunked stack (chunks never move) replaces a
 * malloc/free pair per object and call. A gradient (__enzyme_autodiff) uses its thread's stack;
 * a split-mode tape carries its own (adcc_split_enter makes it the thread's current one while
 * its augmented or reverse pass runs), so tapes can be reversed in any order, on any thread. */
typedef struct shadow_chunk {
  struct shadow_chunk *prev;
  int64_t size, used;
  _Alignas(16) char data[];
} shadow_chunk;

#define THREAD_CHUNK (1 << 18) /* chunks of the thread's stack */
#define TAPE_CHUNK 4096        /* first chunk of a tape's stack; later ones double */

static _Thread_local shadow_chunk *thread_stack, *stack_spare;
static _Thread_local shadow_chunk **current; /* NULL: &thread_stack; else a split tape's stack */

static shadow_chunk **stack_slot(void) { return current ? current : &thread_stack; }

static void free_chunk(shadow_chunk *c) {
  held(-(int64_t)sizeof(shadow_chunk) - c->size);
  free(c);
}

/* keep one released chunk per thread (the largest) for the next stack that needs one */
static void recycle_chunk(shadow_chunk *c) {
  if (stack_spare && stack_spare->size >= c->size) {
    free_chunk(c);
  } else {
    if (stack_spare) free_chunk(stack_spare);
    stack_spare = c;
  }
}

void *adcc_shadow_stack_alloc(int64_t nbytes) {
  if (nbytes < 0) adcc_fatal("negative shadow allocation size");
  int64_t n = (nbytes + (ADCC_ALIGN - 1)) & ~(int64_t)(ADCC_ALIGN - 1);
  shadow_chunk **slot = stack_slot();
  shadow_chunk *top = *slot;
  if (!top || top->used + n > top->size) {
    int64_t want = current ? (top ? 2 * top->size : TAPE_CHUNK) : THREAD_CHUNK;
    if (want > THREAD_CHUNK) want = THREAD_CHUNK;
    if (want < n) want = n;
    shadow_chunk *c = stack_spare;
    if (c && c->size >= n) {
      stack_spare = NULL;
    } else {
      c = NULL;
      if (posix_memalign((void **)&c, ADCC_ALIGN, sizeof(shadow_chunk) + (size_t)want) != 0)
        adcc_fatal("out of memory allocating shadow memory");
      c->size = want;
      held((int64_t)sizeof(shadow_chunk) + want);
    }
    c->used = 0;
    c->prev = top;
    *slot = top = c;
  }
  void *p = top->data + top->used;
  top->used += n;
  memset(p, 0, (size_t)n);
  return p;
}

static int in_chunk(const shadow_chunk *c, const char *p) {
  return p >= c->data && p < c->data + c->size;
}

void adcc_shadow_stack_free(void *shadow, int64_t nbytes) {
  (void)nbytes;
  char *p = shadow;
  shadow_chunk **slot = stack_slot();
  /* Normally `shadow` is the top allocation. If frames above it were abandoned (an exception
   * or longjmp left a gradient midway), release them too: LIFO order makes that safe. */
  while (*slot && !in_chunk(*slot, p)) {
    shadow_chunk *c = *slot;
    *slot = c->prev;
    free_chunk(c);
  }
  shadow_chunk *top = *slot;
  if (!top || p > top->data + top->used) adcc_fatal("shadow stack released out of order");
  top->used = p - top->data;
  if (top->used == 0 && (top->prev || current)) {
    *slot = top->prev;
    recycle_chunk(top);
  }
}

/* --- split mode ------------------------------------------------------------------------ */

void *adcc_split_enter(adcc_split_tape *t) {
  shadow_chunk **previous = current;
  current = (shadow_chunk **)&t->stack;
  return previous;
}

void adcc_split_leave(void *previous) { current = previous; }

static void split_start(adcc_split_tape *t, char *inline_records, int64_t inline_bytes, uint32_t check,
                        uint32_t heap) {
  if (check == 0 && inline_bytes > 0) memset(inline_records, 0, (size_t)inline_bytes); /* a shadow tape */
  t->records.base = inline_bytes > 0 ? inline_records : NULL;
  t->records.top = 0;
  t->records.cap = inline_bytes > 0 ? inline_bytes : 0;
  t->stack = NULL;
  t->inline_bytes = heap ? inline_bytes : 0;
  t->check = check;
  t->state = ADCC_SPLIT_RECORDED | heap;
  __atomic_fetch_add(&split_live, 1, __ATOMIC_RELAXED);
}

adcc_split_tape *adcc_split_tape_new(int64_t inline_bytes, uint32_t check) {
  if (inline_bytes < 0) inline_bytes = 0;
  int64_t size = ADCC_SPLIT_TAPE_HEADER + inline_bytes;
  adcc_split_tape *t = NULL;
  if (posix_memalign((void **)&t, ADCC_ALIGN, (size_t)size) != 0) adcc_fatal("out of memory allocating a tape");
  held(size);
  split_start(t, (char *)t + ADCC_SPLIT_TAPE_HEADER, inline_bytes, check, ADCC_SPLIT_HEAP);
  return t;
}

void adcc_split_tape_init(void *buffer, int64_t size, int64_t inline_bytes, uint32_t check, const char *where) {
  if (size < ADCC_SPLIT_TAPE_HEADER) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s: the tape buffer (enzyme_allocated) has %lld bytes, adcc needs at least %d "
             "(__enzyme_augmentsize gives the size)", where, (long long)size, ADCC_SPLIT_TAPE_HEADER);
    adcc_fatal(msg);
  }
  if ((uintptr_t)buffer & 7) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s: the tape buffer (enzyme_tape) must be aligned to 8 bytes", where);
    adcc_fatal(msg);
  }
  /* records stay in the buffer when all of them fit (their most is known at compile time) */
  int64_t room = size - ADCC_SPLIT_TAPE_HEADER;
  split_start(buffer, (char *)buffer + ADCC_SPLIT_TAPE_HEADER, inline_bytes > 0 && room >= inline_bytes ? room : 0,
              check, 0);
}

void adcc_split_tape_check(adcc_split_tape *t, uint32_t check, const char *where) {
  const char *why = NULL;
  if (!t)
    why = "the tape is a null pointer";
  else if (!(t->state & ADCC_SPLIT_RECORDED))
    why = "the tape holds no recording (reversed already, released, or never written by __enzyme_augmentfwd)";
  else if (t->check != check)
    why = "the tape was recorded by __enzyme_augmentfwd of another function, or with other activities";
  if (why) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", where, why);
    adcc_fatal(msg);
  }
}

void adcc_split_tape_free(void *tape) {
  adcc_split_tape *t = tape;
  if (!t) return;
  int inline_records = t->records.base == (char *)t + ADCC_SPLIT_TAPE_HEADER;
  int64_t size = ADCC_SPLIT_TAPE_HEADER + t->inline_bytes; /* of a heap header */
  if (t->records.base && !inline_records) adcc_tape_free(&t->records);
  shadow_chunk *c = t->stack;
  while (c) {
    shadow_chunk *prev = c->prev;
    recycle_chunk(c);
    c = prev;
  }
  t->stack = NULL;
  if (t->state & ADCC_SPLIT_RECORDED) __atomic_fetch_sub(&split_live, 1, __ATOMIC_RELAXED);
  t->state &= ~(uint32_t)ADCC_SPLIT_RECORDED;
  if (t->state & ADCC_SPLIT_HEAP) {
    held(-size);
    free(t);
  }
}
