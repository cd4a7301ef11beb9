// Forward mode (and, for comparison, reverse mode) through calls via function pointers: a table
// of scalar operations picked at run time, and a callback passed to a noinline helper. Forward
// mode devirtualizes each call over the module's address-taken functions of the same type.
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
extern double __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

typedef double (*unary)(double);

static double square(double x) { return x * x; }
static double wave(double x) { return sin(2.0 * x) + x; }
static double soft(double x) { return log1p(exp(x)); }

static double dsquare(double x) { return 2.0 * x; }
static double dwave(double x) { return 2.0 * cos(2.0 * x) + 1.0; }
static double dsoft(double x) { return 1.0 / (1.0 + exp(-x)); }

static unary table[3] = {square, wave, soft};
static unary dtable[3] = {dsquare, dwave, dsoft};

static __attribute__((noinline)) double apply_scaled(unary op, double x, double k) { return k * op(x); }

/* f(x) = sum_i (i+1) * table[(i+k)%3](x * (1 + 0.1 i)) */
static double f(double x, int k) {
  double s = 0.0;
  for (int i = 0; i < 4; i++) s += apply_scaled(table[(i + k) % 3], x * (1.0 + 0.1 * i), i + 1.0);
  return s;
}

static double df(double x, int k) {
  double s = 0.0;
  for (int i = 0; i < 4; i++) s += (i + 1.0) * (1.0 + 0.1 * i) * dtable[(i + k) % 3](x * (1.0 + 0.1 * i));
  return s;
}

static int pick;
static double f_pick(double x) { return f(x, pick); }

int main(void) {
  e2e_begin("forward/function_pointer");
  for (int k = 0; k < 3; k++) {
    double x = 0.3 + 0.4 * k;
    double want = df(x, k);
#ifdef ADCC_SELFTEST
    double fwd = want, rev = want;
#else
    double fwd = __enzyme_fwddiff((void *)f, enzyme_dup, x, 1.0, enzyme_const, k);
    double rev = __enzyme_autodiff((void *)f, enzyme_out, x, enzyme_const, k);
#endif
    pick = k;
    check_an("forward", k, fwd, want);
    check_fd("forward", k, fwd, fd1(f_pick, x));
    check_an("reverse", k, rev, want);
  }
  return e2e_finish();
}
