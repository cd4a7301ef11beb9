// Reverse mode through a noinline helper returning a struct of two doubles (complex multiply,
// returned in registers) called in a loop inside f; two enzyme_out scalars return a struct G2.
// f(x, y) = Re(z^n) + Im(z^n)/2 with z = x + iy, so (fx, fy) follow from n z^(n-1).
#include "../e2e.h"

typedef struct { double d0, d1; } G2;
extern G2 __enzyme_autodiff(void *, ...);
int enzyme_out, enzyme_const;

typedef struct { double re, im; } cplx;

__attribute__((noinline)) static cplx cmul(cplx a, cplx b) {
  cplx r = {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
  return r;
}

static double f(double x, double y, int n) {
  cplx z = {x, y}, p = {1.0, 0.0};
  for (int i = 0; i < n; i++) p = cmul(p, z);
  return p.re + 0.5 * p.im;
}

static G2 df(double x, double y, int n) {
  cplx z = {x, y}, p = {1.0, 0.0};
  for (int i = 0; i < n - 1; i++) p = cmul(p, z);
  double dre = n * p.re, dim = n * p.im; /* n z^(n-1) */
  G2 g = {dre + 0.5 * dim, -dim + 0.5 * dre};
  return g;
}

static int nv;
static double fv(double *v, void *p) { (void)p; return f(v[0], v[1], nv); }

int main(void) {
  e2e_begin("reverse/struct_return_helper");
  const double pts[3][2] = {{0.8, 0.3}, {-0.6, 1.1}, {1.05, -0.45}};
  const int ns[3] = {5, 3, 7};
  for (int t = 0; t < 3; t++) {
    volatile int vn = ns[t];
    int n = vn;
    double x = pts[t][0], y = pts[t][1];
    G2 w = df(x, y, n);
#ifdef ADCC_SELFTEST
    G2 g = df(x, y, n);
#else
    G2 g = __enzyme_autodiff((void *)f, enzyme_out, x, enzyme_out, y, enzyme_const, n);
#endif
    double v[2] = {x, y};
    nv = n;
    check_an("dx", 2 * t, g.d0, w.d0);
    check_fd("dx", 2 * t, g.d0, fdv(fv, v, 0, 0));
    check_an("dy", 2 * t + 1, g.d1, w.d1);
    check_fd("dy", 2 * t + 1, g.d1, fdv(fv, v, 1, 0));
  }
  return e2e_finish();
}
