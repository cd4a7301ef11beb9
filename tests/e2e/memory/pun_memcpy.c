// A double copied bit for bit through a uint64_t with memcpy and stored back (#9), also through an
// array of integers and through functions that take and return the bits.
#include "both.h"
#include <stdint.h>

static double roundtrip(double *x) {
  uint64_t bits;
  double y;
  memcpy(&bits, &x[0], sizeof bits);
  memcpy(&y, &bits, sizeof bits);
  return y * x[1];
}
DECLARE_FD(roundtrip)

static volatile int len = 3;

static double through_array(double *x) {
  int n = len;
  uint64_t bits[3];
  double back[3];
  for (int i = 0; i < n; i++) { double v = x[i] * x[i]; memcpy(&bits[(i + 1) % n], &v, 8); }
  memcpy(back, bits, (size_t)n * sizeof(double));
  return back[0] * 2 + back[1] * back[2];
}
DECLARE_FD(through_array)

static __attribute__((noinline)) uint64_t to_bits(double v) { uint64_t b; memcpy(&b, &v, 8); return b; }
static __attribute__((noinline)) double from_bits(uint64_t b) { double v; memcpy(&v, &b, 8); return v; }

static double through_calls(double *x) {
  uint64_t b = to_bits(x[0] * x[1]);
  return from_bits(b) * 3.0 + from_bits(to_bits(sin(x[1])));
}
DECLARE_FD(through_calls)

int main(void) {
  e2e_begin("memory/pun_memcpy");
  double x[3] = {1.5, -0.5, 2.0};
  double g[2] = {x[1], x[0]};
  CHECK_BOTH(roundtrip, x, 2, g);
  /* bits[(i+1)%3] = x[i]^2: back = [x2^2, x0^2, x1^2] */
  double ga[3] = {2 * x[0] * x[1] * x[1], 2 * x[1] * x[0] * x[0], 4 * x[2]};
  CHECK_BOTH(through_array, x, 3, ga);
  double gc[2] = {3 * x[1], 3 * x[0] + cos(x[1])};
  CHECK_BOTH(through_calls, x, 2, gc);
  return e2e_finish();
}
