/* Fuzz seed 5378 (tests/fuzz/gen.py), reduced by hand. After the pre-AD pass fully unrolls the
   k loop, `c ? x[..] : t[..]` becomes a load through a phi of the pointers x and t (a stack array
   of zeros that no active data reaches). t had no shadow, so the phi's shadow for it was t itself
   and the reverse pass added adjoints into t's primal memory: reverse-mode dx wrong at -O0.
   Fixed (a stack object merged with a shadowed pointer gets its own shadow); kept as a regression. */
// wrap: f_s5378 8   (tests/test_fuzz_ad.py builds the program with gen.wrap)
__attribute__((noinline)) double f_s5378(double *x, double *w, int n) {
  double s = 0.0;
  double t[12];
  for (int r = 0; r < 12; r++) t[r] = 0.0;
  for (int i = 0; i < n; i += 2) {
    for (int j = 1; j < 5; j += 2) {
      for (int k = 0; k < 6; k++) {
        s += sin(((j + n) % 3 == 2 ? x[(3 * k + i) % 8] : t[(3 * k + k) % 8]));
      }
    }
  }
  return s;
}
