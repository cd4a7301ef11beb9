// C++ forms of Enzyme's declarations: rules on a static member function, a function template
// instance, an extern "C" function, a registration inside a namespace (mangled name), an
// inactive non-static member function (annotate("enzyme_inactive")) and an inactive static data
// member; in reverse and forward mode.
#include "../e2e.h"

extern "C" double __enzyme_autodiff(void *, ...);
extern "C" double __enzyme_fwddiff(void *, ...);

static int calls[6];

struct Spline {
  __attribute__((noinline)) static double eval(double x) { return x * x * x; }
};
static double spline_aug(double x) { calls[0]++; return x * x * x; }
static double spline_rev(double x, double d) { calls[1]++; return 3.0 * x * x * d; }
void *__enzyme_register_gradient_spline[3] = {(void *)Spline::eval, (void *)spline_aug, (void *)spline_rev};
static double spline_fwd(double x, double dx) { calls[2]++; return 3.0 * x * x * dx; }
void *__enzyme_register_derivative_spline[2] = {(void *)Spline::eval, (void *)spline_fwd};

template <typename T> __attribute__((noinline)) T softsq(T x) { return x * x / (1 + x * x); }
static double softsq_aug(double x) { calls[3]++; return x * x / (1 + x * x); }
static double softsq_rev(double x, double d) { return 2 * x / ((1 + x * x) * (1 + x * x)) * d; }
void *__enzyme_register_gradient_softsq[3] = {(void *)softsq<double>, (void *)softsq_aug, (void *)softsq_rev};
struct dual { double p, t; };
static dual softsq_fwd(double x, double dx) { return {x * x / (1 + x * x), 2 * x / ((1 + x * x) * (1 + x * x)) * dx}; }
void *__enzyme_register_derivative_softsq[2] = {(void *)softsq<double>, (void *)softsq_fwd};

extern "C" __attribute__((noinline)) double c_api_scale(double x, int k) { return x * k * 0.0; } /* wrong body */
namespace rules {
double scale_aug(double x, int k, int k2) { calls[4]++; (void)k2; return x * k; }
double scale_rev(double x, int k, int k2, double d) { calls[5]++; (void)x, (void)k2; return k * d; }
void *__enzyme_register_gradient_c_api_scale[3] = {(void *)c_api_scale, (void *)scale_aug, (void *)scale_rev};
dual scale_fwd(double x, double dx, int k, int k2) { (void)k2; return {x * k, k * dx}; }
void *__enzyme_register_derivative_c_api_scale[2] = {(void *)c_api_scale, (void *)scale_fwd};
} // namespace rules

struct Logger {
  double total = 0.0;
  __attribute__((noinline, annotate("enzyme_inactive"))) double note(double x) {
    total += x;
    return total;
  }
  __attribute__((annotate("enzyme_inactive"))) static double scale;
  __attribute__((noinline)) static void set_scale(double x) { scale = x; }
};
double Logger::scale = 1.0;

static Logger logger;

static double f(double x) {
  double s = Spline::eval(x) + softsq(x) + c_api_scale(x, 3);
  s += logger.note(x) * x; /* inactive: note(x) is a constant */
  Logger::set_scale(x); /* an inactive global: its value is a constant where read */
  return s + Logger::scale * x;
}

int main() {
  e2e_begin("declarations/cpp_forms");
  double x = 0.6;
  logger.total = 2.0;
  double note = 2.0 + x;
  double want = 3 * x * x + 2 * x / ((1 + x * x) * (1 + x * x)) + 3 + note + x;
#ifdef ADCC_SELFTEST
  double d = want, t = want * 0.5;
  logger.note(x);
#else
  double d = __enzyme_autodiff((void *)f, x);
  check_val("primal of the inactive member (after the call)", 0, logger.total, note);
  logger.total = 2.0;
  double t = __enzyme_fwddiff((void *)f, x, 0.5);
  const int expect[6] = {1, 1, 1, 1, 1, 1};
  for (int k = 0; k < 6; k++) check_val("rule calls", k, calls[k], expect[k]);
#endif
  check_an("df/dx", 0, d, want);
  check_an("tangent", 0, t, 0.5 * want);
  return e2e_finish();
}
