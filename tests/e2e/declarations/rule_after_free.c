// A custom gradient whose reverse reads its input buffer, which the function frees right after
// the call: the release is deferred until the whole reverse pass is done (the reverse of the
// free runs before the reverse of the call). The program's allocator poisons what it frees, so a
// premature release shows as a wrong (NaN) derivative.
#include "../e2e.h"

double __enzyme_autodiff(void *, ...);

static void *my_alloc(size_t n) {
  size_t *p = (size_t *)malloc(n + 16);
  p[0] = n;
  return (char *)p + 16;
}
static void my_free(void *q) {
  size_t *p = (size_t *)((char *)q - 16);
  memset(q, 0xff, p[0]); /* NaNs */
  free(p);
}
void *__enzyme_allocation_like[4] = {(void *)my_alloc, (void *)0, (void *)"-1", (void *)my_free};

static int rev_calls;
__attribute__((noinline)) static double sumsq(const double *v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i] * v[i];
  return s;
}
static double sumsq_aug(const double *v, const double *dv, int n) { (void)dv; return sumsq(v, n); }
static void sumsq_rev(const double *v, double *dv, int n, double dret) {
  rev_calls++;
  for (int i = 0; i < n; i++) dv[i] += 2 * v[i] * dret;
}
void *__enzyme_register_gradient_sumsq[3] = {(void *)sumsq, (void *)sumsq_aug, (void *)sumsq_rev};

static double f(double x) {
  double *t = (double *)my_alloc(4 * sizeof(double));
  for (int i = 0; i < 4; i++) t[i] = sin(x * (i + 1));
  double r = sumsq(t, 4);
  my_free(t);
  return r;
}

static double df(double x) {
  double d = 0;
  for (int i = 0; i < 4; i++) d += 2 * sin(x * (i + 1)) * cos(x * (i + 1)) * (i + 1);
  return d;
}

int main(void) {
  e2e_begin("declarations/rule_after_free");
  const double xs[3] = {0.3, -1.1, 2.0};
  for (int k = 0; k < 3; k++) {
#ifdef ADCC_SELFTEST
    double d = df(xs[k]);
    rev_calls++;
#else
    double d = __enzyme_autodiff((void *)f, xs[k]);
#endif
    check_an("df", k, d, df(xs[k]));
    check_fd("df", k, d, fd1(f, xs[k]));
  }
  check_val("custom reverse calls", 0, rev_calls, 3);
  return e2e_finish();
}
