// Both modes through the math functions with more than one output: frexp (mantissa; the exponent
// is an integer), modf (fraction; the integral part has no derivative), remquo (remainder; the
// quotient bits are an integer), lgamma_r (the sign is an integer) and sincos (both results through
// pointers), in double and float. Run as is, with -fno-math-errno (llvm.sincos, llvm.modf) and with
// llvm.frexp written into the IR by tests/test_rules_libm.py.
#define _GNU_SOURCE
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

typedef struct { double dx, dy; } grad2;
extern grad2 __enzyme_autodiff2(void *, ...) __asm__("__enzyme_autodiff");

static double f(double x, double y) {
  int e, q, sign;
  double whole, s, c;
  double m = frexp(3.0 * x, &e);
  double frac = modf(x * y, &whole);
  double r = remquo(x, y, &q);
  double lg = lgamma_r(x + 2.0, &sign);
  sincos(x * y, &s, &c);
  return m * e + 2.0 * frac + 0.5 * whole + r * (q & 7) + lg * sign + s * c + s * x;
}

/* the float spellings, and their double twin (its finite differences are those of g) */
static double g(double x) {
  int e, q, sign;
  float s, c, whole;
  float m = frexpf((float)x * 3.0f, &e), frac = modff((float)x * 1.5f, &whole);
  float r = remquof((float)x, 0.7f, &q), lg = lgammaf_r((float)x + 2.0f, &sign);
  sincosf((float)x, &s, &c);
  return (double)m * e + frac + 0.5 * whole + (double)r * (q & 7) + (double)lg * sign + (double)s * c;
}
static double g_twin(double x) {
  int e, q, sign;
  double s, c, whole;
  double m = frexp(x * 3.0, &e), frac = modf(x * 1.5, &whole);
  double r = remquo(x, 0.7, &q), lg = lgamma_r(x + 2.0, &sign);
  sincos(x, &s, &c);
  return m * e + frac + 0.5 * whole + r * (q & 7) + lg * sign + s * c;
}

/* psi(x) for x >= 1: the shift psi(x) = psi(x + 8) - sum 1/(x + i) and the asymptotic series */
static double digamma(double x) {
  double z = x + 8.0, psi = log(z) - 0.5 / z, r2 = 1.0 / (z * z);
  psi -= r2 * (1.0 / 12 - r2 * (1.0 / 120 - r2 * (1.0 / 252 - r2 * (1.0 / 240 - r2 / 132))));
  for (int i = 0; i < 8; i++) psi -= 1.0 / (x + i);
  return psi;
}

/* f's gradient by hand: each output's partials */
static void df(double x, double y, double *gx, double *gy) {
  int e, q, sign;
  double whole;
  frexp(3.0 * x, &e);
  modf(x * y, &whole);
  double r = remquo(x, y, &q), n = rint((x - r) / y);
  lgamma_r(x + 2.0, &sign);
  double s = sin(x * y), c = cos(x * y);
  double d_sc = c * c - s * s; /* d (sin u cos u) / du */
  *gx = 3.0 * ldexp(1.0, -e) * e + 2.0 * y + (q & 7) + sign * digamma(x + 2.0) + d_sc * y + c * y * x + s;
  *gy = 2.0 * x - (q & 7) * n + d_sc * x + c * x * x;
}

static double dg(double x) {
  int e, q, sign;
  frexp(x * 3.0, &e);
  remquo(x, 0.7, &q);
  lgamma_r(x + 2.0, &sign);
  return 3.0 * ldexp(1.0, -e) * e + 1.5 + (q & 7) + sign * digamma(x + 2.0) + cos(x) * cos(x) - sin(x) * sin(x);
}

static double fixed_y;
static double fx(double x) { return f(x, fixed_y); }
static double fixed_x;
static double fy(double y) { return f(fixed_x, y); }

int main(void) {
  e2e_begin("reverse/libm_outputs");
  const double xs[3] = {1.7, 0.45, 2.9}, ys[3] = {0.45, -1.3, 0.8};
  for (int t = 0; t < 3; t++) {
    double x = xs[t], y = ys[t], gx, gy;
    df(x, y, &gx, &gy);
#ifdef ADCC_SELFTEST
    double tx = gx, ty = gy, tg = dg(x), rg = dg(x);
    grad2 r = {gx, gy};
#else
    double tx = __enzyme_fwddiff((void *)f, enzyme_dup, x, 1.0, enzyme_const, y);
    double ty = __enzyme_fwddiff((void *)f, enzyme_const, x, enzyme_dup, y, 1.0);
    grad2 r = __enzyme_autodiff2((void *)f, enzyme_out, x, enzyme_out, y);
    double tg = __enzyme_fwddiff((void *)g, enzyme_dup, x, 1.0);
    double rg = __enzyme_autodiff((void *)g, enzyme_out, x);
#endif
    fixed_y = y;
    fixed_x = x;
    check_fd("forward x", t, tx, fd1(fx, x));
    check_fd("forward y", t, ty, fd1(fy, y));
    check_fd("reverse x", t, r.dx, fd1(fx, x));
    check_fd("reverse y", t, r.dy, fd1(fy, y));
    check_an("reverse x", t, r.dx, gx);
    check_an("reverse y", t, r.dy, gy);
    check_an("forward x", t, tx, gx);
    check_f32("float forward", t, tg, fd1(g_twin, x));
    check_f32("float reverse", t, rg, fd1(g_twin, x));
    check_f32("float analytic", t, rg, dg(x));
  }
  return e2e_finish();
}
