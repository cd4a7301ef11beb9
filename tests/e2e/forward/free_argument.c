// Forward mode of a function that frees the buffer it was given: the tangent buffer the caller
// passed is released with the caller's allocator (as Enzyme does), not as adcc shadow memory.
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup;

static double f(double *p) {
  double v = sin(p[0]) * p[1] + p[0] * p[0];
  free(p);
  return v;
}

static double fv(double *v, void *ctx) {
  (void)ctx;
  double *p = malloc(2 * sizeof *p);
  p[0] = v[0];
  p[1] = v[1];
  return f(p);
}

int main(void) {
  e2e_begin("forward/free_argument");
  for (int t = 0; t < 3; t++) {
    double v[2] = {0.4 + 0.3 * t, 2.0 - 0.5 * t}, dir[2] = {1.0, -0.5};
    double want = (cos(v[0]) * v[1] + 2.0 * v[0]) * dir[0] + sin(v[0]) * dir[1];
    double *p = malloc(2 * sizeof *p), *dp = malloc(2 * sizeof *dp);
    p[0] = v[0]; p[1] = v[1]; dp[0] = dir[0]; dp[1] = dir[1];
#ifdef ADCC_SELFTEST
    free(p);
    free(dp);
    double got = want;
#else
    double got = __enzyme_fwddiff((void *)f, enzyme_dup, p, dp);  /* frees p and dp */
#endif
    check_an("tangent", t, got, want);
    check_fd("tangent", t, got, fd_dir(fv, v, dir, 2, 0));
  }
  return e2e_finish();
}
