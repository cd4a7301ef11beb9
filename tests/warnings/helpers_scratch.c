/* The scratch buffer is written by one helper and read back by another (neither inlined), in
 * forward and reverse mode: -Wadcc-dropped-derivative follows the memory into the helpers. */
#include <math.h>
#include <stdio.h>

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const, enzyme_out;

__attribute__((noinline)) void fill(double *work, double a, int n) {
  for (int i = 0; i < n; i++) work[i] = sin(a * (i + 1));
}

__attribute__((noinline)) double reduce(const double *work, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += work[i] * work[i];
  return s;
}

double energy(double a, double *work, int n) {
  fill(work, a, n);
  return reduce(work, n) + a;
}

int main(void) {
  double work[4];
  double da = __enzyme_autodiff((void *)energy, enzyme_out, 0.3, enzyme_const, work, enzyme_const, 4);
  double ta = __enzyme_fwddiff((void *)energy, enzyme_dup, 0.3, 1.0, enzyme_const, work, enzyme_const, 4);
  printf("%g %g\n", da, ta);
  return 0;
}
