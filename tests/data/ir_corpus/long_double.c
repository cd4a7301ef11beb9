/* long double (x86_fp80 on x86-64): arithmetic, libm, constants, conversions, varargs. */
// ir-corpus: -O3 -march=x86-64-v3 -ffast-math
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

long double poly(long double x, int n) {
  long double s = 0.0L;
  for (int i = 0; i < n; i++) s += x * x * i + 1.5L;
  return s;
}

long double libm_mix(long double x, long double y) {
  long double r = logl(x) + expl(y) + sinl(x) * cosl(y) + powl(x, y) + fmal(x, y, 2.0L);
  r += sqrtl(x) + tanl(y) + atan2l(x, y) + hypotl(x, y) + cbrtl(x) + fabsl(y) + floorl(x);
  r += copysignl(x, y) + fmaxl(x, y) + fminl(x, y) + ldexpl(x, 3) + expm1l(y) + log1pl(x);
  int e;
  long double ip;
  r += frexpl(x, &e) + modfl(y, &ip) + ip + e + erfl(x) + tgammal(x) + lgammal(y);
  return r;
}

double narrow(long double x) { return (double)x + (float)x; }
long double widen(double x, float y, int i, unsigned long long u) { return x + y + i + u; }
long long to_int(long double x) { return (long long)x; }
int compare(long double a, long double b) { return a < b ? -1 : a > b ? 1 : a == b ? 0 : 2; }
long double huge(void) { return 1.18973149535723176502e+4932L; }
long double tiny(void) { return 3.64519953188247460253e-4951L; }

long double sum_va(int n, ...) {
  va_list ap;
  va_start(ap, n);
  long double s = 0;
  for (int i = 0; i < n; i++) s += va_arg(ap, long double);
  va_end(ap);
  return s;
}

struct ld_pair { long double a, b; };
struct ld_pair swap_pair(struct ld_pair p) { struct ld_pair q = {p.b, p.a}; return q; }

_Complex long double cmul(_Complex long double a, _Complex long double b) { return a * b; }

void print_ld(long double x) { printf("%Lg %La\n", x, x); }

long double arr_sum(const long double *v, int n) {
  long double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s;
}
