// Enzyme's gradient logging hook: a program that defines
//   void enzymeLogGrad(double grad, const char *opcode, const char *callee, const char *module,
//                      const char *function, unsigned block, unsigned instruction)
// has it called by the reverse pass once per active floating-point operation (arithmetic and
// math calls), with that operation's adjoint. f(x) = sin(x^2) + 3x: four operations, adjoints
// 1 (the sum), 1 (sin), 1 (3x) and cos(x^2) (x^2); inactive operations are not logged, forward
// mode logs nothing. The gradient itself against the analytic one and finite differences.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

static int logged;
static double grads[16];
static char ops[16][16], callees[16][32], functions[16][32];

void enzymeLogGrad(double grad, const char *opcode, const char *callee, const char *module,
                   const char *function, unsigned block, unsigned instruction) {
  (void)module, (void)block, (void)instruction;
  if (logged < 16) {
    grads[logged] = grad;
    snprintf(ops[logged], sizeof ops[0], "%s", opcode);
    snprintf(callees[logged], sizeof callees[0], "%s", callee);
    snprintf(functions[logged], sizeof functions[0], "%s", function);
  }
  logged++;
}

static double scale = 3.0;
static double f(double x) {
  double s = sin(x * x);
  double t = scale * x; /* (its own statement: not contracted into a fused multiply-add) */
  return s + t;
}

static double logged_for(const char *op, int want_callee) {
  double total = 0;
  for (int k = 0; k < logged && k < 16; k++)
    if (strcmp(ops[k], op) == 0 && (!want_callee || strstr(callees[k], "sin")))
      total += grads[k];
  return total;
}

int main(void) {
  e2e_begin("api/log_grad");
  for (int i = 0; i < 3; i++) {
    double x = 0.4 + 0.5 * i;
    double want = 2 * x * cos(x * x) + scale;
    logged = 0;
#ifdef ADCC_SELFTEST
    double d = want;
    enzymeLogGrad(1.0, "fadd", "", "", "f", 0, 3);
    enzymeLogGrad(1.0, "fmul", "", "", "f", 0, 2);
    enzymeLogGrad(1.0, "call", "sin", "", "f", 0, 1);
    enzymeLogGrad(cos(x * x), "fmul", "", "", "f", 0, 0);
#else
    double d = __enzyme_autodiff((void *)f, x);
#endif
    check_an("gradient", i, d, want);
    check_fd("gradient", i, d, fd1(f, x));
    check_val("operations logged", i, logged, 4);
    check_an("adjoint of the sum", i, logged_for("fadd", 0), 1.0);
    check_an("adjoint of sin", i, logged_for("call", 1), 1.0);
    check_an("adjoints of the products", i, logged_for("fmul", 0), 1.0 + cos(x * x));
    check_val("function", i, strcmp(functions[0], "f") == 0, 1);
  }
  logged = 0;
#ifndef ADCC_SELFTEST
  double t = __enzyme_fwddiff((void *)f, 0.7, 1.0);
  check_an("tangent", 0, t, 2 * 0.7 * cos(0.49) + scale);
#endif
  check_val("forward mode logs nothing", 0, logged, 0);
  return e2e_finish();
}
