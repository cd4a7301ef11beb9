// Forward mode of long double (x86_fp80) code: tangents of a long double array (16-byte stride,
// 10-byte values) along a direction, a long double accumulator loop (llvm.fmuladd.f80), dup long
// double scalars, and the libm's long double spellings (logl, expl, sinl, powl, fmal, ... frexpl,
// modfl, sincosl). Finite differences and the hand-written derivative are computed in long double.
#include "../long_double.h"

extern long double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

int main(void) {
  e2e_begin("forward/long_double");
  long double x[N] = {1.3L, 0.7L, 0.45L, -0.8L, 1.9L};
  for (int k = 0; k < N; k++) {
    long double dir[N] = {0}, grad[N] = {0};
    dir[k] = 1.0L;
    dir[(k + 2) % N] = -0.5L;
    df(x, grad);
    long double want = grad[k] - 0.5L * grad[(k + 2) % N];
    long double fd = fd_f(x, k) - 0.5L * fd_f(x, (k + 2) % N);
#ifdef ADCC_SELFTEST
    long double got = want;
#else
    long double got = __enzyme_fwddiff((void *)f, enzyme_dup, x, dir, enzyme_const, N);
#endif
    check_ld("tangent vs analytic", k, got, want, 1e-14);
    check_ld("tangent vs fd", k, got, fd, 1e-9);
  }
  long double a = 1.3L, b = 0.7L, h = 1e-8L;
#ifdef ADCC_SELFTEST
  long double ta = (g(a + h, b) - g(a - h, b)) / (2 * h), tb = (g(a, b + h) - g(a, b - h)) / (2 * h);
#else
  long double ta = __enzyme_fwddiff((void *)g, enzyme_dup, a, 1.0L, enzyme_const, b);
  long double tb = __enzyme_fwddiff((void *)g, enzyme_const, a, enzyme_dup, b, 1.0L);
#endif
  check_ld("da vs fd", 0, ta, (g(a + h, b) - g(a - h, b)) / (2 * h), 1e-9);
  check_ld("db vs fd", 1, tb, (g(a, b + h) - g(a, b - h)) / (2 * h), 1e-9);
  return e2e_finish();
}
