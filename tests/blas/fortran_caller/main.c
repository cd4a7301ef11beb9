/* Gradient of the Fortran function f (model.f90) against central finite differences. */
#include <math.h>
#include <stdio.h>
extern double f(int n, double *A, double *x);
extern void __enzyme_autodiff(void *, ...);
extern int enzyme_const, enzyme_dup;

int main(void) {
  int n = 3, bad = 0;
  double A[9], x[3], dA[9] = {0}, dx[3] = {0};
  for (int i = 0; i < 9; i++) A[i] = sin(i + 1.0);
  for (int i = 0; i < 3; i++) x[i] = cos(i + 2.0);
  __enzyme_autodiff((void *)f, enzyme_const, n, enzyme_dup, A, dA, enzyme_dup, x, dx);
  for (int i = 0; i < 12; i++) {
    double *v = i < 9 ? &A[i] : &x[i - 9], g = i < 9 ? dA[i] : dx[i - 9], v0 = *v, h = 1e-6 * (1 + fabs(v0));
    *v = v0 + h;
    double fp = f(n, A, x);
    *v = v0 - h;
    double fm = f(n, A, x);
    *v = v0;
    double fd = (fp - fm) / (2 * h);
    if (fabs(fd - g) > 1e-6 * (1 + fabs(fd))) {
      printf("d/d[%d]: got %.10g want %.10g\n", i, g, fd);
      bad++;
    }
  }
  printf(bad ? "FAIL blas/fortran_caller\n" : "PASS blas/fortran_caller\n");
  return bad != 0;
}
