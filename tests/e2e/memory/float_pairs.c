// Pairs of floats copied as one 64-bit integer (#9): a loop of 8-byte memcpy's becomes loads and
// stores of i64 whose bytes are two floats (a struct of two floats, std::complex<float>). Each
// float's derivative must follow it through the copy, in both modes.
#include "both.h"
#include <stdint.h>
#include <stdlib.h>

#define N 8

static volatile int pairs = N / 2; /* not a constant: the copy stays a loop */

static double pair_products(double *x) {
  int n = pairs;
  float *f = malloc(2 * n * sizeof *f), *g = malloc(2 * n * sizeof *g);
  for (int i = 0; i < 2 * n; i++) f[i] = (float)x[i];
  for (int i = 0; i < n; i++) {
    uint64_t bits;
    memcpy(&bits, f + 2 * i, sizeof bits);
    memcpy(g + 2 * (n - 1 - i), &bits, sizeof bits); /* pairs in reverse order */
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += (n - i) * (double)g[2 * i] * g[2 * i + 1];
  free(f);
  free(g);
  return s;
}
DECLARE_FD(pair_products)

int main(void) {
  e2e_begin("memory/float_pairs");
  double x[N], g[N];
  for (int i = 0; i < N; i++) x[i] = 0.25 + 0.125 * i - 0.5 * (i % 3 == 1);
  for (int i = 0; i < N; i++) g[i] = (i / 2 + 1) * (double)(float)x[i ^ 1];
  CHECK_BOTH_F32(pair_products, x, N, g);
  return e2e_finish();
}
