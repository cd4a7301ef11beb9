/* Fuzz seed 402 (tests/fuzz/gen.py), reduced by line deletion. The helper reads t+4 (malloc copy of x)
   in a loop; the caller later overwrites t[7]: reverse-mode dx[7] is wrong (0.02078 vs 0.02622),
   as if the helper's reverse re-read the overwritten memory. Forward mode passes.
   Fixed; kept as a regression test. */
// wrap: f 6   (tests/test_fuzz_ad.py builds the program with gen.wrap)

static __attribute__((noinline)) double g(double a, double *p, int m) {
  double r = a;
  for (int q = 0; q < m % 4 + 1; q++) r = 0.5 * r + sin(p[(m + q) % 8] * a);
  return r;
}
__attribute__((noinline)) double f(double *x, double *w, int n) {
  double s = 0.0;
  double u = 0.0;
  double *t = (double *)malloc(L * sizeof(double));
  for (int r = 0; r < L; r++) t[r] = x[r];
  for (int i = 0; i < 5; i++) {
    s += 0.2 * g((-0.75) * (-1.41), t + 4, i + 3);
  }
  for (int l = 2; l < n; l++) {
    t[(n + 1) % 8] = t[(l) % 8];
  }
  free(t);
  return s + 0.3 * u;
}
