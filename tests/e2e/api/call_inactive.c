// __enzyme_call_inactive(fn, args...): calls fn(args...) and no derivative flows through that
// call (its result is a constant to the derivative, as with __enzyme_inactivefn, but for one
// call only: the same function called directly is differentiated). Both modes; a function named
// directly, one chosen at run time through a pointer, a void function with a side effect on
// inactive memory, an integer result. The declaration changes the derivative on purpose: the
// reference is the analytic derivative with that factor held constant.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
#ifndef ADCC_SELFTEST
extern double __enzyme_call_inactive(void *, ...);
extern void __enzyme_call_inactive_void(void *, ...);
extern int __enzyme_call_inactive_int(void *, ...);
#endif

static int logged;
static double square(double x) { return x * x; }
static double cube(double x) { return x * x * x; }
static void note(double v, int k) { logged += k + (v > 0); }
static int clamp_index(double v, int n) { int k = (int)v; return k < 0 ? 0 : (k >= n ? n - 1 : k); }
static const double TABLE[4] = {1.5, -0.5, 2.0, 0.25};
static double (*chosen)(double) = square;

#ifdef ADCC_SELFTEST
#define INACTIVE(fn, ...) fn(__VA_ARGS__)
#define INACTIVE_VOID(fn, ...) fn(__VA_ARGS__)
#define INACTIVE_INT(fn, ...) fn(__VA_ARGS__)
#else
#define INACTIVE(fn, ...) __enzyme_call_inactive((void *)fn, __VA_ARGS__)
#define INACTIVE_VOID(fn, ...) __enzyme_call_inactive_void((void *)fn, __VA_ARGS__)
#define INACTIVE_INT(fn, ...) __enzyme_call_inactive_int((void *)fn, __VA_ARGS__)
#endif

/* square(x) held constant: d/dx = x^2 cos x + 2x (the direct call is differentiated) */
static double f(double x) {
  double s = INACTIVE(square, x);
  INACTIVE_VOID(note, x, 2);
  return s * sin(x) + square(x);
}
/* chosen(x) held constant: d/dx = chosen(x) * 3 */
static double g(double x) { return INACTIVE(chosen, x) * 3.0 * x; }
/* a table entry picked by an inactive integer call: d/dx = TABLE[k] * 2x */
static double h(double x) { return TABLE[INACTIVE_INT(clamp_index, x * 2.0, 4)] * x * x; }

int main(void) {
  e2e_begin("api/call_inactive");
  for (int i = 0; i < 3; i++) {
    double x = 0.3 + 0.55 * i;
    double want_f = x * x * cos(x) + 2 * x;
    chosen = i == 1 ? cube : square;
    double want_g = chosen(x) * 3.0;
    double want_h = TABLE[clamp_index(x * 2.0, 4)] * 2 * x;
#ifdef ADCC_SELFTEST
    double df = want_f, tf = want_f, dg = want_g, tg = want_g, dh = want_h, th = want_h;
#else
    double df = __enzyme_autodiff((void *)f, x), tf = __enzyme_fwddiff((void *)f, x, 1.0);
    double dg = __enzyme_autodiff((void *)g, x), tg = __enzyme_fwddiff((void *)g, x, 1.0);
    double dh = __enzyme_autodiff((void *)h, x), th = __enzyme_fwddiff((void *)h, x, 1.0);
#endif
    check_val("f", i, f(x), x * x * sin(x) + x * x);
    check_an("df", i, df, want_f);
    check_an("tf", i, tf, want_f);
    check_val("g", i, g(x), chosen(x) * 3.0 * x);
    check_an("dg", i, dg, want_g);
    check_an("tg", i, tg, want_g);
    check_an("dh", i, dh, want_h);
    check_an("th", i, th, want_h);
    check_fd("dh", i, dh, fd1(h, x));  /* the index is piecewise constant: FD agrees */
  }
  check_val("logged", 0, logged > 0, 1);  /* the inactive calls ran */
  return e2e_finish();
}
