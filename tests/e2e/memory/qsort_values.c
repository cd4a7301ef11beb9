// qsort of doubles with a comparator, qsort_r sorting downwards, qsort of pointers by the values
// they point to, and bsearch returning a pointer into the sorted array (#9): the permutation has
// no derivative, the values carry tangents and adjoints.
#define _GNU_SOURCE
#include "both.h"

static int up(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static int by_sign(const void *a, const void *b, void *sign) { return *(const int *)sign * up(a, b); }
static int by_target(const void *a, const void *b) { return up(*(const double *const *)a, *(const double *const *)b); }

static volatile int len = 4;

static double sorted_weights(double *x) {
  int n = len;
  double t[4];
  for (int i = 0; i < n; i++) t[i] = x[i] * x[i];
  qsort(t, (size_t)n, sizeof(double), up);
  double s = 0;
  for (int i = 0; i < n; i++) s += t[i] * (i + 1);
  return s;
}
DECLARE_FD(sorted_weights)

static double sorted_down(double *x) {
  int n = len, down = -1;
  double *t = (double *)malloc((size_t)n * sizeof(double));
  for (int i = 0; i < n; i++) t[i] = sin(x[i]);
  qsort_r(t, (size_t)n, sizeof(double), by_sign, &down);
  double s = t[0] * 4 + t[1] * t[2];
  free(t);
  return s;
}
DECLARE_FD(sorted_down)

static double sorted_pointers(double *x) {
  int n = len;
  double *p[4];
  for (int i = 0; i < n; i++) p[i] = &x[i];
  qsort(p, (size_t)n, sizeof p[0], by_target);
  return *p[0] * 3 + *p[n - 1] * *p[1];
}
DECLARE_FD(sorted_pointers)

static int by_floor(const void *a, const void *b) {
  double x = floor(*(const double *)a), y = floor(*(const double *)b);
  return (x > y) - (x < y);
}

static double searched(double *x) {
  int n = len;
  double t[4];
  for (int i = 0; i < n; i++) t[i] = x[i] * (i + 1);
  qsort(t, (size_t)n, sizeof(double), up);
  double key = 1.2; /* the element whose integer part is 1 */
  double *hit = (double *)bsearch(&key, t, (size_t)n, sizeof(double), by_floor);
  return hit ? hit[0] * x[0] + (hit > t ? hit[-1] : 0.0) : 0.0;
}
DECLARE_FD(searched)

int main(void) {
  e2e_begin("memory/qsort_values");
  double x[4] = {1.5, -0.5, 1.0, 0.25};
  /* squares 2.25 .25 1 .0625 ascending: x3 x1 x2 x0 with weights 1 2 3 4 */
  double g[4] = {2 * x[0] * 4, 2 * x[1] * 2, 2 * x[2] * 3, 2 * x[3] * 1};
  CHECK_BOTH(sorted_weights, x, 4, g);
  /* sines descending: sin 1.5 > sin 1 > sin .25 > sin -.5: t0 = sin x0, t1 = sin x2, t2 = sin x3 */
  double gd[4] = {4 * cos(x[0]), 0, cos(x[2]) * sin(x[3]), sin(x[2]) * cos(x[3])};
  CHECK_BOTH(sorted_down, x, 4, gd);
  /* pointers by value: x1 < x3 < x2 < x0: 3 x1 + x0 x3 */
  double gp[4] = {x[3], 3, 0, x[0]};
  CHECK_BOTH(sorted_pointers, x, 4, gp);
  /* t = {1.5, -1, 3, 3} sorted: -1 (2 x1), 1.5 (x0), 3, 3; the hit is x0's: x0 * x0 + 2 x1 */
  double x2[4] = {1.5, -0.5, 1.0, 0.75};
  double gs[4] = {2 * x2[0], 2.0, 0, 0};
  CHECK_BOTH(searched, x2, 4, gs);
  return e2e_finish();
}
