// adcc bug (#5): with --ad-stage=unoptimized, the adjoint of an enzyme_const pointer argument is
// accumulated into the pointer's own memory (x is used as its own shadow). Expected: x unchanged
// ({0.7, 1.1}) and dw = {0.7, 1.1}; adcc -O2 --ad-stage=unoptimized leaves x = {1.6, 2.4}.
#include <stdio.h>
extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
__attribute__((noinline)) static double dot(const double *w, const double *x, int n) {
  double total = 0.0;
  for (int i = 0; i < n; i++) total += x[i] * w[i];
  return total;
}
int main(void) {
  double w[2] = {0.9, 1.3}, dw[2] = {0}, x[2] = {0.7, 1.1};
  __enzyme_autodiff((void *)dot, enzyme_dup, w, dw, enzyme_const, x, enzyme_const, 2);
  printf("x = %g %g (want 0.7 1.1); dw = %g %g (want 0.7 1.1)\n", x[0], x[1], dw[0], dw[1]);
  return !(x[0] == 0.7 && x[1] == 1.1 && dw[0] == 0.7 && dw[1] == 1.1);
}
