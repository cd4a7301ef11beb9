// Vector forward mode (enzyme_width 4) on scalars: each enzyme_dup scalar is followed by 4
// tangent scalars; the call returns a struct of 4 doubles (one tangent per lane) = a Jacobian row.
//
// Convention assumed (Enzyme's): __enzyme_fwddiff(f, enzyme_width, N, enzyme_dup, x, dx_0, ...,
// dx_{N-1}, enzyme_const, c, ...). For a double return the result is N doubles, lane l being the
// tangent for seeds dx_l; C declares it as a struct of N doubles (sret on x86-64 for N = 4).
#include "../e2e.h"

typedef struct { double t0, t1, t2, t3; } T4;
extern T4 __enzyme_fwddiff(void *, ...);
extern double __enzyme_fwddiff1(void *, ...); /* the same API, one tangent per call */
int enzyme_width, enzyme_dup, enzyme_const;

static double f(double x, double y, double c, double z) {
  return sin(x * y) + c * exp(0.5 * z) * y + x / (1.0 + z * z);
}

static void grad(double x, double y, double c, double z, double g[3]) {
  double q = 1.0 + z * z;
  g[0] = y * cos(x * y) + 1.0 / q;
  g[1] = x * cos(x * y) + c * exp(0.5 * z);
  g[2] = 0.5 * c * exp(0.5 * z) * y - x * 2.0 * z / (q * q);
}

static double cval;
static double fv(double *v, void *p) { (void)p; return f(v[0], v[1], cval, v[2]); }

int main(void) {
  e2e_begin("forward/vector_width");
  const double pts[2][4] = {{0.7, -1.2, 0.9, 0.4}, {-0.3, 0.8, -1.5, 1.1}};
  /* seeds: lanes 0..2 the unit vectors, lane 3 the direction (1, -2, 0.5) */
  const double sx[4] = {1, 0, 0, 1}, sy[4] = {0, 1, 0, -2}, sz[4] = {0, 0, 1, 0.5};
  for (int t = 0; t < 2; t++) {
    double x = pts[t][0], y = pts[t][1], c = pts[t][2], z = pts[t][3];
    double g[3], want[4];
    grad(x, y, c, z, g);
    for (int l = 0; l < 4; l++) want[l] = g[0] * sx[l] + g[1] * sy[l] + g[2] * sz[l];
#ifdef ADCC_SELFTEST
    T4 r = {want[0], want[1], want[2], want[3]};
#else
    T4 r = __enzyme_fwddiff((void *)f, enzyme_width, 4, enzyme_dup, x, sx[0], sx[1], sx[2], sx[3],
                            enzyme_dup, y, sy[0], sy[1], sy[2], sy[3], enzyme_const, c,
                            enzyme_dup, z, sz[0], sz[1], sz[2], sz[3]);
#endif
    double got[4] = {r.t0, r.t1, r.t2, r.t3};
    double v[3] = {x, y, z};
    cval = c;
    for (int l = 0; l < 4; l++) {
      double dir[3] = {sx[l], sy[l], sz[l]};
      check_an("lane", 4 * t + l, got[l], want[l]);
      check_fd("lane", 4 * t + l, got[l], fd_dir(fv, v, dir, 3, 0));
#ifdef ADCC_SELFTEST
      double one = want[l];
#else
      double one = __enzyme_fwddiff1((void *)f, enzyme_dup, x, sx[l], enzyme_dup, y, sy[l], enzyme_const, c,
                                     enzyme_dup, z, sz[l]);
#endif
      check_val("lane vs width-1 call", 4 * t + l, got[l], one); /* N lanes == N separate calls */
    }
  }
  return e2e_finish();
}
