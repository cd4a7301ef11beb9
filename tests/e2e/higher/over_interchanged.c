// Second order through an interchanged reverse (#17 item 3): the gradient of C = A*B's loss over
// separate allocations runs its nest's reverse interchanged (adcc.ad.interchange, its scratch
// array reserved above the tape's top); that gradient is differentiated again, in forward mode
// (one column of the Hessian) and in reverse mode (one row). Against finite differences.
#include "../e2e.h"
extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;
#define N 4
__attribute__((noinline)) static double f(const double *A, const double *B, double *C, int n) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double s = 0.0;
      for (int k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
      C[i * n + j] = s;
    }
  double l = 0.0;
  for (int i = 0; i < n * n; i++) l += C[i] * C[i] * C[i];
  return l;
}
/* g(v) = dA[0] of f at A = v, B fixed */
__attribute__((noinline)) static void grad(const double *v, double *out, int n) {
  double *A = malloc(N * N * 8), *B = malloc(N * N * 8), *C = malloc(N * N * 8);
  double *dA = calloc(N * N, 8), *dB = calloc(N * N, 8), *dC = calloc(N * N, 8);
  for (int i = 0; i < N * N; i++) A[i] = v[i], B[i] = 0.3 * cos(i);
#ifdef ADCC_SELFTEST
  f(A, B, C, n); /* dA[i][k] = sum_j 3 C[i][j]^2 B[k][j] */
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++)
      for (int j = 0; j < n; j++) dA[i * n + k] += 3.0 * C[i * n + j] * C[i * n + j] * B[k * n + j];
  (void)dB, (void)dC;
#else
  __enzyme_autodiff((void *)f, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, C, dC, enzyme_const, n);
#endif
  for (int i = 0; i < N * N; i++) out[i] = dA[i];
  free(A), free(B), free(C), free(dA), free(dB), free(dC);
}
static double g0(double *v, void *p) { double o[N * N]; grad(v, o, *(int *)p); return o[0]; }
int main(void) {
  e2e_begin("higher/over_interchanged");
  volatile int vn = N; int n = vn;
  double v[N * N], dv[N * N], out[N * N], dout[N * N];
  for (int i = 0; i < N * N; i++) v[i] = 0.4 * sin(i + 0.5), dv[i] = 0, dout[i] = 0;
  dv[3] = 1.0;
#ifdef ADCC_SELFTEST
  dout[0] = fdv(g0, v, 3, &n);
  (void)out;
#else
  __enzyme_fwddiff((void *)grad, enzyme_dup, v, dv, enzyme_dup, out, dout, enzyme_const, n);
#endif
  check_fd("forward: d dA0 / d v3", 0, dout[0], fdv(g0, v, 3, &n));
  for (int i = 0; i < N * N; i++) dv[i] = 0.0, dout[i] = i == 0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N * N; i++) dv[i] = fdv(g0, v, i, &n);
#else
  __enzyme_autodiff((void *)grad, enzyme_dup, v, dv, enzyme_dup, out, dout, enzyme_const, n);
#endif
  for (int i = 0; i < N * N; i++) check_fd("reverse: d dA0 / d v", i, dv[i], fdv(g0, v, i, &n));
  return e2e_finish();
}
