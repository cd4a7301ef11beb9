// Two floats passed to a function as the bits of one 64-bit integer (#9): the caller reads them
// from memory as an i64 (or assembles them with zext/shl/or after SROA), the callee cuts them out
// with trunc and lshr. No derivative is synthesized for those moves: both modes refuse them with
// a located error (strict xfail in tests/test_e2e.py until they are differentiated).
#include "both.h"
#include <stdint.h>

__attribute__((noinline)) static double product(uint64_t bits) {
  float p[2];
  memcpy(p, &bits, sizeof p);
  return (double)p[0] * p[1];
}

static double packed_call(double *x) {
  float p[2] = {(float)x[0], (float)(x[1] * x[1])};
  uint64_t bits;
  memcpy(&bits, p, sizeof bits);
  return product(bits) + x[1];
}
DECLARE_FD(packed_call)

int main(void) {
  e2e_begin("memory/float_bits_by_value");
  double x[2] = {1.5, -0.75};
  double g[2] = {(double)(float)(x[1] * x[1]), 2 * x[1] * (double)(float)x[0] + 1};
  CHECK_BOTH_F32(packed_call, x, 2, g);
  return e2e_finish();
}
