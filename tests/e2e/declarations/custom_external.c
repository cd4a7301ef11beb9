// Custom rules of functions without a body: ext_rsqrt is declared and never defined anywhere
// (only its rules exist), used at depth inside a loop in both modes; ext_axpy is defined in this
// file after its use but compiled as an external symbol of another unit would be (its body is
// deliberately wrong, so only the rules can give the right derivative).
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

extern double ext_rsqrt(double x);                          /* never defined */
extern void ext_axpy(int n, double a, const double *x, double *y); /* y += a x; body below is wrong */

static int calls[4];

static double rsqrt_aug(double x) { calls[0]++; return 1.0 / sqrt(x); }
static double rsqrt_rev(double x, double dret) { calls[1]++; return -0.5 * pow(x, -1.5) * dret; }
#ifndef ADCC_SELFTEST /* references ext_rsqrt, which exists nowhere: adcc consumes the registration */
void *__enzyme_register_gradient_rsqrt[3] = {(void *)ext_rsqrt, (void *)rsqrt_aug, (void *)rsqrt_rev};
typedef struct { double primal, tangent; } dual;
static dual rsqrt_fwd(double x, double dx) {
  calls[2]++;
  dual d = {1.0 / sqrt(x), -0.5 * pow(x, -1.5) * dx};
  return d;
}
void *__enzyme_register_derivative_rsqrt[2] = {(void *)ext_rsqrt, (void *)rsqrt_fwd};
#endif

static void *axpy_aug(int n, int n2, double a, const double *x, const double *dx, double *y, double *dy) {
  (void)n2, (void)dx, (void)dy;
  for (int i = 0; i < n; i++) y[i] += a * x[i];
  double *t = (double *)malloc((size_t)n * sizeof(double)); /* x may change after the call */
  memcpy(t, x, (size_t)n * sizeof(double));
  return t;
}
static double axpy_rev(int n, int n2, double a, const double *x, double *dx, double *y, double *dy, void *tape) {
  (void)n2, (void)x, (void)y;
  calls[3]++;
  double *t = (double *)tape, da = 0.0;
  for (int i = 0; i < n; i++) {
    dx[i] += a * dy[i];
    da += t[i] * dy[i]; /* y += a x: dy stays (y's old value flows into y) */
  }
  free(t);
  return da;
}
void *__enzyme_register_gradient_axpy[3] = {(void *)ext_axpy, (void *)axpy_aug, (void *)axpy_rev};
static void axpy_fwd(int n, int n2, double a, double da, const double *x, const double *dx, double *y, double *dy) {
  (void)n2;
  for (int i = 0; i < n; i++) {
    y[i] += a * x[i];
    dy[i] += da * x[i] + a * dx[i];
  }
}
void *__enzyme_register_derivative_axpy[2] = {(void *)ext_axpy, (void *)axpy_fwd};

#define N 3
static double f(double *x, double a, int n) {
  double y[N] = {1.0, 2.0, 3.0}, s = 0.0;
  ext_axpy(n, a, x, y);
  for (int i = 0; i < n; i++) x[i] *= 2.0; /* overwrite after the call: the tape keeps x */
  for (int i = 0; i < n; i++) s += ext_rsqrt(y[i] * y[i] + 1.0 + i);
  for (int i = 0; i < n; i++) x[i] *= 0.5;
  return s;
}
static double f_ref(double *x, double a, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    double yi = (i + 1.0) + a * x[i];
    s += 1.0 / sqrt(yi * yi + 1.0 + i);
  }
  return s;
}
static double fv(double *v, void *c) { (void)c; return f_ref(v, v[N], N); }

static double grad(const double *x, double a, double *gx) {
  double ga = 0.0;
  for (int i = 0; i < N; i++) {
    double yi = (i + 1.0) + a * x[i], u = yi * yi + 1.0 + i;
    double dy = -0.5 * pow(u, -1.5) * 2.0 * yi;
    gx[i] = dy * a;
    ga += dy * x[i];
  }
  return ga;
}

int main(void) {
  e2e_begin("declarations/custom_external");
  double x[N] = {0.4, -0.9, 1.3}, dx[N] = {0}, gx[N], v[N + 1];
  double a = 0.7, ga = grad(x, a, gx);
  for (int i = 0; i < N; i++) v[i] = x[i];
  v[N] = a;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] = gx[i];
  double da = ga;
  double t = gx[0] * 1.0 + gx[2] * -1.0 + ga * 0.5;
#else
  double da = __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_out, a, enzyme_const, N);
  check_val("augmented calls of ext_rsqrt", 0, calls[0], N);
  check_val("reverse calls of ext_rsqrt", 0, calls[1], N);
  check_val("reverse calls of ext_axpy", 0, calls[3], 1);
  double tx[N] = {1.0, 0.0, -1.0};
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, x, tx, enzyme_dup, a, 0.5, enzyme_const, N);
  check_val("forward calls of ext_rsqrt", 0, calls[2], N);
#endif
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], gx[i]);
    check_fd("dx", i, dx[i], fdv(fv, v, i, 0));
  }
  check_an("da", 0, da, ga);
  check_fd("da", 0, da, fdv(fv, v, N, 0));
  check_an("tangent", 0, t, gx[0] - gx[2] + 0.5 * ga);
  return e2e_finish();
}

/* A wrong body: only the registered rules give the right derivative (and primal). */
void ext_axpy(int n, double a, const double *x, double *y) {
  (void)n, (void)a, (void)x, (void)y;
}
