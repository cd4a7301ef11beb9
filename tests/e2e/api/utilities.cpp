// C++ spellings of __enzyme_iter, __enzyme_call_inactive, __enzyme_error_estimate and the
// truncation entry points, with
// <enzyme/enzyme>: iter declared extern "C", call_inactive and the truncations as function
// templates (their mangled names carry the entry point's name, as Enzyme matches them); a
// member call's helper held constant, a count that grows with the derivative order (reverse
// over reverse), a function template truncated to float (both the width and the exponent and
// mantissa forms) and in memory mode.
#include "../e2e.h"
#include <stdint.h>
#ifndef ADCC_SELFTEST
#include <enzyme/enzyme>
extern "C" uint64_t __enzyme_iter(uint64_t, uint64_t);
template <typename R, typename... Args> R __enzyme_call_inactive(void *, Args...);
template <typename fty> fty *__enzyme_truncate_op_func(fty *, int, int);
template <typename fty> fty *__enzyme_truncate_op_func(fty *, int, int, int);
template <typename fty> fty *__enzyme_truncate_mem_func(fty *, int, int);
extern "C" double __enzyme_truncate_mem_value(double, int, int);
extern "C" double __enzyme_expand_mem_value(double, int, int);
extern "C" double __enzyme_autodiff(void *, ...);
extern "C" double __enzyme_error_estimate(void *, ...);
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
E2E_UNUSED static double cube(double x) { return x * x * x; }
static double counted(double x) { return x * x * (double)__enzyme_iter(4, 2); }
static double d_counted(double x) {
#ifdef ADCC_SELFTEST
  return 2 * x * 6;
#else
  return enzyme::get<0>(enzyme::get<0>(enzyme::autodiff<enzyme::Reverse>(counted, enzyme::Active{x})));
#endif
}

__attribute__((noinline)) static double checked_sum(double a, double b) {
  if (a < 0) throw a;
  return a + b;
}
static double guarded(double a, double b) {  // a callee reached through `invoke` is truncated too
  try {
    return checked_sum(a, b);
  } catch (double) {
    return 0.0;
  }
}

template <typename T> static T accumulate(const T *x, int n) {
  T s = 0;
  for (int i = 0; i < n; i++) s += x[i] / T(3);
  return s;
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
  double v[64];
  float vf[64], want = 0;
  for (int i = 0; i < 64; i++) v[i] = 1.0 + 0.01 * i, vf[i] = (float)v[i], want += vf[i] / 3.0f;
#ifdef ADCC_SELFTEST
  double t1 = want, t2 = want, tm = (double)(1.0f / 3.0f), tg = 1.0;
#else
  double t1 = __enzyme_truncate_op_func(accumulate<double>, 64, 32)(v, 64);
  double t2 = __enzyme_truncate_op_func(accumulate<double>, 64, 8, 23)(v, 64);
  double tg = __enzyme_truncate_op_func(guarded, 64, 32)(1.0, 1e-10);
  double one[1] = {__enzyme_truncate_mem_value(1.0, 64, 32)};
  double tm = __enzyme_expand_mem_value(__enzyme_truncate_mem_func(accumulate<double>, 64, 32)(one, 1), 64, 32);
#endif
  check_val("truncated", 0, t1, (double)want);
  check_val("truncated", 1, t2, (double)want);
  check_val("truncated", 2, accumulate(v, 64) != t1, 1);
  check_val("truncated", 3, tg, 1.0);
  check_val("truncated", 4, guarded(1.0, 1e-10) != 1.0, 1);
  check_val("truncated_mem", 0, tm, (double)(1.0f / 3.0f));
#ifdef ADCC_SELFTEST
  double ecube = 3e-5;
#else
  double ecube = __enzyme_error_estimate((void *)cube, 1.7, 1e-5);
#endif
  check_an("error_estimate", 0, ecube, 3e-5);  // a cube triples a relative input error
  return e2e_finish();
}
