/* A model and its gradient; the gradient comes from Enzyme's API, compiled by adcc. */
#include <math.h>
#include "model.h"

double energy(const double *x, int n) {
  double e = 0;
  for (int i = 0; i < n; i++)
    e += sin(x[i]) * x[i] + 0.5 * x[i] * x[i];
  return e;
}

extern void __enzyme_autodiff(void *, ...);
extern int enzyme_dup, enzyme_const;

void energy_gradient(const double *x, double *grad, int n) {
  for (int i = 0; i < n; i++)
    grad[i] = 0;
  __enzyme_autodiff((void *)energy, enzyme_dup, x, grad, enzyme_const, n);
}
