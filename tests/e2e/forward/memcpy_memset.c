// Forward mode through memcpy and memset: x is copied into a stack scratch array, the tail of
// the output is memset to zero (tangent must be zeroed too), and a dup output receives a memcpy.
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 6
#define M 9 /* out has M entries: N computed, M - N memset to 0 */

static double f(const double *x, double *out, int n, int m) {
  double buf[16], res[16];
  memcpy(buf, x, (size_t)n * sizeof(double));
  for (int i = 0; i < n; i++) res[i] = buf[i] * buf[i] + sin(buf[(i + 1) % n]);
  memcpy(buf, res, (size_t)n * sizeof(double));
  memset(out, 0, (size_t)m * sizeof(double));
  memcpy(out, buf, (size_t)n * sizeof(double));
  double s = 0.0;
  for (int i = 0; i < m; i++) s += out[i] * (1.0 + 0.5 * i);
  return s;
}

static double df(const double *x, const double *dx, double *dout, int n, int m) {
  double s = 0.0;
  for (int i = 0; i < m; i++) dout[i] = 0.0;
  for (int i = 0; i < n; i++) {
    int j = (i + 1) % n;
    dout[i] = 2.0 * x[i] * dx[i] + cos(x[j]) * dx[j];
  }
  for (int i = 0; i < m; i++) s += dout[i] * (1.0 + 0.5 * i);
  return s;
}

static int kout;
static double fv(double *v, void *p) {
  (void)p;
  double out[M];
  double s = f(v, out, N, M);
  return kout < M ? out[kout] : s;
}

int main(void) {
  e2e_begin("forward/memcpy_memset");
  volatile int vn = N, vm = M;
  int n = vn, m = vm;
  double x[N], dx[N], out[M], dout[M], want[M], oref[M];
  for (int i = 0; i < N; i++) {
    x[i] = 0.45 * i - 1.0;
    dx[i] = 1.0 / (1.0 + i);
  }
  for (int i = 0; i < M; i++) out[i] = dout[i] = 5.0; /* stale values must be overwritten */
  f(x, oref, n, m);
  double twant = df(x, dx, want, n, m);
#ifdef ADCC_SELFTEST
  f(x, out, n, m);
  double t = df(x, dx, dout, n, m);
#else
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, x, dx, enzyme_dup, out, dout, enzyme_const, n,
                              enzyme_const, m);
#endif
  for (int k = 0; k <= M; k++) {
    kout = k;
    double got = k < M ? dout[k] : t, w = k < M ? want[k] : twant;
    if (k < M) check_val("out (primal)", k, out[k], oref[k]);
    if (k >= N && k < M) check_val("dout memset tail", k, got, 0.0);
    check_an("tangent", k, got, w);
    check_fd("tangent", k, got, fd_dir(fv, x, dx, N, 0));
  }
  return e2e_finish();
}
