// Several split-mode tapes alive at once, reversed in another order than they were recorded and
// one of them on another thread; f keeps active data in a stack array (whose shadow lives on the
// tape's own shadow stack), in heap scratch memory and passes it to a helper that is not inlined.
#include "../e2e.h"
#include <pthread.h>

extern int enzyme_dup, enzyme_const;
void *__enzyme_augmentfwd(void *, ...);
void __enzyme_reverse(void *, ...);

#define N 5
#define K 4

__attribute__((noinline)) static void smooth(double *t, int n) {
  for (int i = 1; i < n; i++) t[i] = 0.5 * (t[i] + t[i - 1] * t[i - 1]);
}

static double f(double *x, double *w, int n) {
  double local[N];
  double *heap = (double *)malloc(sizeof(double) * (size_t)n);
  for (int i = 0; i < n; i++) local[i] = sin(x[i]) * w[i];
  smooth(local, n);
  for (int i = 0; i < n; i++) heap[i] = local[i] * x[(i + 1) % n];
  double s = 0.0;
  for (int i = 0; i < n; i++) s += heap[i] * heap[i];
  free(heap);
  return s;
}

static double f_v(double *x, void *w) { return f(x, (double *)w, N); }

#ifdef ADCC_SELFTEST
static void grad_fd(double *x, double *w, double seed, double *g) {
  for (int i = 0; i < N; i++) g[i] += seed * fdv(f_v, x, i, w);
}
#endif

typedef struct { void *tape; double *x, *w, *g; double seed; } Job;

static void *reverse_job(void *arg) {
  Job *j = (Job *)arg;
#ifdef ADCC_SELFTEST
  grad_fd(j->x, j->w, j->seed, j->g);
#else
  __enzyme_reverse((void *)f, enzyme_dup, j->x, j->g, enzyme_const, j->w, enzyme_const, N, j->seed, j->tape);
#endif
  return NULL;
}

int main(void) {
  e2e_begin("split/order");
  double x[K][N], w[K][N], g[K][N];
  Job jobs[K];
  for (int k = 0; k < K; k++) {
    for (int i = 0; i < N; i++) {
      x[k][i] = 0.2 * (i + 1) - 0.3 * k;
      w[k][i] = 1.0 + 0.1 * k - 0.05 * i;
      g[k][i] = 0.0;
    }
    jobs[k] = (Job){NULL, x[k], w[k], g[k], 1.0 + k};
  }
  for (int k = 0; k < K; k++) {
#ifndef ADCC_SELFTEST
    jobs[k].tape = __enzyme_augmentfwd((void *)f, enzyme_dup, x[k], g[k], enzyme_const, w[k], enzyme_const, N);
#endif
  }
  // reverse 2 on another thread while 0, 3 and 1 are reversed here, out of recording order
  pthread_t th;
  if (pthread_create(&th, NULL, reverse_job, &jobs[2]) != 0) return 2;
  reverse_job(&jobs[0]);
  reverse_job(&jobs[3]);
  pthread_join(th, NULL);
  reverse_job(&jobs[1]);
  for (int k = 0; k < K; k++)
    for (int i = 0; i < N; i++) check_fd("g", k * N + i, g[k][i], jobs[k].seed * fdv(f_v, x[k], i, w[k]));
  return e2e_finish();
}
