#include "check.h"
extern double __enzyme_autodiff(void *, ...);
extern void ext_square(const double *x, double *y);
extern double ext_cubic(double x);
extern int rule_calls;
static double g(double x) {
  double y;
  ext_square(&x, &y);
  return 3 * y + ext_cubic(x);
}
int main(void) { return check(0.7, __enzyme_autodiff((void *)g, 0.7), rule_calls); }
