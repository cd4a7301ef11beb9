// Reverse mode through triangular loops (j < i): forward substitution y = L^-1 b, loss |y|^2/2.
// No activity markers (pointers default to dup, the int to const); gradient dL = -z y^T (lower
// part only, strict upper entries get 0), db = z with L^T z = y.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);

#define N 5

static double f(const double *L, const double *b, double *y, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    double r = b[i];
    for (int j = 0; j < i; j++) r -= L[i * n + j] * y[j];
    y[i] = r / L[i * n + i];
    s += 0.5 * y[i] * y[i];
  }
  return s;
}

static void df(const double *L, const double *b, int n, double *gL, double *gb) {
  double y[N], z[N];
  f(L, b, y, n);
  for (int i = n - 1; i >= 0; i--) { /* back substitution with L^T */
    double r = y[i];
    for (int j = i + 1; j < n; j++) r -= L[j * n + i] * z[j];
    z[i] = r / L[i * n + i];
  }
  for (int i = 0; i < n; i++) {
    gb[i] += z[i];
    for (int j = 0; j <= i; j++) gL[i * n + j] += -z[i] * y[j];
  }
}

static double fv(double *v, void *p) {
  (void)p;
  double y[N];
  return f(v, v + N * N, y, N);
}

int main(void) {
  e2e_begin("reverse/triangular");
  volatile int vn = N;
  int n = vn;
  double v[N * N + N], dv[N * N + N] = {0}, want[N * N + N] = {0}, y[N], dy[N] = {0};
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) v[i * N + j] = (i == j) ? 2.0 + 0.3 * i : 0.4 * sin(i + 2.0 * j);
    v[N * N + i] = 1.0 - 0.35 * i;
  }
  df(v, v + N * N, n, want, want + N * N);
#ifdef ADCC_SELFTEST
  df(v, v + N * N, n, dv, dv + N * N);
  f(v, v + N * N, y, n);
#else
  __enzyme_autodiff((void *)f, v, dv, v + N * N, dv + N * N, y, dy, n);
#endif
  for (int i = 0; i < N * N + N; i++) {
    check_an("d[L|b]", i, dv[i], want[i]);
    check_fd("d[L|b]", i, dv[i], fdv(fv, v, i, 0));
    if (i < N * N && (i % N) > (i / N)) check_val("dL upper (unread)", i, dv[i], 0.0);
  }
  for (int i = 0; i < N; i++) check_val("dy (consumed)", i, dy[i], 0.0);
  return e2e_finish();
}
