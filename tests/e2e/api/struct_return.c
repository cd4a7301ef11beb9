// A differentiated function that returns a 24-byte struct through a hidden sret pointer, as
// Enzyme passes it: forward mode returns the struct's tangent (with enzyme_primal_return:
// {primal, tangent}); reverse mode takes the seed of the returned struct as the first argument
// after f and accumulates into the other arguments.
#include "../e2e.h"

typedef struct { double a, b, c; } V3;
typedef struct { V3 value, tangent; } V3Pair;
extern V3 __enzyme_fwddiff(void *, ...);
extern V3Pair __enzyme_fwddiff_pair(void *, ...);
extern double __enzyme_autodiff(void *, ...);
int enzyme_primal_return, enzyme_dup, enzyme_const, enzyme_out;

static V3 curve(double t, double s) {
  V3 r = {t * t * s, sin(t) + s, exp(0.5 * t) * s * s};
  return r;
}
static V3 dcurve_dt(double t, double s) {
  V3 r = {2 * t * s, cos(t), 0.5 * exp(0.5 * t) * s * s};
  return r;
}
static V3 dcurve_ds(double t, double s) {
  V3 r = {t * t, 1.0, 2 * exp(0.5 * t) * s};
  return r;
}

static int comp;
static double cv(double *v, void *ctx) {
  (void)ctx;
  V3 r = curve(v[0], v[1]);
  return comp == 0 ? r.a : comp == 1 ? r.b : r.c;
}

int main(void) {
  e2e_begin("api/struct_return");
  double t = 0.6, s = -1.3, v[2] = {t, s};
  V3 dt = dcurve_dt(t, s), ds = dcurve_ds(t, s);
#ifdef ADCC_SELFTEST
  V3 tan = dt;
  V3Pair both = {curve(t, s), {dt.a + 2 * ds.a, dt.b + 2 * ds.b, dt.c + 2 * ds.c}};
#else
  V3 tan = __enzyme_fwddiff((void *)curve, enzyme_dup, t, 1.0, enzyme_const, s);
  V3Pair both = __enzyme_fwddiff_pair((void *)curve, enzyme_primal_return, t, 1.0, s, 2.0);
#endif
  double got[3] = {tan.a, tan.b, tan.c}, want[3] = {dt.a, dt.b, dt.c};
  double got2[3] = {both.tangent.a, both.tangent.b, both.tangent.c};
  double want2[3] = {dt.a + 2 * ds.a, dt.b + 2 * ds.b, dt.c + 2 * ds.c};
  V3 p = curve(t, s);
  double prim[3] = {both.value.a, both.value.b, both.value.c}, pw[3] = {p.a, p.b, p.c};
  for (comp = 0; comp < 3; comp++) {
    check_an("forward tangent", comp, got[comp], want[comp]);
    check_fd("forward tangent", comp, got[comp], fdv(cv, v, 0, 0));
    check_an("primal_return tangent", comp, got2[comp], want2[comp]);
    check_fd("primal_return tangent", comp, got2[comp], fdv(cv, v, 0, 0) + 2 * fdv(cv, v, 1, 0));
    check_val("primal_return primal", comp, prim[comp], pw[comp]);
  }
  /* reverse: seed (1, -2, 0.5) on the returned struct */
  V3 seed = {1.0, -2.0, 0.5};
#ifdef ADCC_SELFTEST
  double gt = seed.a * dt.a + seed.b * dt.b + seed.c * dt.c;
  seed.a = seed.b = seed.c = 0;
#else
  double gt = __enzyme_autodiff((void *)curve, &seed, enzyme_out, t, enzyme_const, s);
#endif
  double fd = 0, w[3] = {1.0, -2.0, 0.5};
  for (comp = 0; comp < 3; comp++) fd += w[comp] * fdv(cv, v, 0, 0);
  check_an("reverse seeded struct", 0, gt, w[0] * dt.a + w[1] * dt.b + w[2] * dt.c);
  check_fd("reverse seeded struct", 0, gt, fd);
  return e2e_finish();
}
