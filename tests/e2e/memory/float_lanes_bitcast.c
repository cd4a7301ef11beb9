// Floats viewed as doubles and back in one function (#9): <2 x float> <-> double through
// __builtin_memcpy and noinline helpers, <4 x float> <-> <2 x double> vector casts, with float
// arithmetic on both sides, in both modes. The optimizer folds these views away; a view that
// stays (a double holding two floats passed to two functions) is refused in reverse mode
// (tests/test_ad_errors.py float_lanes_reinterpreted), never added up as one double.
#include "both.h"

typedef float v2f __attribute__((vector_size(8)));
typedef float v4f __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));

static __attribute__((noinline)) double pack(v2f v) { double d; __builtin_memcpy(&d, &v, 8); return d; }
static __attribute__((noinline)) v2f unpack(double d) { v2f v; __builtin_memcpy(&v, &d, 8); return v; }

/* floats -> double bits -> floats, with float arithmetic on both sides */
static double pair(double *x) {
  v2f v = {(float)x[0] * 2.0f, (float)x[1] * (float)x[1]};
  double d = pack(v);
  v2f w = unpack(d);
  return (double)(w[0] * w[1]) + (double)w[0];
}
DECLARE_FD(pair)
static double quad(double *x) {
  v4f v = {(float)x[0], (float)x[1] * 3.0f, (float)x[2], (float)(x[0] * x[2])};
  v2d d = (v2d)v;
  v4f w = (v4f)d;
  return (double)(w[0] * w[1] + w[2] * w[3]);
}
DECLARE_FD(quad)
/* the double view used twice: its adjoint sums two contributions */
static double twice(double *x) {
  v2f v = {(float)x[0] * 2.0f, (float)x[1] * (float)x[1]};
  double d = pack(v);
  v2f w = unpack(d), u = unpack(d);
  return (double)(w[0] * w[1]) + (double)(u[0] * 3.0f + u[1]);
}
DECLARE_FD(twice)
static double quad2(double *x) {
  v4f v = {(float)x[0], (float)x[1] * 3.0f, (float)x[2], (float)(x[0] * x[2])};
  v2d d = (v2d)v;
  v4f w = (v4f)d, u = (v4f)d;
  return (double)(w[0] * w[1] + w[2] * w[3]) + (double)(u[0] + u[1] * 2.0f + u[3]);
}
DECLARE_FD(quad2)
/* doubles viewed as 4 floats and back */
static double dview(double *x) {
  v2d d = {x[0] * x[1], x[2]};
  v4f f = (v4f)d;
  v4f g = f;  /* copies */
  v2d e = (v2d)f, h = (v2d)g;
  return e[0] * e[1] + h[0] * 2.0 + h[1];
}
DECLARE_FD(dview)
int main(void) {
  e2e_begin("memory/float_lanes_bitcast");
  double x[3] = {0.5, -1.25, 2.0};
  /* pair: w0 = 2 x0, w1 = x1^2: f = 2 x0 x1^2 + 2 x0 */
  double g[2] = {2 * x[1] * x[1] + 2, 4 * x[0] * x[1]};
  CHECK_BOTH_F32(pair, x, 2, g);
  /* quad: f = 3 x0 x1 + x2 * x0 x2 */
  double gq[3] = {3 * x[1] + x[2] * x[2], 3 * x[0], 2 * x[0] * x[2]};
  CHECK_BOTH_F32(quad, x, 3, gq);
  /* twice: w0 = u0 = 2 x0, w1 = u1 = x1^2: f = 2 x0 x1^2 + 6 x0 + x1^2 */
  double gt[2] = {2 * x[1] * x[1] + 6, 4 * x[0] * x[1] + 2 * x[1]};
  CHECK_BOTH_F32(twice, x, 2, gt);
  /* quad2: f = 3 x0 x1 + x0 x2^2 + x0 + 6 x1 + x0 x2 */
  double gq2[3] = {3 * x[1] + x[2] * x[2] + 1 + x[2], 3 * x[0] + 6, 2 * x[0] * x[2] + x[0]};
  CHECK_BOTH_F32(quad2, x, 3, gq2);
  /* dview: f = x0 x1 x2 + 2 x0 x1 + x2 */
  double gd[3] = {x[1] * x[2] + 2 * x[1], x[0] * x[2] + 2 * x[0], x[0] * x[1] + 1};
  CHECK_BOTH(dview, x, 3, gd);
  return e2e_finish();
}
