// Reverse mode of long double (x86_fp80) code: a dup array of long doubles (16-byte stride,
// 10-byte values), a long double accumulator loop (llvm.fmuladd.f80), two enzyme_out long double
// scalars returned as a struct, and the libm's long double spellings (logl, expl, sinl, powl, fmal,
// ... frexpl, modfl, sincosl). Finite differences and the hand-written gradient are computed in long
// double.
#include "../long_double.h"

extern void __enzyme_autodiff(void *, ...);
typedef struct { long double da, db; } ld_pair;
extern ld_pair __enzyme_autodiff_pair(void *, ...) __asm__("__enzyme_autodiff");
int enzyme_dup, enzyme_const, enzyme_out;

int main(void) {
  e2e_begin("reverse/long_double");
  long double x[N] = {1.3L, 0.7L, 0.45L, -0.8L, 1.9L}, dx[N] = {0}, want[N] = {0};
  df(x, want);
#ifdef ADCC_SELFTEST
  df(x, dx);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, N);
#endif
  for (int i = 0; i < N; i++) {
    check_ld("dx vs analytic", i, dx[i], want[i], 1e-14);
    check_ld("dx vs fd", i, dx[i], fd_f(x, i), 1e-9);
  }
  long double a = 1.3L, b = 0.7L, h = 1e-8L;
#ifdef ADCC_SELFTEST
  ld_pair r = {(g(a + h, b) - g(a - h, b)) / (2 * h), (g(a, b + h) - g(a, b - h)) / (2 * h)};
#else
  ld_pair r = __enzyme_autodiff_pair((void *)g, enzyme_out, a, enzyme_out, b);
#endif
  check_ld("da vs fd", 0, r.da, (g(a + h, b) - g(a - h, b)) / (2 * h), 1e-9);
  check_ld("db vs fd", 1, r.db, (g(a, b + h) - g(a, b - h)) / (2 * h), 1e-9);
  return e2e_finish();
}
