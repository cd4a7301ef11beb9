// Reverse mode on true 2-D arrays (double a[R][C] passed as double (*)[C]) with a runtime row
// count, row/column reductions and a 2-D stencil. No activity markers (pointers dup, int const).
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);

#define R 4
#define C 5

static double f(double a[][C], const double *b, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    double row = 0.0;
    for (int j = 0; j < C; j++) row += a[i][j] * b[j];
    s += row * row;
  }
  for (int i = 1; i < n - 1; i++)
    for (int j = 1; j < C - 1; j++) {
      double lap = a[i - 1][j] + a[i + 1][j] + a[i][j - 1] + a[i][j + 1] - 4.0 * a[i][j];
      s += 0.5 * lap * lap;
    }
  return s;
}

static void df(double a[][C], const double *b, int n, double ga[][C], double *gb) {
  for (int i = 0; i < n; i++) {
    double row = 0.0;
    for (int j = 0; j < C; j++) row += a[i][j] * b[j];
    for (int j = 0; j < C; j++) {
      ga[i][j] += 2.0 * row * b[j];
      gb[j] += 2.0 * row * a[i][j];
    }
  }
  for (int i = 1; i < n - 1; i++)
    for (int j = 1; j < C - 1; j++) {
      double lap = a[i - 1][j] + a[i + 1][j] + a[i][j - 1] + a[i][j + 1] - 4.0 * a[i][j];
      ga[i - 1][j] += lap;
      ga[i + 1][j] += lap;
      ga[i][j - 1] += lap;
      ga[i][j + 1] += lap;
      ga[i][j] -= 4.0 * lap;
    }
}

/* FD over v = [a (R*C) | b (C)]. */
static double fv(double *v, void *p) {
  (void)p;
  double a[R][C];
  memcpy(a, v, sizeof a);
  return f(a, v + R * C, R);
}

int main(void) {
  e2e_begin("reverse/array2d");
  volatile int vn = R;
  int n = vn;
  double a[R][C], da[R][C], b[C], db[C] = {0}, v[R * C + C];
  double wa[R][C], wb[C] = {0};
  for (int i = 0; i < R; i++)
    for (int j = 0; j < C; j++) {
      a[i][j] = sin(0.5 * i + 0.9 * j) + 0.1 * i;
      da[i][j] = wa[i][j] = 0.01 * (i - j);
    }
  for (int j = 0; j < C; j++) b[j] = 0.3 * j - 0.5;
  memcpy(v, a, sizeof a);
  memcpy(v + R * C, b, sizeof b);
  df(a, b, n, wa, wb);
#ifdef ADCC_SELFTEST
  df(a, b, n, da, db);
#else
  __enzyme_autodiff((void *)f, a, da, b, db, n);
#endif
  for (int i = 0; i < R * C; i++) {
    check_an("da", i, da[i / C][i % C], wa[i / C][i % C]);
    check_fd("da", i, da[i / C][i % C] - 0.01 * (i / C - i % C), fdv(fv, v, i, 0));
  }
  for (int j = 0; j < C; j++) {
    check_an("db", j, db[j], wb[j]);
    check_fd("db", j, db[j], fdv(fv, v, R * C + j, 0));
  }
  return e2e_finish();
}
