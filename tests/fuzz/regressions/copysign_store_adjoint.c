// From the 2,000-program campaign of 2026-12-08 (seeds 320000-321999, -O0/-O2/-O3, 5,997 of 6,000
// runs ok): seed 321550, reverse mode wrong at every level (dx[4] -1.27700 against finite
// differences -1.23895; forward mode right). t[4] = x[4] is overwritten by a copysign made on the
// bits (fz_copysign: a union's integer and/or) whose value does not depend on x; LLVM folds it into
// `store i64 0`, and the reverse of an integer store carrying no float left the shadow of the float
// it overwrote, so the adjoint of t[4]'s later uses reached x[4] through the first copy. Present
// before this session too (adcc at 13fba0b gave the same number). An inactive integer stored where
// type analysis places a float now clears its shadow (adcc/analysis/words.py, clears_float).
// OPTS: -O0 -O2
// wrap: f_s321550 7
// wide
__attribute__((noinline)) double f_s321550(double *x, double *w, int n) {
  double s = 0.0;
  long double ld = 0.0L;
  double *t = (double *)fz_alloc->alloc(L * sizeof(double));
  for (int r = 0; r < L; r++) t[r] = x[r];
  __asm__ volatile("" ::: "memory");
  int q0 = 0;
  while (q0 < 5) {
    int p0 = q0;
    q0 += 1;
    t[4] = fz_copysign(tanh(0.1 * s), (1.3 + 0.25 * tanh((sin(0.1 * p0 * 0.1 * p0) + sin(0.1 * p0)))));
  }
  int q1 = 0;
  while (q1 < 2) {
    int p1 = q1;
    q1 += 1;
    for (int k = n - 1; k >= 0; k--) {
      w[(1 * k + k) % 8] *= -0.8;
      double v0 = t[(p1 + 3) % 8];
      s += 0.25 * v0 * t[(1 * k + k) % 8];
    }
    for (int l = n - 1; l >= 0; l--) {
      for (int m = 1; m < n; m++) {
        if (p1 > m) break;
        double v1 = sin(w[5] + (tanh(0.1 * s) + x[(2 * l + m) % 8]));
        s += 0.25 * v1 * tanh((t[(m) % 8] + (-0.97)));
        s += 0.1 * (t[(2 * l + m) % 8] - cos(t[(3 * l + l) % 8]));
      }
      for (int i1 = 0; i1 < 8; i1++) {
        t[(1 * i1 + l) % 8] = 0.5 * t[(1 * i1 + l) % 8] + 0.5 * w[(2 * p1 + i1) % 8];
      }
      t[(3 * l + p1) % 8] = cos(fmax(x[(l + 4) % 8] - 5.55, fmax((-0.45), 0.1 * p1 + 2.82)));
    }
    if (p1 % 2 == 0) continue;
  }
  s += 0.1 * t[0] * t[4];
  fz_alloc->release(t);
  return s + (double)ld;
}
