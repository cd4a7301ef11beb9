// enzyme_strong_zero: a zero tangent (forward) or zero adjoint (reverse) times an infinite or NaN
// partial contributes 0, in f and in the functions it calls; without the marker IEEE arithmetic
// gives NaN (0 * inf). asin at 1 has the infinite partial 1 / sqrt(1 - 1).
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
extern double __enzyme_autodiff(void *, ...);
typedef struct { double dx, dy; } Grad2;
extern Grad2 __enzyme_autodiff2(void *, ...);
int enzyme_strong_zero, enzyme_dup, enzyme_const, enzyme_out;

__attribute__((noinline)) static double arc(double x) { return asin(x); }

/* asin(x) + y^2 */
static double f(double x, double y) { return arc(x) + y * y; }
static double f_y(double y) { return f(1.0, y); }

/* w * asin(x) * (x - 1)^2 + y * log(x + 2): the adjoint reaching asin is w * (x - 1)^2 = 0 at x = 1 */
static double g(double x, double y, double w) { return w * arc(x) * (x - 1.0) * (x - 1.0) + y * log(x + 2.0); }
static double G_x1_y(double y) { return g(1.0, y, 1.5); }

/* in memory: out = p[0] * asin(p[1]) + p[2]^3, with the weight p[0] = 0 */
static void h(const double *p, double *out) { out[0] = p[0] * arc(p[1]) + p[2] * p[2] * p[2]; }

int main(void) {
  e2e_begin("api/strong_zero");
  double y = 0.8;
  volatile double zero = 0.0; /* a tangent that is 0 at run time, not a constant */
  /* forward: dx = 0, dy = 1 at x = 1: 0 * inf is 0 with the marker */
#ifdef ADCC_SELFTEST
  double t = 2 * y, t_ieee = NAN;
#else
  double t = __enzyme_fwddiff((void *)f, enzyme_strong_zero, 1.0, (double)zero, y, 1.0);
  double t_ieee = __enzyme_fwddiff((void *)f, 1.0, (double)zero, y, 1.0);
#endif
  check_an("forward", 0, t, 2 * y);
  check_fd("forward", 0, t, fd1(f_y, y));
  if (!isnan(t_ieee)) {
    printf("api/strong_zero: without the marker the tangent is %g, expected NaN (0 * inf)\n", t_ieee);
    e2e_fails++;
  }
  /* reverse: the adjoint of x is 0 * inf + y / 3 */
#ifdef ADCC_SELFTEST
  Grad2 r = {y / 3.0, log(3.0)};
#else
  Grad2 r = __enzyme_autodiff2((void *)g, enzyme_strong_zero, enzyme_out, 1.0, enzyme_out, y, enzyme_const, 1.5);
#endif
  check_an("reverse x", 0, r.dx, y / 3.0);
  check_an("reverse y", 0, r.dy, log(3.0));
  check_fd("reverse y", 0, r.dy, fd1(G_x1_y, y));
  /* reverse through memory, the weight p[0] = 0 */
  double p[3] = {0.0, 1.0, 0.6}, dp[3] = {0, 0, 0}, out = 0, dout = 1.0;
#ifdef ADCC_SELFTEST
  dp[2] = 3 * p[2] * p[2];
  dp[0] = asin(p[1]);
  h(p, &out);
#else
  __enzyme_autodiff((void *)h, enzyme_strong_zero, enzyme_dup, p, dp, enzyme_dup, &out, &dout);
#endif
  check_val("memory out", 0, out, 0.6 * 0.6 * 0.6);
  check_an("memory p0", 0, dp[0], asin(1.0));
  check_an("memory p1", 1, dp[1], 0.0);
  check_an("memory p2", 2, dp[2], 3 * 0.6 * 0.6);
  return e2e_finish();
}
