// The derivative of fabs is the sign of its argument, of a zero too (copysign(1, x)): a function
// that is smooth although written through fabs, g(x) = fabs(-x*x*w) = w*x^2 (w > 0), reaches
// fabs with -0.0 at x = 0, and only fabs'(-0.0) = -1 gives its second derivative 2w (fabs'(-0.0)
// was +1: -2w, in all four nestings). fabs'(+0.0) stays +1.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

static double absolute(double x) { return fabs(x); }
static double g(double x, double w) { return fabs(-x * x * w); }

static double dg_fwd(double x, double w) { return __enzyme_fwddiff((void *)g, x, 1.0, w, 0.0); }
static double dg_rev(double x, double w) {
  extern int enzyme_const;
  return __enzyme_autodiff((void *)g, x, enzyme_const, w);
}

int main(void) {
  e2e_begin("higher/abs_signed_zero");
  double w = 1.5;
#ifdef ADCC_SELFTEST
  double dp_f = 1.0, dm_f = -1.0, dp_r = 1.0, dm_r = -1.0;
  double ff = 2 * w, fr = 2 * w, rf = 2 * w, rr = 2 * w, away = 2 * w;
  double first = 0.0;
#else
  double dp_f = __enzyme_fwddiff((void *)absolute, 0.0, 1.0);
  double dm_f = __enzyme_fwddiff((void *)absolute, -0.0, 1.0);
  double dp_r = __enzyme_autodiff((void *)absolute, 0.0);
  double dm_r = __enzyme_autodiff((void *)absolute, -0.0);
  extern int enzyme_const;
  double ff = __enzyme_fwddiff((void *)dg_fwd, 0.0, 1.0, w, 0.0);
  double fr = __enzyme_fwddiff((void *)dg_rev, 0.0, 1.0, w, 0.0);
  double rf = __enzyme_autodiff((void *)dg_fwd, 0.0, enzyme_const, w);
  double rr = __enzyme_autodiff((void *)dg_rev, 0.0, enzyme_const, w);
  double away = __enzyme_fwddiff((void *)dg_fwd, -0.8, 1.0, w, 0.0);
  double first = dg_rev(0.0, w);
#endif
  check_val("fabs'(+0.0), forward", 0, dp_f, 1.0);
  check_val("fabs'(-0.0), forward", 0, dm_f, -1.0);
  check_val("fabs'(+0.0), reverse", 0, dp_r, 1.0);
  check_val("fabs'(-0.0), reverse", 0, dm_r, -1.0);
  check_val("g'(0)", 0, first, 0.0);
  check_an("g''(0), forward over forward", 0, ff, 2 * w);
  check_an("g''(0), forward over reverse", 0, fr, 2 * w);
  check_an("g''(0), reverse over forward", 0, rf, 2 * w);
  check_an("g''(0), reverse over reverse", 0, rr, 2 * w);
  check_an("g''(-0.8)", 0, away, 2 * w);
  return e2e_finish();
}
