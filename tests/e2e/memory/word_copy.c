// Doubles and floats moved as integer words (#9): `memcpy(&bits, &t[i], 8)` then stored to
// another element, with variable indices (type analysis places the word by the array's period),
// sign bits flipped in a loop (LLVM folds the xors into `bits - (trips << 63)`), and words of {double, long} records that nothing types (told apart at run time: a
// swap and a pick through a branch). The derivative must follow the copied value, and the
// overwritten element's adjoint must stop. f32 words: word_copy_f32.c (a program whose derivatives
// carry floats refuses i64 words nothing types, which may hold two floats).
#include "both.h"
#include <stdint.h>

static volatile int sel = 2;

static double word_copy(double *x) {
  int n = sel;
  double t[8];
  for (int i = 0; i < 8; i++) t[i] = x[i] * x[i];
  uint64_t b;
  memcpy(&b, &t[n % 8], 8);
  memcpy(&t[(n + 1) % 8], &b, 8); /* t3 = t2 */
  double s = 0;
  for (int i = 0; i < 8; i++) s += t[i] * (i + 1);
  return s;
}
DECLARE_FD(word_copy)

/* the sign of t[n] (or t[2]) flipped n(n+1)/2 times through its bits */
static double sign_loop(double *x) {
  int n = sel + 3; /* 5 flips 15 times: negated */
  double t[8];
  for (int i = 0; i < 8; i++) t[i] = x[i] * x[(i + 1) % 8];
  for (int k = 0; k < n; k++)
    for (int l = k; l < n; l++) {
      uint64_t b;
      memcpy(&b, &t[n % 8], 8); b ^= 0x8000000000000000ull; memcpy(&t[n % 8], &b, 8);
      memcpy(&b, &t[2], 8); b ^= 0x8000000000000000ull; memcpy(&t[2], &b, 8);
    }
  double s = 0;
  for (int i = 0; i < 8; i++) s += t[i] * (i + 1);
  return s;
}
DECLARE_FD(sign_loop)

struct rec { double v; long k; };

/* words of records moved through uint64_t: r0.v <-> r1.v, then r2.v = r0.v */
static double record_words(double *x) {
  int n = sel - 2;
  struct rec r[3] = {{x[0] * x[0], 3}, {x[1], 4}, {x[2] * x[1], 5}};
  char *c = (char *)r;
  uint64_t a, b, p;
  int i = (2 * n) % 6, j = (2 * n + 2) % 6, k = (2 * n + 4) % 6;
  memcpy(&a, c + 8 * i, 8);
  memcpy(&b, c + 8 * j, 8);
  memcpy(c + 8 * i, &b, 8);
  memcpy(c + 8 * j, &a, 8);
  if (x[0] > 0) memcpy(&p, c + 8 * i, 8); else memcpy(&p, c + 8 * k, 8);
  memcpy(c + 8 * k, &p, 8);
  return r[0].v + 2 * r[1].v + 3 * r[2].v + (double)(r[0].k + r[1].k + r[2].k);
}
DECLARE_FD(record_words)

int main(void) {
  e2e_begin("memory/word_copy");
  double x[8] = {1.5, -2.0, 0.75, -1.25, 0.5, 2.5, -0.25, 1.0};
  double g[8];
  /* t = x^2 with t3 = t2: s = sum (i+1) x_i^2 - 4 x3^2 + 4 x2^2 */
  for (int i = 0; i < 8; i++) g[i] = 2 * (i + 1) * x[i];
  g[2] += 8 * x[2];
  g[3] = 0;
  CHECK_BOTH(word_copy, x, 8, g);
  /* t_i = x_i x_{i+1}; t2 flipped 15 times and t5 15 times: both negated */
  double c[8];
  for (int i = 0; i < 8; i++) c[i] = (i == 2 || i == 5) ? -(i + 1) : (i + 1);
  for (int i = 0; i < 8; i++) g[i] = c[i] * x[(i + 1) % 8] + c[(i + 7) % 8] * x[(i + 7) % 8];
  CHECK_BOTH(sign_loop, x, 8, g);
  /* r.v = {x1, x0^2, x1}: s = x1 + 2 x0^2 + 3 x1 + 12 */
  double gr[3] = {4 * x[0], 4, 0};
  CHECK_BOTH(record_words, x, 3, gr);
  return e2e_finish();
}
