/* long_double.h - the long double (x86_fp80) function both long_double.c tests differentiate: a
 * long double array (16-byte stride, 10-byte values), an accumulator loop (llvm.fmuladd.f80) and
 * the libm's long double spellings; its gradient by hand and central differences, in long double. */
#ifndef ADCC_E2E_LONG_DOUBLE_H
#define ADCC_E2E_LONG_DOUBLE_H
#define _GNU_SOURCE
#include "e2e.h"

#define N 5

static long double f(const long double *x, int n) {
  long double s = 0.0L;
  for (int i = 0; i < n; i++) s += x[i] * x[i] * (i + 1); /* fmuladd.f80 at -O1 and above */
  long double t = logl(x[0]) * expl(-x[1]) + sinl(x[2]) * cosl(x[3]) + powl(x[0], x[4]);
  t += fmal(x[1], x[2], x[3]) + sqrtl(x[4]) + tanhl(x[0] * x[1]) + atan2l(x[2], x[3]) + hypotl(x[0], x[4]);
  t += cbrtl(x[1]) + expm1l(x[2] * 0.5L) + log1pl(x[3] * x[3]) + erfl(x[4]) + lgammal(x[0] + 1.0L);
  int e;
  long double whole, sn, cs;
  t += frexpl(x[1] * 5.0L, &e) * e + modfl(x[2] * 3.0L, &whole) + whole;
  sincosl(x[3], &sn, &cs);
  return s * 0.25L + t + sn * cs + ldexpl(x[4], 3) + fmaxl(x[0], x[1]) + copysignl(x[2], -1.0L);
}

static long double g(long double a, long double b) { return powl(a, b) + atan2l(a, b) * hypotl(a, b) + a * expl(b); }

/* central difference in long double */
static long double fd_f(long double *x, int i) {
  long double xi = x[i], h = 1e-7L * (fabsl(xi) + 1.0L);
  x[i] = xi + h;
  long double fp = f(x, N);
  x[i] = xi - h;
  long double fm = f(x, N);
  x[i] = xi;
  return (fp - fm) / (2.0L * h);
}

static long double psi(long double x) { /* digamma, x >= 1 */
  long double z = x + 8.0L, p = logl(z) - 0.5L / z, r2 = 1.0L / (z * z);
  p -= r2 * (1.0L / 12 - r2 * (1.0L / 120 - r2 * (1.0L / 252 - r2 * (1.0L / 240 - r2 / 132))));
  for (int i = 0; i < 8; i++) p -= 1.0L / (x + i);
  return p;
}

/* the gradient by hand */
static void df(const long double *x, long double *g) {
  for (int i = 0; i < N; i++) g[i] += 0.25L * 2.0L * x[i] * (i + 1);
  long double th = tanhl(x[0] * x[1]), h04 = hypotl(x[0], x[4]), r23 = x[2] * x[2] + x[3] * x[3];
  long double p = powl(x[0], x[4]);
  int e;
  frexpl(x[1] * 5.0L, &e);
  g[0] += expl(-x[1]) / x[0] + x[4] * p / x[0] + (1 - th * th) * x[1] + x[0] / h04 + psi(x[0] + 1.0L);
  g[1] += -logl(x[0]) * expl(-x[1]) + x[2] + (1 - th * th) * x[0] + 1.0L / (3.0L * cbrtl(x[1]) * cbrtl(x[1])) +
          5.0L * ldexpl(1.0L, -e) * e;
  g[2] += cosl(x[2]) * cosl(x[3]) + x[1] + x[3] / r23 + 0.5L * expl(x[2] * 0.5L) + 3.0L - 1.0L;
  g[3] += -sinl(x[2]) * sinl(x[3]) + 1.0L - x[2] / r23 + 2.0L * x[3] / (1.0L + x[3] * x[3]) +
          cosl(2.0L * x[3]);
  g[4] += p * logl(x[0]) + 0.5L / sqrtl(x[4]) + x[4] / h04 + 2.0L / sqrtl(3.14159265358979323846264L) *
          expl(-x[4] * x[4]) + 8.0L;
  g[x[0] >= x[1] ? 0 : 1] += 1.0L;
}

static int check_ld(const char *label, int i, long double got, long double want, double rtol) {
  return e2e_check(label, "long double", i, (double)got, (double)want, rtol);
}

#endif
