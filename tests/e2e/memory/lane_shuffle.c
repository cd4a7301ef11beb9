// Doubles moved by shuffles of 32-bit integer lanes (#9), as Eigen's SSE2 swizzles write them
// (_mm_shuffle_epi32 on a packet of doubles): a shuffle that moves whole doubles (lanes 2,3,0,1
// swap them, 0,1,0,1 broadcasts the first) is differentiated over the doubles. The optimizer
// usually rewrites such shuffles over <2 x double>; tests/test_float_lanes.py also builds this
// program with --ad-stage=unoptimized, where they stay shuffles of <4 x i32>.
#include "both.h"
#include <stdint.h>

typedef double v2d __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static double swapped(double *x) {
  v2d a = {x[0] * x[0], x[1]};
  v2d r = (v2d)__builtin_shufflevector((v4i)a, (v4i)a, 2, 3, 0, 1); /* {x1, x0^2} */
  v2d b = (v2d)__builtin_shufflevector((v4i)r, (v4i)a, 4, 5, 0, 1); /* {x0^2, x1} */
  return 3 * r[0] + r[1] * x[2] + b[0] * b[1];
}
DECLARE_FD(swapped)

int main(void) {
  e2e_begin("memory/lane_shuffle");
  double x[3] = {1.5, -0.5, 0.75};
  /* 3 x1 + x0^2 x2 + x0^2 x1 */
  double g[3] = {2 * x[0] * (x[2] + x[1]), 3 + x[0] * x[0], x[0] * x[0]};
  CHECK_BOTH(swapped, x, 3, g);
  return e2e_finish();
}
