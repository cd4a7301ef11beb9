// Forward mode with malloc'd scratch inside f: a heap buffer holds a prefix-product recurrence
// that is read back in reverse order, then freed. Plain double x scalar is also dup.
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 7

static double f(const double *a, double x, int n) {
  double *w = (double *)malloc((size_t)n * sizeof(double));
  double p = 1.0;
  for (int i = 0; i < n; i++) {
    p = p * (1.0 + 0.1 * a[i] * x) + 0.05 * sin(a[i]);
    w[i] = p;
  }
  double s = 0.0;
  for (int i = n - 1; i >= 0; i--) s = s * 0.5 + w[i] * w[i];
  free(w);
  return s;
}

static double df(const double *a, const double *da, double x, double dx, int n) {
  double *w = (double *)malloc((size_t)n * sizeof(double));
  double *dw = (double *)malloc((size_t)n * sizeof(double));
  double p = 1.0, dp = 0.0;
  for (int i = 0; i < n; i++) {
    double q = 1.0 + 0.1 * a[i] * x, dq = 0.1 * (da[i] * x + a[i] * dx);
    double np = p * q + 0.05 * sin(a[i]);
    dp = dp * q + p * dq + 0.05 * cos(a[i]) * da[i];
    p = np;
    w[i] = p;
    dw[i] = dp;
  }
  double s = 0.0, ds = 0.0;
  for (int i = n - 1; i >= 0; i--) {
    s = s * 0.5 + w[i] * w[i];
    ds = ds * 0.5 + 2.0 * w[i] * dw[i];
  }
  free(w);
  free(dw);
  return ds;
}

static double fv(double *v, void *p) { (void)p; return f(v, v[N], N); }

int main(void) {
  e2e_begin("forward/malloc_scratch");
  volatile int vn = N;
  int n = vn;
  double v[N + 1], dv[N + 1];
  for (int i = 0; i < N; i++) {
    v[i] = 1.5 * sin(0.8 * i + 0.1);
    dv[i] = (i % 3) - 1.0;
  }
  double x = v[N] = 1.3, dx = dv[N] = 0.7;
  double want = df(v, dv, x, dx, n);
#ifdef ADCC_SELFTEST
  double t = df(v, dv, x, dx, n);
#else
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, v, dv, enzyme_dup, x, dx, enzyme_const, n);
#endif
  check_an("d(return)", 0, t, want);
  check_fd("d(return)", 0, t, fd_dir(fv, v, dv, N + 1, 0));
  return e2e_finish();
}
