// __enzyme_iter(a, b): an iteration count that is `a` in the primal and grows by `b` with each
// order of differentiation (a derivative of order n sees a + n*b), so a truncated Taylor series
// keeps its number of terms after each derivative drops one. Checked exactly through a weight
// that is the count itself (orders 0, 1, 2 in both modes, a constant and a run-time count, a
// step of 3, the count in a callee), and through a sine series whose derivatives must stay
// within 1e-10 of the cosine and the sine.
#include "../e2e.h"
#include <stdint.h>

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
#ifdef ADCC_SELFTEST
static uint64_t __enzyme_iter(uint64_t a, uint64_t b) { (void)b; return a; }
#else
extern uint64_t __enzyme_iter(uint64_t, uint64_t);
#endif

/* x^2 * count: the first derivative is 2x*(a+b), the second 2*(a+2b) */
static double weighted(double x) { return x * x * (double)__enzyme_iter(5, 1); }
static uint64_t start = 7;
static double weighted_runtime(double x) { return x * x * (double)__enzyme_iter(start, 3); }
__attribute__((noinline)) static double counted(double x) { return x * x * (double)__enzyme_iter(10, 2); }
static double calls_counted(double x) { return 2.0 * counted(x); }

/* sin x as sum_{k odd <= N} (-1)^((k-1)/2) x^k / k!, with N = __enzyme_iter(13, 2) */
static double sine(double x) {
  uint64_t n = __enzyme_iter(13, 2);
  double term = x, sum = 0.0;
  for (uint64_t k = 1; k <= n; k += 2) {
    sum += term;
    term *= -x * x / (double)((k + 1) * (k + 2));
  }
  return sum;
}

#ifndef ADCC_SELFTEST
static double d_weighted(double x) { return __enzyme_autodiff((void *)weighted, x); }
static double dd_weighted(double x) { return __enzyme_autodiff((void *)d_weighted, x); }
static double f_weighted(double x) { return __enzyme_fwddiff((void *)weighted, x, 1.0); }
static double ff_weighted(double x) { return __enzyme_fwddiff((void *)f_weighted, x, 1.0); }
static double d_runtime(double x) { return __enzyme_autodiff((void *)weighted_runtime, x); }
static double dd_runtime(double x) { return __enzyme_autodiff((void *)d_runtime, x); }
static double d_sine(double x) { return __enzyme_autodiff((void *)sine, x); }
static double dd_sine(double x) { return __enzyme_autodiff((void *)d_sine, x); }
static double f_sine(double x) { return __enzyme_fwddiff((void *)sine, x, 1.0); }
#else /* the derivatives by hand, counts as adcc sees them */
static double d_weighted(double x) { return 2 * x * 6; }
static double dd_weighted(double x) { (void)x; return 2 * 7; }
static double f_weighted(double x) { return 2 * x * 6; }
static double ff_weighted(double x) { (void)x; return 2 * 7; }
static double d_runtime(double x) { return 2 * x * (double)(start + 3); }
static double dd_runtime(double x) { (void)x; return 2 * (double)(start + 6); }
static double d_sine(double x) { return cos(x); }
static double dd_sine(double x) { return -sin(x); }
static double f_sine(double x) { return cos(x); }
#endif

int main(void) {
  e2e_begin("api/iter");
  double x = 0.8;
  check_val("primal", 0, weighted(x), x * x * 5);
  check_an("reverse", 1, d_weighted(x), 2 * x * 6);
  check_an("reverse", 2, dd_weighted(x), 2 * 7);
  check_an("forward", 1, f_weighted(x), 2 * x * 6);
  check_an("forward", 2, ff_weighted(x), 2 * 7);
  start = 4;  /* a count known only at run time */
  check_val("runtime", 0, weighted_runtime(x), x * x * 4);
  check_an("runtime", 1, d_runtime(x), 2 * x * 7);
  check_an("runtime", 2, dd_runtime(x), 2 * 10);
#ifdef ADCC_SELFTEST
  double dc = 2.0 * 2 * x * 12;
#else
  double dc = __enzyme_autodiff((void *)calls_counted, x);
#endif
  check_val("callee", 0, calls_counted(x), 2.0 * x * x * 10);
  check_an("callee", 1, dc, 2.0 * 2 * x * 12);
  for (int i = 0; i < 3; i++) {
    double s = -1.0 + 0.9 * i;
    check_an("sine", i, sine(s), sin(s));
    check_an("dsine", i, d_sine(s), cos(s));
    check_fd("dsine", i, d_sine(s), fd1(sine, s));
    check_an("ddsine", i, dd_sine(s), -sin(s));
    check_an("fsine", i, f_sine(s), cos(s));
  }
  return e2e_finish();
}
