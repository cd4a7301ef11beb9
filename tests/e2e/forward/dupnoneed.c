// Forward mode with enzyme_dupnoneed on the output array (primal out need not be written, only
// its tangent dout), a dup input array and a dup scalar parameter s with its own tangent ds.
#include "../e2e.h"

extern void __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_dupnoneed, enzyme_const;

#define N 6

static void f(const double *x, double s, double *out, int n) {
  for (int i = 0; i < n; i++) {
    double u = x[i] * s + x[(i + 2) % n];
    out[i] = tanh(u) + log(1.0 + x[i] * x[i]);
  }
}

/* Hand-written JVP. */
static void df(const double *x, const double *dx, double s, double ds, double *dout, int n) {
  for (int i = 0; i < n; i++) {
    int j = (i + 2) % n;
    double u = x[i] * s + x[j], th = tanh(u);
    double du = dx[i] * s + x[i] * ds + dx[j];
    dout[i] = (1.0 - th * th) * du + 2.0 * x[i] * dx[i] / (1.0 + x[i] * x[i]);
  }
}

/* FD over v = [x (N) | s], output k. */
static int kout;
static double fv(double *v, void *p) {
  (void)p;
  double out[N];
  f(v, v[N], out, N);
  return out[kout];
}

int main(void) {
  e2e_begin("forward/dupnoneed");
  volatile int vn = N;
  int n = vn;
  double v[N + 1], dv[N + 1], out[N], dout[N], want[N];
  for (int i = 0; i < N; i++) {
    v[i] = 0.4 * i - 1.1;
    dv[i] = cos(1.7 * i);
    out[i] = dout[i] = -7.0;
  }
  double s = v[N] = 0.8, ds = dv[N] = -0.6;
  df(v, dv, s, ds, want, n);
#ifdef ADCC_SELFTEST
  df(v, dv, s, ds, dout, n);
#else
  __enzyme_fwddiff((void *)f, enzyme_dup, v, dv, enzyme_dup, s, ds, enzyme_dupnoneed, out, dout,
                   enzyme_const, n);
#endif
  for (int k = 0; k < N; k++) {
    kout = k;
    check_an("dout", k, dout[k], want[k]);
    check_fd("dout", k, dout[k], fd_dir(fv, v, dv, N + 1, 0));
  }
  return e2e_finish();
}
