// Enzyme's truncation: __enzyme_truncate_op_func(fn, from, to) and (fn, from, exponent bits,
// mantissa bits) return fn computing every floating-point operation in the narrower format (and
// the functions it calls); __enzyme_truncate_mem_func with __enzyme_truncate_mem_value and
// __enzyme_expand_mem_value does the same for values held in that format. Each result is
// compared with a reference computed here, operation by operation, with native float or with a
// rounding function of this test's own (frexp/ldexp/rint), and with the double result where
// the two must differ (so the truncation did happen).
#include "../e2e.h"

typedef double (*binary_fn)(double, double);
typedef double (*array_fn)(const double *, int);
typedef float (*binary_f32)(float, float);
extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
#ifndef ADCC_SELFTEST
extern binary_fn __enzyme_truncate_op_func(void *, int, int);
extern binary_fn __enzyme_truncate_op_func_format(void *, int, int, int);
extern array_fn __enzyme_truncate_op_func_array(void *, int, int);
extern array_fn __enzyme_truncate_op_func_array_format(void *, int, int, int);
extern binary_f32 __enzyme_truncate_op_func_f32(void *, int, int);
extern binary_fn __enzyme_truncate_mem_func(void *, int, int);
extern double __enzyme_truncate_mem_value(double, int, int);
extern double __enzyme_expand_mem_value(double, int, int);
extern double __enzyme_truncate_mem_value_format(double, int, int, int);
#endif

/* x rounded to nearest-even in a format of e exponent and m mantissa bits (subnormals, overflow) */
static double ref_round(double x, int e, int m) {
  if (x == 0 || isinf(x) || isnan(x)) return x;
  int emax = (1 << (e - 1)) - 1, ex;
  frexp(x, &ex);
  int q = ex - 1 < 1 - emax ? 1 - emax : ex - 1;
  double r = rint(ldexp(x, m - q));
  r = ldexp(r, q - m);
  return fabs(r) > ldexp(ldexp(1.0, m + 1) - 1, emax - m) ? copysign(INFINITY, x) : r;
}

static double add(double a, double b) { return a + b; }
static double sum(const double *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += x[i];
  return s;
}
__attribute__((noinline)) static double helper(double a) {
  double t = a * 3.0;
  return t + 0.1;
}
/* sqrt (correctly rounded in every format), a callee, a comparison that rounding decides */
static double mixed(double a, double b) {
  double r = sqrt(a) * b;
  if (b + 1e-9 > 1.0) r += helper(a);
  return r / 7.0;
}
static float addf(float a, float b) { return a + b * 2.0f; }
/* constants moved without arithmetic: narrow values in memory mode, untouched in operation mode */
__attribute__((noinline)) static double pick(double x, double y) { return x > y ? 0.1 : 0.2; }
/* a truncated function differentiated: its roundings pass derivatives through */
#ifndef ADCC_SELFTEST
static double cubic(double x, double y) { return x * x * y; }
static double via_float(double x) { return __enzyme_truncate_op_func((void *)cubic, 64, 32)(x, 3.0) + x; }
static double via_half(double x) { return __enzyme_truncate_op_func_format((void *)cubic, 64, 5, 10)(x, 3.0) + x; }
#endif

/* the references: the same operations, each rounded */
#define R(x) ref_round((x), e, m)
static double sum_ref(const double *x, int n, int e, int m) {
  double s = 0;
  for (int i = 0; i < n; i++) s = R(s + R(x[i]));
  return s;
}
static double mixed_ref(double a, double b, int e, int m) {
  a = R(a), b = R(b);
  double r = R(R(sqrt(a)) * b);
  if (R(b + R(1e-9)) > 1.0) r = R(r + R(R(a * 3.0) + R(0.1)));
  return R(r / 7.0);
}

#define N 1000
int main(void) {
  e2e_begin("api/truncate");
  double x[N];
  for (int i = 0; i < N; i++) x[i] = 0.1 + 1e-3 * (i % 7);
  float f32_sum = 0;
  for (int i = 0; i < N; i++) f32_sum += (float)x[i];
#ifdef ADCC_SELFTEST
  double t_add = (float)1.0 + (float)1e-10, t_sum = f32_sum, t_sum_half = sum_ref(x, N, 5, 10);
  double t_mixed = mixed_ref(2.0, 1.0, 8, 23), t_mixed_37 = mixed_ref(2.0, 1.0, 3, 7);
  double t_over = INFINITY, t_mem = (double)((float)0.1 + (float)0.2), t_value = ref_round(0.1, 4, 5);
  double t_pick_mem = (double)0.1f, t_pick_op = pick(0.2, 0.1);
  double t_f32 = ref_round(1.0 + ref_round(ref_round(3e-4f, 5, 10) * 2.0, 5, 10), 5, 10);
  double t_mixed2 = mixed_ref(2.0, 1.5, 8, 23);
  double d_float = 6 * (double)1.3f + 1, t_float = d_float, d_half = 6 * ref_round(1.3, 5, 10) + 1, t_half = d_half;
#else
  double t_add = __enzyme_truncate_op_func((void *)add, 64, 32)(1.0, 1e-10);
  double t_sum = __enzyme_truncate_op_func_array((void *)sum, 64, 32)(x, N);
  double t_sum_half = __enzyme_truncate_op_func_array_format((void *)sum, 64, 5, 10)(x, N);
  double t_mixed = __enzyme_truncate_op_func((void *)mixed, 64, 32)(2.0, 1.0);
  double t_mixed_37 = __enzyme_truncate_op_func_format((void *)mixed, 64, 3, 7)(2.0, 1.0);
  double t_mixed2 = __enzyme_truncate_op_func((void *)mixed, 64, 32)(2.0, 1.5);
  double t_over = __enzyme_truncate_op_func_format((void *)add, 64, 3, 7)(10.0, 10.0);
  double a = __enzyme_truncate_mem_value(0.1, 64, 32), b = __enzyme_truncate_mem_value(0.2, 64, 32);
  double t_mem = __enzyme_expand_mem_value(__enzyme_truncate_mem_func((void *)add, 64, 32)(a, b), 64, 32);
  double t_value = __enzyme_truncate_mem_value_format(0.1, 64, 4, 5);
  double t_pick_mem = __enzyme_expand_mem_value(__enzyme_truncate_mem_func((void *)pick, 64, 32)(b, a), 64, 32);
  double t_pick_op = __enzyme_truncate_op_func((void *)pick, 64, 32)(0.2, 0.1);
  double t_f32 = __enzyme_truncate_op_func_f32((void *)addf, 32, 16)(1.0f, 3e-4f);
  double d_float = __enzyme_autodiff((void *)via_float, 1.3), t_float = __enzyme_fwddiff((void *)via_float, 1.3, 1.0);
  double d_half = __enzyme_autodiff((void *)via_half, 1.3), t_half = __enzyme_fwddiff((void *)via_half, 1.3, 1.0);
#endif
  check_val("add", 0, t_add, 1.0);
  check_val("add", 1, add(1.0, 1e-10) != 1.0, 1); /* the original keeps double */
  check_val("sum", 0, t_sum, (double)f32_sum);
  check_val("sum", 1, fabs(t_sum - sum(x, N)) > 1e-6, 1);
  check_val("sum_half", 0, t_sum_half, sum_ref(x, N, 5, 10));
  check_val("mixed", 0, t_mixed, mixed_ref(2.0, 1.0, 8, 23));
  check_val("mixed", 1, t_mixed, (double)(sqrtf(2.0f) * 1.0f / 7.0f)); /* 1 + 1e-9 > 1 is false in float */
  check_val("mixed", 2, mixed(2.0, 1.0) != t_mixed, 1);
  check_val("mixed", 3, t_mixed2, mixed_ref(2.0, 1.5, 8, 23)); /* the callee computes in float too */
  check_val("mixed", 4, t_mixed2, (double)((sqrtf(2.0f) * 1.5f + (2.0f * 3.0f + 0.1f)) / 7.0f));
  check_val("mixed_37", 0, t_mixed_37, mixed_ref(2.0, 1.0, 3, 7));
  check_val("overflow", 0, isinf(t_over) && t_over > 0, 1); /* 20 > 15.9375, the largest of (3, 7) */
  check_val("mem", 0, t_mem, (double)((float)0.1 + (float)0.2));
  check_val("mem_value", 0, t_value, ref_round(0.1, 4, 5));
  check_val("mem_constant", 0, t_pick_mem, (double)0.1f);
  check_val("op_constant", 0, t_pick_op, 0.1);
  check_val("mem_value", 1, t_value, 51.0 / 512); /* 0.1 = 51.2 * 2^-9 with 5 mantissa bits */
  check_val("f32_to_half", 0, t_f32, ref_round(1.0 + ref_round(ref_round(3e-4f, 5, 10) * 2.0, 5, 10), 5, 10));
  check_val("f32_to_half", 1, t_f32 != (double)addf(1.0f, 3e-4f), 1);
  /* d/dx (3 x^2 + x), x rounded to the format where the truncated code reads it */
  check_an("d_float", 0, d_float, 6 * (double)1.3f + 1);
  check_an("t_float", 0, t_float, 6 * (double)1.3f + 1);
  check_an("d_half", 0, d_half, 6 * ref_round(1.3, 5, 10) + 1);
  check_an("t_half", 0, t_half, 6 * ref_round(1.3, 5, 10) + 1);
  /* the reference rounding agrees with native float, here and at a float subnormal */
  check_val("ref", 0, ref_round(0.1, 8, 23), (double)0.1f);
  check_val("ref", 1, ref_round(3e-42, 8, 23), (double)3e-42f);
  return e2e_finish();
}
