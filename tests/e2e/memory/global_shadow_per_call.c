// Each __enzyme_autodiff / __enzyme_fwddiff call starts with a zero derivative for the globals the
// program reads (the program cannot seed their implicit shadows). adcc's implicit shadow of a
// global is one zero-initialized twin for the whole run: before, the adjoint a reverse call
// accumulated for a global it only read stayed there, and
//  - a later forward call read it as the global's tangent (scale: 0.35 became 0.83 after two
//    gradients),
//  - a later reverse call of code that overwrites and rereads the global added it to its result
//    (level: 1.4 became 2.38),
//  - a forward call that wrote a tangent into a global left it for the next forward call of code
//    that only reads it,
// also for the floating-point fields of a struct global that holds a pointer as well.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

double scale = 0.25;
double level = 0.5;
double table[3] = {1.0, 2.0, 3.0};
struct params { double w; const double *src; double b; } P = {1.5, table, -0.5};

static double use_scale(double x) { return scale * x * x; }                 /* reads scale */
static double set_level(double x) { level = x * x; return level; }          /* writes, rereads */
static double read_level(double x) { return level * x; }                     /* reads level */
__attribute__((noinline)) static double dot(double x) { return P.w * x + P.src[1] * x * x + P.b; }
static double use_params(double x) { return dot(x) * x + table[2] * x; }

int main(void) {
  e2e_begin("memory/global_shadow_per_call");
  double x = 0.7;
#ifdef ADCC_SELFTEST
  double r1 = 2.0 * scale * x, r2 = r1;
  double f1 = 2.0 * scale * x;
#else
  double r1 = __enzyme_autodiff((void *)use_scale, x);
  double r2 = __enzyme_autodiff((void *)use_scale, x);
  double f1 = __enzyme_fwddiff((void *)use_scale, x, 1.0);
#endif
  check_an("reverse d(scale x^2)", 0, r1, 2.0 * scale * x);
  check_an("reverse again", 0, r2, 2.0 * scale * x);
  check_an("forward after two reverse calls", 0, f1, 2.0 * scale * x);

#ifdef ADCC_SELFTEST
  double a = level;
  level = x * x;
  double b = 2.0 * x;
#else
  double a = __enzyme_autodiff((void *)read_level, x);
  double b = __enzyme_autodiff((void *)set_level, x);
#endif
  check_an("reverse d(level x)", 0, a, 0.5);
  check_an("reverse d(level = x^2) after a call that read level", 0, b, 2.0 * x);

#ifdef ADCC_SELFTEST
  level = x * x;
  double t1 = 2.0 * x * 3.0, t2 = level * 3.0;
#else
  double t1 = __enzyme_fwddiff((void *)set_level, x, 3.0);
  double t2 = __enzyme_fwddiff((void *)read_level, x, 3.0);
#endif
  check_an("forward d(level = x^2)", 0, t1, 6.0 * x);
  check_an("forward d(level x) after a call that wrote level's tangent", 0, t2, level * 3.0);

  /* d/dx (P.w x^2 + table[1] x^3 + P.b x + table[2] x) */
  double want = 2.0 * P.w * x + 3.0 * table[1] * x * x + P.b + table[2];
#ifdef ADCC_SELFTEST
  double p1 = want, p2 = want, p3 = want;
#else
  double p1 = __enzyme_autodiff((void *)use_params, x);
  double p2 = __enzyme_autodiff((void *)use_params, x);
  double p3 = __enzyme_fwddiff((void *)use_params, x, 1.0);
#endif
  check_an("reverse, struct global with a pointer field", 0, p1, want);
  check_an("reverse again", 0, p2, want);
  check_an("forward after the reverse calls", 0, p3, want);
  return e2e_finish();
}
