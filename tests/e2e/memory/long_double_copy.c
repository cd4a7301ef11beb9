// Arrays of long double (x86_fp80: 10 bytes in 16) copied with memcpy and memmove of a run-time
// length, in both modes (#9): the reverse once saw nothing of their type (a padded element) and
// moved each 8-byte word as a double; the adjoints now move element by element as long doubles.
#include "both.h"

static volatile int len = 3;

static double copied(double *x) {
  int n = len;
  long double a[3], b[3];
  for (int i = 0; i < n; i++) a[i] = (long double)x[i] * (i + 1);
  memcpy(b, a, (size_t)n * sizeof(long double));
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)(a[i] * b[i]);
  return s;
}
DECLARE_FD(copied)

static double moved(double *x) {
  int n = len;
  long double a[3];
  for (int i = 0; i < n; i++) a[i] = (long double)x[i] * (i + 1);
  memmove(&a[1], &a[0], (size_t)(n - 1) * sizeof(long double)); /* a = {y0, y0, y1} */
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)(a[i] * a[i]) * (i + 1);
  return s;
}
DECLARE_FD(moved)

int main(void) {
  e2e_begin("memory/long_double_copy");
  double x[3] = {0.5, -1.25, 2.0};
  double g[3], gm[3];
  for (int i = 0; i < 3; i++) g[i] = 2.0 * (i + 1) * (i + 1) * x[i];
  CHECK_BOTH(copied, x, 3, g);
  /* y_i = (i+1) x_i; s = y0^2 + 2 y0^2 + 3 y1^2 */
  gm[0] = 2 * 3 * x[0]; gm[1] = 2 * 3 * 4 * x[1]; gm[2] = 0;
  CHECK_BOTH(moved, x, 3, gm);
  return e2e_finish();
}
