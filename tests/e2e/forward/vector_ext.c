// Forward mode through GCC vector_size(32) types (<4 x double>): vector arithmetic, a lane
// shuffle via __builtin_shufflevector, scalar broadcast and an element-wise sqrt loop.
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

typedef double v4 __attribute__((vector_size(32)));

#define NV 3

static double f(const v4 *a, v4 *out, double s, int n) {
  v4 acc = {1.0, 1.0, 1.0, 1.0};
  for (int i = 0; i < n; i++) {
    v4 r = __builtin_shufflevector(a[i], a[i], 1, 2, 3, 0); /* rotate lanes */
    v4 t = a[i] * r * s + acc * 0.25;
    for (int l = 0; l < 4; l++) t[l] = sqrt(t[l] * t[l] + 1.0);
    out[i] = t;
    acc = t;
  }
  return acc[0] - acc[1] + 2.0 * acc[2] + 0.5 * acc[3];
}

/* Hand-written, lane arithmetic on plain arrays: a, da, out, dout are 4*n doubles. */
static double df(const double *a, const double *da, double s, double ds, int n, double *dout) {
  double acc[4] = {1, 1, 1, 1}, dacc[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; i++) {
    double t[4], dt[4];
    for (int l = 0; l < 4; l++) {
      int m = 4 * i + (l + 1) % 4, k = 4 * i + l;
      double u = a[k] * a[m] * s + acc[l] * 0.25;
      double du = (da[k] * a[m] + a[k] * da[m]) * s + a[k] * a[m] * ds + dacc[l] * 0.25;
      t[l] = sqrt(u * u + 1.0);
      dt[l] = u * du / t[l];
    }
    for (int l = 0; l < 4; l++) {
      acc[l] = t[l];
      dacc[l] = dt[l];
      dout[4 * i + l] = dt[l];
    }
  }
  return dacc[0] - dacc[1] + 2.0 * dacc[2] + 0.5 * dacc[3];
}

static int kout; /* lane index into out, or 4*NV for the return */
static double fv(double *v, void *p) {
  (void)p;
  v4 a[NV], out[NV];
  memcpy(a, v, sizeof a);
  double r = f(a, out, v[4 * NV], NV);
  return kout < 4 * NV ? out[kout / 4][kout % 4] : r;
}

int main(void) {
  e2e_begin("forward/vector_ext");
  volatile int vn = NV;
  int n = vn;
  double v[4 * NV + 1], dv[4 * NV + 1], want[4 * NV];
  v4 a[NV], da[NV], out[NV], dout[NV];
  for (int i = 0; i < 4 * NV; i++) {
    v[i] = sin(0.7 * i + 0.4);
    dv[i] = 0.3 - 0.1 * (i % 5);
  }
  double s = v[4 * NV] = 0.9, ds = dv[4 * NV] = 0.4;
  memcpy(a, v, sizeof a);
  memcpy(da, dv, sizeof da);
  double twant = df(v, dv, s, ds, n, want);
#ifdef ADCC_SELFTEST
  double t = df(v, dv, s, ds, n, (double *)dout);
  f(a, out, s, n);
#else
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, a, da, enzyme_dup, out, dout, enzyme_dup, s,
                              ds, enzyme_const, n);
#endif
  for (int k = 0; k <= 4 * NV; k++) {
    double got = k < 4 * NV ? dout[k / 4][k % 4] : t, w = k < 4 * NV ? want[k] : twant;
    kout = k;
    check_an("tangent", k, got, w);
    check_fd("tangent", k, got, fd_dir(fv, v, dv, 4 * NV + 1, 0));
  }
  return e2e_finish();
}
