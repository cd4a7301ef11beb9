// Markers that change how arguments are read: enzyme_not_overwritten (a hint), enzyme_byref
// (the argument is passed through a pointer to it), enzyme_interleave (all primals, then the
// shadows in order), enzyme_runtime_activity (a duplicated pointer whose shadow is its primal
// is inactive); Enzyme's type hints (__enzyme_double) and a lenient `int` result declaration
// for a function without derivatives to return.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern void __enzyme_autodiff_void(void *, ...);
extern int __enzyme_autodiff_int(void *, ...);
#ifdef ADCC_SELFTEST
static void __enzyme_double(void *p, size_t n) { (void)p, (void)n; }
#else
extern void __enzyme_double(void *, size_t);
#endif
int enzyme_not_overwritten, enzyme_byref, enzyme_interleave, enzyme_runtime_activity;
int enzyme_dup, enzyme_const, enzyme_out;

/* out[0] = sum_i w_i x_i^2 */
static void wsq(const double *x, const double *w, double *out, int n) {
  __enzyme_double((void *)x, n * sizeof(double));
  double s = 0;
  for (int i = 0; i < n; i++) s += w[i] * x[i] * x[i];
  out[0] = s;
}

static double scale(double a, double b) { return a * a * b; }

#define N 3
static double W[N] = {1.5, -2.0, 0.5};
static double wv(double *v, void *ctx) {
  (void)ctx;
  double o;
  wsq(v, W, &o, N);
  return o;
}

int main(void) {
  e2e_begin("api/modifiers");
  double x[N] = {0.4, -0.9, 1.3}, dx[N], out, dout;
  /* not_overwritten */
  memset(dx, 0, sizeof dx);
  dout = 1.0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] = 2 * W[i] * x[i];
#else
  __enzyme_autodiff_void((void *)wsq, enzyme_not_overwritten, enzyme_dup, x, dx, enzyme_const, W, enzyme_dup, &out,
                         &dout, enzyme_const, N);
#endif
  for (int i = 0; i < N; i++) {
    check_an("not_overwritten", i, dx[i], 2 * W[i] * x[i]);
    check_fd("not_overwritten", i, dx[i], fdv(wv, x, i, 0));
  }
  /* interleave: primals first, then the shadows of the duplicated ones */
  memset(dx, 0, sizeof dx);
  dout = 1.0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] = 2 * W[i] * x[i];
#else
  __enzyme_autodiff_void((void *)wsq, x, enzyme_const, W, enzyme_dup, &out, enzyme_const, N, enzyme_interleave, dx,
                         &dout);
#endif
  for (int i = 0; i < N; i++) check_an("interleave", i, dx[i], 2 * W[i] * x[i]);
  /* byref: a = 0.7 passed through its address */
  double a = 0.7, b = -1.6;
#ifdef ADCC_SELFTEST
  double da = 2 * a * b;
#else
  double da = __enzyme_autodiff((void *)scale, enzyme_byref, sizeof a, &a, enzyme_const, b);
#endif
  check_an("byref", 0, da, 2 * a * b);
  /* runtime activity: x's shadow is x itself, so x is inactive; dout still seeds nothing else */
  double xs[N] = {0.4, -0.9, 1.3};
  dout = 1.0;
#ifdef ADCC_SELFTEST
  dout = 0.0;
  wsq(xs, W, &out, N);
#else
  __enzyme_autodiff_void((void *)wsq, enzyme_runtime_activity, enzyme_dup, xs, xs, enzyme_const, W, enzyme_dup, &out,
                         &dout, enzyme_const, N);
#endif
  for (int i = 0; i < N; i++) check_val("runtime activity leaves x", i, xs[i], x[i]);
  check_val("runtime activity consumes the seed", 0, dout, 0.0);
  check_val("runtime activity primal", 0, out, W[0] * x[0] * x[0] + W[1] * x[1] * x[1] + W[2] * x[2] * x[2]);
  /* ... and with distinct shadows it differentiates as usual */
  memset(dx, 0, sizeof dx);
  dout = 1.0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] = 2 * W[i] * x[i];
#else
  __enzyme_autodiff_void((void *)wsq, enzyme_runtime_activity, enzyme_dup, x, dx, enzyme_const, W, enzyme_dup, &out,
                         &dout, enzyme_const, N);
#endif
  for (int i = 0; i < N; i++) check_an("runtime activity, active", i, dx[i], 2 * W[i] * x[i]);
  /* an int result declared for a call that has no adjoint to return */
  memset(dx, 0, sizeof dx);
  dout = 1.0;
#ifdef ADCC_SELFTEST
  int unused = 0;
  for (int i = 0; i < N; i++) dx[i] = 2 * W[i] * x[i];
#else
  int unused = __enzyme_autodiff_int((void *)wsq, enzyme_dup, x, dx, enzyme_const, W, enzyme_dup, &out, &dout,
                                     enzyme_const, N);
#endif
  (void)unused;
  for (int i = 0; i < N; i++) check_an("int declaration", i, dx[i], 2 * W[i] * x[i]);
  return e2e_finish();
}
