/* adcc runtime implementation. Push/pop are small enough to inline once the runtime's
 * bitcode is linked into an AD module; growth and failures take the out-of-line paths. */
#include "adcc_runtime.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADCC_ALIGN 16

static int64_t round_up(int64_t n) { return (n + (ADCC_ALIGN - 1)) & ~(int64_t)(ADCC_ALIGN - 1); }

static void held(int64_t delta);

/* Released tape buffers, kept per thread for the next tapes: a gradient's tapes are as large as
 * the previous gradient's, and memory fresh from the kernel costs a page fault (and the clearing
 * of a page) per page first written. A serial gradient has one tape at a time; a loop of OpenMP
 * regions keeps a tape per region and thread until the reverse pass, all of which the next
 * gradient needs again, however many. Bounded in bytes: a thread keeps at most the most it ever
 * had out at once (what one of its gradients needs), and the buffers go back to the heap when the
 * thread exits. */
typedef struct { char *base; int64_t cap; } tape_buffer;
typedef struct {
  tape_buffer *items;
  int64_t n, room;
  int64_t kept; /* bytes in items */
  int64_t out;  /* bytes of buffers this thread handed to tapes and not yet got back */
  int64_t peak; /* the most `out` has been */
} spare_pool;
static _Thread_local spare_pool *pool;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void release_thread_memory(void *p);
static void make_pool_key(void) {
  if (pthread_key_create(&pool_key, release_thread_memory) != 0) adcc_fatal("cannot create a thread key");
}

static spare_pool *my_pool(void) {
  if (!pool) {
    pthread_once(&pool_once, make_pool_key);
    pool = calloc(1, sizeof *pool);
    if (!pool) adcc_fatal("out of memory keeping tape buffers");
    pthread_setspecific(pool_key, pool); /* its destructor runs when the thread exits */
  }
  return pool;
}

static void free_buffer(char *base, int64_t cap) {
  free(base);
  held(-cap);
}

/* the largest kept buffer of at least `cap` bytes (a tape that starts small may grow into it),
 * or NULL */
static char *take_spare(int64_t *cap) {
  spare_pool *p = my_pool();
  int64_t best = -1;
  for (int64_t k = 0; k < p->n; k++)
    if (p->items[k].cap >= *cap && (best < 0 || p->items[k].cap > p->items[best].cap)) best = k;
  if (best < 0) return NULL;
  char *base = p->items[best].base;
  *cap = p->items[best].cap;
  p->items[best] = p->items[--p->n];
  p->kept -= *cap;
  return base;
}

/* a buffer handed to a tape (kept before, or fresh) */
static void hand_out(int64_t cap) {
  spare_pool *p = my_pool();
  p->out += cap;
  if (p->out > p->peak) p->peak = p->out;
}

static void keep_spare(char *base, int64_t cap) {
  spare_pool *p = my_pool();
  /* (another thread's buffer, or a shadow tape's, was not counted out here) */
  p->out = p->out > cap ? p->out - cap : 0;
  while (p->kept + cap > p->peak && p->n > 0) { /* over the bound: drop the smallest, or this one */
    int64_t smallest = 0;
    for (int64_t k = 1; k < p->n; k++)
      if (p->items[k].cap < p->items[smallest].cap) smallest = k;
    if (p->items[smallest].cap >= cap) break;
    free_buffer(p->items[smallest].base, p->items[smallest].cap);
    p->kept -= p->items[smallest].cap;
    p->items[smallest] = p->items[--p->n];
  }
  if (p->kept + cap > p->peak) {
    free_buffer(base, cap);
    return;
  }
  if (p->n == p->room) {
    int64_t room = p->room ? 2 * p->room : 16;
    tape_buffer *items = realloc(p->items, (size_t)room * sizeof *items);
    if (!items) {
      free_buffer(base, cap);
      return;
    }
    p->items = items;
    p->room = room;
  }
  p->items[p->n++] = (tape_buffer){base, cap};
  p->kept += cap;
}

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
  static _Atomic int warned;
  static _Atomic int64_t limit; /* read once: this runs after every gradient */
  if (bytes < (int64_t)1 << 16 || warned) return;
  if (!limit) limit = adcc_tape_limit(0);
  if (bytes > limit && !warned++)
    fprintf(stderr, "adcc: warning: a gradient's tape took %lld bytes, over the tape limit of %lld bytes "
                    "(ADCC_TAPE_LIMIT, default a quarter of physical memory): only loops that touch no "
                    "memory are checkpointed (docs/reverse-mode.md, \"Long loops in bounded memory\")\n",
            (long long)bytes, (long long)limit);
}

static int64_t parse_size(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  switch (*end) {
  case 'k': case 'K': v *= 1024.0; break;
  case 'm': case 'M': v *= 1024.0 * 1024.0; break;
  case 'g': case 'G': v *= 1024.0 * 1024.0 * 1024.0; break;
  case '\0': break;
  default: return -1;
  }
  return (int64_t)v;
}

int64_t adcc_tape_limit(int64_t compiled) {
  const char *env = getenv("ADCC_TAPE_LIMIT");
  if (env && *env) {
    int64_t v = parse_size(env);
    if (v < 0) adcc_fatal("ADCC_TAPE_LIMIT: expected a size such as 512M");
    return v;
  }
  if (compiled > 0) return compiled;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return (int64_t)1 << 30;
  return (int64_t)pages * page / 4;
}

int64_t adcc_tape_last_bytes(void) { return tape_last; }
int64_t adcc_tape_peak_bytes(void) { return tape_peak; }

void adcc_fatal(const char *msg) {
  fprintf(stderr, "adcc runtime error: %s\n", msg);
  fflush(stderr);
  abort();
}

/* 2^k as a double, for -1074 <= k <= 1023 (subnormal below -1022) */
static double power_of_two(int k) {
  uint64_t bits = k >= -1022 ? (uint64_t)(k + 1023) << 52 : (uint64_t)1 << (k + 1074);
  double p;
  memcpy(&p, &bits, sizeof p);
  return p;
}

double adcc_fp_round(double x, int32_t exponent_bits, int32_t mantissa_bits) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  uint64_t sign = bits & 0x8000000000000000ull, magnitude = bits ^ sign;
  if (magnitude == 0 || magnitude >= 0x7ff0000000000000ull) return x; /* zero, infinity, NaN */
  int emax = (1 << (exponent_bits - 1)) - 1, emin = 1 - emax;
  int e = (int)(magnitude >> 52) - 1023; /* unbiased exponent (double subnormals: below any emin) */
  if (e < emin) e = emin;                /* a subnormal of the target: a fixed quantum */
  double quantum = power_of_two(e - mantissa_bits), y;
  memcpy(&y, &magnitude, sizeof y);
  y /= quantum; /* exact: a power-of-two scaling into [0, 2^(mantissa_bits + 1)) */
  if (y < 4503599627370496.0) { /* 2^52: round to an integer, ties to even */
    volatile double shifted = y + 4503599627370496.0;
    y = shifted - 4503599627370496.0;
  }
  double r = y * quantum;
  double largest = (power_of_two(mantissa_bits + 1) - 1.0) * power_of_two(emax - mantissa_bits);
  if (r > largest) r = power_of_two(1023) * 2.0; /* overflow: infinity */
  memcpy(&bits, &r, sizeof bits);
  bits |= sign;
  memcpy(&r, &bits, sizeof r);
  return r;
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
  void *mem = take_spare(&cap); /* a buffer a previous tape released: no page faults */
  if (!mem) { /* (kept buffers count as held already) */
    if (posix_memalign(&mem, ADCC_ALIGN, (size_t)cap) != 0) adcc_fatal("out of memory growing the tape");
    held(cap);
  }
  if (t->base) {
    memcpy(mem, t->base, (size_t)t->top);
    if (t->base != (char *)t + ADCC_SPLIT_TAPE_HEADER) /* else: the records inside a split tape */
      keep_spare(t->base, t->cap); /* (before counting the new one out: the bound is what tapes use) */
  }
  hand_out(cap);
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
  if (t->base) keep_spare(t->base, t->cap);
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

/* Live heap shadows and their sizes (open addressing, linear probing, tombstones), so that a
 * shadow whose origin the compiler could not see is released by the right function
 * (adcc_shadow_release). A heap shadow is a plain heap block, without a header: one that escapes
 * to the program (the tangent of an allocation f returns, a std::vector f returns by value) is
 * released by the program's own free or delete, as with Enzyme. Its entry then stays until the
 * allocator hands the address out again to adcc_shadow_alloc, which drops it. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static void **live_slots;
static int64_t *live_sizes;
static int64_t live_cap, live_used, live_count;
#define LIVE_TOMB ((void *)1)

static uint64_t live_hash(void *p) { return ((uint64_t)(uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull; }

static void live_insert_nolock(void *p, int64_t size);

static void live_rehash(int64_t cap) {
  void **old = live_slots;
  int64_t *old_sizes = live_sizes, old_cap = live_cap;
  live_slots = calloc((size_t)cap, sizeof(void *));
  live_sizes = calloc((size_t)cap, sizeof(int64_t));
  if (!live_slots || !live_sizes) adcc_fatal("out of memory tracking shadow memory");
  live_cap = cap;
  live_used = live_count = 0;
  for (int64_t i = 0; i < old_cap; i++)
    if (old[i] && old[i] != LIVE_TOMB) live_insert_nolock(old[i], old_sizes[i]);
  free(old);
  free(old_sizes);
}

static void live_insert_nolock(void *p, int64_t size) {
  if ((live_used + 1) * 2 > live_cap) live_rehash(live_cap ? (live_count * 4 > live_cap ? live_cap * 2 : live_cap) : 1024);
  int64_t i = (int64_t)(live_hash(p) & (uint64_t)(live_cap - 1));
  while (live_slots[i] && live_slots[i] != LIVE_TOMB) i = (i + 1) & (live_cap - 1);
  if (!live_slots[i]) live_used++;
  live_slots[i] = p;
  live_sizes[i] = size;
  live_count++;
}

/* the slot holding p, or -1 */
static int64_t live_find_nolock(void *p) {
  if (!live_cap) return -1;
  int64_t i = (int64_t)(live_hash(p) & (uint64_t)(live_cap - 1));
  while (live_slots[i]) {
    if (live_slots[i] == p) return i;
    i = (i + 1) & (live_cap - 1);
  }
  return -1;
}

static int live_remove_nolock(void *p) {
  int64_t i = live_find_nolock(p);
  if (i < 0) return 0;
  live_slots[i] = LIVE_TOMB;
  live_count--;
  return 1;
}

static int live_remove(void *p) {
  pthread_mutex_lock(&live_lock);
  int found = live_remove_nolock(p);
  pthread_mutex_unlock(&live_lock);
  return found;
}

/* the size of the live shadow p, or -1 when p is not one */
static int64_t live_size(void *p) {
  pthread_mutex_lock(&live_lock);
  int64_t i = live_find_nolock(p), size = i < 0 ? -1 : live_sizes[i];
  pthread_mutex_unlock(&live_lock);
  return size;
}

static int live_contains(void *p) { return live_size(p) >= 0; }

int64_t adcc_shadow_live_count(void) {
  pthread_mutex_lock(&live_lock);
  int64_t n = live_count;
  pthread_mutex_unlock(&live_lock);
  return n;
}

void *adcc_shadow_alloc(int64_t nbytes) {
  if (nbytes < 0) adcc_fatal("negative shadow allocation size");
  void *mem = NULL;
  if (posix_memalign(&mem, ADCC_ALIGN, (size_t)(nbytes ? nbytes : 1)) != 0 || !mem)
    adcc_fatal("out of memory allocating shadow memory");
  memset(mem, 0, (size_t)nbytes);
  pthread_mutex_lock(&live_lock);
  live_remove_nolock(mem); /* an escaped shadow at this address was freed by the program */
  live_insert_nolock(mem, nbytes);
  pthread_mutex_unlock(&live_lock);
  return mem;
}

void *adcc_shadow_calloc(int64_t count, int64_t size) {
  if (count < 0 || size < 0 || (size && count > INT64_MAX / size)) adcc_fatal("shadow calloc size overflow");
  return adcc_shadow_alloc(count * size);
}

int64_t adcc_shadow_size(void *shadow) {
  int64_t size = shadow ? live_size(shadow) : 0;
  return size < 0 ? 0 : size;
}

void *adcc_context_heap_shadow(void *primal, void *shadow, const void *note) {
  const struct { void *block; int64_t bytes; } *n = note;
  if (!primal || primal != n->block)
    return shadow; /* not the allocation the note describes: the shadow is whatever it was */
  int64_t ours = adcc_shadow_size(shadow);
  if (shadow && (!ours || ours == n->bytes))
    return shadow; /* (a shadow adcc did not allocate, or one of the right size) */
  return adcc_shadow_alloc(n->bytes); /* (a shadow of an earlier, other-sized block stays allocated:
                                         the program may still hold it) */
}

void adcc_context_zero_heap(void *shadow) {
  int64_t size = adcc_shadow_size(shadow);
  if (size > 0)
    memset(shadow, 0, (size_t)size);
}

void adcc_shadow_free(void *shadow) {
  if (shadow) {
    live_remove(shadow);
    free(shadow);
  }
}

/* Frees deferred to the end of a reverse pass (a call rule's reverse may read the memory after
 * the reverse of its free): a per-thread list, released down to a mark. */
static _Thread_local struct deferred { void *p; void (*fn)(void *); int64_t cap; } *later;
static _Thread_local int64_t later_n, later_cap;

static void defer(void *p, void (*fn)(void *), int64_t cap) {
  if (later_n == later_cap) {
    int64_t cap = later_cap ? later_cap * 2 : 64;
    struct deferred *grown = realloc(later, (size_t)cap * sizeof *later);
    if (!grown) adcc_fatal("out of memory deferring a free");
    later = grown;
    later_cap = cap;
  }
  later[later_n].p = p;
  later[later_n].fn = fn;
  later[later_n].cap = cap;
  later_n++;
}

void adcc_free_later(void *p, void (*fn)(void *)) {
  if (p) defer(p, fn, 0);
}

/* The release of a tape in the reverse pass of code that contains a reverse pass (higher-order
 * AD): the reverses of what read the tape and its shadow run after it, so its buffer is kept
 * (neither freed nor handed to another tape) until the flush; the tape itself is empty again. */
void adcc_tape_free_later(adcc_tape *t) {
  if (t->base) defer(t->base, NULL, t->cap);
  adcc_tape_init(t);
}

int64_t adcc_free_mark(void) { return later_n; }

void adcc_free_flush(int64_t mark) {
  while (later_n > mark) {
    later_n--;
    if (later[later_n].fn)
      later[later_n].fn(later[later_n].p);
    else /* a tape's buffer (adcc_tape_free_later) */
      keep_spare(later[later_n].p, later[later_n].cap);
  }
}

void adcc_shadow_release(void *shadow, void (*user_free)(void *)) {
  if (!shadow) return;
  if (live_remove(shadow))
    free(shadow);
  else
    user_free(shadow); /* the caller's own shadow: released like its primal */
}

int32_t adcc_shadow_free_if_ours(void *shadow) {
  if (!shadow || !live_remove(shadow)) return 0;
  free(shadow);
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
      my_pool(); /* (registers the thread's exit, which frees its chunks) */
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

/* A thread's kept memory goes back to the heap when it exits (pthread key destructor): its tape
 * buffers, and the chunks of its shadow stack (empty by then). */
static void release_thread_memory(void *arg) {
  spare_pool *p = arg;
  for (int64_t k = 0; k < p->n; k++) free_buffer(p->items[k].base, p->items[k].cap);
  free(p->items);
  free(p);
  pool = NULL;
  while (thread_stack) {
    shadow_chunk *c = thread_stack;
    thread_stack = c->prev;
    free_chunk(c);
  }
  if (stack_spare) free_chunk(stack_spare);
  stack_spare = NULL;
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
    why = "the tape holds no recording (reversed or replayed already, released, or never written by "
          "__enzyme_augmentfwd)";
  else if (t->check != check)
    why = "the tape was recorded by __enzyme_augmentfwd of another function, or with other activities, or for "
          "the other split mode (an __enzyme_augmentfwd records for __enzyme_fwdsplit only where its translation "
          "unit also passes the function to __enzyme_fwdsplit)";
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

/* --- split forward mode: the replay log ------------------------------------------------- */

static _Thread_local adcc_split_tape *replay_tape; /* the current log of this thread */
static _Thread_local int64_t replay_reading;
_Thread_local adcc_replay_cursor adcc_replay_at;
_Static_assert(sizeof(adcc_replay_state) == 32, "adcc/ad/fwdsplit.py allocates 32 bytes (STATE_TYPE)");

/* Recording: the records' top is where the cursor stands (kept in the cursor while recording). */
static void replay_sync(void) {
  if (replay_tape && !replay_reading && adcc_replay_at.next)
    replay_tape->records.top = adcc_replay_at.next - replay_tape->records.base;
}

static void replay_point(void) {
  adcc_tape *r = &replay_tape->records;
  adcc_replay_at.next = r->base ? r->base + (replay_reading ? 0 : r->top) : NULL;
  adcc_replay_at.end = r->base ? r->base + (replay_reading ? r->top : r->cap) : NULL;
}

void adcc_replay_begin(adcc_replay_state *save, adcc_split_tape *t, int32_t reading) {
  replay_sync();
  save->tape = replay_tape;
  save->reading = replay_reading;
  save->at = adcc_replay_at;
  replay_tape = t;
  replay_reading = reading;
  replay_point();
}

void adcc_replay_end(adcc_replay_state *save, const char *where) {
  replay_sync();
  if (replay_reading && replay_tape) {
    char *base = replay_tape->records.base;
    int64_t read = base && adcc_replay_at.next ? adcc_replay_at.next - base : 0;
    if (read != replay_tape->records.top) {
      char msg[512];
      snprintf(msg, sizeof msg, "%s: the tangent pass read %lld of the %lld bytes recorded (the run diverged from "
               "the one __enzyme_augmentfwd recorded)", where, (long long)read,
               (long long)replay_tape->records.top);
      adcc_fatal(msg);
    }
  }
  replay_tape = save->tape;
  replay_reading = save->reading;
  adcc_replay_at = save->at;
}

static char *replay_room(int64_t nbytes) {
  if (!replay_tape || replay_reading)
    adcc_fatal("__enzyme_augmentfwd: no replay log is being recorded (internal error)");
  replay_sync();
  adcc_tape *r = &replay_tape->records;
  if (r->top + nbytes > r->cap) {
    int64_t top = r->top;
    adcc_tape_grow(r, nbytes);
    r->top = top;
  }
  char *at = r->base + r->top;
  r->top += nbytes;
  replay_point();
  return at;
}

static const char *replay_next(int64_t nbytes) {
  if (!replay_tape || !replay_reading)
    adcc_fatal("__enzyme_fwdsplit: no replay log is being read (internal error)");
  const char *at = adcc_replay_at.next;
  if (!at || at + nbytes > adcc_replay_at.end)
    adcc_fatal("__enzyme_fwdsplit: the tangent pass read past the end of its tape (the run diverged from the "
               "one __enzyme_augmentfwd recorded)");
  adcc_replay_at.next += nbytes;
  return at;
}

void adcc_replay_put(uint64_t bits) { memcpy(replay_room(8), &bits, 8); }

uint64_t adcc_replay_get(void) {
  uint64_t bits;
  memcpy(&bits, replay_next(8), 8);
  return bits;
}

void adcc_replay_put_bytes(const void *value, int64_t nbytes) { memcpy(replay_room(nbytes), value, (size_t)nbytes); }

void adcc_replay_get_bytes(void *value, int64_t nbytes) { memcpy(value, replay_next(nbytes), (size_t)nbytes); }

/* OpenMP parallel regions in reverse mode. The augmented forward pass of a region runs in a team of
 * n threads, each pushing onto its own tape; the reverse pass runs later in a team of the same size,
 * thread k popping what thread k pushed. The OS thread behind thread number k may differ between
 * the two teams, so what a thread keeps from one pass to the other lives in the team record, one
 * slot per thread number: its tape, and its shadow stack (shadows of the stack objects its forward
 * pass allocated, released by their reverse), swapped in while the thread runs the slot. */
typedef struct adcc_omp_slot {
  adcc_tape tape;      /* first: a slot's tape pointer is the slot's */
  shadow_chunk *stack; /* the slot's shadow stack while no thread runs it */
  shadow_chunk **outer; /* the running thread's current shadow stack, while it runs the slot */
  adcc_omp_team *team;
  char pad[64 - sizeof(adcc_tape) - 3 * sizeof(void *)]; /* one cache line per slot */
} adcc_omp_slot;

/* Entries of a lock's critical sections in one team: counted up by the forward pass, down by the
 * reverse pass. */
#define ADCC_OMP_LOCKS 32
typedef struct adcc_omp_order {
  void *lock;    /* set once (atomically) */
  int64_t count; /* atomic */
} adcc_omp_order;

typedef struct adcc_omp_block {
  int32_t nthreads;
  adcc_omp_slot slots[];
} adcc_omp_block;

struct adcc_omp_team {
  adcc_omp_block *block; /* published once, by the first thread of the forward team (atomics) */
  adcc_omp_order orders[ADCC_OMP_LOCKS];
};

adcc_omp_team *adcc_omp_team_new(void) {
  adcc_omp_team *team = calloc(1, sizeof *team);
  if (!team) adcc_fatal("out of memory allocating an OpenMP team record");
  return team;
}

static adcc_omp_block *team_block(adcc_omp_team *team, int32_t nthreads, int32_t reverse) {
  adcc_omp_block *block = __atomic_load_n(&team->block, __ATOMIC_ACQUIRE);
  if (block) return block;
  if (reverse) adcc_fatal("the reverse pass of an OpenMP parallel region found no forward pass");
  adcc_omp_block *fresh = calloc(1, sizeof *fresh + (size_t)nthreads * sizeof(adcc_omp_slot));
  if (!fresh) adcc_fatal("out of memory allocating OpenMP thread tapes");
  fresh->nthreads = nthreads;
  adcc_omp_block *expected = NULL;
  if (__atomic_compare_exchange_n(&team->block, &expected, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return fresh;
  free(fresh); /* another thread of the team published first */
  return expected;
}

adcc_tape *adcc_omp_team_enter(adcc_omp_team *team, int32_t tid, int32_t nthreads, int32_t reverse) {
  adcc_omp_block *block = team_block(team, nthreads, reverse);
  if (nthreads != block->nthreads)
    adcc_fatal("the reverse pass of an OpenMP parallel region got a different number of threads than its "
               "forward pass (dynamic thread adjustment, OMP_DYNAMIC, is not supported in differentiated regions)");
  if (tid < 0 || tid >= nthreads) adcc_fatal("OpenMP thread number out of range");
  adcc_omp_slot *slot = &block->slots[tid];
  slot->team = team;
  slot->outer = current;
  current = &slot->stack;
  return &slot->tape;
}

static void free_chunks(shadow_chunk *c) {
  while (c) {
    shadow_chunk *prev = c->prev;
    free_chunk(c);
    c = prev;
  }
}

void adcc_omp_team_leave(adcc_omp_team *team, int32_t tid, int32_t reverse) {
  /* (atomic, as every read of the pointer that the first thread publishes: ThreadSanitizer saw
   * the plain read race with the publishing compare-and-exchange in some runs) */
  adcc_omp_slot *slot = &__atomic_load_n(&team->block, __ATOMIC_ACQUIRE)->slots[tid];
  current = slot->outer;
  slot->outer = NULL;
  if (reverse) { /* the slot is done: its tape buffer is kept by this thread for the next one */
    adcc_tape_free(&slot->tape);
    free_chunks(slot->stack);
    slot->stack = NULL;
  }
}

int32_t adcc_omp_team_size(adcc_omp_team *team) {
  adcc_omp_block *block = __atomic_load_n(&team->block, __ATOMIC_ACQUIRE);
  return block ? block->nthreads : 1;
}

void adcc_omp_team_free(adcc_omp_team *team) {
  adcc_omp_block *block = team->block;
  if (block) {
    for (int32_t k = 0; k < block->nthreads; k++) {
      if (block->slots[k].tape.base) {
        free(block->slots[k].tape.base);
        held(-block->slots[k].tape.cap);
      }
      free_chunks(block->slots[k].stack);
    }
    free(block);
  }
  free(team);
}

static adcc_omp_order *team_order(adcc_tape *tape, void *lock) {
  adcc_omp_team *team = ((adcc_omp_slot *)tape)->team;
  for (int k = 0; k < ADCC_OMP_LOCKS; k++) {
    adcc_omp_order *o = &team->orders[k];
    void *seen = __atomic_load_n(&o->lock, __ATOMIC_ACQUIRE);
    if (!seen && __atomic_compare_exchange_n(&o->lock, &seen, lock, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return o; /* a new entry */
    if (seen == lock) return o;
  }
  adcc_fatal("too many distinct critical sections in one OpenMP parallel region");
  return NULL;
}

int64_t adcc_omp_ticket(adcc_tape *tape, void *lock) {
  return __atomic_fetch_add(&team_order(tape, lock)->count, 1, __ATOMIC_ACQ_REL);
}

void adcc_omp_turn_wait(adcc_tape *tape, void *lock, int64_t ticket) {
  adcc_omp_order *o = team_order(tape, lock);
  for (int spins = 0; __atomic_load_n(&o->count, __ATOMIC_ACQUIRE) != ticket + 1; spins++)
    if (spins > 64) sched_yield();
}

void adcc_omp_turn_pass(adcc_tape *tape, void *lock) {
  __atomic_fetch_sub(&team_order(tape, lock)->count, 1, __ATOMIC_ACQ_REL);
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
