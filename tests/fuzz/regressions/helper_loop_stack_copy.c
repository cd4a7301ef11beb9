/* Minimized from fuzz seed 402 (tests/fuzz/gen.py). A noinline helper with a loop-carried
   recurrence r = 0.5*r + sin(p[q]*a) over a caller stack array copied from x: reverse-mode
   dx is wrong (got 0.25, 0.5, cos(1) for dx[0..2]); forward mode passes.
   Fixed; kept as a regression test. */
// wrap: f 3   (tests/test_fuzz_ad.py builds the program with gen.wrap)

static __attribute__((noinline)) double g(double a, double *p, int m) {
  double r = a;
  for (int q = 0; q < m; q++) r = 0.5 * r + sin(p[q] * a);
  return r;
}
__attribute__((noinline)) double f(double *x, double *w, int n) {
  double t[L];
  for (int r = 0; r < L; r++) t[r] = x[r];
  double s = g(1.0, t, n);

  return s;
}
