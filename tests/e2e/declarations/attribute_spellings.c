// Enzyme's attribute spellings that plain clang drops (it only warns "unknown attribute ignored"):
// adcc maps them onto annotate("...") strings, so none is silently lost.
//  - enzyme_inactive_noblock on a function: its calls have no derivative (was ignored: the
//    derivative went through the function);
//  - enzyme_shadow(dg) on a global g: dg is g's shadow; reverse mode accumulates g's adjoint into
//    it, forward mode reads g's tangent from it (was ignored: dg stayed 0 / was never read);
//  - the hints enzyme_elementwise_read, enzyme_notypeanalysis, enzyme_no_escaping_allocation:
//    accepted, with no effect on the derivatives.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

__attribute__((noinline, enzyme_inactive_noblock)) double logged_scale(double a) { return 4.0 * a; }

double gain_shadow = 0.0;
__attribute__((enzyme_shadow(gain_shadow))) double gain = 1.5;

__attribute__((noinline, enzyme_elementwise_read)) double sum_sq(const double *v, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++)
    s += v[i] * v[i];
  return s;
}
__attribute__((noinline, enzyme_no_escaping_allocation)) double cube(double x) { return x * x * x; }
__attribute__((enzyme_notypeanalysis)) double offset = 0.25;

static double f(double x) {
  double v[3] = {x, 2.0 * x, sin(x)};
  return logged_scale(x) * x + gain * x * x + sum_sq(v, 3) + cube(x) + offset * x;
}

/* d/dx with logged_scale held fixed: 4x + 2*gain*x + (2x + 8x + 2 sin x cos x) + 3x^2 + offset;
   d/dgain = x^2 */
static double df_dx(double x) {
  return 4.0 * x + 2.0 * gain * x + 10.0 * x + 2.0 * sin(x) * cos(x) + 3.0 * x * x + offset;
}

int main(void) {
  e2e_begin("declarations/attribute_spellings");
  double x = 0.7;
  gain_shadow = 0.0;
#ifdef ADCC_SELFTEST
  double d = df_dx(x);
  gain_shadow += x * x;
#else
  double d = __enzyme_autodiff((void *)f, x);
#endif
  check_an("reverse df/dx", 0, d, df_dx(x));
  check_an("reverse: adjoint of gain in its enzyme_shadow", 0, gain_shadow, x * x);
  check_val("gain unchanged", 0, gain, 1.5);

  gain_shadow = 2.0; /* the tangent of gain */
#ifdef ADCC_SELFTEST
  double t = 0.5 * df_dx(x) + 2.0 * x * x;
#else
  double t = __enzyme_fwddiff((void *)f, x, 0.5);
#endif
  check_an("forward: dx 0.5 and dgain 2 (from the shadow)", 0, t, 0.5 * df_dx(x) + 2.0 * x * x);
  return e2e_finish();
}
