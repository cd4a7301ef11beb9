// Shadow contexts through <enzyme/enzyme>: enzyme::context() makes a set of shadows of the
// globals, enzyme::shadow(ctx, g) is g's, enzyme::zero_shadows(ctx) zeroes them, and
// enzyme::autodiff<Mode>(ctx, f, args...) differentiates with them. Reverse mode accumulates
// the globals' adjoints there, forward mode reads the tangents seeded there, another context has
// shadows of its own; a call without a context is unchanged. Against the analytic derivatives.
#include "../e2e.h"
#ifndef ADCC_SELFTEST
#include <enzyme/enzyme>
#endif

double scale = 2.0;
struct Params {
  static double offset;
};
double Params::offset = 1.0;

/* f = scale x^2 + offset x */
static double f(double x) { return scale * x * x + Params::offset * x; }

int main() {
  e2e_begin("api/cpp_contexts");
  double x = 3.0;
#ifdef ADCC_SELFTEST
  static double dscale_s, doffset_s, other_s;
  double *dscale = &dscale_s, *doffset = &doffset_s, *dother = &other_s;
  double dx = 2 * scale * x + Params::offset;
  dscale_s += x * x, doffset_s += x;
#else
  auto ctx = enzyme::context();
  double *dscale = enzyme::shadow(ctx, scale);
  double *doffset = enzyme::shadow(ctx, Params::offset);
  double dx = enzyme::get<0>(enzyme::get<0>(enzyme::autodiff<enzyme::Reverse>(ctx, f, enzyme::Active(x))));
#endif
  check_an("dx", 0, dx, 2 * scale * x + Params::offset);
  check_an("dscale", 0, *dscale, x * x);
  check_an("doffset", 0, *doffset, x);

  *dscale = 1.0;
  *doffset = 0.5;
#ifdef ADCC_SELFTEST
  double t = x * x * 1.0 + x * 0.5 + (2 * scale * x + Params::offset) * 0.25;
#else
  double t = enzyme::get<0>(enzyme::autodiff<enzyme::Forward>(ctx, f, enzyme::Duplicated<double>(x, 0.25)));
#endif
  check_an("tangent", 0, t, x * x * 1.0 + x * 0.5 + (2 * scale * x + Params::offset) * 0.25);

#ifdef ADCC_SELFTEST
  double dx2 = 2 * scale * x + Params::offset, plain = dx2;
  other_s += x * x;
  dscale_s = doffset_s = 0;
#else
  auto other = enzyme::context();
  double dx2 = enzyme::get<0>(enzyme::get<0>(enzyme::autodiff<enzyme::Reverse>(other, f, enzyme::Active(x))));
  double *dother = enzyme::shadow(other, scale);
  double plain = enzyme::get<0>(enzyme::get<0>(enzyme::autodiff<enzyme::Reverse>(f, enzyme::Active(x))));
  enzyme::zero_shadows(ctx);
#endif
  check_an("dx (other context)", 0, dx2, 2 * scale * x + Params::offset);
  check_an("dscale (other context)", 0, *dother, x * x);
  check_an("dx (no context)", 0, plain, 2 * scale * x + Params::offset);
  check_val("zeroed", 0, *dscale + *doffset, 0.0);
  return e2e_finish();
}
