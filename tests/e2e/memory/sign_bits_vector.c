// Signs changed through the bits of vectors viewed as integers (#9), as Eigen's vectorized 4x4
// inverse does: SSE packets of doubles XOR-ed with a per-lane sign mask (<2 x i64>), absolute
// values by and-not, and packets of floats (<4 x i32>); GCC vector types and SSE intrinsics. Each
// lane's derivative must follow its value's sign.
#include "both.h"
#include <stdint.h>
#include <emmintrin.h>

typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2i __attribute__((vector_size(16)));
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static double vector_types(double *x) {
  v2d a = {x[0] * x[1], x[2]};
  v2i m = {0, INT64_MIN};                 /* flip the second lane only */
  v2d r = (v2d)((v2i)a ^ m);              /* {x0 x1, -x2} */
  v2d s = (v2d)((v2i)a & ~(v2i){INT64_MIN, INT64_MIN}); /* |a| */
  return r[0] * x[3] + 2 * r[1] + 3 * s[1] + s[0];
}
DECLARE_FD(vector_types)

static double float_lanes(double *x) {
  v4f f = {(float)x[0], (float)x[1], (float)x[2], (float)x[3]};
  v4f g = (v4f)((v4i)f ^ (v4i){INT32_MIN, 0, INT32_MIN, 0}); /* {-x0, x1, -x2, x3} */
  return g[0] * g[1] + g[2] * g[3];
}
DECLARE_FD(float_lanes)

static double intrinsics(double *x) {
  __m128d a = _mm_set_pd(x[1] * x[2], x[0]);             /* {x0, x1 x2} */
  __m128d neg = _mm_xor_pd(a, _mm_set_pd(-0.0, 0.0));    /* {x0, -x1 x2} */
  __m128d abs = _mm_andnot_pd(_mm_set1_pd(-0.0), a);     /* {|x0|, |x1 x2|} */
  double out[2], mag[2];
  _mm_storeu_pd(out, _mm_mul_pd(neg, _mm_set1_pd(x[3])));
  _mm_storeu_pd(mag, abs);
  return out[0] + 2 * out[1] + 3 * mag[0] + mag[1];
}
DECLARE_FD(intrinsics)

static double sgn(double v) { return v < 0 ? -1.0 : 1.0; }

int main(void) {
  e2e_begin("memory/sign_bits_vector");
  double x[4] = {-0.5, 2.0, 1.5, 0.75};
  /* x0 x1 x3 - 2 x2 + 3 |x2| + |x0 x1| */
  double a01 = x[0] * x[1];
  double g[4] = {x[1] * x[3] + sgn(a01) * x[1], x[0] * x[3] + sgn(a01) * x[0], -2 + 3 * sgn(x[2]), a01};
  CHECK_BOTH(vector_types, x, 4, g);
  /* -x0 x1 - x2 x3, in single precision */
  double gf[4] = {-x[1], -x[0], -x[3], -x[2]};
  CHECK_BOTH_F32(float_lanes, x, 4, gf);
  /* x0 x3 - 2 x1 x2 x3 + 3 |x0| + |x1 x2| */
  double p = x[1] * x[2];
  double gi[4] = {x[3] + 3 * sgn(x[0]), -2 * x[2] * x[3] + sgn(p) * x[2], -2 * x[1] * x[3] + sgn(p) * x[1],
                  x[0] - 2 * p};
  CHECK_BOTH(intrinsics, x, 4, gi);
  return e2e_finish();
}
