// Reverse mode of a nest whose sum starts from a value computed per j (u[j] * x, before the inner
// loop) and whose inner loop may not run at all (nk = 0: the start goes straight to C), on separate
// arrays: adcc runs its reverse interchanged (adcc.ad.interchange, #17 item 3), the start's adjoint
// gathered over every k and the tail, or from the tail alone when nk = 0. Against finite differences.
#include "../e2e.h"
extern double __enzyme_autodiff_x(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;
__attribute__((noinline)) static double f(const double *A, const double *B, const double *u, double *C, double x, int ni, int nk, int nj) {
  for (int i = 0; i < ni; i++)
    for (int j = 0; j < nj; j++) {
      double s = u[j] * x;
      for (int k = 0; k < nk; k++) s = 0.9 * s + A[i * nk + k] * B[k * nj + j] * u[k];
      C[i * nj + j] = s * s;
    }
  double l = 0.0;
  for (int i = 0; i < ni * nj; i++) l += sin(C[i]) * (1.0 + 0.1 * i);
  return l;
}
static int NKV;
static double fv(double *v, void *p) { double C[15]; (void)p; return f(v, v + 12, v + 32, C, v[42], 3, NKV, 5); }
int main(void) {
  e2e_begin("reverse/nest_guard");
  for (NKV = 0; NKV <= 4; NKV += 4) { /* A is 3 x nk, B nk x 5, u 10 long, C 3 x 5 */
    volatile int vk = NKV;
    int nk = vk;
    double v[43];
    for (int i = 0; i < 43; i++) v[i] = 0.4 * sin(0.7 * i + 1);
    double *A = malloc(12 * 8), *B = malloc(20 * 8), *u = malloc(10 * 8), *C = malloc(15 * 8);
    double *dA = calloc(12, 8), *dB = calloc(20, 8), *du = calloc(10, 8), *dC = calloc(15, 8);
    memcpy(A, v, 96), memcpy(B, v + 12, 160), memcpy(u, v + 32, 80);
#ifdef ADCC_SELFTEST
    double dx = fdv(fv, v, 42, 0);
    for (int i = 0; i < 12; i++) dA[i] = fdv(fv, v, i, 0);
    for (int i = 0; i < 20; i++) dB[i] = fdv(fv, v, 12 + i, 0);
    for (int i = 0; i < 10; i++) du[i] = fdv(fv, v, 32 + i, 0);
    (void)C, (void)dC, (void)nk;
#else
    double dx = __enzyme_autodiff_x((void *)f, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, u, du, enzyme_dup, C,
                                    dC, enzyme_out, v[42], enzyme_const, 3, enzyme_const, nk, enzyme_const, 5);
#endif
    double got[43];
    memcpy(got, dA, 96), memcpy(got + 12, dB, 160), memcpy(got + 32, du, 80), got[42] = dx;
    for (int i = 0; i < 43; i++) check_fd(nk ? "nk = 4" : "nk = 0", i, got[i], fdv(fv, v, i, 0));
    free(A), free(B), free(u), free(C), free(dA), free(dB), free(du), free(dC);
  }
  return e2e_finish();
}
