/* Kernels of `make bench-bridges` (bench/bridges.py), compiled by adcc.compile: the ADBench GMM
 * objective of gmm.c behind the bridge's calling convention, a 1,000-element kernel for the
 * per-call overhead, and C loops timing the same work called from C (same compile, same flags). */
#define main gmm_program_main /* gmm.c is also a program; its main is not used here */
#include "gmm.c"
#undef main

void gmm(double *err, const double *alphas, const double *means, const double *icf, const double *x,
         const double *hyper, int64_t k, int64_t d, int64_t t, int64_t n) {
  (void)t;
  *err = gmm_objective(alphas, means, icf, x, (int)d, (int)k, (int)n, hyper[0], (int)hyper[1]);
}

void scale(double *y, const double *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = 2.0 * x[i] * x[i];
}

/* Minimum seconds per call over 7 samples of `reps` calls. */
#define TIME_MIN(reps, body)                                          \
  double best = 1e30;                                                 \
  for (int s = 0; s < 7; s++) {                                       \
    double t0 = bench_now();                                          \
    for (int64_t r = 0; r < (reps); r++) { body; }                    \
    double dt = (bench_now() - t0) / (double)(reps);                  \
    if (dt < best) best = dt;                                         \
  }                                                                   \
  return best;

/* called through a volatile pointer: one real call per repetition, as from the bridge */
static void (*volatile scale_call)(double *, const double *, int64_t) = scale;

double scale_seconds(double *y, const double *x, int64_t n, int64_t reps) {
  TIME_MIN(reps, scale_call(y, x, n))
}

/* The gradient of gmm.c's objective w.r.t. alphas, means and icf, called from C as gmm.c does. */
double gmm_grad_seconds(const double *params, double *grad, const double *x, const double *hyper,
                        int64_t k, int64_t d, int64_t n, int64_t reps) {
  long icf_sz = d * (d + 1) / 2, total = k * (1 + d + icf_sz), ma = k, mm = k + k * d;
  TIME_MIN(reps, {
    memset(grad, 0, sizeof(double) * total);
    __enzyme_autodiff((void *)gmm_objective, enzyme_dup, params, grad, enzyme_dup, params + ma, grad + ma,
                      enzyme_dup, params + mm, grad + mm, enzyme_const, x, enzyme_const, (int)d,
                      enzyme_const, (int)k, enzyme_const, (int)n, enzyme_const, hyper[0],
                      enzyme_const, (int)hyper[1]);
  })
}

/* The same gradient through the bridge's kernel `gmm` (what the bridge differentiates), called
 * from C: separates the cost of the bridge from the cost of differentiating the wrapped form. */
double gmm_kernel_grad_seconds(const double *params, double *grad, const double *x, const double *hyper,
                               int64_t k, int64_t d, int64_t n, int64_t reps) {
  long icf_sz = d * (d + 1) / 2, total = k * (1 + d + icf_sz), ma = k, mm = k + k * d;
  double err = 0.0, seed = 1.0;
  TIME_MIN(reps, {
    memset(grad, 0, sizeof(double) * total);
    seed = 1.0;
    __enzyme_autodiff((void *)gmm, enzyme_dup, &err, &seed, enzyme_dup, params, grad, enzyme_dup, params + ma,
                      grad + ma, enzyme_dup, params + mm, grad + mm, enzyme_const, x, enzyme_const, hyper,
                      enzyme_const, k, enzyme_const, d, enzyme_const, (int64_t)icf_sz, enzyme_const, n);
  })
}
