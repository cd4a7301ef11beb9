// Reverse mode through exp, log, sin, cos, pow, tan (double) and expf, logf (float) applied
// elementwise in loops that the vectorizer turns into vector math calls under -fveclib=libmvec
// (tests/test_veclib.py builds it so; test_e2e.py without). No activity markers.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);

#define N 37 /* not a multiple of any vector width: the scalar remainder runs too */

static double f(const double *x, float *y) {
  double t[N];
  for (int i = 0; i < N; i++) t[i] = exp(0.5 * x[i]) + log(1.5 + x[i] * x[i]);
  for (int i = 0; i < N; i++) t[i] = t[i] * sin(x[i]) + cos(t[i]) + pow(1.2 + x[i] * x[i], 0.75);
  for (int i = 0; i < N; i++) y[i] = expf(0.25f * y[i]) + logf(2.0f + y[i] * y[i]);
  double s = 0.0;
  for (int i = 0; i < N; i++) s += t[i] * t[i] + tan(0.3 * x[i]) + (double)y[i];
  return s;
}

static double fv(double *v, void *p) {
  float y[N];
  for (int i = 0; i < N; i++) y[i] = (float)(0.1 * i - 1.0);
  (void)p;
  return f(v, y);
}

/* hand-written derivative w.r.t. x (y is active too but checked through its own formula) */
static void df(const double *x, double *g) {
  for (int i = 0; i < N; i++) {
    double a = exp(0.5 * x[i]) + log(1.5 + x[i] * x[i]);
    double da = 0.5 * exp(0.5 * x[i]) + 2.0 * x[i] / (1.5 + x[i] * x[i]);
    double u = 1.2 + x[i] * x[i];
    double t = a * sin(x[i]) + cos(a) + pow(u, 0.75);
    double dt = da * sin(x[i]) + a * cos(x[i]) - sin(a) * da + 0.75 * pow(u, -0.25) * 2.0 * x[i];
    double c = cos(0.3 * x[i]);
    g[i] += 2.0 * t * dt + 0.3 / (c * c);
  }
}

int main(void) {
  e2e_begin("reverse/vector_math");
  double x[N], dx[N] = {0}, want[N] = {0};
  float y[N], dy[N] = {0};
  for (int i = 0; i < N; i++) {
    x[i] = 0.07 * i - 1.1;
    y[i] = (float)(0.1 * i - 1.0);
  }
  df(x, want);
#ifdef ADCC_SELFTEST
  df(x, dx);
  for (int i = 0; i < N; i++) {
    float yi = 0.1f * i - 1.0f;
    dy[i] = 0.25f * expf(0.25f * yi) + 2.0f * yi / (2.0f + yi * yi);
  }
#else
  __enzyme_autodiff((void *)f, x, dx, y, dy);
#endif
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
    float yi = (float)(0.1 * i - 1.0);
    check_f32("dy", i, dy[i], 0.25 * exp(0.25 * yi) + 2.0 * yi / (2.0 + yi * yi));
  }
  return e2e_finish();
}
