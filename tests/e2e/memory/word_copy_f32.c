// Floats moved as uint32_t words (#9), with variable indices (type analysis places the word by
// the array's period), copied and sign-flipped: the derivative follows the copied value, and the
// overwritten elements' adjoints stop. (word_copy.c: the same for doubles.)
#include "both.h"
#include <stdint.h>

static volatile int sel = 2;

static double word_copy32(double *x) {
  int n = sel;
  float t[8];
  for (int i = 0; i < 8; i++) t[i] = (float)(x[i] * x[i]);
  uint32_t b;
  memcpy(&b, &t[n % 8], 4);
  memcpy(&t[(n + 3) % 8], &b, 4); /* t5 = t2 */
  b ^= 0x80000000u;
  memcpy(&t[(n + 4) % 8], &b, 4); /* t6 = -t2 */
  double s = 0;
  for (int i = 0; i < 8; i++) s += (double)t[i] * (i + 1);
  return s;
}
DECLARE_FD(word_copy32)

int main(void) {
  e2e_begin("memory/word_copy_f32");
  double x[8] = {1.5, -2.0, 0.75, -1.25, 0.5, 2.5, -0.25, 1.0};
  double g[8];
  /* t = x^2 (floats), t5 = t2, t6 = -t2: weight of x2^2 is 3 + 6 - 7 = 2 */
  for (int i = 0; i < 8; i++) g[i] = 2 * (i + 1) * x[i];
  g[2] = 2 * 2 * x[2];
  g[5] = g[6] = 0;
  CHECK_BOTH_F32(word_copy32, x, 8, g);
  return e2e_finish();
}
