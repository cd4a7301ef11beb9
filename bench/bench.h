/* Shared harness of the AD benchmark programs: timing (CLOCK_MONOTONIC, minimum over samples),
 * the finite-difference oracle (directional, 4th-order central differences in double precision),
 * a fixed-seed RNG, command-line handling and the one-line JSON result. Header-only (static). */
#ifndef ADCC_BENCH_H
#define ADCC_BENCH_H

/* adcc's runtime reports the tape of this thread's last gradient (and the largest one); absent
 * when built without adcc */
extern long long adcc_tape_peak_bytes(void) __attribute__((weak));
extern long long adcc_tape_last_bytes(void) __attribute__((weak));
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_TOLERANCE 1e-5

typedef struct {
  int quick;          /* --quick: small size, few repetitions (tests) */
  const char *data;   /* first non-flag argument: input file, when the benchmark reads one */
  long size;          /* --size N: problem size override (meaning depends on the benchmark) */
  double min_total_s; /* keep sampling until this much time has been spent */
  int min_samples;
  int fixed;          /* BENCH_SAMPLES set: one call per sample, no warm-up batching */
  int higher;         /* --higher: split mode, Hessian-vector products, batches (#11; run_higher.py) */
  const char *only;   /* --only NAME: run just the benchmark of that name (one series per process,
                       * so that its peak RSS is its own; run_sweep.py) */
} bench_args;

/* the clock of bench_time: wall time, or with BENCH_CLOCK=cpu this thread's CPU time, which the
 * other processes of a loaded machine do not inflate (a call longer than a scheduler slice is
 * preempted on every sample, so the minimum over samples no longer removes their share) */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static bench_args bench_parse(int argc, char **argv) {
  bench_args a = {0, NULL, 0, 0.5, 5, 0, 0, NULL};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) a.quick = 1;
    else if (!strcmp(argv[i], "--higher")) a.higher = 1;
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) a.size = atol(argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) a.only = argv[++i];
    else if (argv[i][0] != '-') a.data = argv[i];
    else { fprintf(stderr, "usage: %s [--quick] [--higher] [--size N] [--only NAME] [DATA]\n", argv[0]); exit(2); }
  }
  if (a.quick) a.min_total_s = 0.005;
  /* BENCH_SAMPLES=N: exactly N single-call samples (instruction counts under valgrind) */
  const char *fixed = getenv("BENCH_SAMPLES");
  if (fixed && atoi(fixed) > 0) { a.min_samples = atoi(fixed); a.min_total_s = 0.0; a.fixed = 1; }
  const char *clock = getenv("BENCH_CLOCK");
  if (clock && !strcmp(clock, "cpu")) bench_clock = CLOCK_THREAD_CPUTIME_ID;
  return a;
}

/* whether the benchmark `name` runs (all of them without --only) */
static int bench_wanted(const bench_args *a, const char *name) {
  return !a->only || !strcmp(a->only, name);
}

static double bench_now(void) {
  struct timespec ts;
  clock_gettime(bench_clock, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds per call of fn(ctx): calls are batched so that one sample lasts >= ~2 ms, samples are
 * taken until min_total_s has passed and there are min_samples of them; the minimum is reported. */
static double bench_time(const bench_args *a, void (*fn)(void *), void *ctx) {
  double t0 = bench_now();
  fn(ctx); /* warm-up, and the first estimate of one call */
  double one = bench_now() - t0;
  long reps = one > 2e-3 ? 1 : (long)(2e-3 / (one > 1e-9 ? one : 1e-9)) + 1;
  if (a->quick && reps > 1000) reps = 1000;
  if (a->fixed) reps = 1;
  double best = INFINITY, spent = 0.0;
  for (int s = 0; s < a->min_samples || spent < a->min_total_s; s++) {
    double start = bench_now();
    for (long r = 0; r < reps; r++) fn(ctx);
    double dt = bench_now() - start;
    spent += dt;
    if (dt / reps < best) best = dt / reps;
  }
  return best;
}

/* xorshift64* with a fixed seed: uniform in [-1, 1). */
static uint64_t bench_rng_state = 0x9E3779B97F4A7C15ull;
static double bench_uniform(void) {
  bench_rng_state ^= bench_rng_state >> 12;
  bench_rng_state ^= bench_rng_state << 25;
  bench_rng_state ^= bench_rng_state >> 27;
  uint64_t r = bench_rng_state * 0x2545F4914F6CDD1Dull;
  return (double)(r >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* The oracle: f maps a full parameter vector to the scalar loss. */
typedef double (*bench_loss)(const double *x, void *ctx);

/* Directional derivative of f at x along v by 4th-order central differences; step h. */
static double bench_fd_dir(bench_loss f, void *ctx, const double *x, const double *v, long n, double h) {
  double *y = malloc(sizeof(double) * (size_t)n);
  double fs[4];
  const double steps[4] = {2.0, 1.0, -1.0, -2.0};
  for (int s = 0; s < 4; s++) {
    for (long i = 0; i < n; i++) y[i] = x[i] + steps[s] * h * v[i];
    fs[s] = f(y, ctx);
  }
  free(y);
  return (-fs[0] + 8.0 * fs[1] - 8.0 * fs[2] + fs[3]) / (12.0 * h);
}

static double bench_rel_err(double got, double want, double scale) {
  double denom = fmax(fmax(fabs(want), fabs(got)), scale);
  return denom > 0 ? fabs(got - want) / denom : 0.0;
}

/* max over `dirs` random unit directions of |grad.v - fd(v)| / max(|fd|, |grad.v|, floor) where
 * floor = 1e-8 * |grad|_2 keeps directions nearly orthogonal to the gradient from dominating. */
static double bench_check_grad(bench_loss f, void *ctx, const double *x, const double *grad, long n,
                               int dirs, double h) {
  double *v = malloc(sizeof(double) * (size_t)n);
  double gnorm = 0.0, worst = 0.0;
  for (long i = 0; i < n; i++) gnorm += grad[i] * grad[i];
  gnorm = sqrt(gnorm);
  for (int d = 0; d < dirs; d++) {
    double norm = 0.0, gv = 0.0;
    for (long i = 0; i < n; i++) { v[i] = bench_uniform(); norm += v[i] * v[i]; }
    norm = sqrt(norm);
    for (long i = 0; i < n; i++) { v[i] /= norm; gv += grad[i] * v[i]; }
    double fd = bench_fd_dir(f, ctx, x, v, n, h);
    double e = bench_rel_err(gv, fd, 1e-8 * gnorm);
    if (!(e <= worst)) worst = e; /* NaN propagates */
  }
  free(v);
  return worst;
}

/* Peak resident set of this process in bytes (Linux's VmHWM, which execve resets, unlike
 * getrusage's ru_maxrss that keeps the parent's across a vfork), -1 where unknown. */
static long long bench_peak_rss(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %lld kB", &kib) == 1) break;
  fclose(f);
  return kib < 0 ? -1 : kib * 1024;
}

/* Prints the JSON line; returns the process exit status (1 when the gradient is wrong). */
static int bench_report(const char *name, const char *size, double primal_s, double grad_s,
                        double max_rel_err) {
  printf("{\"name\": \"%s\", \"size\": \"%s\", \"primal_s\": %.6e, \"grad_s\": %.6e, "
         "\"ratio\": %.4f, \"max_rel_err\": %.3e, \"tape_bytes\": %lld, \"peak_rss_bytes\": %lld}\n",
         name, size, primal_s, grad_s, grad_s / primal_s, isnan(max_rel_err) ? 1e300 : max_rel_err,
         adcc_tape_last_bytes ? (long long)adcc_tape_last_bytes() : -1LL, bench_peak_rss());
  fflush(stdout);
  if (!(max_rel_err <= BENCH_TOLERANCE)) {
    fprintf(stderr, "%s %s: gradient check failed, max_rel_err = %g > %g\n", name, size,
            max_rel_err, BENCH_TOLERANCE);
    return 1;
  }
  return 0;
}

/* --higher: one JSON line of timings beside the gradient's (fields given as name/value pairs, a
 * NULL name ends them); `err` is the largest relative error of what was checked (split gradient
 * against the combined one, Hessian-vector products against finite differences of the gradient). */
static int bench_report_higher(const char *name, const char *size, double err, ...) {
  va_list ap;
  va_start(ap, err);
  printf("{\"name\": \"%s\", \"size\": \"%s\"", name, size);
  for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *))
    printf(", \"%s\": %.6e", key, va_arg(ap, double));
  printf(", \"max_rel_err\": %.3e}\n", isnan(err) ? 1e300 : err);
  va_end(ap);
  fflush(stdout);
  if (!(err <= 1e-4)) {
    fprintf(stderr, "%s %s: check failed, max_rel_err = %g\n", name, size, err);
    return 1;
  }
  return 0;
}

/* Largest relative error of a Hessian-vector product hv = H v against 4th-order central
 * differences of the gradient along v (the gradient computed by `gradient`). */
static double bench_check_hvp(void (*gradient)(const double *x, double *g, void *ctx), void *ctx,
                              const double *x, const double *v, const double *hv, long n, double h) {
  double *xs = malloc(sizeof(double) * (size_t)n), *g[4], scale = 0.0, worst = 0.0;
  static const double at[4] = {2.0, 1.0, -1.0, -2.0};
  for (int k = 0; k < 4; k++) {
    g[k] = malloc(sizeof(double) * (size_t)n);
    for (long i = 0; i < n; i++) xs[i] = x[i] + at[k] * h * v[i];
    gradient(xs, g[k], ctx);
  }
  for (long i = 0; i < n; i++) scale = fmax(scale, fabs(hv[i]));
  for (long i = 0; i < n; i++) {
    double fd = (-g[0][i] + 8.0 * g[1][i] - 8.0 * g[2][i] + g[3][i]) / (12.0 * h);
    double e = bench_rel_err(hv[i], fd, 1e-6 * scale);
    if (!(e <= worst)) worst = e;
  }
  for (int k = 0; k < 4; k++) free(g[k]);
  free(xs);
  return worst;
}

static FILE *bench_open(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(2); }
  return f;
}

static double bench_read_double(FILE *f) {
  double v;
  if (fscanf(f, "%lf", &v) != 1) { fprintf(stderr, "bench: truncated input\n"); exit(2); }
  return v;
}

static const char *bench_basename(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

#endif
