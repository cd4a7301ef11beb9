/* Functions with kinks (fabs, fmax, fmin, a branch, a clamp), evaluated at smooth points in both
 * modes: the run-time check must pass every call (no false alarm). Evaluated at a kink, it may
 * call the check inconclusive, never failed. */
#include <math.h>
#include <stdio.h>

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern float __enzyme_autodifff(void *, ...);
extern int enzyme_dup, enzyme_out, enzyme_const;

double kinky(const double *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) {
    double v = x[i];
    double clamp = v < -1 ? -1 : v > 1 ? 1 : v;
    s += fabs(v - 0.5) + fmax(v, 0.25) * fmin(v, 2.0) + clamp * clamp;
    if (v > 0.75) s += sin(v); else s -= v * v * v;
  }
  return s;
}

float kinkyf(float *x) { return fabsf(x[0] - 1.0f) + fmaxf(x[0] * x[1], 0.5f); }

int main(void) {
  double x[5] = {-1.75, -0.3, 0.1, 0.9, 2.5}, dx[5] = {0};
  __enzyme_autodiff((void *)kinky, enzyme_dup, x, dx, enzyme_const, 5);
  double t[5] = {1, -2, 0.5, 0.25, 3};
  double dt = __enzyme_fwddiff((void *)kinky, enzyme_dup, x, t, enzyme_const, 5);
  float xf[2] = {3.0f, 0.75f}, dxf[2] = {0, 0};
  __enzyme_autodifff((void *)kinkyf, enzyme_dup, xf, dxf);
  double at_kink[1] = {0.5}, dk[1] = {0};
  __enzyme_autodiff((void *)kinky, enzyme_dup, at_kink, dk, enzyme_const, 1);
  printf("%g %g %g %g %g\n", dx[0], dt, dxf[0], dxf[1], dk[0]);
  return 0;
}
