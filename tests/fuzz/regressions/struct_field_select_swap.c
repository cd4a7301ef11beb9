// From the scientific-constructs campaign (seeds 500000-500299, --wide): seed 500186 without its
// closures (the seed itself is refused for them), reverse mode wrong at -O0 and -O2 (dw[2] 0.41
// against finite differences 0.50). A pointer picked by a float compare between two fields at
// different offsets of an array of structs (&cs[l].a, &cs[l + 1].b) makes type analysis merge the
// structs' layouts shifted by 16 bytes: the int field and padding become Conflict, and the copies
// of whole structs (a swap through a temporary) were taken for copies of three doubles, the int's
// shadow bytes moved as an adjoint. A copy into or out of an object with conflicting types is now
// told apart word by word at run time (adcc/ad/copies.py _conflicted).
// OPTS: -O0 -O2
// wrap: f_ps 6
// wide
__attribute__((noinline)) double f_ps(double *x, double *w, int n) {
  fz_cell cs[L];
  for (int r = 0; r < L; r++) { cs[r].a = x[r]; cs[r].k = r % 3; cs[r].b = 0.5 * w[r]; }
  for (int j = 0; j < 5; j++) {
    fz_cell c_ = cs[(2 * n) % 8]; cs[(2 * n) % 8] = cs[2]; cs[2] = c_;
  }
  for (int l = 0; l < 3; l++) {
    double *p_ = (1.6 + 0.25 * tanh(x[l]) > 0.0) ? &cs[l].a : &cs[l + 1].b;
    *p_ = 0.5 * *p_ + 0.25 * cos(w[l]);
  }
  return cs[3].a * cs[2].b;
}
