// Floats carried in integers (#9): a double loaded as a uint64_t by one noinline function and
// stored by another, whose own type analysis sees only integers (their derivatives once dropped
// the value: a zero gradient; they are now specialized on what the caller knows), and a pair of
// floats moved as one uint64_t within a function (a <2 x float> adjoint). Both modes. (A pair of
// floats passed by value as an i64 is refused in reverse mode: test_ad_errors.py.)
#include "both.h"
#include <stdint.h>

static __attribute__((noinline)) uint64_t get8(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static __attribute__((noinline)) void put8(void *p, uint64_t v) { memcpy(p, &v, 8); }

/* a double out through get8, back with memcpy */
static double get_double(double *x) {
  double a[1] = {x[0] * x[1]}, b;
  uint64_t v = get8(a);
  memcpy(&b, &v, 8);
  return b * 3.0;
}
DECLARE_FD(get_double)

/* a double in through put8 */
static double put_double(double *x) {
  double a = x[0] * x[1], b[1];
  uint64_t v;
  memcpy(&v, &a, 8);
  put8(b, v);
  return b[0] * 3.0;
}
DECLARE_FD(put_double)

/* a double through both, stored twice, the source read again */
static double both_double(double *x) {
  double a[1] = {x[0] * x[1]}, b[1], c[1];
  uint64_t v = get8(a);
  put8(b, v);
  put8(c, v);
  return a[0] * b[0] + c[0] * 3.0;
}
DECLARE_FD(both_double)

/* two floats in one uint64_t, within one function */
static double pair_local(double *x) {
  float a[2] = {(float)x[0] * 2.0f, (float)x[1] * (float)x[1]}, b[2];
  uint64_t bits;
  memcpy(&bits, a, 8);
  memcpy(b, &bits, 8);
  return (double)(a[0] * b[0] + a[1] * b[1]) + (double)(b[0] * b[1]);
}
DECLARE_FD(pair_local)

int main(void) {
  e2e_begin("memory/integer_carried_floats");
  double x[2] = {0.5, -1.25};
  double g3[2] = {3 * x[1], 3 * x[0]};
  CHECK_BOTH(get_double, x, 2, g3);
  CHECK_BOTH(put_double, x, 2, g3);
  /* both_double: a = x0 x1, f = a^2 + 3 a */
  double a = x[0] * x[1];
  double gb[2] = {(2 * a + 3) * x[1], (2 * a + 3) * x[0]};
  CHECK_BOTH(both_double, x, 2, gb);
  /* pairs: a0 = 2 x0, a1 = x1^2: f = a0^2 + a1^2 + a0 a1 */
  double a0 = 2 * x[0], a1 = x[1] * x[1];
  double gp[2] = {(2 * a0 + a1) * 2, (2 * a1 + a0) * 2 * x[1]};
  CHECK_BOTH_F32(pair_local, x, 2, gp);
  return e2e_finish();
}
