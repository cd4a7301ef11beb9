// Minimized from tests/test_fuzz_ad.py's closure sample (#9; seed 10021): a closure keeps the
// address of a scratch array aligned by hand (`((uintptr_t)t_raw + 63) & ~63`) as an integer; LLVM
// folds `(uintptr_t)(double *)addr` to the integer arithmetic itself, so the stored integer is an
// offset from t_raw's address, not a ptrtoint. Its shadow bits are now t_raw's shadow address at
// the same offset (they were none: reverse-mode dx 0 and a wrong tangent through the closure).
// OPTS: -O0 -O2 -O3
// wrap: f_aligned_closure 6
// wide
__attribute__((noinline)) double f_aligned_closure(double *x, double *w, int n) {
  double s = 0.0;
  double t_raw[L + 8];
  double *t = (double *)(((uintptr_t)t_raw + 63) & ~(uintptr_t)63);
  for (int r = 0; r < L; r++) t[r] = x[r];
  for (int j = 0; j < n; j++) {
    t[(j + 1) % 8] = 0.5 * t[(j + 1) % 8] + 0.25 * w[j % 8];
    fz_closure cs_[2] = {{(uintptr_t)t, fz_env_read}, {(uintptr_t)t, fz_env_sin}};
    for (int c_ = 0; c_ < 2; c_++) s += 0.2 * fz_apply(&cs_[c_], (n + j) % 8);
  }
  s += 0.1 * t[2] * t[4];
  return s;
}
