// Registrations with internal linkage (static), which clang does not even emit when nothing
// uses them (Enzyme's clang plugin marks them used; adcc keeps them for itself): a custom
// gradient and derivative, an inactive function and a function-like declaration.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

static int calls[3];

__attribute__((noinline)) static double bent(double x) { return x * 0.0; } /* wrong on purpose */
static double bent_aug(double x) { calls[0]++; return x * x; }
static double bent_rev(double x, double d) { calls[1]++; return 2.0 * x * d; }
static void *__enzyme_register_gradient_bent[3] = {(void *)bent, (void *)bent_aug, (void *)bent_rev};
typedef struct { double p, t; } dual;
static dual bent_fwd(double x, double dx) { calls[2]++; dual r = {x * x, 2.0 * x * dx}; return r; }
static void *__enzyme_register_derivative_bent[2] = {(void *)bent, (void *)bent_fwd};

static double noise(double x) { return 5.0 * x; }
static void *__enzyme_inactivefn[1] = {(void *)noise};

static double mylog(double x) { return x - 1.0; } /* crude: only "log" gives 1/x */
static void *__enzyme_function_like[2] = {(void *)mylog, "log"};

static double f(double x) { return bent(x) + noise(x) + mylog(x); }

int main(void) {
  e2e_begin("declarations/static_registration");
  double x = 1.7, want = 2.0 * x + 1.0 / x;
#ifdef ADCC_SELFTEST
  double d = want, t = want;
#else
  double d = __enzyme_autodiff((void *)f, x);
  double t = __enzyme_fwddiff((void *)f, x, 1.0);
  check_val("rule calls", 0, calls[0] + calls[1] + calls[2], 3);
#endif
  check_an("reverse", 0, d, want);
  check_an("forward", 0, t, want);
  return e2e_finish();
}
