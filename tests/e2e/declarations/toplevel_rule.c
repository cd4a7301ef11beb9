// A custom rule applies when its function is the target of __enzyme_autodiff/__enzyme_fwddiff
// itself, not only at depth: for a defined function (its body is deliberately wrong) and for a
// function without a body here (ext_cube, defined after main as a separate unit would).
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

static int calls[4];

/* the body is wrong on purpose: the derivative must come from the rules */
__attribute__((noinline)) double wobble(double x, double y) { return x * 0.0 + y; }
static double wobble_aug(double x, double y) { calls[0]++; return x * x * y; }
typedef struct { double dx, dy; } grad2;
static grad2 wobble_rev(double x, double y, double d) {
  calls[1]++;
  grad2 g = {2 * x * y * d, x * x * d};
  return g;
}
void *__enzyme_register_gradient_wobble[3] = {(void *)wobble, (void *)wobble_aug, (void *)wobble_rev};
typedef struct { double p, t; } dual;
static dual wobble_fwd(double x, double dx, double y, double dy) {
  calls[2]++;
  dual r = {x * x * y, 2 * x * y * dx + x * x * dy};
  return r;
}
void *__enzyme_register_derivative_wobble[2] = {(void *)wobble, (void *)wobble_fwd};

extern void ext_cube(const double *x, double *y);
static void *cube_aug(const double *x, const double *dx, double *y, double *dy) {
  (void)dx, (void)dy;
  *y = *x * *x * *x;
  return NULL;
}
static void cube_rev(const double *x, double *dx, const double *y, double *dy, void *tape) {
  (void)y, (void)tape;
  calls[3]++;
  *dx += 3.0 * *x * *x * *dy;
  *dy = 0.0;
}
void *__enzyme_register_gradient_cube[3] = {(void *)ext_cube, (void *)cube_aug, (void *)cube_rev};
static void cube_fwd(const double *x, const double *dx, double *y, double *dy) {
  *y = *x * *x * *x;
  *dy = 3.0 * *x * *x * *dx;
}
void *__enzyme_register_derivative_cube[2] = {(void *)ext_cube, (void *)cube_fwd};

typedef struct { double dx, dy; } G2;
extern G2 __enzyme_autodiff2(void *, ...);

int main(void) {
  e2e_begin("declarations/toplevel_rule");
  double x = 0.9, y = -1.4;
#ifdef ADCC_SELFTEST
  G2 g = {2 * x * y, x * x};
  double t = 2 * x * y * 0.5 + x * x * 2.0;
#else
  G2 g = __enzyme_autodiff2((void *)wobble, x, y);
  double t = __enzyme_fwddiff((void *)wobble, x, 0.5, y, 2.0);
  check_val("augmented calls of wobble", 0, calls[0], 1);
  check_val("reverse calls of wobble", 0, calls[1], 1);
  check_val("forward calls of wobble", 0, calls[2], 1);
#endif
  check_an("d wobble/dx", 0, g.dx, 2 * x * y);
  check_an("d wobble/dy", 0, g.dy, x * x);
  check_an("wobble tangent", 0, t, 2 * x * y * 0.5 + x * x * 2.0);

  double c = 1.3, dc = 0.0, out = 0.0, dout = 1.0, tc = 1.0, tout = 0.0;
#ifdef ADCC_SELFTEST
  dc += 3.0 * c * c * dout;
  dout = 0.0;
  out = c * c * c;
  tout = 3.0 * c * c * tc;
#else
  __enzyme_autodiff((void *)ext_cube, enzyme_dup, &c, &dc, enzyme_dup, &out, &dout);
  check_val("reverse calls of ext_cube", 0, calls[3], 1);
  check_val("primal output of ext_cube (reverse)", 0, out, c * c * c);
  out = 0.0;
  __enzyme_fwddiff((void *)ext_cube, enzyme_dup, &c, &tc, enzyme_dup, &out, &tout);
#endif
  check_an("d cube/dc", 0, dc, 3.0 * c * c);
  check_val("output adjoint consumed", 0, dout, 0.0);
  check_val("primal output of ext_cube (forward)", 0, out, c * c * c);
  check_an("cube tangent", 0, tout, 3.0 * c * c);
  return e2e_finish();
}

/* a wrong body, standing for one compiled elsewhere */
void ext_cube(const double *x, double *y) { *y = *x; }
