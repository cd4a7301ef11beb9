#include "check.h"
extern double __enzyme_autodiff(void *, ...);
extern double g(double x);
extern int rule_calls;
int main(void) { return check(0.7, __enzyme_autodiff((void *)g, 0.7), rule_calls); }
