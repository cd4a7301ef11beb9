// Reverse mode through a loop left by break once a running sum exceeds a const threshold
// (gradient is zero for entries after the break), plus a second threshold where the loop runs to
// the end, and a search loop that breaks on an integer condition.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 8

static double f(const double *x, double thresh, int n) {
  double s = 0.0;
  int i;
  for (i = 0; i < n; i++) {
    s += x[i] * x[i] * (1.0 + 0.1 * i);
    if (s > thresh) break;
  }
  double tail = 0.0;
  for (int j = 0; j < n; j++) {
    if (j * j > 2 * n) break; /* integer exit: j = 0..4 for n = 8 */
    tail += sin(x[j]) * j;
  }
  return s * (1.0 + 0.01 * i) + tail;
}

static void df(const double *x, double thresh, int n, double *g) {
  double s = 0.0;
  int i, stop = n;
  for (i = 0; i < n; i++) {
    s += x[i] * x[i] * (1.0 + 0.1 * i);
    if (s > thresh) { stop = i + 1; break; }
  }
  double c = 1.0 + 0.01 * i;
  for (int k = 0; k < stop; k++) g[k] += c * 2.0 * x[k] * (1.0 + 0.1 * k);
  for (int j = 0; j < n && j * j <= 2 * n; j++) g[j] += cos(x[j]) * j;
}

static double th;
static double fv(double *v, void *p) { (void)p; return f(v, th, N); }

int main(void) {
  e2e_begin("reverse/loop_break");
  volatile int vn = N;
  int n = vn;
  double x[N];
  for (int i = 0; i < N; i++) x[i] = 0.9 + 0.1 * sin(i); /* partial sums ~0.8, 1.8, 2.9, 4.2... */
  const double ths[2] = {2.5, 100.0};                   /* breaks after i = 2; never breaks */
  for (int t = 0; t < 2; t++) {
    double dx[N] = {0}, want[N] = {0};
    th = ths[t];
    df(x, th, n, want);
#ifdef ADCC_SELFTEST
    df(x, th, n, dx);
#else
    __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, th, enzyme_const, n);
#endif
    for (int i = 0; i < N; i++) {
      check_an("dx", N * t + i, dx[i], want[i]);
      check_fd("dx", N * t + i, dx[i], fdv(fv, x, i, 0));
    }
  }
  return e2e_finish();
}
