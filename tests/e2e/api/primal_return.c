// enzyme_primal_return: the call also returns f's result, first, then the derivatives
// (reverse: the adjoints of the enzyme_out arguments in order; forward: the tangent, or the N
// tangents of enzyme_width N), laid out as one struct.
#include "../e2e.h"

typedef struct { double value, dx; } R1;
typedef struct { double value, dx, dz; } R2;           /* 24 bytes: returned through sret */
typedef struct { double value, lane0, lane1; } W2;
extern R1 __enzyme_autodiff(void *, ...);
extern R2 __enzyme_autodiff2(void *, ...);
extern R1 __enzyme_fwddiff(void *, ...);
extern W2 __enzyme_fwddiff2(void *, ...);
int enzyme_primal_return, enzyme_const, enzyme_dup, enzyme_width, enzyme_out;

static double f(double x, double y, double z) { return sin(x) * y + x * exp(z) + y * z * z; }
static double f_dx(double x, double y, double z) { return cos(x) * y + exp(z); }
static double f_dz(double x, double y, double z) { return x * exp(z) + 2 * y * z; }

static double fv(double *v, void *ctx) { (void)ctx; return f(v[0], v[1], v[2]); }

int main(void) {
  e2e_begin("api/primal_return");
  const double pts[2][3] = {{0.7, -1.2, 0.4}, {-1.1, 0.6, -0.8}};
  for (int t = 0; t < 2; t++) {
    double x = pts[t][0], y = pts[t][1], z = pts[t][2], v[3] = {x, y, z};
    double fx = fdv(fv, v, 0, 0), fz = fdv(fv, v, 2, 0);
#ifdef ADCC_SELFTEST
    R1 r = {f(x, y, z), f_dx(x, y, z)};
    R2 r2 = {f(x, y, z), f_dx(x, y, z), f_dz(x, y, z)};
    R1 q = {f(x, y, z), f_dx(x, y, z) + 0.5 * f_dz(x, y, z)};
    W2 w = {f(x, y, z), f_dx(x, y, z), f_dz(x, y, z)};
#else
    R1 r = __enzyme_autodiff((void *)f, enzyme_primal_return, x, enzyme_const, y, enzyme_const, z);
    R2 r2 = __enzyme_autodiff2((void *)f, x, enzyme_const, y, enzyme_out, z, enzyme_primal_return);
    R1 q = __enzyme_fwddiff((void *)f, enzyme_primal_return, enzyme_dup, x, 1.0, enzyme_const, y,
                            enzyme_dup, z, 0.5);
    W2 w = __enzyme_fwddiff2((void *)f, enzyme_width, 2, enzyme_primal_return, enzyme_dup, x, 1.0, 0.0,
                             enzyme_const, y, enzyme_dup, z, 0.0, 1.0);
#endif
    check_val("reverse primal", t, r.value, f(x, y, z));
    check_an("reverse dx", t, r.dx, f_dx(x, y, z));
    check_fd("reverse dx", t, r.dx, fx);
    check_val("reverse (sret) primal", t, r2.value, f(x, y, z));
    check_an("reverse (sret) dx", t, r2.dx, f_dx(x, y, z));
    check_an("reverse (sret) dz", t, r2.dz, f_dz(x, y, z));
    check_fd("reverse (sret) dz", t, r2.dz, fz);
    check_val("forward primal", t, q.value, f(x, y, z));
    check_an("forward tangent", t, q.dx, f_dx(x, y, z) + 0.5 * f_dz(x, y, z));
    check_fd("forward tangent", t, q.dx, fx + 0.5 * fz);
    check_val("width 2 primal", t, w.value, f(x, y, z));
    check_an("width 2 lane 0", t, w.lane0, f_dx(x, y, z));
    check_an("width 2 lane 1", t, w.lane1, f_dz(x, y, z));
    check_fd("width 2 lane 1", t, w.lane1, fz);
  }
  return e2e_finish();
}
