#include "stats.h"

double stats_mean(const double *x, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += x[i];
  return n ? s / n : 0.0;
}
