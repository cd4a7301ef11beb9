// From the 2,000-program campaign with --closures (#9; seed 200390, the same crash as seeds 200618,
// 201573 and 201999): closures keep a stack array's address as an integer next to a function
// pointer, called through a noinline helper; one of them (t) holds only constants. The derivative
// program died of SIGSEGV: t had no shadow, and the derivative of the helper, which cannot tell
// t from active memory, added an adjoint through the null one. An address kept as an integer in
// shadowed memory now gives its memory a shadow (a zero one: adcc/analysis/activity.py, store).
// OPTS: -O0 -O2
// wrap: f_s200390 5
// wide
__attribute__((noinline)) double f_s200390(double *x, double *w, int n) {
  double s = 0.0;
  _Alignas(64) double t[L];
  for (int r = 0; r < L; r++) t[r] = 0.0;
  __asm__ volatile("" ::: "memory");
  t[0] = 0.5 * fz_nabs((-1.6 + 0.25 * tanh(0.1 * s)));
  w[5] *= 0.5;
  { fz_closure cs_[2] = {{(uintptr_t)x, fz_env_read}, {(uintptr_t)t, fz_env_sin}};
    for (int c_ = 0; c_ < 2; c_++) s += 0.2 * fz_apply(&cs_[c_], (n) % 8); }
  { fz_closure c_, d_; c_.env = (uintptr_t)x; c_.call = fz_env_read; memcpy(&d_, &c_, sizeof c_); s += 0.25 * fz_apply(&d_, (2 * n) % 8); }
  memmove(t + 0, t + 2, (n % 4 + 3) * sizeof(double));
  { fz_closure cs_[2] = {{(uintptr_t)w, fz_env_read}, {(uintptr_t)t, fz_env_sin}};
    for (int c_ = 0; c_ < 2; c_++) s += 0.2 * fz_apply(&cs_[c_], (n) % 8); }
  for (int i = 0; i < n; i++) {
    s += 0.5 * 0.5 * x[(2 * n) % 8];
    if (i % 2 == 1) break;
  }
  t[(n) % 8] = (-0.24) * t[(2 * n) % 8];
  return s;
}
