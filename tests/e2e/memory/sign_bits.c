// Signs changed through the bits of a punned integer (#9): negation (bits ^ SIGN), absolute value
// (bits & ~SIGN), minus absolute value (bits | SIGN) and copysign ((a & ~SIGN) | (b & SIGN)), for
// doubles (uint64_t) and floats (uint32_t), in registers and through memory: the derivative's sign
// must follow the value's.
#include "both.h"
#include <stdint.h>

#define SIGN64 (1ull << 63)
#define SIGN32 (1u << 31)

static __attribute__((noinline)) double neg_bits(double v) {
  uint64_t b; memcpy(&b, &v, 8); b ^= SIGN64; memcpy(&v, &b, 8); return v;
}
static __attribute__((noinline)) double abs_bits(double v) {
  uint64_t b; memcpy(&b, &v, 8); b &= ~SIGN64; memcpy(&v, &b, 8); return v;
}
static __attribute__((noinline)) double nabs_bits(double v) {
  uint64_t b; memcpy(&b, &v, 8); b |= SIGN64; memcpy(&v, &b, 8); return v;
}
static __attribute__((noinline)) double copysign_bits(double m, double s) {
  uint64_t a, b; memcpy(&a, &m, 8); memcpy(&b, &s, 8);
  a = (a & ~SIGN64) | (b & SIGN64); memcpy(&m, &a, 8); return m;
}
static __attribute__((noinline)) float fabs_bits32(float v) {
  uint32_t b; memcpy(&b, &v, 4); b &= ~SIGN32; memcpy(&v, &b, 4); return v;
}

static double calls(double *x) {
  return 3 * neg_bits(x[0]) * x[0] + 5 * abs_bits(x[1]) + 2 * nabs_bits(x[2] * x[0])
       + copysign_bits(x[3] * x[3], x[1]);
}
DECLARE_FD(calls)

static double calls32(double *x) { return (double)fabs_bits32((float)x[1]) * x[2]; }
DECLARE_FD(calls32)

static volatile int len = 4;

/* through memory: each element gets its predecessor, negated or made positive */
static double chain(double *x) {
  int n = len;
  double t[4];
  for (int i = 0; i < n; i++) t[i] = x[i] * x[i] - 1.0;
  for (int i = 0; i + 1 < n; i++) {
    uint64_t b;
    memcpy(&b, &t[i], 8);
    if (i % 2) b ^= SIGN64; else b &= ~SIGN64;
    memcpy(&t[i + 1], &b, 8);
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += t[i] * (i + 1);
  return s;
}
DECLARE_FD(chain)

static double sgn(double v) { return v < 0 ? -1.0 : 1.0; }

int main(void) {
  e2e_begin("memory/sign_bits");
  double x[4] = {1.5, -2.0, 0.75, -1.25};
  double g[4];
  g[0] = -6 * x[0] - 2 * sgn(x[2] * x[0]) * x[2];
  g[1] = 5 * sgn(x[1]);
  g[2] = -2 * sgn(x[2] * x[0]) * x[0];
  g[3] = 2 * x[3] * sgn(x[1]);
  CHECK_BOTH(calls, x, 4, g);
  double g32[3] = {0, sgn(x[1]) * x[2], fabs(x[1])};
  CHECK_BOTH_F32(calls32, x, 3, g32);
  /* chain: t0 = x0^2-1 (0.75 > 0), t1 = |t0|, t2 = -t1, t3 = |t2| = t0 */
  double t0 = x[0] * x[0] - 1;
  double gc[4] = {2 * x[0] * sgn(t0) * (1 + 2 - 3 + 4), 0, 0, 0};
  CHECK_BOTH(chain, x, 4, gc);
  return e2e_finish();
}
