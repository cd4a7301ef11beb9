/* Fuzz seed 402 (tests/fuzz/gen.py), reduced by line deletion. The helper reads t+4 (malloc copy of x)
   in a loop; the caller later overwrites t[7]: reverse-mode dx[7] is wrong (0.02078 vs 0.02622),
   as if the helper's reverse re-read the overwritten memory. Forward mode passes.
   Fixed; kept as a regression test. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L 12
#ifndef NOAD
extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup;
int enzyme_const;
#endif

typedef double (*fz_fn)(double *, double *, int);
typedef void (*fz_rev)(double *, double *, double *, double *, int);
typedef double (*fz_fwd)(double *, double *, double *, double *, int);

static const double X0[L] = {0.31, -0.52, 0.77, -0.18, 0.45, 0.63, -0.71, 0.12, 0.58, -0.36, 0.24, -0.85};
static const double W0[L] = {-0.42, 0.27, 0.66, -0.55, 0.14, -0.23, 0.81, -0.64, 0.35, 0.49, -0.11, 0.72};
static const double WSEED[L] = {0.7, -0.3, 0.5, 1.1, -0.9, 0.25, 0.6, -0.45, 0.35, -0.8, 0.15, 0.95};
static const double TX[L] = {0.3, -0.7, 0.45, 0.9, -0.2, 0.65, -0.55, 0.1, 0.8, -0.35, 0.5, -0.6};
static const double TW[L] = {-0.25, 0.6, 0.15, -0.85, 0.4, 0.7, -0.3, 0.55, -0.65, 0.2, 0.95, -0.4};

static int fz_fail;

static void fz_check(const char *fn, const char *what, int i, double got, double want, double tol) {
  double sc = fabs(want) > 1.0 ? fabs(want) : 1.0;
  if (!(fabs(got - want) <= tol * sc)) {
    fz_fail++;
    if (fz_fail <= 60) printf("FAIL %s %s[%d] got %.17g want %.17g\n", fn, what, i, got, want);
  }
}

static double fz_loss(fz_fn f, const double *x0, const double *w0, int n, double *wout) {
  double x[L], w[L];
  memcpy(x, x0, sizeof x);
  memcpy(w, w0, sizeof w);
  double r = f(x, w, n);
  for (int i = 0; i < L; i++) r += WSEED[i] * w[i];
  if (wout) memcpy(wout, w, sizeof w);
  return r;
}

/* central difference of the loss along (dx, dw) with step h */
static double fz_fd(fz_fn f, int n, const double *dx, const double *dw, double h) {
  double xp[L], wp[L], xm[L], wm[L];
  for (int i = 0; i < L; i++) {
    xp[i] = X0[i] + h * dx[i]; xm[i] = X0[i] - h * dx[i];
    wp[i] = W0[i] + h * dw[i]; wm[i] = W0[i] - h * dw[i];
  }
  return (fz_loss(f, xp, wp, n, 0) - fz_loss(f, xm, wm, n, 0)) / (2.0 * h);
}

static double fz_fd_coord(fz_fn f, int n, int isw, int i, double scale) {
  double ex[L] = {0}, ew[L] = {0};
  double h = 1e-6 * scale * (fabs(isw ? W0[i] : X0[i]) + 1.0);
  if (isw) ew[i] = 1.0; else ex[i] = 1.0;
  return fz_fd(f, n, ex, ew, h);
}

static void fz_run(const char *name, fz_fn f, fz_rev rev, fz_fwd fwd, int n0) {
  volatile int vn = n0;
  int n = vn;
  double wout[L];
  double p1 = fz_loss(f, X0, W0, n, wout), p2 = fz_loss(f, X0, W0, n, 0);
  fz_check(name, "primal-determinism", 0, p1, p2, 0.0);
  fz_check(name, "primal-finite", 0, isfinite(p1) ? 0.0 : 1e300, 0.0, 0.0);
#ifdef NOAD
  (void)rev; (void)fwd;
  for (int i = 0; i < 2 * L; i++) {
    double a = fz_fd_coord(f, n, i >= L, i % L, 1.0), b = fz_fd_coord(f, n, i >= L, i % L, 2.0);
    fz_check(name, i < L ? "fd-self-dx" : "fd-self-dw", i % L, a, b, 1e-7);
  }
  fz_check(name, "fd-self-dir", 0, fz_fd(f, n, TX, TW, 1e-6), fz_fd(f, n, TX, TW, 2e-6), 1e-7);
#else
  double x[L], w[L], dx[L], dw[L];
  memcpy(x, X0, sizeof x); memcpy(w, W0, sizeof w);
  memset(dx, 0, sizeof dx); memcpy(dw, WSEED, sizeof dw);
  rev(x, dx, w, dw, n);
  for (int i = 0; i < L; i++) {
    fz_check(name, "rev-primal-x", i, x[i], X0[i], 0.0);
    fz_check(name, "rev-primal-w", i, w[i], wout[i], 1e-12);
    fz_check(name, "rev-dx", i, dx[i], fz_fd_coord(f, n, 0, i, 1.0), 1e-6);
    fz_check(name, "rev-dw", i, dw[i], fz_fd_coord(f, n, 1, i, 1.0), 1e-6);
  }
  double tx[L], tw[L];
  memcpy(x, X0, sizeof x); memcpy(w, W0, sizeof w);
  memcpy(tx, TX, sizeof tx); memcpy(tw, TW, sizeof tw);
  double d = fwd(x, tx, w, tw, n);
  for (int i = 0; i < L; i++) {
    d += WSEED[i] * tw[i];
    fz_check(name, "fwd-primal-w", i, w[i], wout[i], 1e-12);
  }
  fz_check(name, "fwd-dir", 0, d, fz_fd(f, n, TX, TW, 1e-6), 1e-6);
#endif
}

#ifdef NOAD
#define FZ_AD(F)                                                                             \
  static void F##_rev(double *x, double *dx, double *w, double *dw, int n) { (void)x; (void)dx; (void)w; (void)dw; (void)n; } \
  static double F##_fwd(double *x, double *tx, double *w, double *tw, int n) { (void)x; (void)tx; (void)w; (void)tw; (void)n; return 0; }
#else
#define FZ_AD(F)                                                                             \
  static void F##_rev(double *x, double *dx, double *w, double *dw, int n) {                 \
    __enzyme_autodiff((void *)F, enzyme_dup, x, dx, enzyme_dup, w, dw, enzyme_const, n);     \
  }                                                                                          \
  static double F##_fwd(double *x, double *tx, double *w, double *tw, int n) {               \
    return __enzyme_fwddiff((void *)F, enzyme_dup, x, tx, enzyme_dup, w, tw, enzyme_const, n); \
  }
#endif

static __attribute__((noinline)) double g(double a, double *p, int m) {
  double r = a;
  for (int q = 0; q < m % 4 + 1; q++) r = 0.5 * r + sin(p[(m + q) % 8] * a);
  return r;
}
__attribute__((noinline)) double f(double *x, double *w, int n) {
  double s = 0.0;
  double u = 0.0;
  double *t = (double *)malloc(L * sizeof(double));
  for (int r = 0; r < L; r++) t[r] = x[r];
  for (int i = 0; i < 5; i++) {
    s += 0.2 * g((-0.75) * (-1.41), t + 4, i + 3);
  }
  for (int l = 2; l < n; l++) {
    t[(n + 1) % 8] = t[(l) % 8];
  }
  free(t);
  return s + 0.3 * u;
}
FZ_AD(f)


int main(void) {
  fz_run("f", f, f_rev, f_fwd, 6);
  if (fz_fail) { printf("FAIL %d mismatches\n", fz_fail); return 1; }
  printf("PASS\n");
  return 0;
}
