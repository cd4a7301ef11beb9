// Forward mode where f returns a struct of two doubles (built with insertvalue, returned in two
// registers) and calls a noinline helper that also returns a struct; the call returns the
// tangent struct. Convention assumed: the tangent of a struct-of-doubles return has f's return
// type, field by field (declared here as extern P2 __enzyme_fwddiff(void *, ...)).
#include "../e2e.h"

typedef struct { double a, b; } P2;
extern P2 __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

__attribute__((noinline)) static P2 polar(double x, double y) {
  P2 p;
  p.a = sqrt(x * x + y * y);
  p.b = atan2(y, x);
  return p;
}

static P2 f(double x, double y, double k) {
  P2 p = polar(x, y);
  P2 q = polar(p.a * cos(k * p.b), y - x);
  P2 r = {p.a * q.b + k, q.a * sin(p.b)};
  return r;
}

/* Hand-written tangent. */
static P2 polar_t(double x, double y, double dx, double dy, P2 *d) {
  P2 p = polar(x, y);
  double r2 = x * x + y * y;
  d->a = (x * dx + y * dy) / p.a;
  d->b = (x * dy - y * dx) / r2;
  return p;
}
static P2 df(double x, double y, double k, double dx, double dy) {
  P2 dp, dq, out;
  P2 p = polar_t(x, y, dx, dy, &dp);
  double u = p.a * cos(k * p.b), du = dp.a * cos(k * p.b) - p.a * sin(k * p.b) * k * dp.b;
  P2 q = polar_t(u, y - x, du, dy - dx, &dq);
  out.a = dp.a * q.b + p.a * dq.b;
  out.b = dq.a * sin(p.b) + q.a * cos(p.b) * dp.b;
  return out;
}

static int comp;
static double kval;
static double fv(double *v, void *p) {
  (void)p;
  P2 r = f(v[0], v[1], kval);
  return comp ? r.b : r.a;
}

int main(void) {
  e2e_begin("forward/struct_return");
  const double pts[3][5] = {{1.2, 0.7, 0.6, 1.0, 0.0},
                            {-0.4, 1.5, 1.1, 0.3, -0.8},
                            {0.9, -0.6, -0.7, -1.2, 0.5}};
  for (int t = 0; t < 3; t++) {
    double x = pts[t][0], y = pts[t][1], k = pts[t][2], dx = pts[t][3], dy = pts[t][4];
    P2 w = df(x, y, k, dx, dy);
#ifdef ADCC_SELFTEST
    P2 d = df(x, y, k, dx, dy);
#else
    P2 d = __enzyme_fwddiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, k);
#endif
    double v[2] = {x, y}, dir[2] = {dx, dy};
    kval = k;
    comp = 0;
    check_an("d.a", t, d.a, w.a);
    check_fd("d.a", t, d.a, fd_dir(fv, v, dir, 2, 0));
    comp = 1;
    check_an("d.b", t, d.b, w.b);
    check_fd("d.b", t, d.b, fd_dir(fv, v, dir, 2, 0));
  }
  return e2e_finish();
}
