/* Calls the check cannot describe are counted and their reason printed once, never guessed. */
#include <stdio.h>
#include <stdlib.h>

extern double __enzyme_autodiff(void *, ...);
extern int enzyme_dup, enzyme_const;

typedef struct { double *data; int n; } vec;

double norm2(const vec *v) {
  double s = 0;
  for (int i = 0; i < v->n; i++) s += v->data[i] * v->data[i];
  return s;
}

double sum(const double *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

/* the memory's allocation is out of sight of the __enzyme_autodiff call */
__attribute__((noinline)) void gradient_of_sum(const double *x, double *dx, int n) {
  __enzyme_autodiff((void *)sum, enzyme_dup, x, dx, enzyme_const, n);
}

int main(void) {
  double a[3] = {1, 2, 3}, da[3] = {0};
  vec v = {a, 3}, dv = {da, 3};
  for (int k = 0; k < 2; k++) __enzyme_autodiff((void *)norm2, enzyme_dup, &v, &dv);
  double *x = malloc(3 * sizeof *x), *dx = calloc(3, sizeof *dx);
  for (int i = 0; i < 3; i++) x[i] = i + 0.5;
  gradient_of_sum(x, dx, 3);
  printf("%g %g %g\n", da[0], da[2], dx[1]);
  free(x);
  free(dx);
  return 0;
}
