// From the scientific-constructs campaign (seeds 500000-500299, --wide): seed 500001, reverse mode
// wrong at -O0 and -O2 (rev-dx[6] 401.3 against finite differences 0.356; forward mode right). A
// double is rebuilt from its high word (`memcpy(&hi, (char *)&t[a] + 4, 4)` then stored over the
// high half of a copy): type analysis places the i32 in part of a double, and reverse mode took it
// for a float word of its own, so half of the double's adjoint was read as a float's bits. Reverse
// mode now refuses a store of a piece of a wider float (a located error, adjoint.py
// _piece_of_float; tests/test_ad_errors.py half_of_double_reverse); forward mode copies the
// tangent's bytes the same way and is right.
// XFAIL: refused in reverse mode: a double's high word copied through an i32 (the adjoint cannot be split)
// OPTS: -O0 -O2
// wrap: f_s500001 6
// wide
__attribute__((noinline)) double f_s500001(double *x, double *w, int n) {
  double t[L];
  for (int r = 0; r < L; r++) t[r] = 0.5 * x[r] * w[(r + 3) % L];
  for (int i = 0; i < 2; i++) {
    uint32_t hi_;
    memcpy(&hi_, (char *)&t[n % 8] + 4, 4);
    t[i] = t[n % 8];
    memcpy((char *)&t[i] + 4, &hi_, 4);
  }
  return t[0] * t[1] + t[3];
}
