// The return-value markers: enzyme_const_return (reverse: f's result is not seeded, only the
// seeds of duplicated outputs count; forward: no tangent, with enzyme_primal_return the primal
// only), enzyme_active_return (the default for a double), enzyme_dup_return and enzyme_noret in
// forward mode, and the shadow pointer forward mode returns for a pointer-returning f.
#include "../e2e.h"

typedef struct { double value; } Primal;
extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern Primal __enzyme_fwddiff_primal(void *, ...);
extern double *__enzyme_fwddiff_ptr(void *, ...);
int enzyme_const_return, enzyme_active_return, enzyme_dup_return, enzyme_noret, enzyme_primal_return;
int enzyme_dup, enzyme_const, enzyme_out;

/* returns x^3 and writes out[0] = x * y */
static double g(double x, double y, double *out) {
  out[0] = x * y;
  return x * x * x;
}

static double *pick(double *a, int i) { return a + i; }

static double gv(double *v, void *ctx) {
  double o;
  double r = g(v[0], v[1], &o);
  return *(int *)ctx ? o : r;
}

int main(void) {
  e2e_begin("api/return_activity");
  double x = 0.8, y = -1.4, v[2] = {x, y};
  int want_out = 1, want_ret = 0;
  double o, dout;
  /* reverse, const return: only the seed of out counts */
  dout = 1.0;
#ifdef ADCC_SELFTEST
  double dx = y * dout;
  dout = 0;
#else
  double dx = __enzyme_autodiff((void *)g, enzyme_const_return, x, enzyme_const, y, enzyme_dup, &o, &dout);
#endif
  check_an("const_return dx", 0, dx, y);
  check_fd("const_return dx", 0, dx, fdv(gv, v, 0, &want_out));
  check_val("const_return seed consumed", 0, dout, 0.0);
  /* reverse, active return (explicit) plus a seeded output */
  dout = 2.0;
#ifdef ADCC_SELFTEST
  double dx2 = 3 * x * x + 2.0 * y;
#else
  double dx2 = __enzyme_autodiff((void *)g, enzyme_active_return, x, enzyme_const, y, enzyme_dup, &o, &dout);
#endif
  check_an("active_return dx", 0, dx2, 3 * x * x + 2.0 * y);
  check_fd("active_return dx", 0, dx2, fdv(gv, v, 0, &want_ret) + 2.0 * fdv(gv, v, 0, &want_out));
  /* forward: dup_return + noret gives the tangent; const_return + primal_return the primal */
  double dx_seed = 1.0, t_out = 0.0;
#ifdef ADCC_SELFTEST
  double t = 3 * x * x;
  t_out = y;
  Primal p = {x * x * x};
#else
  double t = __enzyme_fwddiff((void *)g, enzyme_dup_return, enzyme_noret, enzyme_dup, x, dx_seed, enzyme_const, y,
                              enzyme_dup, &o, &t_out);
  Primal p = __enzyme_fwddiff_primal((void *)g, enzyme_const_return, enzyme_primal_return, enzyme_dup, x, 1.0,
                                     enzyme_const, y, &o, &dout);
#endif
  check_an("dup_return tangent", 0, t, 3 * x * x);
  check_fd("dup_return tangent", 0, t, fdv(gv, v, 0, &want_ret));
  check_an("tangent of out", 0, t_out, y);
  check_val("const_return primal", 0, p.value, x * x * x);
  /* forward of a pointer-returning function: the shadow pointer */
  double a[3] = {1, 2, 3}, da[3] = {0};
#ifdef ADCC_SELFTEST
  double *sp = da + 2;
#else
  double *sp = __enzyme_fwddiff_ptr((void *)pick, enzyme_dup, a, da, enzyme_const, 2);
#endif
  check_val("shadow pointer", 0, (double)(sp - da), 2.0);
  return e2e_finish();
}
