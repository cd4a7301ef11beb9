// A pointer global set to a heap block outside the derivative (`buf = malloc(...)` in main), used
// as a work buffer by the differentiated code. Its implicit shadow held a null pointer, so the
// derivative crashed on the first access through it; now each derivative call gives it a zeroed
// shadow block of the block's size (kept from call to call, reallocated when the program points
// the global at a block of another size). Reverse and forward mode, called repeatedly (a stale
// adjoint in the shadow block would show), with malloc and calloc.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

double *buf;
double *acc;
int n = 4;

__attribute__((noinline)) static double f(double x) {
  for (int i = 0; i < n; i++) buf[i] = x * (i + 1);
  double s = 0.0;
  for (int i = 0; i < n; i++) s += buf[i] * buf[i];
  return s; /* x^2 * sum (i+1)^2 */
}

__attribute__((noinline)) static double g(double x) {
  acc[0] += x * x; /* accumulates into memory set before the call: its old value is a constant */
  return acc[0] * x;
}

static double sumsq(void) {
  double t = 0.0;
  for (int i = 1; i <= n; i++) t += (double)(i * i);
  return t;
}

int main(void) {
  e2e_begin("memory/global_heap_pointer");
  buf = (double *)malloc(4 * sizeof(double));
  acc = (double *)calloc(1, sizeof(double));
  double x = 1.5;
  for (int rep = 0; rep < 3; rep++) {
#ifdef ADCC_SELFTEST
    double d = 2.0 * x * sumsq(), t = 2.0 * x * sumsq() * 0.5;
#else
    double d = __enzyme_autodiff((void *)f, x);
    double t = __enzyme_fwddiff((void *)f, x, 0.5);
#endif
    check_an("reverse d f", rep, d, 2.0 * x * sumsq());
    check_an("forward d f . 0.5", rep, t, 2.0 * x * sumsq() * 0.5);
  }
  free(buf);
  n = 6;
  buf = (double *)malloc(6 * sizeof(double)); /* another size: another shadow block */
#ifdef ADCC_SELFTEST
  double d6 = 2.0 * x * sumsq();
#else
  double d6 = __enzyme_autodiff((void *)f, x);
#endif
  check_an("reverse d f, 6 elements", 0, d6, 2.0 * x * sumsq());
  for (int rep = 0; rep < 2; rep++) {
    double a0 = acc[0];
#ifdef ADCC_SELFTEST
    double dg = 3.0 * x * x + a0;
    acc[0] += x * x;
#else
    double dg = __enzyme_autodiff((void *)g, x); /* d/dx (a0 + x^2) x = a0 + 3 x^2 */
#endif
    check_an("reverse d g", rep, dg, a0 + 3.0 * x * x);
  }
  free(buf);
  free(acc);
  return e2e_finish();
}
