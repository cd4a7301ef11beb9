/* Unit tests of the adcc runtime (plain asserts); built and run by tests/test_runtime.py. */
#undef NDEBUG
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adcc_runtime.h"

static void test_tape_lifo(void) {
  adcc_tape t;
  adcc_tape_init(&t);
  assert(t.base == NULL && t.top == 0 && t.cap == 0);
  /* many pushes force several growths; contents must survive them */
  enum { N = 10000 };
  for (int i = 0; i < N; i++) {
    int64_t n = 1 + (i % 40);
    unsigned char *p = adcc_tape_push(&t, n);
    assert(((uintptr_t)p & 15) == 0);
    memset(p, (unsigned char)i, (size_t)n);
  }
  assert(t.cap >= t.top);
  for (int i = N - 1; i >= 0; i--) {
    int64_t n = 1 + (i % 40);
    unsigned char *p = adcc_tape_pop(&t, n);
    assert(((uintptr_t)p & 15) == 0);
    for (int64_t k = 0; k < n; k++) assert(p[k] == (unsigned char)i);
  }
  assert(t.top == 0);
  adcc_tape_free(&t);
  assert(t.base == NULL && t.cap == 0);
}

static void test_tape_doubles(void) {
  adcc_tape t;
  adcc_tape_init(&t);
  for (int i = 0; i < 1000; i++) *(double *)adcc_tape_push(&t, sizeof(double)) = i * 0.5;
  for (int i = 999; i >= 0; i--) assert(*(double *)adcc_tape_pop(&t, sizeof(double)) == i * 0.5);
  double *big = adcc_tape_grow(&t, 1 << 20); /* slow path directly */
  assert(big && t.top == (1 << 20));
  adcc_tape_pop(&t, 1 << 20);
  assert(t.top == 0);
  adcc_tape_free(&t);
}

static void test_shadow(void) {
  double *s = adcc_shadow_alloc(10 * sizeof(double));
  assert(((uintptr_t)s & 15) == 0);
  assert(adcc_shadow_size(s) == 10 * (int64_t)sizeof(double));
  for (int i = 0; i < 10; i++) assert(s[i] == 0.0);
  for (int i = 0; i < 10; i++) s[i] = i;

  double *g = adcc_shadow_realloc_fwd(s, 20 * sizeof(double));
  assert(adcc_shadow_size(g) == 20 * (int64_t)sizeof(double));
  for (int i = 0; i < 10; i++) assert(g[i] == i && s[i] == 0.0);
  for (int i = 10; i < 20; i++) assert(g[i] == 0.0);
  for (int i = 0; i < 20; i++) g[i] += 1.0;
  adcc_shadow_realloc_rev(s, g); /* frees g */
  for (int i = 0; i < 10; i++) assert(s[i] == i + 1.0);
  adcc_shadow_free(s);
  adcc_shadow_free(NULL);

  /* realloc_rev moves bytes of any type back (floats here) */
  float *fs = adcc_shadow_alloc(3 * sizeof(float));
  fs[0] = 1.5f; fs[2] = -2.0f;
  float *fg = adcc_shadow_realloc_fwd(fs, 5 * sizeof(float));
  fg[0] += 1.0f; fg[4] = 3.0f;
  adcc_shadow_realloc_rev(fs, fg);
  assert(fs[0] == 2.5f && fs[1] == 0.0f && fs[2] == -2.0f);
  adcc_shadow_free(fs);

  /* forward mode: adcc's shadows are reallocated by adcc, the caller's with realloc */
  double *o = adcc_shadow_alloc(2 * sizeof(double));
  o[1] = 7.0;
  double *o2 = adcc_shadow_realloc(o, 4 * sizeof(double));
  assert(adcc_shadow_size(o2) == 4 * (int64_t)sizeof(double) && o2[1] == 7.0 && o2[3] == 0.0);
  adcc_shadow_release(o2, free);
  double *u = malloc(2 * sizeof(double));
  u[0] = 4.0;
  double *u2 = adcc_shadow_realloc(u, 8 * sizeof(double));
  assert(u2[0] == 4.0);
  adcc_shadow_release(u2, free); /* the caller's: free() */
  adcc_shadow_release(NULL, free);
  assert(adcc_shadow_size(NULL) == 0);
  double *mine = adcc_shadow_alloc(16), *yours = malloc(16);
  assert(adcc_shadow_free_if_ours(mine) == 1 && adcc_shadow_free_if_ours(yours) == 0 &&
         adcc_shadow_free_if_ours(NULL) == 0);
  free(yours);

  int *c = adcc_shadow_calloc(7, sizeof(int));
  assert(adcc_shadow_size(c) == 7 * (int64_t)sizeof(int));
  for (int i = 0; i < 7; i++) assert(c[i] == 0);
  adcc_shadow_free(c);

  double *z = adcc_shadow_alloc(0);
  assert(z && adcc_shadow_size(z) == 0);
  adcc_shadow_free(z);
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int by_value_r(const void *a, const void *b, void *sign) {
  return *(int *)sign * by_value(a, b);
}

static void test_sort(void) {
  double v[6] = {3.0, -1.0, 2.5, -1.0, 7.0, 0.0}, s[6] = {30, -10, 25, -11, 70, 0};
  int64_t *perm = adcc_sort_permutation(v, 6, sizeof(double), (void *)by_value, NULL, 0);
  for (int i = 0; i + 1 < 6; i++) assert(v[i] <= v[i + 1]);
  assert(perm[0] == 1 && perm[1] == 3); /* stable */
  adcc_permute(s, perm, 6, sizeof(double));
  assert(s[0] == -10 && s[1] == -11 && s[5] == 70);
  adcc_unpermute(s, perm, 6, sizeof(double));
  assert(s[0] == 30 && s[3] == -11 && s[4] == 70);
  adcc_permutation_free(perm);
  int down = -1;
  perm = adcc_sort_permutation(v, 6, sizeof(double), (void *)by_value_r, &down, 1);
  assert(v[0] == 7.0 && v[5] == -1.0);
  adcc_permutation_free(perm);
  adcc_permutation_free(adcc_sort_permutation(v, 0, sizeof(double), (void *)by_value, NULL, 0));
}

static void test_shadow_stack(void) {
  /* LIFO allocations across chunk boundaries stay zeroed, aligned and distinct */
  enum { K = 64 };
  char *p[K];
  int64_t n[K];
  for (int i = 0; i < K; i++) {
    n[i] = 1 + (i * 7919) % 70000;
    p[i] = adcc_shadow_stack_alloc(n[i]);
    assert(((uintptr_t)p[i] & 15) == 0);
    for (int64_t k = 0; k < n[i]; k++) assert(p[i][k] == 0);
    memset(p[i], i + 1, (size_t)n[i]);
  }
  for (int i = K - 1; i >= 0; i--) {
    for (int64_t k = 0; k < n[i]; k++) assert(p[i][k] == (char)(i + 1));
    adcc_shadow_stack_free(p[i], n[i]);
  }
  char *q = adcc_shadow_stack_alloc(100); /* reused memory comes back zeroed */
  for (int k = 0; k < 100; k++) assert(q[k] == 0);
  adcc_shadow_stack_free(q, 100);
  /* frames abandoned above (an exception left a gradient midway) are released with an older one */
  char *outer = adcc_shadow_stack_alloc(64);
  for (int i = 0; i < 8; i++) (void)adcc_shadow_stack_alloc(100000);
  adcc_shadow_stack_free(outer, 64);
  char *again = adcc_shadow_stack_alloc(64);
  assert(again == outer && again[0] == 0);
  adcc_shadow_stack_free(again, 64);
}

static int user_frees;
static void count_free(void *p) { user_frees++; free(p); }

static void test_shadow_release(void) {
  int64_t live = adcc_shadow_live_count();
  void *ours[100];
  for (int i = 0; i < 100; i++) ours[i] = adcc_shadow_alloc(8 * (i + 1));
  assert(adcc_shadow_live_count() == live + 100);
  for (int i = 0; i < 100; i += 2) adcc_shadow_free(ours[i]);
  assert(adcc_shadow_live_count() == live + 50);
  void *theirs = malloc(64);
  user_frees = 0;
  adcc_shadow_release(theirs, count_free); /* not ours: the user's free */
  assert(user_frees == 1);
  for (int i = 1; i < 100; i += 2) adcc_shadow_release(ours[i], count_free);
  assert(user_frees == 1);
  assert(adcc_shadow_live_count() == live);
  adcc_shadow_release(NULL, count_free);
  assert(user_frees == 1);
  /* a shadow that escaped to the program is a plain heap block: its free() releases it, and the
   * runtime forgets it when the allocator hands the address out again */
  for (int round = 0; round < 1000; round++) {
    double *escaped = adcc_shadow_alloc(24);
    assert(((uintptr_t)escaped & 15) == 0 && escaped[2] == 0.0);
    escaped[1] = 2.0;
    free(escaped);
  }
  int64_t before = adcc_shadow_live_count(); /* + the freed escapes whose address is not reused yet */
  double *again = adcc_shadow_alloc(40);
  assert(adcc_shadow_size(again) == 40 && adcc_shadow_live_count() <= before + 1);
  int64_t with = adcc_shadow_live_count();
  adcc_shadow_free(again);
  assert(adcc_shadow_live_count() == with - 1);
}

static void test_tape_grow_zeroed(void) {
  adcc_tape t;
  adcc_tape_init(&t);
  char *p = adcc_tape_grow_zeroed(&t, 100);
  for (int i = 0; i < 100; i++) assert(p[i] == 0);
  memset(p, 7, 100);
  char *q = adcc_tape_grow_zeroed(&t, 10000); /* moves the buffer: old records kept, new ones zero */
  assert(t.base[0] == 7 && t.base[99] == 7);
  for (int i = 0; i < 10000; i++) assert(q[i] == 0);
  adcc_tape_free(&t);
}

/* OpenMP team records, driven by one thread playing every thread number in turn (the real
 * teams run in tests/test_openmp.py): per-slot tapes and shadow stacks survive from the forward
 * to the reverse pass, tickets count a lock's sections up and turns count them down. */
static void test_omp_team(void) {
  enum { THREADS = 3 };
  adcc_omp_team *team = adcc_omp_team_new();
  int lock;
  void *stack_shadow[THREADS];
  for (int tid = 0; tid < THREADS; tid++) {
    adcc_tape *tape = adcc_omp_team_enter(team, tid, THREADS, 0);
    for (int i = 0; i < 100; i++) *(int *)adcc_tape_push(tape, sizeof(int)) = tid * 1000 + i;
    stack_shadow[tid] = adcc_shadow_stack_alloc(24);
    memset(stack_shadow[tid], tid + 1, 24);
    assert(adcc_omp_ticket(tape, &lock) == tid);
    adcc_omp_team_leave(team, tid, 0);
  }
  assert(adcc_omp_team_size(team) == THREADS);
  for (int tid = THREADS - 1; tid >= 0; tid--) {
    adcc_tape *tape = adcc_omp_team_enter(team, tid, THREADS, 1);
    adcc_omp_turn_wait(tape, &lock, tid); /* the last ticket's turn comes first */
    adcc_omp_turn_pass(tape, &lock);
    for (int k = 0; k < 24; k++) assert(((unsigned char *)stack_shadow[tid])[k] == (unsigned char)(tid + 1));
    adcc_shadow_stack_free(stack_shadow[tid], 24);
    for (int i = 99; i >= 0; i--) assert(*(int *)adcc_tape_pop(tape, sizeof(int)) == tid * 1000 + i);
    adcc_omp_team_leave(team, tid, 1);
  }
  adcc_omp_team_free(team);
}

static void test_free_later(void) {
  user_frees = 0;
  int64_t outer = adcc_free_mark();
  adcc_free_later(malloc(8), count_free);
  int64_t inner = adcc_free_mark();
  adcc_free_later(malloc(8), count_free);
  adcc_free_later(NULL, count_free);
  adcc_free_flush(inner);
  assert(user_frees == 1);
  adcc_free_flush(outer);
  assert(user_frees == 2);
}

/* Replay logs (split forward mode): two tapes recorded with nesting, words and wider values,
 * growing past the first buffer; each read back in order, from the start, as often as wanted. */
static void test_replay_logs(void) {
  int64_t live = adcc_split_tape_live_count();
  adcc_split_tape *a = adcc_split_tape_new(0, 11u), *b = adcc_split_tape_new(0, 13u);
  adcc_replay_state outer, inner;
  long double wide = 1.25L;
  adcc_replay_begin(&outer, a, 0);
  for (uint64_t k = 0; k < 1000; k++) {
    adcc_replay_put(k * 3);
    if (k == 500) {
      adcc_replay_begin(&inner, b, 0); /* nested: b records, then a again */
      adcc_replay_put_bytes(&wide, sizeof wide);
      adcc_replay_end(&inner, "test");
    }
  }
  adcc_replay_end(&outer, "test");
  assert(a->records.top == 8000 && b->records.top == (int64_t)sizeof wide);
  for (int pass = 0; pass < 2; pass++) {
    adcc_replay_begin(&outer, a, 1);
    for (uint64_t k = 0; k < 1000; k++) assert(adcc_replay_get() == k * 3);
    adcc_replay_end(&outer, "test");
  }
  long double back = 0;
  adcc_replay_begin(&inner, b, 1);
  adcc_replay_get_bytes(&back, sizeof back);
  adcc_replay_end(&inner, "test");
  assert(back == wide);
  adcc_split_tape_free(a);
  adcc_split_tape_free(b);
  assert(adcc_split_tape_live_count() == live);
}

/* Split-mode tapes: several alive at once, each with its own records and shadow stack, released
 * in any order; a caller's buffer holds the header (and the records when they fit). */
static void test_split_tapes(void) {
  int64_t live = adcc_split_tape_live_count(), bytes = adcc_tape_live_bytes();
  enum { K = 5 };
  adcc_split_tape *t[K];
  char *obj[K];
  for (int i = 0; i < K; i++) {
    t[i] = adcc_split_tape_new(i % 2 ? 64 : 0, 7u);
    void *token = adcc_split_enter(t[i]);
    for (int r = 0; r < 100 * (i + 1); r++) *(int *)adcc_tape_push(&t[i]->records, sizeof(int)) = 1000 * i + r;
    obj[i] = adcc_shadow_stack_alloc(5000 * (i + 1));
    memset(obj[i], i + 1, 5000 * (size_t)(i + 1));
    adcc_split_leave(token);
  }
  assert(adcc_split_tape_live_count() == live + K);
  char *mine = adcc_shadow_stack_alloc(32); /* the thread's own stack is untouched by the tapes */
  for (int i = K - 1; i >= 0; i -= 2) {
    adcc_split_tape_check(t[i], 7u, "test");
    void *token = adcc_split_enter(t[i]);
    assert(obj[i][0] == (char)(i + 1) && obj[i][5000 * (i + 1) - 1] == (char)(i + 1));
    adcc_shadow_stack_free(obj[i], 5000 * (i + 1));
    for (int r = 100 * (i + 1) - 1; r >= 0; r--) assert(*(int *)adcc_tape_pop(&t[i]->records, sizeof(int)) == 1000 * i + r);
    adcc_split_leave(token);
    adcc_split_tape_free(t[i]);
  }
  for (int i = 0; i < K; i += 1) {
    if (i % 2 == (K - 1) % 2) continue;
    adcc_split_tape_free(t[i]); /* never reversed: released whole */
  }
  adcc_shadow_stack_free(mine, 32);
  assert(adcc_split_tape_live_count() == live);

  _Alignas(16) char buffer[ADCC_SPLIT_TAPE_HEADER + 256];
  adcc_split_tape_init(buffer, sizeof buffer, 256, 9u, "test");
  adcc_split_tape *b = (adcc_split_tape *)buffer;
  assert(b->records.base == buffer + ADCC_SPLIT_TAPE_HEADER && b->records.cap == 256);
  assert(adcc_split_tape_live_count() == live + 1);
  adcc_split_tape_free(buffer);
  adcc_split_tape_init(buffer, ADCC_SPLIT_TAPE_HEADER, 256, 9u, "test"); /* too small: records go to the heap */
  assert(b->records.base == NULL && b->records.cap == 0);
  adcc_tape_push(&b->records, 1000);
  adcc_split_tape_free(buffer);
  assert(adcc_split_tape_live_count() == live);

  /* a steady state: the runtime caches at most one buffer and one chunk per thread */
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 1000; i++) {
      adcc_split_tape *x = adcc_split_tape_new(0, 1u);
      void *token = adcc_split_enter(x);
      adcc_tape_push(&x->records, 10000);
      adcc_shadow_stack_alloc(3000);
      adcc_split_leave(token);
      adcc_split_tape_free(x);
    }
    if (round == 0) bytes = adcc_tape_live_bytes();
  }
  assert(adcc_tape_live_bytes() == bytes);
}

static double from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static void test_fp_round(void) {
  /* float and half formats agree with the native conversions: ties, subnormals, overflow */
  double xs[] = {0.1, -1.0 / 3.0, 1.0 + 0x1p-24, 1.0 + 0x1p-24 + 0x1p-40, 1.0 + 3 * 0x1p-24, 0x1.fffffefp127, 0x1p-149,
                 0x1.8p-150, 0x1p-151, 65519.0, 65520.0, 0x1p-24, 0x1.8p-25, -0x1.3p-20, 2.5e-9, 1e300};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    assert(adcc_fp_round(xs[i], 8, 23) == (double)(float)xs[i]);
    assert(adcc_fp_round(xs[i], 5, 10) == (double)(_Float16)xs[i]);
  }
  /* 3 exponent and 7 mantissa bits: largest 15.9375, smallest subnormal 2^-9 */
  assert(adcc_fp_round(15.9, 3, 7) == 15.875 && adcc_fp_round(15.97, 3, 7) > 1e308);
  assert(adcc_fp_round(-20.0, 3, 7) < -1e308 && adcc_fp_round(0x1.8p-10, 3, 7) == 0x1p-9);
  assert(adcc_fp_round(0x1p-10, 3, 7) == 0.0);  /* a tie between 0 and 2^-9: even, 0 */
  /* the double format itself, zeros, infinities and NaN are unchanged */
  assert(adcc_fp_round(0.1, 11, 52) == 0.1 && adcc_fp_round(from_bits(1), 11, 52) == from_bits(1));
  double inf = from_bits(0x7ff0000000000000ull), nan = from_bits(0x7ff8000000000000ull);
  assert(adcc_fp_round(inf, 5, 10) == inf && adcc_fp_round(nan, 5, 10) != adcc_fp_round(nan, 5, 10));
  assert(adcc_fp_round(-0.0, 8, 23) == 0.0);
}

/* Released tape buffers are kept per thread for the next tapes: however many tapes a gradient
 * has at once (a loop of OpenMP regions keeps one per region), the next one gets them back
 * without allocating; a thread keeps no more than it ever had out at once; a thread's kept
 * buffers go back to the heap when it exits. Each case runs in a thread of its own, so that the
 * main thread's pool does not interfere. */
enum { TAPES = 40, TAPE_BYTES = 1 << 18 };

static void *tapes_twice(void *arg) {
  (void)arg;
  int64_t before = adcc_tape_live_bytes(), after_first = 0;
  for (int round = 0; round < 3; round++) {
    adcc_tape t[TAPES];
    for (int k = 0; k < TAPES; k++) {
      adcc_tape_init(&t[k]);
      memset(adcc_tape_push(&t[k], TAPE_BYTES), k, TAPE_BYTES);
    }
    for (int k = TAPES - 1; k >= 0; k--) {
      unsigned char *p = adcc_tape_pop(&t[k], TAPE_BYTES);
      assert(p[0] == k && p[TAPE_BYTES - 1] == k);
      adcc_tape_free(&t[k]);
    }
    if (round == 0) after_first = adcc_tape_live_bytes();
    assert(adcc_tape_live_bytes() == after_first); /* every buffer came from the first round's */
  }
  assert(after_first >= before + (int64_t)TAPES * TAPE_BYTES);
  /* a tape that grows takes a kept buffer too, and keeps the one it outgrew */
  adcc_tape y, z;
  adcc_tape_init(&y);
  adcc_tape_init(&z);
  adcc_tape_push(&y, 2 * TAPE_BYTES); /* a buffer larger than the others */
  adcc_tape_free(&y);
  int64_t kept = adcc_tape_live_bytes();
  adcc_tape_push(&y, 16); /* takes the largest */
  *(int *)adcc_tape_push(&z, 16) = 0;
  adcc_tape_free(&y);
  for (int i = 1; i < 2 * TAPE_BYTES / 16; i++) *(int *)adcc_tape_push(&z, 16) = i; /* outgrows its buffer */
  for (int i = 2 * TAPE_BYTES / 16 - 1; i >= 0; i--) assert(*(int *)adcc_tape_pop(&z, 16) == i);
  assert(adcc_tape_live_bytes() == kept);
  adcc_tape_free(&z);
  /* at most what the thread had out at once: a tape beyond that does not add to what stays */
  adcc_tape big;
  adcc_tape_init(&big);
  adcc_tape_push(&big, (int64_t)TAPES * TAPE_BYTES * 4);
  int64_t with_big = adcc_tape_live_bytes();
  adcc_tape_free(&big);
  assert(adcc_tape_live_bytes() <= with_big);
  return NULL;
}

/* one tape growing by small pushes (a serial gradient): the buffers it outgrew are not kept
 * beside the last one, which the next such tape takes whole */
static void *growing_tape(void *arg) {
  (void)arg;
  int64_t before = adcc_tape_live_bytes();
  for (int round = 0; round < 2; round++) {
    adcc_tape t;
    adcc_tape_init(&t);
    for (int i = 0; i < (1 << 20) / 16; i++) *(int *)adcc_tape_push(&t, 16) = i;
    for (int i = (1 << 20) / 16 - 1; i >= 0; i--) assert(*(int *)adcc_tape_pop(&t, 16) == i);
    adcc_tape_free(&t);
    assert(adcc_tape_live_bytes() == before + (1 << 20));
  }
  return NULL;
}

static void test_tape_buffers_kept(void) {
  int64_t before = adcc_tape_live_bytes();
  void *(*cases[])(void *) = {tapes_twice, growing_tape};
  for (int k = 0; k < 2; k++) {
    pthread_t th;
    assert(pthread_create(&th, NULL, cases[k], NULL) == 0);
    assert(pthread_join(th, NULL) == 0);
    assert(adcc_tape_live_bytes() == before); /* the thread's exit released what it kept */
  }
}

int main(void) {
  test_tape_buffers_kept();
  test_fp_round();
  test_omp_team();
  test_free_later();
  test_split_tapes();
  test_replay_logs();
  test_shadow_release();
  test_tape_grow_zeroed();
  test_shadow_stack();
  test_sort();
  test_tape_lifo();
  test_tape_doubles();
  test_shadow();
  puts("runtime tests passed");
  return 0;
}
