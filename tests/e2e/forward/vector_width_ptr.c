// Vector forward mode (enzyme_width 4) with pointers: a dup input array followed by 4 shadow
// arrays and a dup output array followed by 4 shadow outputs; returns 4 lanes of d(return).
//
// Convention assumed (Enzyme's): with enzyme_width N every enzyme_dup argument is followed by N
// separate shadows (N pointers here); shadow l receives the tangents of lane l. The double return
// comes back as a struct of N doubles, lane l first-to-last.
#include "../e2e.h"

typedef struct { double t[4]; } T4;
extern T4 __enzyme_fwddiff(void *, ...);
int enzyme_width, enzyme_dup, enzyme_const;

#define N 5
#define W 4

static double f(const double *x, double *y, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    y[i] = x[i] * x[i] * x[(i + 1) % n] + cos(x[i]);
    s += y[i] * (i + 1);
  }
  return sqrt(s * s + 1.0);
}

static double df(const double *x, const double *dx, double *dy, int n) {
  double s = 0.0, ds = 0.0;
  for (int i = 0; i < n; i++) {
    int j = (i + 1) % n;
    double y = x[i] * x[i] * x[j] + cos(x[i]);
    dy[i] = 2.0 * x[i] * dx[i] * x[j] + x[i] * x[i] * dx[j] - sin(x[i]) * dx[i];
    s += y * (i + 1);
    ds += dy[i] * (i + 1);
  }
  return s * ds / sqrt(s * s + 1.0);
}

static int kout; /* output k < N or return (k == N) */
static double fv(double *v, void *p) {
  (void)p;
  double y[N];
  double r = f(v, y, N);
  return kout < N ? y[kout] : r;
}

int main(void) {
  e2e_begin("forward/vector_width_ptr");
  volatile int vn = N;
  int n = vn;
  double x[N], dx[W][N], y[N], dy[W][N], want[W][N + 1], yref[N];
  for (int i = 0; i < N; i++) {
    x[i] = 0.3 * i - 0.5;
    for (int l = 0; l < W; l++) {
      dx[l][i] = (l == i) ? 1.0 : 0.1 * (l - i) * (l < 3 ? 1.0 : -2.0);
      dy[l][i] = -3.0;
    }
    y[i] = -3.0;
  }
  double rref = f(x, yref, n);
  for (int l = 0; l < W; l++) want[l][N] = df(x, dx[l], want[l], n);
#ifdef ADCC_SELFTEST
  T4 r;
  f(x, y, n);
  for (int l = 0; l < W; l++) r.t[l] = df(x, dx[l], dy[l], n);
#else
  T4 r = __enzyme_fwddiff((void *)f, enzyme_width, 4, enzyme_dup, x, dx[0], dx[1], dx[2], dx[3],
                          enzyme_dup, y, dy[0], dy[1], dy[2], dy[3], enzyme_const, n);
#endif
  (void)rref;
  for (int i = 0; i < N; i++) check_val("y (primal)", i, y[i], yref[i]);
  for (int l = 0; l < W; l++)
    for (int k = 0; k <= N; k++) {
      double got = k < N ? dy[l][k] : r.t[l];
      kout = k;
      check_an("lane tangent", l * (N + 1) + k, got, want[l][k]);
      check_fd("lane tangent", l * (N + 1) + k, got, fd_dir(fv, x, dx[l], N, 0));
    }
  return e2e_finish();
}
