// Reverse mode of loop nests `for j { for k { body }; tail }` on separate allocations, whose
// reverse adcc runs with the inner loop outside (adcc.ad.interchange, #17 item 3): in float, and
// with two sums carried over k whose product the inner loop's exit block forms (the tail's
// reverse reads it from the tape), a load in the tail (its shadow gets additions too), an active
// scalar argument in the body (its adjoint sums over every (j, k)) and a sum that starts at 1; the
// same with a sin in the body (taped: that nest keeps its plain order). Checked against the
// gradient written out (float) and central finite differences.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

#define NI 3
#define NK 4
#define NJ 5
#define NA (NI * NK)
#define NB (NK * NJ)
#define NC (NI * NJ)

__attribute__((noinline)) static float mm_float(const float *A, const float *B, float *C, int ni, int nk, int nj) {
  for (int i = 0; i < ni; i++)
    for (int j = 0; j < nj; j++) {
      float s = 0.0f;
      for (int k = 0; k < nk; k++) s += A[i * nk + k] * B[k * nj + j];
      C[i * nj + j] = s;
    }
  float l = 0.0f;
  for (int i = 0; i < ni * nj; i++) l += C[i] * C[i];
  return l;
}

/* two sums over k, one starting at 1, whose product the tail scales by w[j] (active), and the
 * scalar x in the body; with SIN, the body calls sin, whose value the reverse reads from the tape
 * (that nest keeps its plain order) */
#define TWO_SUMS(NAME, G)                                                                               \
  __attribute__((noinline)) static double NAME(const double *A, const double *B, const double *w, double *C, \
                                               double x, int ni, int nk, int nj) {                        \
    for (int i = 0; i < ni; i++)                                                                        \
      for (int j = 0; j < nj; j++) {                                                                    \
        double s = 1.0, t = 0.0;                                                                        \
        for (int k = 0; k < nk; k++) {                                                                  \
          double a = A[i * nk + k], b = B[k * nj + j];                                                  \
          s += a * G(x * b);                                                                            \
          t += a * a * b;                                                                               \
        }                                                                                               \
        C[i * nj + j] = s * t * w[j];                                                                   \
      }                                                                                                 \
    double l = 0.0;                                                                                     \
    for (int i = 0; i < ni * nj; i++) l += C[i] * (1.0 + 0.1 * i);                                      \
    return l;                                                                                           \
  }
#define SAME(y) (y)
TWO_SUMS(two_sums, SAME)
TWO_SUMS(two_sums_sin, sin)

/* the float gradient, computed in double: dA = 2 C B^T, dB = 2 A^T C */
static void grad_float(const float *A, const float *B, double *gA, double *gB) {
  double C[NC];
  for (int i = 0; i < NI; i++)
    for (int j = 0; j < NJ; j++) {
      double s = 0.0;
      for (int k = 0; k < NK; k++) s += (double)A[i * NK + k] * B[k * NJ + j];
      C[i * NJ + j] = s;
    }
  for (int i = 0; i < NA; i++) gA[i] = 0.0;
  for (int i = 0; i < NB; i++) gB[i] = 0.0;
  for (int i = 0; i < NI; i++)
    for (int j = 0; j < NJ; j++)
      for (int k = 0; k < NK; k++) {
        gA[i * NK + k] += 2.0 * C[i * NJ + j] * B[k * NJ + j];
        gB[k * NJ + j] += 2.0 * C[i * NJ + j] * A[i * NK + k];
      }
}

extern double __enzyme_autodiff_dx(void *, ...);

/* the call sites, where the arrays are (their pointers come from the caller: nothing proves them
 * apart there) inlined into main, which allocates them */
#define GRAD_TWO(NAME, F)                                                                                   \
  static inline double NAME(double *a, double *da, double *b, double *db, double *w, double *dw, double *c,  \
                            double *dc, double x, int ni, int nk, int nj) {                                 \
    return __enzyme_autodiff_dx((void *)F, enzyme_dup, a, da, enzyme_dup, b, db, enzyme_dup, w, dw,          \
                                enzyme_dup, c, dc, enzyme_out, x, enzyme_const, ni, enzyme_const, nk,        \
                                enzyme_const, nj);                                                          \
  }
GRAD_TWO(grad_two_sums, two_sums)
GRAD_TWO(grad_two_sums_sin, two_sums_sin)

typedef double (*two_t)(const double *, const double *, const double *, double *, double, int, int, int);

/* v = A, B, w, x */
static double fv_two(double *v, void *p) {
  double C[NC];
  return (*(two_t *)p)(v, v + NA, v + NA + NB, C, v[NA + NB + NJ], NI, NK, NJ);
}

int main(void) {
  e2e_begin("reverse/nest_variants");
  volatile int vi = NI, vk = NK, vj = NJ;
  int ni = vi, nk = vk, nj = vj;

  double v[NA + NB + NJ + 1];
  for (int i = 0; i < NA + NB + NJ + 1; i++) v[i] = 0.5 * sin(0.9 * i + 0.3);

  /* float: against the gradient written out (in double) */
  float *A = malloc(NA * sizeof(float)), *B = malloc(NB * sizeof(float)), *C = malloc(NC * sizeof(float));
  float *dA = calloc(NA, sizeof(float)), *dB = calloc(NB, sizeof(float)), *dC = calloc(NC, sizeof(float));
  for (int i = 0; i < NA; i++) A[i] = (float)v[i];
  for (int i = 0; i < NB; i++) B[i] = (float)v[NA + i];
  double gA[NA], gB[NB];
  grad_float(A, B, gA, gB);
#ifdef ADCC_SELFTEST
  for (int i = 0; i < NA; i++) dA[i] = (float)gA[i];
  for (int i = 0; i < NB; i++) dB[i] = (float)gB[i];
#else
  __enzyme_autodiff((void *)mm_float, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, C, dC, enzyme_const, ni,
                    enzyme_const, nk, enzyme_const, nj);
#endif
  for (int i = 0; i < NA; i++) check_f32("float dA", i, dA[i], gA[i]);
  for (int i = 0; i < NB; i++) check_f32("float dB", i, dB[i], gB[i]);

  for (int sine = 0; sine < 2; sine++) {
    two_t f = sine ? two_sums_sin : two_sums;
    const char *label = sine ? "two sums (sin)" : "two sums";
    double *a = malloc(NA * sizeof(double)), *b = malloc(NB * sizeof(double)), *w = malloc(NJ * sizeof(double));
    double *c = malloc(NC * sizeof(double)), *da = calloc(NA, sizeof(double)), *db = calloc(NB, sizeof(double));
    double *dw = calloc(NJ, sizeof(double)), *dc = calloc(NC, sizeof(double)), dx;
    for (int i = 0; i < NA; i++) a[i] = v[i];
    for (int i = 0; i < NB; i++) b[i] = v[NA + i];
    for (int i = 0; i < NJ; i++) w[i] = v[NA + NB + i];
    double x = v[NA + NB + NJ];
#ifdef ADCC_SELFTEST
    for (int i = 0; i < NA; i++) da[i] = fdv(fv_two, v, i, &f);
    for (int i = 0; i < NB; i++) db[i] = fdv(fv_two, v, NA + i, &f);
    for (int i = 0; i < NJ; i++) dw[i] = fdv(fv_two, v, NA + NB + i, &f);
    dx = fdv(fv_two, v, NA + NB + NJ, &f);
    (void)c, (void)dc, (void)x;
#else
    dx = sine ? grad_two_sums_sin(a, da, b, db, w, dw, c, dc, x, ni, nk, nj)
              : grad_two_sums(a, da, b, db, w, dw, c, dc, x, ni, nk, nj);
#endif
    for (int i = 0; i < NA; i++) check_fd(label, i, da[i], fdv(fv_two, v, i, &f));
    for (int i = 0; i < NB; i++) check_fd(label, NA + i, db[i], fdv(fv_two, v, NA + i, &f));
    for (int i = 0; i < NJ; i++) check_fd(label, NA + NB + i, dw[i], fdv(fv_two, v, NA + NB + i, &f));
    check_fd(label, NA + NB + NJ, dx, fdv(fv_two, v, NA + NB + NJ, &f));
    free(a), free(b), free(w), free(c), free(da), free(db), free(dw), free(dc);
  }
  free(A), free(B), free(C), free(dA), free(dB), free(dC);
  return e2e_finish();
}
