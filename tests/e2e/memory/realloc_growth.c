// A buffer grown with realloc inside a loop and re-read after each growth (#9): the adjoints of
// the bytes realloc moves must follow them, whatever their type (float and double buffers; the
// runtime once added them as doubles, wrong for floats), in both modes; the loop count is known
// only at run time, so the loop may also not run (free of a phi of NULL and realloc).
#include "both.h"

static volatile int steps = 8;

static double grow_float(double *x) {
  int n = steps;
  float *b = NULL;
  double s = 0;
  for (int i = 0; i < n; i++) {
    b = (float *)realloc(b, (size_t)(i + 1) * sizeof *b);
    b[i] = (float)x[0] * (float)(i + 1);
    s += (double)(b[i] * b[0]);
  }
  free(b);
  return s;
}
DECLARE_FD(grow_float)

static double grow_double(double *x) {
  int n = steps;
  double *b = NULL;
  double s = 0;
  for (int i = 0; i < n; i++) {
    b = (double *)realloc(b, (size_t)(i + 1) * sizeof *b);
    b[i] = x[i % 2] * (i + 1) + sin(x[1]);
    s += b[i] * b[0] + b[i / 2];
  }
  free(b);
  return s;
}
DECLARE_FD(grow_double)

int main(void) {
  e2e_begin("memory/realloc_growth");
  double x[2] = {1.25, -0.4};
  /* float: s = 36 x0^2 */
  double gf[1] = {72 * x[0]};
  CHECK_BOTH_F32(grow_float, x, 1, gf);
  check_f32("issue value", 0, gf[0], 90.0);
  /* double: b[i] = x[i%2](i+1) + sin x1; s = sum_i b[i] b[0] + b[i/2] */
  double g[2] = {0, 0};
  int n = steps;
  double b[64], db0[64][2];
  for (int i = 0; i < n; i++) {
    b[i] = x[i % 2] * (i + 1) + sin(x[1]);
    db0[i][0] = (i % 2 == 0) ? (i + 1) : 0;
    db0[i][1] = ((i % 2 == 1) ? (i + 1) : 0) + cos(x[1]);
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < 2; k++) g[k] += db0[i][k] * b[0] + b[i] * db0[0][k] + db0[i / 2][k];
  CHECK_BOTH(grow_double, x, 2, g);
  /* no iterations: nothing allocated, the derivative is zero */
  steps = 0;
  double z[2] = {0, 0};
  CHECK_BOTH(grow_double, x, 2, z);
  CHECK_BOTH_F32(grow_float, x, 1, z);
  return e2e_finish();
}
