// Forward mode through recursion: a recursive continued fraction of depth n and a recursive
// divide-and-conquer sum over an array (tangents flow through both recursive calls).
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 9

__attribute__((noinline)) static double cfrac(double x, int depth) {
  if (depth == 0) return 1.0 + x * x;
  return 1.0 + x / cfrac(x, depth - 1);
}

__attribute__((noinline)) static double rsum(const double *a, int lo, int hi) {
  if (hi - lo == 1) return a[lo] * a[lo] * a[lo];
  int mid = (lo + hi) / 2;
  return rsum(a, lo, mid) * 0.9 + rsum(a, mid, hi) * 1.1;
}

static double f(const double *a, double x, int n, int depth) {
  return cfrac(x, depth) * rsum(a, 0, n);
}

/* Hand-written tangents of the two recursions. */
static double cfrac_t(double x, int depth, double *dv) {
  if (depth == 0) { *dv = 2.0 * x; return 1.0 + x * x; }
  double d, c = cfrac_t(x, depth - 1, &d);
  *dv = 1.0 / c - x * d / (c * c);
  return 1.0 + x / c;
}
static double rsum_t(const double *a, const double *da, int lo, int hi, double *dv) {
  if (hi - lo == 1) { *dv = 3.0 * a[lo] * a[lo] * da[lo]; return a[lo] * a[lo] * a[lo]; }
  int mid = (lo + hi) / 2;
  double d1, d2, s1 = rsum_t(a, da, lo, mid, &d1), s2 = rsum_t(a, da, mid, hi, &d2);
  *dv = 0.9 * d1 + 1.1 * d2;
  return 0.9 * s1 + 1.1 * s2;
}
static double df(const double *a, const double *da, double x, double dx, int n, int depth) {
  double dc, ds;
  double c = cfrac_t(x, depth, &dc), s = rsum_t(a, da, 0, n, &ds);
  return dc * dx * s + c * ds;
}

static double fv(double *v, void *p) { (void)p; return f(v, v[N], N, 6); }

int main(void) {
  e2e_begin("forward/recursion");
  volatile int vn = N, vd = 6;
  int n = vn, depth = vd;
  double v[N + 1], dv[N + 1];
  for (int i = 0; i < N; i++) {
    v[i] = cos(0.6 * i) * 0.9;
    dv[i] = 0.25 * i - 1.0;
  }
  double x = v[N] = 0.85, dx = dv[N] = 1.0;
  double want = df(v, dv, x, dx, n, depth);
#ifdef ADCC_SELFTEST
  double t = df(v, dv, x, dx, n, depth);
#else
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, v, dv, enzyme_dup, x, dx, enzyme_const, n,
                              enzyme_const, depth);
#endif
  check_an("d(return)", 0, t, want);
  check_fd("d(return)", 0, t, fd_dir(fv, v, dv, N + 1, 0));
  return e2e_finish();
}
