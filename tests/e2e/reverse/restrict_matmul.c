// Reverse mode of C = A*B with restrict pointers and a loss over C: the reverse pass may re-read
// A and B (nothing can write them) instead of taping them; the result must not change.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
#define M 5

static double f(const double *restrict A, const double *restrict B, double *restrict C, int n) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double s = 0.0;
      for (int k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
      C[i * n + j] = s;
    }
  double l = 0.0;
  for (int i = 0; i < n * n; i++) l += sin(C[i]) * C[i];
  return l;
}

static double fv(double *v, void *p) {
  (void)p;
  double C[M * M];
  return f(v, v + M * M, C, M);
}

int main(void) {
  e2e_begin("reverse/restrict_matmul");
  volatile int vn = M;
  int n = vn;
  double v[2 * M * M], dv[2 * M * M] = {0}, C[M * M], dC[M * M] = {0};
  for (int i = 0; i < 2 * M * M; i++) v[i] = 0.3 * sin(1.7 * i + 0.2);
  double *A = v, *B = v + M * M, *dA = dv, *dB = dv + M * M;
#ifdef ADCC_SELFTEST
  double Cs[M * M], R[M * M];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < M; j++) {
      double s = 0.0;
      for (int k = 0; k < M; k++) s += A[i * M + k] * B[k * M + j];
      Cs[i * M + j] = s;
      R[i * M + j] = cos(s) * s + sin(s);
    }
  for (int i = 0; i < M; i++)
    for (int k = 0; k < M; k++)
      for (int j = 0; j < M; j++) { dA[i * M + k] += R[i * M + j] * B[k * M + j]; dB[k * M + j] += R[i * M + j] * A[i * M + k]; }
  (void)C; (void)dC; (void)n;
#else
  __enzyme_autodiff((void *)f, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, C, dC, enzyme_const, n);
#endif
  for (int i = 0; i < 2 * M * M; i++) check_fd("dv", i, dv[i], fdv(fv, v, i, 0));
  for (int i = 0; i < M * M; i++) check_val("dC consumed", i, dC[i], 0.0);
  return e2e_finish();
}
