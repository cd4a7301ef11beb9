// Stack objects (a view: a pointer and a length) built over an enzyme_const argument's memory and
// passed to procedures along with active data: they hold nothing active and the procedures only
// read them, so they are passed as constant (they once got shadows whose pointer was null: the
// reverse pass accumulated into address 0). A view over a local scratch array that a procedure
// fills with active values keeps its shadow. The C form of a Fortran section of an
// enzyme_const array (tests/fortran/const_sections.f90).
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

struct view { const double *p; int n; };
struct span { double *p; int n; };

__attribute__((noinline)) static double weigh(const struct view *v, const double *x) {
  double s = 0;
  for (int i = 0; i < v->n; i++) s += v->p[i] * x[i] * x[i];
  return s;
}

__attribute__((noinline)) static void fill(const struct span *out, const struct view *v, const double *x) {
  for (int i = 0; i < out->n; i++) out->p[i] = v->p[i] * x[i];
}

static double f(const double *c, double *x) {
  struct view cv = {c + 1, 3};
  double tmp[3];
  struct span tv = {tmp, 3};
  fill(&tv, &cv, x);
  return weigh(&cv, x) + tmp[0] * tmp[1] + tmp[2];
}

static const double C[4] = {9.0, 2.0, -1.5, 0.5};
static double f_fdv(double *x, void *ctx) { (void)ctx; return f(C, x); }

int main(void) {
  e2e_begin("memory/const_view");
  double c[4], x[3] = {0.7, -1.2, 2.0}, dx[3] = {0, 0, 0}, tx[3] = {0.3, -0.4, 1.1}, tangent, want_t = 0;
  memcpy(c, C, sizeof c);
  double g[3] = {2 * c[1] * x[0] + c[1] * c[2] * x[1], 2 * c[2] * x[1] + c[1] * c[2] * x[0], 2 * c[3] * x[2] + c[3]};
#ifdef ADCC_SELFTEST
  for (int i = 0; i < 3; i++) dx[i] += g[i];
  tangent = g[0] * tx[0] + g[1] * tx[1] + g[2] * tx[2];
#else
  __enzyme_autodiff((void *)f, enzyme_const, c, enzyme_dup, x, dx);
  tangent = __enzyme_fwddiff((void *)f, enzyme_const, c, enzyme_dup, x, tx);
#endif
  for (int i = 0; i < 3; i++) {
    check_an("reverse", i, dx[i], g[i]);
    check_fd("reverse", i, dx[i], fdv(f_fdv, x, i, 0));
    check_val("c unchanged", i, c[i + 1], C[i + 1]);
    want_t += g[i] * tx[i];
  }
  check_an("forward", 0, tangent, want_t);
  check_fd("forward", 0, tangent, fd_dir(f_fdv, x, tx, 3, 0));
  return e2e_finish();
}
