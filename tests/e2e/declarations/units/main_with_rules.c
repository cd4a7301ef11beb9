/* The rules registered in this unit itself (rules.c's text), next to the differentiated code. */
#include "check.h"
#include "rules.c"
extern double __enzyme_autodiff(void *, ...);
static double g(double x) {
  double y;
  ext_square(&x, &y);
  return 3 * y + ext_cubic(x);
}
int main(void) { return check(0.7, __enzyme_autodiff((void *)g, 0.7), rule_calls); }
