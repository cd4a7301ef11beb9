// Split forward mode (__enzyme_fwdsplit): the tangent of f from the tape __enzyme_augmentfwd
// recorded, without running f again. The primal arguments given to __enzyme_fwdsplit are NULL
// (as in Enzyme's tests): only the tape and the shadows are read. Covers a loop over a run-time
// count whose input is overwritten between the halves, calls to defined functions, heap memory
// allocated and freed inside f, several tapes alive at once replayed in another order, a tape in
// a caller buffer sized by __enzyme_augmentsize, enzyme_nofree (one tape, two directions),
// enzyme_width, atomic updates, a tape replayed on another thread, and 10,000 pairs that leak
// nothing. Checked against central finite differences and the hand-written tangent.
#include "../e2e.h"

#include <pthread.h>

extern int enzyme_dup, enzyme_out, enzyme_const, enzyme_tape, enzyme_allocated, enzyme_nofree, enzyme_width;

void *__enzyme_augmentfwd(void *, ...);
double __enzyme_augmentfwd_v(void *, ...);
int __enzyme_augmentsize(void *, ...);
double __enzyme_fwdsplit(void *, ...);
void __enzyme_fwdsplit_void(void *, ...);
typedef struct { double d0, d1; } Two;
Two __enzyme_fwdsplit_w2(void *, ...);
void adcc_split_tape_free(void *tape);
long adcc_split_tape_live_count(void);
long adcc_shadow_live_count(void);
long adcc_tape_live_bytes(void);

#define N 5

// sum_i sin(x_i) x_{i+1} over a run-time count; then x is overwritten (the tangent of x becomes 0)
static double chain(double *x, int n) {
  double s = 0.0;
  for (int i = 0; i + 1 < n; i++) s += sin(x[i]) * x[i + 1];
  for (int i = 0; i < n; i++) x[i] = 0.0;
  return s;
}
static double chain_dot(const double *x, const double *dx, int n) {
  double t = 0.0;
  for (int i = 0; i + 1 < n; i++) t += cos(x[i]) * dx[i] * x[i + 1] + sin(x[i]) * dx[i + 1];
  return t;
}
static double chain_v(double *x, void *ctx) {
  double w[N];
  memcpy(w, x, sizeof w);
  return chain(w, *(int *)ctx);
}

// a defined callee with a branch, and heap scratch memory inside f; writes its result through y
__attribute__((noinline)) static double soft(double v) { return v > 0.0 ? v + log1p(exp(-v)) : log1p(exp(v)); }
static void smooth(const double *x, double *y, int n) {
  double *tmp = (double *)malloc((size_t)n * sizeof(double));
  for (int i = 0; i < n; i++) tmp[i] = soft(x[i]) * x[(i + 1) % n];
  double acc = 0.0;
  for (int i = 0; i < n; i++) {
    acc = 0.5 * acc + tmp[i];
    y[i] = acc;
  }
  free(tmp);
}
static double dsoft(double v) { return 1.0 / (1.0 + exp(-v)); }
static void smooth_dot(const double *x, const double *dx, double *dy, int n) {
  double acc = 0.0;
  for (int i = 0; i < n; i++) {
    int j = (i + 1) % n;
    acc = 0.5 * acc + dsoft(x[i]) * dx[i] * x[j] + soft(x[i]) * dx[j];
    dy[i] = acc;
  }
}
static double smooth_k(double *x, void *ctx) {
  double y[N];
  smooth(x, y, N);
  return y[*(int *)ctx];
}

// atomic accumulation (`#pragma omp atomic` style): acc += x_i^3, the old value unused
static void accumulate(const double *x, double *acc, int n) {
  for (int i = 0; i < n; i++) __atomic_fetch_add(acc, x[i] * x[i] * x[i], __ATOMIC_RELAXED);
}

// two scalars, one result
static double prod(double a, double b) { return exp(a) * b * b; }

static const double X0[N] = {0.3, -1.1, 0.7, 1.9, -0.4};
static const double DX[N] = {1.0, 0.5, -2.0, 0.25, 3.0};

/* a tape recorded on one thread, replayed on another (a foreign caller's backward thread) */
typedef struct { void *tape; double dx[N], dy[N]; } replay_job;
static void *replay_elsewhere(void *arg) {
  replay_job *job = (replay_job *)arg;
#ifdef ADCC_SELFTEST
  smooth_dot(X0, job->dx, job->dy, N);
#else
  __enzyme_fwdsplit_void((void *)smooth, enzyme_dup, (double *)NULL, job->dx, enzyme_dup, (double *)NULL, job->dy,
                         enzyme_const, N, job->tape);
#endif
  return NULL;
}

int main(void) {
  e2e_begin("split/fwdsplit");
  int n = N;
  double x[N], dx[N];

  // 1. a tape returned as void*; the caller scribbles over x between the halves
  memcpy(x, X0, sizeof x);
  memcpy(dx, DX, sizeof dx);
#ifdef ADCC_SELFTEST
  double d1 = chain_dot(x, dx, n);
  chain(x, n);
  memset(dx, 0, sizeof dx);
#else
  void *t1 = __enzyme_augmentfwd((void *)chain, enzyme_dup, x, (double *)NULL, enzyme_const, n);
  for (int i = 0; i < N; i++) x[i] = 1e300;
  double d1 = __enzyme_fwdsplit((void *)chain, enzyme_dup, (double *)NULL, dx, enzyme_const, n, t1);
#endif
  check_an("chain", 0, d1, chain_dot(X0, DX, n));
  check_fd("chain", 0, d1, fd_dir(chain_v, X0, DX, n, &n));
  for (int i = 0; i < N; i++) check_val("chain dx overwritten", i, dx[i], 0.0);

  // 2. several tapes alive at once (three points), replayed in another order
  double pts[3][N], dys[3][N], want[N];
  void *tapes[3];
  for (int k = 0; k < 3; k++) {
    for (int i = 0; i < N; i++) pts[k][i] = X0[i] + 0.3 * k;
    double y[N];
#ifdef ADCC_SELFTEST
    smooth(pts[k], y, N);
    tapes[k] = NULL;
#else
    tapes[k] = __enzyme_augmentfwd((void *)smooth, enzyme_dup, pts[k], (double *)NULL, enzyme_dup, y,
                                   (double *)NULL, enzyme_const, n);
#endif
    (void)y;
  }
  for (int k = 2; k >= 0; k--) {
    double dy[N];
#ifdef ADCC_SELFTEST
    smooth_dot(pts[k], DX, dys[k], N);
    (void)dy;
    (void)tapes;
#else
    double dxk[N];
    memcpy(dxk, DX, sizeof dxk);
    __enzyme_fwdsplit_void((void *)smooth, enzyme_dup, (double *)NULL, dxk, enzyme_dup, (double *)NULL, dy,
                           enzyme_const, n, tapes[k]);
    memcpy(dys[k], dy, sizeof dy);
#endif
  }
  for (int k = 0; k < 3; k++) {
    smooth_dot(pts[k], DX, want, N);
    for (int i = 0; i < N; i++) {
      check_an("smooth", k * N + i, dys[k][i], want[i]);
      check_fd("smooth", k * N + i, dys[k][i], fd_dir(smooth_k, pts[k], DX, N, &i));
    }
  }

  // 3. a caller buffer sized by __enzyme_augmentsize (enzyme_allocated, enzyme_tape); the primal
  //    comes back from the augmented call
  double a = 0.4, b = -1.3;
#ifdef ADCC_SELFTEST
  double pv = prod(a, b);
  double d3 = exp(a) * b * b * 2.0 + exp(a) * 2.0 * b * -1.5;
#else
  int size = __enzyme_augmentsize((void *)prod, enzyme_out, enzyme_out);
  void *buffer = malloc((size_t)size);
  double pv = __enzyme_augmentfwd_v((void *)prod, enzyme_allocated, size, enzyme_tape, buffer, a, b);
  double d3 = __enzyme_fwdsplit((void *)prod, enzyme_allocated, size, enzyme_tape, buffer, 0.0, 2.0, 0.0, -1.5);
  free(buffer);
#endif
  check_val("prod", 0, pv, prod(a, b));
  check_an("prod tangent", 0, d3, exp(a) * b * b * 2.0 + exp(a) * 2.0 * b * -1.5);
  check_fd("prod tangent", 0, d3, (prod(a + 2e-6, b - 1.5e-6) - prod(a - 2e-6, b + 1.5e-6)) / 2e-6);

  // 4. enzyme_nofree: one recording, two directions, then an explicit release; enzyme_width 2
  memcpy(x, X0, sizeof x);
  double e0[N] = {1, 0, 0, 0, 0}, e1[N] = {0, 0, 0, 1, 0}, e2[N] = {0, 1, 0, 0, 0}, e3[N] = {0, 0, 0, 0, 1};
#ifdef ADCC_SELFTEST
  double g0 = chain_dot(x, e0, n), g1 = chain_dot(x, e1, n);
  Two w = {chain_dot(x, e2, n), chain_dot(x, e3, n)};
#else
  void *t4 = __enzyme_augmentfwd((void *)chain, enzyme_dup, x, (double *)NULL, enzyme_const, n);
  double g0 = __enzyme_fwdsplit((void *)chain, enzyme_nofree, enzyme_dup, (double *)NULL, e0, enzyme_const, n, t4);
  double g1 = __enzyme_fwdsplit((void *)chain, enzyme_nofree, enzyme_dup, (double *)NULL, e1, enzyme_const, n, t4);
  Two w = __enzyme_fwdsplit_w2((void *)chain, enzyme_width, 2, enzyme_nofree, enzyme_dup, (double *)NULL, e2, e3,
                               enzyme_const, n, t4);
  adcc_split_tape_free(t4);
#endif
  double e0c[N] = {1, 0, 0, 0, 0}, e1c[N] = {0, 0, 0, 1, 0}, e2c[N] = {0, 1, 0, 0, 0}, e3c[N] = {0, 0, 0, 0, 1};
  check_an("nofree 0", 0, g0, chain_dot(X0, e0c, n));
  check_an("nofree 1", 0, g1, chain_dot(X0, e1c, n));
  check_an("width 2", 0, w.d0, chain_dot(X0, e2c, n));
  check_an("width 2", 1, w.d1, chain_dot(X0, e3c, n));
  memcpy(x, X0, sizeof x);
  check_fd("nofree 0", 0, g0, fdv(chain_v, x, 0, &n));
  // 5. 10,000 augment/fwdsplit pairs (heap memory inside f, a tape in a caller buffer every other
  //    time) leak nothing: the runtime's counters are back where they started
  double y5[N], dy5[N], sum5 = 0.0;
#ifndef ADCC_SELFTEST
  long bytes = 0;
  _Alignas(16) char buf5[64];
  for (int r = 0; r < 10000; r++) {
    if (r % 2) {
      __enzyme_augmentfwd((void *)smooth, enzyme_allocated, sizeof buf5, enzyme_tape, buf5, enzyme_dup, X0,
                          (double *)NULL, enzyme_dup, y5, (double *)NULL, enzyme_const, n);
      __enzyme_fwdsplit_void((void *)smooth, enzyme_allocated, sizeof buf5, enzyme_tape, buf5, enzyme_dup,
                             (double *)NULL, DX, enzyme_dup, (double *)NULL, dy5, enzyme_const, n);
    } else {
      void *t5 = __enzyme_augmentfwd((void *)smooth, enzyme_dup, X0, (double *)NULL, enzyme_dup, y5, (double *)NULL,
                                     enzyme_const, n);
      __enzyme_fwdsplit_void((void *)smooth, enzyme_dup, (double *)NULL, DX, enzyme_dup, (double *)NULL, dy5,
                             enzyme_const, n, t5);
    }
    sum5 += dy5[N - 1];
    if (r == 1) bytes = adcc_tape_live_bytes();
  }
  check_val("tape bytes after 10,000 pairs", 0, (double)adcc_tape_live_bytes(), (double)bytes);
#else
  for (int r = 0; r < 10000; r++) {
    smooth_dot(X0, DX, dy5, N);
    sum5 += dy5[N - 1];
  }
  (void)y5;
#endif
  smooth_dot(X0, DX, want, N);
  check_an("10,000 pairs", 0, sum5, 10000.0 * want[N - 1]);
  // 6. atomic updates: the shadow gets the same atomic update by the tangent
  double acc = 0.5, dacc = 0.25;
#ifdef ADCC_SELFTEST
  accumulate(X0, &acc, N);
  for (int i = 0; i < N; i++) dacc += 3 * X0[i] * X0[i] * DX[i];
#else
  void *t7 = __enzyme_augmentfwd((void *)accumulate, enzyme_dup, X0, (double *)NULL, enzyme_dup, &acc,
                                 (double *)NULL, enzyme_const, n);
  __enzyme_fwdsplit_void((void *)accumulate, enzyme_dup, (double *)NULL, DX, enzyme_dup, (double *)NULL, &dacc,
                         enzyme_const, n, t7);
#endif
  double acc_want = 0.5, dacc_want = 0.25;
  for (int i = 0; i < N; i++) {
    acc_want += X0[i] * X0[i] * X0[i];
    dacc_want += 3 * X0[i] * X0[i] * DX[i];
  }
  check_val("atomic primal", 0, acc, acc_want);
  check_an("atomic tangent", 0, dacc, dacc_want);

  // 7. recorded here, replayed on another thread
  replay_job job;
  memcpy(job.dx, DX, sizeof job.dx);
  double y6[N];
#ifdef ADCC_SELFTEST
  smooth(X0, y6, N);
  job.tape = NULL;
#else
  job.tape = __enzyme_augmentfwd((void *)smooth, enzyme_dup, X0, (double *)NULL, enzyme_dup, y6, (double *)NULL,
                                 enzyme_const, n);
#endif
  pthread_t th;
  if (pthread_create(&th, NULL, replay_elsewhere, &job) != 0 || pthread_join(th, NULL) != 0) check_val("thread", 0, 1, 0);
  smooth_dot(X0, DX, want, N);
  for (int i = 0; i < N; i++) check_an("other thread", i, job.dy[i], want[i]);
#ifndef ADCC_SELFTEST
  check_val("tapes released", 0, (double)adcc_split_tape_live_count(), 0.0);
  check_val("shadows released", 0, (double)adcc_shadow_live_count(), 0.0);
#endif
  return e2e_finish();
}
