// adcc bug (#5): two __enzyme_autodiff call sites on different functions, chosen by a runtime
// condition. Expected output: "12" without arguments and "4" with one. adcc (pre-AD O2, even at
// -O0) merges both calls into one call of phi(f, g) and rejects it: "the first argument of
// __enzyme_autodiff must be a function known at compile time"; --ad-stage=unoptimized works.
#include <stdio.h>
extern void __enzyme_autodiff(void *, ...);
int enzyme_dup;
static double f(const double *x) { return x[0] * x[0]; }
static double g(const double *x) { return x[0] * x[0] * x[0]; }
int main(int argc, char **argv) {
  double x = 2.0, dx = 0.0;
  (void)argv;
  if (argc > 1) __enzyme_autodiff((void *)f, enzyme_dup, &x, &dx);
  else __enzyme_autodiff((void *)g, enzyme_dup, &x, &dx);
  printf("%g\n", dx);
  return dx == (argc > 1 ? 4.0 : 12.0) ? 0 : 1;
}
