// Doubles reinterpreted through unions (#9): a union of double and uint64_t with sign changes on
// the integer member, and an array of such unions written as doubles and read back as bits.
#include "both.h"
#include <stdint.h>

typedef union { double d; uint64_t u; } pun;

static double through_union(double *x) {
  pun a, b;
  a.d = x[0] * x[1];
  a.u ^= 1ull << 63;      /* -x0 x1 */
  b.d = x[2];
  b.u &= ~(1ull << 63);   /* |x2| */
  return a.d * x[0] + 3 * b.d;
}
DECLARE_FD(through_union)

static volatile int len = 3;

static double union_array(double *x) {
  int n = len;
  pun t[3], r[3];
  for (int i = 0; i < n; i++) t[i].d = sin(x[i]) + x[(i + 1) % n];
  for (int i = 0; i < n; i++) r[n - 1 - i].u = t[i].u;
  double s = 0;
  for (int i = 0; i < n; i++) s += r[i].d * (i + 2);
  return s;
}
DECLARE_FD(union_array)

int main(void) {
  e2e_begin("memory/union_pun");
  double x[3] = {0.5, 2.0, -1.5};
  double g[3] = {-2 * x[0] * x[1], -x[0] * x[0], x[2] < 0 ? -3.0 : 3.0};
  CHECK_BOTH(through_union, x, 3, g);
  /* r[n-1-i] = t[i]: s = sum_i t[i] (n-1-i+2) */
  double gu[3] = {0, 0, 0};
  int n = len;
  for (int i = 0; i < n; i++) {
    double w = n - 1 - i + 2;
    gu[i] += cos(x[i]) * w;
    gu[(i + 1) % n] += w;
  }
  CHECK_BOTH(union_array, x, 3, gu);
  return e2e_finish();
}
