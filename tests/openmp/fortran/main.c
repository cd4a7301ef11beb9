/* The gradient and the tangent of a Fortran OpenMP subroutine (energy.f90) against central
 * finite differences; its derivative is synthesized by the link step. */
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N = 40 };
extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const;
void energy(const double *u, double *w, int n, double *e);

static double f(const double *u, double *w, int n) {
  double e;
  energy(u, w, n, &e);
  return e;
}

static double eval(const double *u, const double *w0) {
  double w[N];
  memcpy(w, w0, sizeof w);
  return f(u, w, N);
}

int main(void) {
  double u[N], w0[N], w[N], du[N] = {0}, dw[N] = {0}, worst = 0, h = 1e-6;
  for (int i = 0; i < N; i++) {
    u[i] = 0.3 + 0.05 * i;
    w0[i] = sin(0.7 * i);
  }
  memcpy(w, w0, sizeof w);
  __enzyme_autodiff((void *)f, enzyme_dup, u, du, enzyme_dup, w, dw, enzyme_const, N);
  for (int k = 0; k < 2 * N; k++) {
    double up[N], um[N], wp[N], wm[N];
    memcpy(up, u, sizeof u), memcpy(um, u, sizeof u), memcpy(wp, w0, sizeof w0), memcpy(wm, w0, sizeof w0);
    if (k < N) up[k] += h, um[k] -= h; else wp[k - N] += h, wm[k - N] -= h;
    double fd = (eval(up, wp) - eval(um, wm)) / (2 * h), got = k < N ? du[k] : dw[k - N];
    worst = fmax(worst, fabs(got - fd) / fmax(1.0, fabs(fd)));
  }
  double tu[N], tw[N];
  for (int i = 0; i < N; i++) tu[i] = cos(i), tw[i] = 0.5;
  memcpy(w, w0, sizeof w);
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, u, tu, enzyme_dup, w, tw, enzyme_const, N);
  double up[N], um[N], wp[N], wm[N];
  for (int i = 0; i < N; i++) up[i] = u[i] + h * cos(i), um[i] = u[i] - h * cos(i), wp[i] = w0[i] + h * 0.5,
                              wm[i] = w0[i] - h * 0.5;
  double fd = (eval(up, wp) - eval(um, wm)) / (2 * h);
  worst = fmax(worst, fabs(t - fd) / fmax(1.0, fabs(fd)));
  printf("%s openmp/fortran (max rel. error %.1e)\n", worst < 1e-6 ? "PASS" : "FAIL", worst);
  return worst < 1e-6 ? 0 : 1;
}
