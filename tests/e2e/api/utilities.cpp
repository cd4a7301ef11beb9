// C++ spellings of __enzyme_iter and __enzyme_call_inactive, through <enzyme/enzyme>: iter
// declared extern "C", call_inactive as a function template (its mangled names carry the entry
// point's name, as Enzyme matches them), a member call's helper held constant, and a count that
// grows with the derivative order (reverse over reverse).
#include "../e2e.h"
#include <stdint.h>
#ifndef ADCC_SELFTEST
#include <enzyme/enzyme>
extern "C" uint64_t __enzyme_iter(uint64_t, uint64_t);
template <typename R, typename... Args> R __enzyme_call_inactive(void *, Args...);
extern "C" double __enzyme_autodiff(void *, ...);
#else
static uint64_t __enzyme_iter(uint64_t a, uint64_t) { return a; }
#endif

struct Scaled {
  double k;
  static double square(double x) { return x * x; }
  double operator()(double x) const {
#ifdef ADCC_SELFTEST
    double s = square(x);
#else
    double s = __enzyme_call_inactive<double>((void *)square, x);
#endif
    return k * s * x;  // s held constant: d/dx = k * x^2
  }
};
static double scaled(double x) { return Scaled{2.5}(x); }
static double counted(double x) { return x * x * (double)__enzyme_iter(4, 2); }
static double d_counted(double x) {
#ifdef ADCC_SELFTEST
  return 2 * x * 6;
#else
  return enzyme::get<0>(enzyme::get<0>(enzyme::autodiff<enzyme::Reverse>(counted, enzyme::Active{x})));
#endif
}

int main() {
  e2e_begin("api/utilities_cpp");
  double x = 1.3;
#ifdef ADCC_SELFTEST
  double ds = 2.5 * x * x, dd = 2 * 8;
#else
  double ds = enzyme::get<0>(enzyme::get<0>(enzyme::autodiff<enzyme::Reverse>(scaled, enzyme::Active{x})));
  double dd = __enzyme_autodiff((void *)d_counted, x);
#endif
  check_val("scaled", 0, scaled(x), 2.5 * x * x * x);
  check_an("scaled", 1, ds, 2.5 * x * x);
  check_val("counted", 0, counted(x), x * x * 4);
  check_an("counted", 1, d_counted(x), 2 * x * 6);
  check_an("counted", 2, dd, 2 * 8);
  return e2e_finish();
}
