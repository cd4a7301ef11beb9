// Forward mode in single precision: float arrays (input, output and their float shadows) with
// expf/sinf/sqrtf, a float return. Checked at float tolerance against a double-precision twin.
#include "../e2e.h"

extern float __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 8

static float f(const float *x, float *y, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) {
    y[i] = expf(0.5f * x[i]) * sinf(x[i]) + sqrtf(x[i] * x[i] + 1.0f);
    s += y[i] * x[(i + 3) % n];
  }
  return s;
}

/* Double-precision twin of f and its JVP. */
static double fd_twin(const double *x, double *y, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    y[i] = exp(0.5 * x[i]) * sin(x[i]) + sqrt(x[i] * x[i] + 1.0);
    s += y[i] * x[(i + 3) % n];
  }
  return s;
}
static double df(const double *x, const double *dx, double *dy, int n) {
  double ds = 0.0;
  for (int i = 0; i < n; i++) {
    int j = (i + 3) % n;
    double e = exp(0.5 * x[i]), y = e * sin(x[i]) + sqrt(x[i] * x[i] + 1.0);
    dy[i] = (e * (0.5 * sin(x[i]) + cos(x[i])) + x[i] / sqrt(x[i] * x[i] + 1.0)) * dx[i];
    ds += dy[i] * x[j] + y * dx[j];
  }
  return ds;
}
static void df_float(const float *x, const float *dx, float *dy, float *ds, int n) {
  double xd[N], dxd[N], dyd[N];
  for (int i = 0; i < n; i++) { xd[i] = x[i]; dxd[i] = dx[i]; }
  *ds = (float)df(xd, dxd, dyd, n);
  for (int i = 0; i < n; i++) dy[i] = (float)dyd[i];
}

static int kout;
static double fv(double *v, void *p) {
  (void)p;
  double y[N];
  double r = fd_twin(v, y, N);
  return kout < N ? y[kout] : r;
}

int main(void) {
  e2e_begin("forward/float_array");
  volatile int vn = N;
  int n = vn;
  float x[N], dx[N], y[N], dy[N];
  double xd[N], dxd[N], want[N];
  for (int i = 0; i < N; i++) {
    x[i] = (float)(0.3 * i - 1.0);
    dx[i] = (float)(1.0 - 0.2 * i);
    xd[i] = x[i];
    dxd[i] = dx[i];
  }
  double twant = df(xd, dxd, want, n);
#ifdef ADCC_SELFTEST
  float t;
  f(x, y, n);
  df_float(x, dx, dy, &t, n);
#else
  float t = __enzyme_fwddiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, n);
#endif
  for (int k = 0; k <= N; k++) {
    double got = k < N ? dy[k] : t, w = k < N ? want[k] : twant;
    kout = k;
    check_f32("tangent", k, got, w);
    check_f32("tangent (fd of double twin)", k, got, fd_dir(fv, xd, dxd, N, 0));
  }
  return e2e_finish();
}
