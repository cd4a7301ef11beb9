// memmove whose source and destination overlap, shifting up and down (#9): the reverse pass must
// read each destination adjoint before a source contribution lands on it.
#include "both.h"

static volatile int len = 5;

static double shift_up(double *x) {
  int n = len;
  double t[8];
  for (int i = 0; i < n; i++) t[i] = x[i] * (i + 1);
  memmove(t + 1, t, (size_t)(n - 1) * sizeof(double));
  double s = 0;
  for (int i = 0; i < n; i++) s += t[i] * t[i] * (i + 1);
  return s;
}
DECLARE_FD(shift_up)

static double shift_down(double *x) {
  int n = len;
  double *t = (double *)malloc((size_t)n * sizeof(double));
  for (int i = 0; i < n; i++) t[i] = x[i] * (i + 1);
  memmove(t, t + 2, (size_t)(n - 2) * sizeof(double));
  double s = 0;
  for (int i = 0; i < n; i++) s += t[i] * t[i] * (i + 1);
  free(t);
  return s;
}
DECLARE_FD(shift_down)

int main(void) {
  e2e_begin("memory/memmove_overlap");
  double x[5] = {1.0, -2.0, 0.5, 1.5, -0.25};
  int n = len;
  /* up: t = [x0, x0, 2x1, 3x2, 4x3]; s = sum t_i^2 (i+1) */
  double gu[5] = {0};
  double c[5] = {1, 1, 2, 3, 4};
  int src[5] = {0, 0, 1, 2, 3};
  for (int i = 0; i < n; i++) gu[src[i]] += 2 * c[i] * c[i] * x[src[i]] * (i + 1);
  CHECK_BOTH(shift_up, x, 5, gu);
  /* down: t = [3x2, 4x3, 5x4, 4x3, 5x4] */
  double gd[5] = {0};
  double cd[5] = {3, 4, 5, 4, 5};
  int sd[5] = {2, 3, 4, 3, 4};
  for (int i = 0; i < n; i++) gd[sd[i]] += 2 * cd[i] * cd[i] * x[sd[i]] * (i + 1);
  CHECK_BOTH(shift_down, x, 5, gd);
  return e2e_finish();
}
