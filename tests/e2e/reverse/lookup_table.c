// Reverse mode with integer-indexed lookup tables: piecewise-linear interpolation in an active
// (dup) table at an index computed from x by floor, and a const int permutation table choosing
// which entries of x meet which coefficients.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

#define N 6
#define T 8 /* table on [0, T-1] */

static const int PERM[N] = {3, 0, 5, 1, 4, 2};

static double f(const double *x, const double *tab, const int *perm, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    double u = 3.5 + 2.5 * sin(x[i]); /* in (1, 6) */
    int k = (int)floor(u);
    double w = u - k;
    double y = tab[k] * (1.0 - w) + tab[k + 1] * w;
    s += y * x[perm[i]] * (1.0 + 0.5 * i);
  }
  return s;
}

static void df(const double *x, const double *tab, const int *perm, int n, double *gx, double *gt) {
  for (int i = 0; i < n; i++) {
    double u = 3.5 + 2.5 * sin(x[i]), du = 2.5 * cos(x[i]);
    int k = (int)floor(u);
    double w = u - k, y = tab[k] * (1.0 - w) + tab[k + 1] * w;
    double c = 1.0 + 0.5 * i, xp = x[perm[i]];
    gx[i] += c * xp * (tab[k + 1] - tab[k]) * du;
    gx[perm[i]] += c * y;
    gt[k] += c * xp * (1.0 - w);
    gt[k + 1] += c * xp * w;
  }
}

static double fv(double *v, void *p) { (void)p; return f(v, v + N, PERM, N); }

int main(void) {
  e2e_begin("reverse/lookup_table");
  volatile int vn = N;
  int n = vn;
  int perm[N];
  double v[N + T], dv[N + T] = {0}, want[N + T] = {0};
  for (int i = 0; i < N; i++) {
    perm[i] = PERM[i];
    v[i] = 1.1 * cos(1.7 * i) + 0.05; /* u stays clear of integers */
  }
  for (int k = 0; k < T; k++) v[N + k] = sqrt(1.0 + k) - 0.3 * k;
  df(v, v + N, perm, n, want, want + N);
#ifdef ADCC_SELFTEST
  df(v, v + N, perm, n, dv, dv + N);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, v, dv, enzyme_dup, v + N, dv + N, enzyme_const, perm,
                    enzyme_const, n);
#endif
  for (int i = 0; i < N + T; i++) {
    check_an("d[x|tab]", i, dv[i], want[i]);
    check_fd("d[x|tab]", i, dv[i], fdv(fv, v, i, 0));
  }
  return e2e_finish();
}
