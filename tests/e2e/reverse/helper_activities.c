// Reverse mode calling the same noinline helpers with different activity patterns inside one
// f: scalar helper with (active, const), (const, active), (active, active), (const, const)
// arguments; pointer helper with (x, c), (c, x) and (x, x). c is enzyme_const.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 4

__attribute__((noinline)) static double g(double a, double b) { return a * sin(b) + b * b * a; }

__attribute__((noinline)) static double dotw(const double *p, const double *q, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += p[i] * q[i] * (1.0 + i);
  return s;
}

static double f(const double *x, const double *c, int n) {
  double s = g(x[0], c[0]) + g(c[1], x[1]) + g(x[2], x[3]) + g(c[2], c[3]);
  s += dotw(x, c, n) + 0.5 * dotw(c, x, n) + 0.25 * dotw(x, x, n);
  return s;
}

static void df(const double *x, const double *c, int n, double *gx) {
  /* dg/da = sin b + b^2, dg/db = a cos b + 2ab */
  gx[0] += sin(c[0]) + c[0] * c[0];
  gx[1] += c[1] * cos(x[1]) + 2.0 * c[1] * x[1];
  gx[2] += sin(x[3]) + x[3] * x[3];
  gx[3] += x[2] * cos(x[3]) + 2.0 * x[2] * x[3];
  for (int i = 0; i < n; i++) gx[i] += (1.0 + i) * (1.5 * c[i] + 0.5 * x[i]);
}

static const double *cg;
static double fv(double *v, void *p) { (void)p; return f(v, cg, N); }

int main(void) {
  e2e_begin("reverse/helper_activities");
  volatile int vn = N;
  int n = vn;
  double x[N], c[N], dx[N] = {0}, want[N] = {0};
  for (int i = 0; i < N; i++) {
    x[i] = 0.7 * cos(1.9 * i) - 0.1;
    c[i] = 0.4 + 0.3 * i;
  }
  df(x, c, n, want);
#ifdef ADCC_SELFTEST
  df(x, c, n, dx);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, c, enzyme_const, n);
#endif
  cg = c;
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  return e2e_finish();
}
