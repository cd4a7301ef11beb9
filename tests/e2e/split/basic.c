// Split mode (__enzyme_augmentfwd / __enzyme_reverse / __enzyme_augmentsize) with each way of
// holding the tape Enzyme defines: returned as void*, returned with the primal ({tape, primal}),
// stored through enzyme_tape, and kept in a caller buffer (enzyme_allocated, size, enzyme_tape,
// ptr) sized by __enzyme_augmentsize. Adjoints are checked against finite differences and the
// analytic gradient.
#include "../e2e.h"

extern int enzyme_dup, enzyme_const, enzyme_out, enzyme_tape, enzyme_allocated, enzyme_const_return,
    enzyme_noret, enzyme_not_overwritten;

void *__enzyme_augmentfwd(void *, ...);
void __enzyme_reverse(void *, ...);
int __enzyme_augmentsize(void *, ...);
typedef struct { void *tape; double value; } TapeAndValue;
TapeAndValue __enzyme_augmentfwd_tv(void *, ...);
double __enzyme_augmentfwd_v(void *, ...);
double __enzyme_reverse_d(void *, ...);
typedef struct { double da, db; } Pair;
Pair __enzyme_reverse_p(void *, ...);

#define N 6

// f(x) = sum_i x_i^2 x_{i+1} over a run-time count (a growing tape)
static double cubic(const double *x, int n) {
  double s = 0.0;
  for (int i = 0; i + 1 < n; i++) s += x[i] * x[i] * x[i + 1];
  return s;
}
static void cubic_grad(const double *x, int n, double seed, double *g) {
  for (int i = 0; i + 1 < n; i++) {
    g[i] += seed * 2.0 * x[i] * x[i + 1];
    g[i + 1] += seed * x[i] * x[i];
  }
}
static double cubic_v(double *x, void *ctx) { return cubic(x, *(int *)ctx); }

// two active scalars, one returned product
static double prod(double a, double b) { return sin(a) * b * b; }

// in place: y[i] = exp(y[i]) * c (the reverse must not read y again)
static void inplace(double *y, double c, int n) {
  for (int i = 0; i < n; i++) y[i] = exp(y[i]) * c;
}

// writes its product through out and returns a value whose adjoint is not wanted
static double writes(const double *x, double *out) {
  out[0] = x[0] * x[1] * x[2];
  return x[0] + 100.0;
}

static const double X0[N] = {0.3, -1.1, 0.7, 1.9, -0.4, 0.25};

int main(void) {
  e2e_begin("split/basic");
  int n = N;
  double x[N], g[N], want[N];
  memcpy(x, X0, sizeof x);

  // 1. the tape returned as void*, the seed passed to the reverse
  memset(g, 0, sizeof g);
  memset(want, 0, sizeof want);
#ifdef ADCC_SELFTEST
  cubic_grad(x, n, 2.5, g);
#else
  void *tape = __enzyme_augmentfwd((void *)cubic, enzyme_dup, x, g, enzyme_const, n);
  __enzyme_reverse((void *)cubic, enzyme_dup, x, g, enzyme_const, n, 2.5, tape);
#endif
  cubic_grad(x, n, 2.5, want);
  for (int i = 0; i < N; i++) {
    check_an("void* tape", i, g[i], want[i]);
    check_fd("void* tape", i, g[i], 2.5 * fdv(cubic_v, x, i, &n));
  }

  // 2. {tape, primal}: the primal comes back with the tape
  memset(g, 0, sizeof g);
#ifdef ADCC_SELFTEST
  TapeAndValue tv = {NULL, cubic(x, n)};
  cubic_grad(x, n, 1.0, g);
#else
  TapeAndValue tv = __enzyme_augmentfwd_tv((void *)cubic, enzyme_dup, x, g, enzyme_const, n);
  __enzyme_reverse((void *)cubic, enzyme_dup, x, g, enzyme_const, n, 1.0, tv.tape);
#endif
  check_val("primal", 0, tv.value, cubic(x, n));
  for (int i = 0; i < N; i++) check_an("{tape, primal}", i, g[i], want[i] / 2.5);

  // 3. enzyme_tape, p: the tape pointer lives in *p; the call returns the primal
  memset(g, 0, sizeof g);
  void *slot = NULL;
#ifdef ADCC_SELFTEST
  double v = cubic(x, n);
  cubic_grad(x, n, -1.0, g);
#else
  double v = __enzyme_augmentfwd_v((void *)cubic, enzyme_tape, &slot, enzyme_dup, x, g, enzyme_const, n);
  __enzyme_reverse((void *)cubic, enzyme_dup, x, g, enzyme_const, n, -1.0, enzyme_tape, &slot);
#endif
  check_val("primal via enzyme_tape", 0, v, cubic(x, n));
  for (int i = 0; i < N; i++) check_an("enzyme_tape", i, g[i], -want[i] / 2.5);

  // 4. a caller-allocated tape sized by __enzyme_augmentsize; the reverse seeds 1.0 by default
  memset(g, 0, sizeof g);
#ifdef ADCC_SELFTEST
  int size = 48;
  cubic_grad(x, n, 1.0, g);
#else
  int size = __enzyme_augmentsize((void *)cubic, enzyme_dup, enzyme_const);
  void *buffer = malloc((size_t)size);
  __enzyme_augmentfwd((void *)cubic, enzyme_allocated, size, enzyme_tape, buffer, enzyme_dup, x, g,
                      enzyme_const, n);
  __enzyme_reverse((void *)cubic, enzyme_allocated, size, enzyme_tape, buffer, enzyme_dup, x, g,
                   enzyme_const, n);
  free(buffer);
#endif
  if (size < 48) check_val("augmentsize", 0, size, 48);
  for (int i = 0; i < N; i++) check_an("enzyme_allocated", i, g[i], want[i] / 2.5);

  // 5. active scalars: the reverse returns their adjoints; a buffer on the stack that also holds
  //    the records (their most is known at compile time)
  double a = 0.8, b = -1.7;
#ifdef ADCC_SELFTEST
  Pair d = {3.0 * cos(a) * b * b, 3.0 * 2.0 * sin(a) * b};
  double pv = prod(a, b);
#else
  _Alignas(16) char buf[256];
  int psize = __enzyme_augmentsize((void *)prod, enzyme_out, enzyme_out);
  if (psize > (int)sizeof buf) check_val("augmentsize of prod", 0, psize, 256);
  double pv = __enzyme_augmentfwd_v((void *)prod, enzyme_allocated, psize, enzyme_tape, buf, a, b);
  Pair d = __enzyme_reverse_p((void *)prod, enzyme_allocated, psize, enzyme_tape, buf, a, b, 3.0);
#endif
  check_val("prod", 0, pv, prod(a, b));
  check_an("d/da", 0, d.da, 3.0 * cos(a) * b * b);
  check_an("d/db", 0, d.db, 3.0 * 2.0 * sin(a) * b);
  check_fd("d/da", 0, d.da, 3.0 * (prod(a + 1e-6, b) - prod(a - 1e-6, b)) / 2e-6);

  // 6. in place, memory changed between the halves; enzyme_const_return: no seed, no adjoint of
  //    the (void) result; the scalar c is enzyme_out and its adjoint returned
  double y[N], dy[N], y0[N];
  for (int i = 0; i < N; i++) { y0[i] = y[i] = 0.1 * i - 0.2; dy[i] = 1.0 + i; }
  double c = 1.5;
#ifdef ADCC_SELFTEST
  inplace(y, c, N);
  double dc = 0.0;
  for (int i = 0; i < N; i++) { dc += dy[i] * exp(y0[i]); dy[i] *= exp(y0[i]) * c; }
#else
  void *t6 = __enzyme_augmentfwd((void *)inplace, enzyme_dup, y, dy, enzyme_out, c, enzyme_const, N);
  double keep[N];
  memcpy(keep, y, sizeof y);
  for (int i = 0; i < N; i++) y[i] = 1e300;  /* the caller scribbles over y before the reverse */
  double dc = __enzyme_reverse_d((void *)inplace, enzyme_dup, y, dy, enzyme_out, c, enzyme_const, N, t6);
  memcpy(y, keep, sizeof y);
#endif
  double dc_want = 0.0;
  for (int i = 0; i < N; i++) {
    dc_want += (1.0 + i) * exp(y0[i]);
    check_val("inplace", i, y[i], exp(y0[i]) * c);
    check_an("inplace dy", i, dy[i], (1.0 + i) * exp(y0[i]) * c);
  }
  check_an("inplace dc", 0, dc, dc_want);

  // 7. enzyme_not_overwritten on every pointer: the reverse may read x again (the caller promises
  //    to leave it alone between the halves); enzyme_noret: the augmented call returns the tape only
  memset(g, 0, sizeof g);
#ifdef ADCC_SELFTEST
  cubic_grad(x, n, 0.5, g);
#else
  void *t7 = __enzyme_augmentfwd((void *)cubic, enzyme_noret, enzyme_not_overwritten, enzyme_dup, x, g,
                                 enzyme_const, n);
  __enzyme_reverse((void *)cubic, enzyme_not_overwritten, enzyme_dup, x, g, enzyme_const, n, 0.5, t7);
#endif
  for (int i = 0; i < N; i++) check_an("enzyme_not_overwritten", i, g[i], 0.5 * want[i] / 2.5);

  // 8. enzyme_const_return: no adjoint of the result (none is passed to the reverse); the seed is
  //    the shadow of out
  double out = 0.0, dout = 2.0, dx8[3] = {0};
#ifdef ADCC_SELFTEST
  double r8 = writes(x, &out);
  dx8[0] = 2.0 * x[1] * x[2]; dx8[1] = 2.0 * x[0] * x[2]; dx8[2] = 2.0 * x[0] * x[1];
#else
  TapeAndValue tv8 = __enzyme_augmentfwd_tv((void *)writes, enzyme_const_return, enzyme_dup, x, dx8,
                                            enzyme_dup, &out, &dout);
  double r8 = tv8.value;
  __enzyme_reverse((void *)writes, enzyme_const_return, enzyme_dup, x, dx8, enzyme_dup, &out, &dout, tv8.tape);
#endif
  check_val("const return value", 0, r8, x[0] + 100.0);
  check_val("const return out", 0, out, x[0] * x[1] * x[2]);
  check_an("const return dx", 0, dx8[0], 2.0 * x[1] * x[2]);
  check_an("const return dx", 1, dx8[1], 2.0 * x[0] * x[2]);
  check_an("const return dx", 2, dx8[2], 2.0 * x[0] * x[1]);
  return e2e_finish();
}
