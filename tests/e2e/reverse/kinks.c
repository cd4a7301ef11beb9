// Reverse mode through fmin/fmax/fabs/copysign evaluated away from their kinks (both branches
// of each are taken over the points). No activity markers: four double arguments default to
// enzyme_out, so the call returns four adjoints (struct of 4 doubles, sret).
#include "../e2e.h"

typedef struct { double d0, d1, d2, d3; } G4;
extern G4 __enzyme_autodiff(void *, ...);

static double f(double a, double b, double c, double d) {
  return fmin(a, b) * c + fmax(c, d * d) + fabs(a - d) * b + copysign(b * b, d - c) +
         fabs(sin(c)) * fmin(d, 0.5);
}

static G4 df(double a, double b, double c, double d) {
  G4 g = {0, 0, 0, 0};
  if (a < b) { g.d0 += c; } else { g.d1 += c; }
  g.d2 += fmin(a, b);
  if (c > d * d) g.d2 += 1.0; else g.d3 += 2.0 * d;
  double sg = (a - d) > 0 ? 1.0 : -1.0;
  g.d0 += sg * b;
  g.d3 -= sg * b;
  g.d1 += fabs(a - d);
  double cs = (d - c) > 0 ? 1.0 : -1.0; /* copysign(b*b, .) = cs * b*b since b*b > 0 */
  g.d1 += cs * 2.0 * b;
  double ss = sin(c) > 0 ? 1.0 : -1.0;
  g.d2 += ss * cos(c) * fmin(d, 0.5);
  if (d < 0.5) g.d3 += fabs(sin(c));
  return g;
}

static double fv(double *v, void *p) { (void)p; return f(v[0], v[1], v[2], v[3]); }

int main(void) {
  e2e_begin("reverse/kinks");
  const double pts[4][4] = {{0.3, 0.9, 1.2, -0.4},
                            {1.5, -0.7, -0.8, 1.1},
                            {-0.6, 0.2, 0.1, 0.9},
                            {2.0, 1.4, 4.0, -2.5}};
  for (int t = 0; t < 4; t++) {
    double a = pts[t][0], b = pts[t][1], c = pts[t][2], d = pts[t][3];
    G4 w = df(a, b, c, d);
#ifdef ADCC_SELFTEST
    G4 g = df(a, b, c, d);
#else
    G4 g = __enzyme_autodiff((void *)f, a, b, c, d);
#endif
    double got[4] = {g.d0, g.d1, g.d2, g.d3}, an[4] = {w.d0, w.d1, w.d2, w.d3};
    double v[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
      check_an("d(a,b,c,d)", 4 * t + i, got[i], an[i]);
      check_fd("d(a,b,c,d)", 4 * t + i, got[i], fdv(fv, v, i, 0));
    }
  }
  return e2e_finish();
}
