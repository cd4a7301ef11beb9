// Reverse mode of C = A*B (rectangular) with a loss over C, for several placements of A, B, C and
// their shadows (#17 item 3): separate allocations (the call site proves that nothing writes A and
// B, whose loads are then not taped, and that the shadows are apart, so the reverse may run in a
// different loop order), one buffer holding all three (nothing proved), C written over A (in
// place: loads must be taped), a call through a wrapper whose pointers prove nothing, and separate
// arrays whose shadows are not (dC is dA: the reverse must keep its plain order). Two
// kernels: a plain sum over k, and a decaying one (s = 0.9 s + a b: the adjoint of s changes
// from one k to the next). Shadows start non-zero (but in place): the gradient accumulates into them.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define NI 4
#define NK 5
#define NJ 3
#define NA (NI * NK)
#define NB (NK * NJ)
#define NC (NI * NJ)

static double loss(const double *C, int ni, int nj) {
  double l = 0.0;
  for (int i = 0; i < ni * nj; i++) l += sin(C[i]) * C[i];
  return l;
}

__attribute__((noinline)) static double mm(const double *A, const double *B, double *C, int ni, int nk, int nj) {
  for (int i = 0; i < ni; i++)
    for (int j = 0; j < nj; j++) {
      double s = 0.0;
      for (int k = 0; k < nk; k++) s += A[i * nk + k] * B[k * nj + j];
      C[i * nj + j] = s;
    }
  return loss(C, ni, nj);
}

__attribute__((noinline)) static double mm_decay(const double *A, const double *B, double *C, int ni, int nk,
                                                 int nj) {
  for (int i = 0; i < ni; i++)
    for (int j = 0; j < nj; j++) {
      double s = 0.5;
      for (int k = 0; k < nk; k++) s = 0.9 * s + A[i * nk + k] * B[k * nj + j];
      C[i * nj + j] = s;
    }
  return loss(C, ni, nj);
}

typedef double (*kernel_t)(const double *, const double *, double *, int, int, int);

/* its pointers are its caller's: nothing proves them apart */
#define WRAPPER(NAME, F)                                                                                   \
  __attribute__((noinline)) static void NAME(double *A, double *dA, double *B, double *dB, double *C,      \
                                             double *dC, int ni, int nk, int nj) {                         \
    __enzyme_autodiff((void *)F, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, C, dC, enzyme_const, ni, \
                      enzyme_const, nk, enzyme_const, nj);                                                 \
  }
WRAPPER(wrap_mm, mm)
WRAPPER(wrap_mm_decay, mm_decay)

enum { SEPARATE, ONE_BUFFER, IN_PLACE, WRAPPED };
typedef struct { kernel_t k; int layout, nk; } ctx_t;

/* v = A then B (the inputs); the oracle places them as the layout does */
static double fv(double *v, void *p) {
  ctx_t *c = p;
  double buf[NA + NB + NC];
  for (int i = 0; i < NA + NB; i++) buf[i] = v[i];
  for (int i = NA + NB; i < NA + NB + NC; i++) buf[i] = 0.0;
  double *A = buf, *B = buf + NA, *C = c->layout == IN_PLACE ? buf : buf + NA + NB;
  return c->k(A, B, C, NI, c->nk, NJ);
}

static void fill(const double *v, double *A, double *B, double *dA, double *dB, double sa, double sb) {
  for (int i = 0; i < NA; i++) A[i] = v[i], dA[i] = sa * i;
  for (int i = 0; i < NB; i++) B[i] = v[NA + i], dB[i] = sb * i;
}

#define CALL(F, A, DA, B, DB, C, DC)                                                                  \
  __enzyme_autodiff((void *)F, enzyme_dup, A, DA, enzyme_dup, B, DB, enzyme_dup, C, DC, enzyme_const, ni, \
                    enzyme_const, nk, enzyme_const, nj)

static void run(const char *label, kernel_t k, int layout, int ni, int nk, int nj) {
  ctx_t c = {k, layout, nk};
  double v[NA + NB];
  for (int i = 0; i < NA + NB; i++) v[i] = 0.4 * sin(1.3 * i + 0.2);
  double *A, *B, *C, *dA, *dB, *dC, *buf = 0, *dbuf = 0;
  /* in place, dA is also dC: what it holds seeds the adjoint of C (so it starts at zero) */
  double sa = layout == IN_PLACE ? 0.0 : 0.25, sb = layout == IN_PLACE ? 0.0 : 0.5;
  /* each placement calls from where its arrays are allocated, so that the call site sees them */
  if (layout == ONE_BUFFER || layout == IN_PLACE) {
    buf = malloc((NA + NB + NC) * sizeof(double));
    dbuf = calloc(NA + NB + NC, sizeof(double));
    A = buf, B = buf + NA, C = layout == IN_PLACE ? buf : buf + NA + NB;
    dA = dbuf, dB = dbuf + NA, dC = layout == IN_PLACE ? dbuf : dbuf + NA + NB;
    fill(v, A, B, dA, dB, sa, sb);
#ifndef ADCC_SELFTEST
    if (k == mm)
      CALL(mm, buf, dbuf, buf + NA, dbuf + NA, C, dC);
    else
      CALL(mm_decay, buf, dbuf, buf + NA, dbuf + NA, C, dC);
#endif
  } else {
    A = malloc(NA * sizeof(double)), B = malloc(NB * sizeof(double)), C = malloc(NC * sizeof(double));
    dA = calloc(NA, sizeof(double)), dB = calloc(NB, sizeof(double)), dC = calloc(NC, sizeof(double));
    fill(v, A, B, dA, dB, sa, sb);
#ifndef ADCC_SELFTEST
    if (layout == WRAPPED && k == mm)
      wrap_mm(A, dA, B, dB, C, dC, ni, nk, nj);
    else if (layout == WRAPPED)
      wrap_mm_decay(A, dA, B, dB, C, dC, ni, nk, nj);
    else if (k == mm)
      CALL(mm, A, dA, B, dB, C, dC);
    else
      CALL(mm_decay, A, dA, B, dB, C, dC);
#endif
  }
#ifdef ADCC_SELFTEST
  for (int i = 0; i < NA; i++) dA[i] += fdv(fv, v, i, &c);
  for (int i = 0; i < NB; i++) dB[i] += fdv(fv, v, NA + i, &c);
  (void)ni, (void)nk, (void)nj;
#endif
  for (int i = 0; i < NA; i++) check_fd(label, i, dA[i] - sa * i, fdv(fv, v, i, &c));
  for (int i = 0; i < NB; i++) check_fd(label, NA + i, dB[i] - sb * i, fdv(fv, v, NA + i, &c));
  if (layout != IN_PLACE)
    for (int i = 0; i < NC; i++) check_val("dC consumed", i, dC[i], 0.0);
  if (buf) {
    free(buf), free(dbuf);
  } else {
    free(A), free(B), free(C), free(dA), free(dB), free(dC);
  }
}

/* C, A, B apart but dC is dA (NC <= NA): the reverse in its plain order (j, then k going down),
 * where clearing dC[i][j] sees the additions into dA made before it; an interchanged reverse
 * would clear it before them. The plain order, written out: */
static void shared_shadow_reverse(const double *A, const double *B, int ni, int nk, int nj, double *dA,
                                  double *dB) {
  double C[NC], *dC = dA;
  for (int i = 0; i < ni; i++)
    for (int j = 0; j < nj; j++) {
      double s = 0.0;
      for (int k = 0; k < nk; k++) s += A[i * nk + k] * B[k * nj + j];
      C[i * nj + j] = s;
    }
  for (int i = ni * nj - 1; i >= 0; i--) dC[i] += cos(C[i]) * C[i] + sin(C[i]);
  for (int i = ni - 1; i >= 0; i--)
    for (int j = nj - 1; j >= 0; j--) {
      double ds = dC[i * nj + j];
      dC[i * nj + j] = 0.0;
      for (int k = nk - 1; k >= 0; k--) {
        dA[i * nk + k] += ds * B[k * nj + j];
        dB[k * nj + j] += ds * A[i * nk + k];
      }
    }
}

static void run_shared_shadow(int ni, int nk, int nj) {
  double *A = malloc(NA * sizeof(double)), *B = malloc(NB * sizeof(double)), *C = malloc(NC * sizeof(double));
  double *dA = calloc(NA, sizeof(double)), *dB = calloc(NB, sizeof(double));
  double wantA[NA] = {0}, wantB[NB] = {0};
  for (int i = 0; i < NA; i++) A[i] = 0.4 * sin(1.3 * i + 0.2);
  for (int i = 0; i < NB; i++) B[i] = 0.4 * sin(1.3 * (NA + i) + 0.2);
  shared_shadow_reverse(A, B, ni, nk, nj, wantA, wantB);
#ifdef ADCC_SELFTEST
  shared_shadow_reverse(A, B, ni, nk, nj, dA, dB);
  (void)C;
#else
  CALL(mm, A, dA, B, dB, C, dA);
#endif
  for (int i = 0; i < NA; i++) check_an("dA (dC is dA)", i, dA[i], wantA[i]);
  for (int i = 0; i < NB; i++) check_an("dB (dC is dA)", i, dB[i], wantB[i]);
  free(A), free(B), free(C), free(dA), free(dB);
}

int main(void) {
  e2e_begin("reverse/matmul_layouts");
  volatile int vi = NI, vk = NK, vj = NJ;
  int ni = vi, nk = vk, nj = vj;
  static const char *names[] = {"separate", "one buffer", "in place", "wrapped"};
  char label[64];
  for (int layout = SEPARATE; layout <= WRAPPED; layout++) {
    snprintf(label, sizeof label, "sum, %s", names[layout]);
    run(label, mm, layout, ni, nk, nj);
    snprintf(label, sizeof label, "decay, %s", names[layout]);
    run(label, mm_decay, layout, ni, nk, nj);
  }
  volatile int vnone = 0; /* no k at all: the nest's inner loop never runs */
  run("sum, separate, nk = 0", mm, SEPARATE, ni, vnone, nj);
  run("decay, separate, nk = 0", mm_decay, SEPARATE, ni, vnone, nj);
  run_shared_shadow(ni, nk, nj);
  return e2e_finish();
}
