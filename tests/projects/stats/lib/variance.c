#include <math.h>

#include "stats.h"

double stats_variance(const double *x, int n) {
  double m = stats_mean(x, n), s = 0.0;
  for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return n > 1 ? s / (n - 1) : 0.0;
}

double stats_poly(const double *coef, int degree, double x) {
  double r = 0.0;
  for (int i = degree; i >= 0; i--) r = fma(r, x, coef[i]);
  return r;
}
