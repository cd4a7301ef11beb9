// A single small realloc keeps the adjoints (and tangents) of what it moved, float and double;
// realloc(NULL, n) allocates (forward mode once crashed on it).
#include "both.h"

static double once_double(double *x) {
  double *b = (double *)malloc(sizeof *b);
  b[0] = x[0] * x[0];
  b = (double *)realloc(b, 2 * sizeof *b);
  b[1] = 3 * x[0];
  double s = b[0] * b[1];
  free(b);
  return s;
}
DECLARE_FD(once_double)

static double once_float(double *x) {
  float *b = (float *)malloc(sizeof *b);
  b[0] = (float)(x[0] * x[0]);
  b = (float *)realloc(b, 3 * sizeof *b);
  b[2] = (float)(3 * x[0]);
  double s = (double)b[0] * (double)b[2];
  free(b);
  return s;
}
DECLARE_FD(once_float)

static double from_null(double *x) {
  double *b = (double *)realloc(NULL, 3 * sizeof *b);
  for (int i = 0; i < 3; i++) b[i] = x[i] * x[i];
  double s = 0;
  for (int i = 0; i < 3; i++) s += b[i] * x[0];
  free(b);
  return s;
}
DECLARE_FD(from_null)

int main(void) {
  e2e_begin("memory/realloc_small");
  double x[3] = {1.5, -0.5, 2.0};
  double g1[1] = {9 * x[0] * x[0]};
  CHECK_BOTH(once_double, x, 1, g1);
  CHECK_BOTH_F32(once_float, x, 1, g1);
  double s2 = x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
  double g3[3] = {s2 + 2 * x[0] * x[0], 2 * x[1] * x[0], 2 * x[2] * x[0]};
  CHECK_BOTH(from_null, x, 3, g3);
  return e2e_finish();
}
