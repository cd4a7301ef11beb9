/* e2e.h - shared helpers for adcc's own end-to-end tests (tests/e2e).
 *
 * Same structure as the shared conformance suite, but independent of it:
 * a test calls e2e_begin("dir/name"), computes derivatives with the Enzyme API
 * (or, under -DADCC_SELFTEST, with its hand-written derivative that has the
 * same outputs and side effects), compares them with check_fd / check_an /
 * check_val, and returns e2e_finish() from main (exit 0 iff all matched).
 *
 * Match rule: |got - want| <= rtol * max(1, |want|); NaN and Inf never match.
 * A mismatch prints "name: index got X want Y (label vs reference)".
 * Verdict: "PASS name" or "FAIL name (k mismatches)".
 */
#ifndef ADCC_E2E_H
#define ADCC_E2E_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E2E_RTOL_FD 1e-5   /* against central finite differences */
#define E2E_RTOL_AN 1e-10  /* against the hand-written derivative */
#define E2E_RTOL_VAL 1e-12 /* primal values, exact expectations */
#define E2E_RTOL_F32 1e-4  /* single precision results */
#define E2E_FD_REL 1e-6    /* FD step h = E2E_FD_REL * (|x| + 1) */

#ifdef __cplusplus
#define E2E_UNUSED [[maybe_unused]]
#else
#define E2E_UNUSED __attribute__((unused))
#endif

E2E_UNUSED static const char *e2e_name = "unnamed";
E2E_UNUSED static int e2e_fails = 0;

static inline void e2e_begin(const char *name) { e2e_name = name; }

static inline int e2e_check(const char *label, const char *ref, int idx, double got,
                            double want, double rtol) {
  double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
  if (fabs(got - want) <= rtol * scale) /* false for NaN and Inf */
    return 1;
  printf("%s: %d got %.17g want %.17g (%s vs %s)\n", e2e_name, idx, got, want, label, ref);
  e2e_fails++;
  return 0;
}

static inline int check_fd(const char *label, int idx, double got, double want) {
  return e2e_check(label, "fd", idx, got, want, E2E_RTOL_FD);
}
static inline int check_an(const char *label, int idx, double got, double want) {
  return e2e_check(label, "analytic", idx, got, want, E2E_RTOL_AN);
}
static inline int check_val(const char *label, int idx, double got, double want) {
  return e2e_check(label, "expected", idx, got, want, E2E_RTOL_VAL);
}
static inline int check_f32(const char *label, int idx, double got, double want) {
  return e2e_check(label, "reference (float tol)", idx, got, want, E2E_RTOL_F32);
}

static inline int e2e_finish(void) {
  if (e2e_fails) {
    printf("FAIL %s (%d mismatches)\n", e2e_name, e2e_fails);
    return 1;
  }
  printf("PASS %s\n", e2e_name);
  return 0;
}

/* ---- central finite differences, double precision ---- */

static inline double e2e_step(double x) { return E2E_FD_REL * (fabs(x) + 1.0); }

/* df/dx of a function of one double. */
static inline double fd1(double (*f)(double), double x) {
  double h = e2e_step(x);
  double xp = x + h, xm = x - h;
  return (f(xp) - f(xm)) / (xp - xm);
}

/* A scalar function of a vector v; ctx carries the rest. */
typedef double (*e2e_fnv)(double *v, void *ctx);

/* d fn(v, ctx) / d v[i]; v[i] is restored. */
static inline double fdv(e2e_fnv fn, double *v, int i, void *ctx) {
  double x = v[i], h = e2e_step(x);
  double xp = x + h, xm = x - h;
  v[i] = xp;
  double fp = fn(v, ctx);
  v[i] = xm;
  double fm = fn(v, ctx);
  v[i] = x;
  return (fp - fm) / (xp - xm);
}

/* Directional derivative d/dt fn(v + t dir, ctx) at t = 0 (n entries). */
static inline double fd_dir(e2e_fnv fn, const double *v, const double *dir, int n, void *ctx) {
  double *w = (double *)malloc((size_t)n * sizeof(double));
  double vmax = 0.0, dmax = 0.0;
  for (int i = 0; i < n; i++) {
    vmax = fabs(v[i]) > vmax ? fabs(v[i]) : vmax;
    dmax = fabs(dir[i]) > dmax ? fabs(dir[i]) : dmax;
  }
  double h = E2E_FD_REL * (vmax + 1.0) / (dmax > 0.0 ? dmax : 1.0);
  for (int i = 0; i < n; i++) w[i] = v[i] + h * dir[i];
  double fp = fn(w, ctx);
  for (int i = 0; i < n; i++) w[i] = v[i] - h * dir[i];
  double fm = fn(w, ctx);
  free(w);
  return (fp - fm) / (2.0 * h);
}

#endif /* ADCC_E2E_H */
