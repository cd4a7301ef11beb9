// Minimized from the campaign with --closures (#9; seeds 16-20): a closure keeps x's address as an
// integer (uintptr_t, as std::function keeps a lambda's captures) and a function pointer; the
// callee reads the integer back as a pointer with a cast (fz_env_sin: load i64, inttoptr) or through
// memory (fz_env_read: load ptr). After the merge of two branches each rule for integers that carry
// a shadow pointer's bits was shadowed by another branch of the activity analysis: the derivative
// through the closure was 0 in reverse mode and read the primal as tangents in forward mode.
// OPTS: -O0 -O2 -O3
// wrap: f_closure 6
// wide
__attribute__((noinline)) double f_closure(double *x, double *w, int n) {
  double s = 0.0;
  double t[L];
  for (int r = 0; r < L; r++) t[r] = 0.5 * x[r] * w[(r + 3) % L];
  { fz_closure c_; c_.env = (uintptr_t)x; c_.call = fz_env_sin; s += 0.25 * fz_apply(&c_, 0); }
  { fz_closure c_, d_; c_.env = (uintptr_t)w; c_.call = fz_env_read; memcpy(&d_, &c_, sizeof c_); s += 0.25 * fz_apply(&d_, n % 8); }
  for (int i = 0; i < n; i++) {
    fz_closure cs_[2] = {{(uintptr_t)w, fz_env_read}, {(uintptr_t)t, fz_env_sin}};
    for (int c_ = 0; c_ < 2; c_++) s += 0.2 * fz_apply(&cs_[c_], (i + c_) % 8);
  }
  { fz_closure c_ = {(uintptr_t)t, fz_env_scale}; s += 0.2 * fz_apply(&c_, 3); }
  s += 0.1 * t[3] * t[2];
  return s;
}
