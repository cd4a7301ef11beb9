// Reverse mode with a global mutable accumulator array: f zeroes it, accumulates products of x
// into it and reads it back (the global needs a shadow inside the derivative); its primal values
// after the call must be those of f.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 9
#define K 4

double g_acc[K];
int g_calls;

static double f(const double *x, int n) {
  for (int k = 0; k < K; k++) g_acc[k] = 0.0;
  for (int i = 0; i < n; i++) g_acc[i % K] += x[i] * x[(i + 1) % n];
  double s = 0.0;
  for (int k = 0; k < K; k++) s += (k + 1) * g_acc[k] * g_acc[k];
  g_calls++;
  return s;
}

static void df(const double *x, int n, double *g, double *acc) {
  for (int k = 0; k < K; k++) acc[k] = 0.0;
  for (int i = 0; i < n; i++) acc[i % K] += x[i] * x[(i + 1) % n];
  for (int i = 0; i < n; i++) {
    int j = (i + 1) % n, k = i % K;
    double a = 2.0 * (k + 1) * acc[k];
    g[i] += a * x[j];
    g[j] += a * x[i];
  }
}

static double fv(double *v, void *p) { (void)p; return f(v, N); }

int main(void) {
  e2e_begin("reverse/global_accum");
  volatile int vn = N;
  int n = vn;
  double x[N], dx[N] = {0}, want[N] = {0}, acc[K];
  for (int i = 0; i < N; i++) x[i] = 0.6 * sin(1.4 * i + 0.5) + 0.1;
  for (int k = 0; k < K; k++) g_acc[k] = 99.0;
  df(x, n, want, acc);
#ifdef ADCC_SELFTEST
  df(x, n, dx, g_acc);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n);
#endif
  for (int k = 0; k < K; k++) check_val("g_acc after call (primal)", k, g_acc[k], acc[k]);
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  return e2e_finish();
}
