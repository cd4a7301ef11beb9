// Reverse mode of pow with integer-valued exponents: negative bases (defined for integer
// exponents; a derivative formed through log(x) would give NaN), an int converted to double, a
// negative exponent. No markers: two doubles -> enzyme_out (struct return), int k -> const.
#include "../e2e.h"

typedef struct { double d0, d1; } G2;
extern G2 __enzyme_autodiff(void *, ...);

static double f(double x, double y, int k) {
  return pow(x, 3.0) + pow(y, (double)k) * x + pow(x * y, -2.0) + pow(y, 2.0);
}

static G2 df(double x, double y, int k) {
  G2 g;
  double xy = x * y;
  g.d0 = 3.0 * x * x + pow(y, (double)k) - 2.0 * pow(xy, -3.0) * y;
  g.d1 = k * pow(y, (double)(k - 1)) * x - 2.0 * pow(xy, -3.0) * x + 2.0 * y;
  return g;
}

static int kv;
static double fv(double *v, void *p) { (void)p; return f(v[0], v[1], kv); }

int main(void) {
  e2e_begin("reverse/pow_int");
  const double pts[3][2] = {{-1.3, 0.8}, {0.7, -1.6}, {-0.9, -1.1}};
  const int ks[3] = {4, 5, 3};
  for (int t = 0; t < 3; t++) {
    volatile int vk = ks[t];
    int k = vk;
    double x = pts[t][0], y = pts[t][1];
    G2 w = df(x, y, k);
#ifdef ADCC_SELFTEST
    G2 g = df(x, y, k);
#else
    G2 g = __enzyme_autodiff((void *)f, x, y, k);
#endif
    double v[2] = {x, y};
    kv = k;
    check_an("dx", 2 * t, g.d0, w.d0);
    check_fd("dx", 2 * t, g.d0, fdv(fv, v, 0, 0));
    check_an("dy", 2 * t + 1, g.d1, w.d1);
    check_fd("dy", 2 * t + 1, g.d1, fdv(fv, v, 1, 0));
  }
  return e2e_finish();
}
