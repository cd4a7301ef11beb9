// Found by hand while widening the fuzz grammar (float scratch next to arrays of structs), reverse
// mode wrong at -O0 and -O2 (dw[3] -9.61 against finite differences 1.005). A pointer selected
// between a heap float array and a struct's float field gives the struct the array's "floats at
// every offset"; a memcpy of one {float, int, double} struct was then moved as four floats, the
// double's adjoint as two floats' bits. Such a copy is now told apart at run time, which floats
// narrower than double rule out: refused with a located error (adcc/ad/copies.py _conflicted).
// XFAIL: refused in reverse mode: a struct copy whose layout type analysis finds conflicting, with float adjoints
// OPTS: -O0 -O2
// wrap: f_fl 6
// wide
// loose
typedef struct { float f; int k; double d; } fz_mix;
__attribute__((noinline)) double f_fl(double *x, double *w, int n) {
  float *tf = (float *)malloc(4 * sizeof(float));
  int fn = 4;
  for (int r = 0; r < fn; r++) tf[r] = (float)(0.5 * x[r]);
  fz_mix m[8];
  for (int r = 0; r < 8; r++) { m[r].f = (float)x[r]; m[r].k = r; m[r].d = w[r]; }
  double s = 0;
  for (int i = 0; i < n; i++) {
    if (fn < 12) {
      tf = (float *)realloc(tf, (size_t)(fn + 4) * sizeof(float));
      for (int r = fn; r < fn + 4; r++) tf[r] = 0.5f * tf[r - 4] + (float)(0.25 * w[r % 8]);
      fn += 4;
    }
    memcpy(&m[(i + 5) % 8], &m[(i + 1) % 8], sizeof(fz_mix));
    m[i].f = (float)(m[i].d * tf[i]);
    const float *pf = (1.3 + 0.25 * tanh(x[i]) > 0.5) ? tf + 2 : &m[0].f;
    s += 0.3 * pf[0] + m[(i + 4) % 8].d * m[(i + 6) % 8].f;
  }
  free(tf);
  return s;
}
