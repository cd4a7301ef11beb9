// Reverse mode through do-while loops: a data-dependent halving loop (runs at least once, trip
// count from |x|), a Taylor polynomial, then repeated squaring as many times as it halved; and a
// do-while over an array that executes once even for n = 1. Explicit enzyme_out scalar.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
int enzyme_out, enzyme_const;

static double f(double x, double a, int n) {
  double y = x;
  int k = 0;
  do {
    y *= 0.5;
    k++;
  } while (fabs(y) > 0.25);
  double r = 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y / 24.0)));
  do {
    r = r * r;
  } while (--k > 0);
  int i = 0;
  double s = 0.0;
  do {
    s = s * a + sin(x * (i + 1));
    i++;
  } while (i < n);
  return r + s;
}

/* Hand-written tangent of the same algorithm (d/dx, a and n fixed). */
static double df(double x, double a, int n) {
  double y = x, dy = 1.0;
  int k = 0;
  do {
    y *= 0.5;
    dy *= 0.5;
    k++;
  } while (fabs(y) > 0.25);
  double r = 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y / 24.0)));
  double dr = (1.0 + y * (1.0 + y * (0.5 + y / 6.0))) * dy;
  do {
    dr = 2.0 * r * dr;
    r = r * r;
  } while (--k > 0);
  int i = 0;
  double ds = 0.0;
  do {
    ds = ds * a + cos(x * (i + 1)) * (i + 1);
    i++;
  } while (i < n);
  return dr + ds;
}

static double av;
static int nv;
static double fx(double x) { return f(x, av, nv); }

int main(void) {
  e2e_begin("reverse/do_while");
  const double xs[5] = {0.3, -0.45, 1.7, 3.1, -6.2}; /* 1, 1, 3, 4, 5 halvings */
  const int ns[5] = {1, 4, 2, 7, 3};
  volatile double va = 0.8;
  for (int t = 0; t < 5; t++) {
    double x = xs[t], a = va;
    volatile int vn = ns[t];
    int n = vn;
    double want = df(x, a, n);
#ifdef ADCC_SELFTEST
    double d = df(x, a, n);
#else
    double d = __enzyme_autodiff((void *)f, enzyme_out, x, enzyme_const, a, enzyme_const, n);
#endif
    av = a;
    nv = n;
    check_an("dx", t, d, want);
    check_fd("dx", t, d, fd1(fx, x));
  }
  return e2e_finish();
}
