// Reverse mode through three nested loops with runtime trip counts, the innermost count
// depending on the outer index (Horner chains of length k + i % 2); dup x and dup w.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define NR 3
#define NC 4
#define NK 5

static double f(const double *x, const double *w, int n, int m, int k) {
  double s = 0.0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      double t = x[i * m + j];
      int kk = k + i % 2;
      for (int l = 0; l < kk; l++) t = t * 0.7 + w[l];
      s += sin(t) + 0.5 * t * t;
    }
  return s;
}

/* t = x a^kk + sum_l w[l] a^(kk-1-l), a = 0.7; ds/dt = cos t + t. */
static void df(const double *x, const double *w, int n, int m, int k, double *gx, double *gw) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {
      int kk = k + i % 2;
      double t = x[i * m + j];
      for (int l = 0; l < kk; l++) t = t * 0.7 + w[l];
      double g = cos(t) + t;
      gx[i * m + j] += g * pow(0.7, kk);
      for (int l = 0; l < kk; l++) gw[l] += g * pow(0.7, kk - 1 - l);
    }
}

static double fv(double *v, void *p) { (void)p; return f(v, v + NR * NC, NR, NC, NK - 1); }

int main(void) {
  e2e_begin("reverse/nested_loops");
  volatile int vn = NR, vm = NC, vk = NK - 1;
  int n = vn, m = vm, k = vk;
  double v[NR * NC + NK], dv[NR * NC + NK], want[NR * NC + NK];
  for (int i = 0; i < NR * NC + NK; i++) {
    v[i] = 0.6 * sin(1.3 * i + 0.2);
    dv[i] = want[i] = 0.5 * i; /* gradient accumulates into non-zero shadows */
  }
  df(v, v + NR * NC, n, m, k, want, want + NR * NC);
#ifdef ADCC_SELFTEST
  df(v, v + NR * NC, n, m, k, dv, dv + NR * NC);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, v, dv, enzyme_dup, v + NR * NC, dv + NR * NC,
                    enzyme_const, n, enzyme_const, m, enzyme_const, k);
#endif
  for (int i = 0; i < NR * NC + NK; i++) {
    check_an("d[x|w]", i, dv[i], want[i]);
    check_fd("d[x|w]", i, dv[i] - 0.5 * i, fdv(fv, v, i, 0));
  }
  return e2e_finish();
}
