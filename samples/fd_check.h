/* fd_check.h - finite-difference helpers shared by the adcc samples.
 *
 * Central differences with step h = FDC_REL * (|x| + 1), relative comparison
 * |got - want| <= rtol * max(FDC_FLOOR, |want|) (NaN/Inf never match), a
 * mismatch counter and the final PASS/FAIL line. The floor keeps the test
 * meaningful for small gradient entries (a plain max(1, |want|) would turn the
 * check into an absolute one) while tolerating FD noise on entries near 0.
 */
#ifndef ADCC_SAMPLES_FD_CHECK_H
#define ADCC_SAMPLES_FD_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define FDC_REL 1e-6    /* relative FD step */
#define FDC_RTOL 1e-5   /* adcc gradient vs central differences */
#define FDC_RTOL_AN 1e-9 /* adcc gradient vs hand-written derivative */
#define FDC_FLOOR 1e-3   /* smallest magnitude the relative comparison scales by */

static int fdc_fails = 0;
static int fdc_checks = 0;

/* A scalar function of a parameter vector v; ctx carries everything else. */
typedef double (*fdc_fn)(double *v, void *ctx);

static inline double fdc_step(double x) { return FDC_REL * (fabs(x) + 1.0); }

/* d fn / d v[i] by central differences; v[i] is restored. */
static inline double fd_partial(fdc_fn fn, double *v, int i, void *ctx) {
  double x = v[i], h = fdc_step(x);
  double xp = x + h, xm = x - h;
  v[i] = xp;
  double fp = fn(v, ctx);
  v[i] = xm;
  double fm = fn(v, ctx);
  v[i] = x;
  return (fp - fm) / (xp - xm);
}

/* Full FD gradient (n entries) into g. */
static inline void fd_gradient(fdc_fn fn, double *v, int n, void *ctx, double *g) {
  for (int i = 0; i < n; i++) g[i] = fd_partial(fn, v, i, ctx);
}

/* d/dt fn(v + t dir) at t = 0. */
static inline double fd_directional(fdc_fn fn, const double *v, const double *dir, int n,
                                    void *ctx) {
  double *w = (double *)malloc((size_t)n * sizeof(double));
  double vmax = 0.0, dmax = 0.0;
  for (int i = 0; i < n; i++) {
    if (fabs(v[i]) > vmax) vmax = fabs(v[i]);
    if (fabs(dir[i]) > dmax) dmax = fabs(dir[i]);
  }
  double h = FDC_REL * (vmax + 1.0) / (dmax > 0.0 ? dmax : 1.0);
  for (int i = 0; i < n; i++) w[i] = v[i] + h * dir[i];
  double fp = fn(w, ctx);
  for (int i = 0; i < n; i++) w[i] = v[i] - h * dir[i];
  double fm = fn(w, ctx);
  free(w);
  return (fp - fm) / (2.0 * h);
}

/* Relative error in the comparison's own metric. */
static inline double fdc_relerr(double got, double want) {
  double scale = fabs(want) > FDC_FLOOR ? fabs(want) : FDC_FLOOR;
  return fabs(got - want) / scale;
}

/* Compare one value; prints a line on mismatch. Returns 1 on match. */
static inline int fdc_check(const char *label, int idx, double got, double want, double rtol) {
  fdc_checks++;
  if (fdc_relerr(got, want) <= rtol) return 1; /* false for NaN */
  printf("  mismatch %s[%d]: got %.12g want %.12g\n", label, idx, got, want);
  fdc_fails++;
  return 0;
}

/* Compare arrays; returns the largest relative error seen. */
static inline double fdc_check_all(const char *label, const double *got, const double *want,
                                   int n, double rtol) {
  double worst = 0.0;
  for (int i = 0; i < n; i++) {
    double e = fdc_relerr(got[i], want[i]);
    if (!(e <= worst)) worst = e;
    fdc_check(label, i, got[i], want[i], rtol);
  }
  return worst;
}

/* Final verdict line; the value to return from main. */
static inline int fdc_report(const char *name) {
  if (fdc_fails) {
    printf("FAIL %s: %d of %d checks failed\n", name, fdc_fails, fdc_checks);
    return 1;
  }
  printf("PASS %s: %d checks\n", name, fdc_checks);
  return 0;
}

#endif /* ADCC_SAMPLES_FD_CHECK_H */
