// Reverse mode with phis of pointers: two scratch buffers swapped every time step (ping-pong),
// and a pointer selected by a data-dependent condition (select/phi between x and a scratch).
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 6

static double f(const double *x, double *bufa, double *bufb, int n, int steps) {
  double *cur = bufa, *nxt = bufb;
  for (int i = 0; i < n; i++) cur[i] = x[i];
  for (int t = 0; t < steps; t++) {
    for (int i = 0; i < n; i++) {
      double l = cur[(i + n - 1) % n], r = cur[(i + 1) % n];
      nxt[i] = 0.5 * cur[i] + 0.2 * (l + r) + 0.1 * sin(cur[i]);
    }
    double *tmp = cur; /* pointer phis in the loop header */
    cur = nxt;
    nxt = tmp;
  }
  const double *src = (x[0] > 0.0) ? x : cur; /* data-dependent pointer choice */
  double s = 0.0;
  for (int i = 0; i < n; i++) s += cur[i] * cur[i] + 0.3 * src[i];
  return s;
}

/* Hand-written: tangent sweep per input. */
static double tangent(const double *x, int n, int steps, int which) {
  double c[N], dc[N], nx[N], dnx[N];
  for (int i = 0; i < n; i++) { c[i] = x[i]; dc[i] = (i == which); }
  for (int t = 0; t < steps; t++) {
    for (int i = 0; i < n; i++) {
      int l = (i + n - 1) % n, r = (i + 1) % n;
      nx[i] = 0.5 * c[i] + 0.2 * (c[l] + c[r]) + 0.1 * sin(c[i]);
      dnx[i] = (0.5 + 0.1 * cos(c[i])) * dc[i] + 0.2 * (dc[l] + dc[r]);
    }
    memcpy(c, nx, sizeof c);
    memcpy(dc, dnx, sizeof dc);
  }
  double ds = 0.0;
  for (int i = 0; i < n; i++) ds += 2.0 * c[i] * dc[i] + 0.3 * (x[0] > 0.0 ? (i == which) : dc[i]);
  return ds;
}

static int steps_g;
static double fv(double *v, void *p) {
  (void)p;
  double a[N], b[N];
  return f(v, a, b, N, steps_g);
}

int main(void) {
  e2e_begin("reverse/pointer_phi");
  volatile int vn = N;
  int n = vn;
  const int stepss[2] = {5, 4}; /* odd and even: result ends in either buffer */
  for (int t = 0; t < 2; t++) {
    volatile int vs = stepss[t];
    int steps = vs;
    double x[N], dx[N] = {0}, a[N], b[N], da[N] = {0}, db[N] = {0}, want[N];
    for (int i = 0; i < N; i++) x[i] = (t ? -0.8 : 0.7) + 0.3 * sin(2.0 * i);
    for (int i = 0; i < N; i++) want[i] = tangent(x, n, steps, i);
#ifdef ADCC_SELFTEST
    for (int i = 0; i < n; i++) dx[i] += want[i];
    f(x, a, b, n, steps);
#else
    __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, a, da, enzyme_dup, b, db,
                      enzyme_const, n, enzyme_const, steps);
#endif
    steps_g = steps;
    for (int i = 0; i < N; i++) {
      check_an("dx", N * t + i, dx[i], want[i]);
      check_fd("dx", N * t + i, dx[i], fdv(fv, x, i, 0));
      check_val("da (scratch consumed)", N * t + i, da[i], 0.0);
      check_val("db (scratch consumed)", N * t + i, db[i], 0.0);
    }
  }
  return e2e_finish();
}
