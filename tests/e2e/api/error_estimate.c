// __enzyme_error_estimate(fn, x, err_x, ...): forward mode carrying Enzyme's floating-point error
// estimate instead of a tangent: each operation's error is max(one ulp of its result, the sum
// over its operands of |err_i * x_i / y * dy/dx_i|), and the call returns the error of fn's
// result. References: the same recurrence written out here (and Enzyme's published figures for
// cos and for (1 - cos x) / x^2 at 1e-7); relative input errors that a square doubles and a
// square root halves; pointers whose shadows hold the errors; a callee; a loop.
#include "../e2e.h"
#include <stdint.h>

extern double __enzyme_error_estimate(void *, ...);

/* |y - y'| with y' = y with the last bit of its significand flipped */
static double flip_ulp(double y) {
  uint64_t bits;
  memcpy(&bits, &y, sizeof bits);
  bits ^= 1;
  double z;
  memcpy(&z, &bits, sizeof z);
  return fabs(y - z);
}
static double maxd(double a, double b) { return a > b ? a : b; }

static double cosine(double x) { return cos(x); }
static double cancel(double x) {
  double v1 = cos(x), v2 = 1 - v1, v3 = x * x;
  return v2 / v3;
}
static double square(double x) { return x * x; }
static double root(double x) { return sqrt(x); }
static void add_ptr(const double *a, const double *b, double *r) { *r = *a + *b; }
__attribute__((noinline)) static double scaled(double x) { return 3.0 * x; }
static double calls_scaled(double x) { return scaled(x) * x; }
static double series(double x) {
  double s = 0;
  for (int k = 1; k <= 4; k++) s += x / k;
  return s;
}

/* the recurrence by hand */
static double cancel_ref(double x) {
  double v1 = cos(x), v2 = 1 - v1, v3 = x * x, v4 = v2 / v3;
  double e1 = flip_ulp(v1);                                  /* x is exact: cos only rounds */
  double e2 = maxd(flip_ulp(v2), fabs(e1 * v1 / v2 * -1.0));  /* 1 - v1 */
  double e3 = flip_ulp(v3);                                  /* x * x of an exact x */
  double e4 = maxd(flip_ulp(v4), fabs(e2 * v2 / v4 * (1.0 / v3)) + fabs(e3 * v3 / v4 * (-v4 / v3)));
  return e4;
}
static double series_ref(double x, double ex) {
  double s = 0, es = 0;
  for (int k = 1; k <= 4; k++) {
    double q = x / k, eq = maxd(flip_ulp(q), fabs(ex * x / q * (1.0 / k)));
    double t = s + q;
    es = k == 1 ? maxd(flip_ulp(t), fabs(eq * q / t)) : maxd(flip_ulp(t), fabs(es * s / t) + fabs(eq * q / t));
    s = t;
  }
  return es;
}

int main(void) {
  e2e_begin("api/error_estimate");
  double x = 1e-7, a = 99.0, b = 127.0, ea = 0.0, eb = 0.0, r = 0.0, er = 0.0;
#ifdef ADCC_SELFTEST
  double e_cos = flip_ulp(cos(x)), e_cancel = cancel_ref(x), e_sq = 2e-3, e_root = 5e-4;
  double e_add = flip_ulp(a + b), e_series = series_ref(0.7, 1e-6);
  double e_callee = maxd(flip_ulp(3.0 * 1.5 * 1.5), fabs(1e-4 * (3.0 * 1.5) / (3.0 * 1.5 * 1.5) * 1.5) +
                                                       fabs(1e-4 * 1.5 / (3.0 * 1.5 * 1.5) * (3.0 * 1.5)));
  add_ptr(&a, &b, &r);
  er = e_add + ea + eb; /* exact inputs */
#else
  double e_cos = __enzyme_error_estimate((void *)cosine, x, 0.0);
  double e_cancel = __enzyme_error_estimate((void *)cancel, x, 0.0);
  double e_sq = __enzyme_error_estimate((void *)square, 1.5, 1e-3);
  double e_root = __enzyme_error_estimate((void *)root, 2.0, 1e-3);
  __enzyme_error_estimate((void *)add_ptr, &a, &ea, &b, &eb, &r, &er);
  double e_add = flip_ulp(a + b);
  double e_series = __enzyme_error_estimate((void *)series, 0.7, 1e-6);
  double e_callee = __enzyme_error_estimate((void *)calls_scaled, 1.5, 1e-4);
#endif
  check_val("cos", 0, e_cos, flip_ulp(cos(x)));
  check_val("cos", 1, fabs(e_cos - 1.110223e-16) < 1e-18, 1); /* Enzyme's figure */
  check_val("cancel", 0, e_cancel, cancel_ref(x));
  check_val("cancel", 1, fabs(e_cancel - 2.2222222222e-2) < 1e-4, 1); /* Enzyme's figure */
  check_an("square", 0, e_sq, 2e-3);   /* a relative input error doubles */
  check_an("root", 0, e_root, 5e-4);   /* and halves */
  check_val("pointers", 0, er, e_add);
  check_val("pointers", 1, r, a + b);
  check_val("series", 0, e_series, series_ref(0.7, 1e-6));
  /* scaled(x) = 3x keeps x's relative error 1e-4 (its ulp is smaller); times x: 1e-4 + 1e-4 */
  check_an("callee", 0, e_callee, 2e-4);
  /* the primal functions themselves */
  check_val("primal", 0, cosine(x) + cancel(x) + square(1.5) + root(4.0), cos(x) + (1 - cos(x)) / (x * x) + 2.25 + 2.0);
  check_val("primal", 1, calls_scaled(1.5) + series(0.7), 6.75 + 0.7 * (1 + 0.5 + 1.0 / 3 + 0.25));
  return e2e_finish();
}
