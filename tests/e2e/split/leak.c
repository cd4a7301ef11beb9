// 15,000 augment/reverse pairs (10,000 with a heap tape, 5,000 in a caller's buffer) leak nothing: the runtime's counters of live split tapes, heap
// bytes held for tapes and shadow stacks, and live heap shadows are back where they started.
// Tapes that are never reversed (and one reversed with enzyme_nofree) are released with
// adcc_split_tape_free, the documented entry point.
#include "../e2e.h"
#include <stdint.h>

extern int enzyme_dup, enzyme_const, enzyme_nofree, enzyme_allocated, enzyme_tape;
void *__enzyme_augmentfwd(void *, ...);
void __enzyme_reverse(void *, ...);
int __enzyme_augmentsize(void *, ...);

#ifdef ADCC_SELFTEST
static int64_t adcc_split_tape_live_count(void) { return 0; }
static int64_t adcc_tape_live_bytes(void) { return 0; }
static int64_t adcc_shadow_live_count(void) { return 0; }
static void adcc_split_tape_free(void *t) { (void)t; }
#else
int64_t adcc_split_tape_live_count(void);
int64_t adcc_tape_live_bytes(void);
int64_t adcc_shadow_live_count(void);
void adcc_split_tape_free(void *tape);
#endif

#define N 8

__attribute__((noinline)) static void scale(double *t, int n, double c) {
  for (int i = 0; i < n; i++) t[i] *= c;
}

// heap scratch (a heap shadow), a stack array (a shadow on the tape's stack), a loop of run-time length
static double f(const double *x, int n) {
  double *t = (double *)malloc(sizeof(double) * (size_t)n);
  double u[N];
  for (int i = 0; i < n; i++) t[i] = x[i] * x[i];
  for (int i = 0; i < N; i++) u[i] = t[i % n] + x[(i + 3) % n];
  scale(u, N, 0.5);
  double s = 0.0;
  for (int i = 0; i < n; i++) s += t[i] * u[i];
  free(t);
  return s;
}

static double f_v(double *x, void *n) { return f(x, *(int *)n); }

int main(void) {
  e2e_begin("split/leak");
  int n = N;
  double x[N], g[N], one[N];
  for (int i = 0; i < N; i++) x[i] = 0.1 * i - 0.3;
  // one pair first: the runtime may keep released record buffers (a bounded pool per thread) and one
  // stack chunk for reuse; the byte baseline is taken once the loop's pattern (two tapes alive) ran
  memset(one, 0, sizeof one);
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) one[i] = fdv(f_v, x, i, &n);
#else
  void *t0 = __enzyme_augmentfwd((void *)f, enzyme_dup, x, one, enzyme_const, n);
  __enzyme_reverse((void *)f, enzyme_dup, x, one, enzyme_const, n, 1.0, t0);
#endif
  int64_t tapes = adcc_split_tape_live_count(), bytes = adcc_tape_live_bytes(), shadows = adcc_shadow_live_count();
  check_val("live tapes after one pair", 0, (double)tapes, 0.0);
  memset(g, 0, sizeof g);
  for (int r = 0; r < 10000; r++) {
#ifdef ADCC_SELFTEST
    for (int i = 0; i < N; i++) g[i] += (r % 2 ? 1.5 : 1.0) * one[i];
#else
    void *t = __enzyme_augmentfwd((void *)f, enzyme_dup, x, g, enzyme_const, n);
    if (r % 2) {  // alternately with a caller buffer
      _Alignas(16) char buffer[64];
      __enzyme_augmentfwd((void *)f, enzyme_allocated, 64, enzyme_tape, buffer, enzyme_dup, x, g, enzyme_const, n);
      __enzyme_reverse((void *)f, enzyme_allocated, 64, enzyme_tape, buffer, enzyme_dup, x, g, enzyme_const, n, 0.5);
    }
    __enzyme_reverse((void *)f, enzyme_dup, x, g, enzyme_const, n, 1.0, t);
#endif
    if (r == 1) bytes = adcc_tape_live_bytes();
  }
  check_val("live tapes", 0, (double)adcc_split_tape_live_count(), (double)tapes);
  check_val("tape bytes", 0, (double)adcc_tape_live_bytes(), (double)bytes);
  check_val("heap shadows", 0, (double)adcc_shadow_live_count(), (double)shadows);
  for (int i = 0; i < N; i++) {
    check_fd("g", i, g[i] / 12500.0, fdv(f_v, x, i, &n));
    check_an("g", i, g[i], 12500.0 * one[i]);
  }
  // never reversed, and reversed with enzyme_nofree: released by adcc_split_tape_free
  for (int r = 0; r < 100; r++) {
#ifndef ADCC_SELFTEST
    void *t = __enzyme_augmentfwd((void *)f, enzyme_dup, x, g, enzyme_const, n);
    if (r % 2) __enzyme_reverse((void *)f, enzyme_dup, x, g, enzyme_const, n, 1.0, t, enzyme_nofree);
    adcc_split_tape_free(t);
#endif
  }
  check_val("live tapes after free", 0, (double)adcc_split_tape_live_count(), (double)tapes);
  return e2e_finish();
}
