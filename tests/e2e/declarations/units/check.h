/* g(x) = 3 x^2 + x^3 through lib.c's functions: dg/dx = 6x + 3x^2, each rule called once. */
#include <stdio.h>
static int check(double x, double d, int calls) {
  double want = 6 * x + 3 * x * x, err = d - want;
  int ok = err * err < 1e-20 * (1 + want * want) && calls == 2;
  printf("%s d=%.17g want=%.17g rule calls=%d\n", ok ? "PASS" : "FAIL", d, want, calls);
  return !ok;
}
