// Enzyme's type hints (__enzyme_double, __enzyme_float, __enzyme_integer, __enzyme_pointer):
// word-copy routines that move doubles, floats and pointers as 64- and 32-bit integers (clang's
// TBAA says "long"/"int": without the hints no derivative would flow through them). The hint
// calls inform type analysis and disappear from the program (nothing defines them).
#include "../e2e.h"
#include <stdint.h>

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;
#ifdef ADCC_SELFTEST
static void __enzyme_double(void *p, size_t n) { (void)p, (void)n; }
static void __enzyme_float(void *p, size_t n) { (void)p, (void)n; }
static void __enzyme_integer(void *p, size_t n) { (void)p, (void)n; }
static void __enzyme_pointer(void *p, size_t n) { (void)p, (void)n; }
#else
extern void __enzyme_double(void *, size_t);
extern void __enzyme_float(void *, size_t);
extern void __enzyme_integer(void *, size_t);
extern void __enzyme_pointer(void *, size_t);
#endif

__attribute__((noinline)) static void copy64(uint64_t *dst, const uint64_t *src, int n) {
  __enzyme_double((void *)src, (size_t)n * 8);
  __enzyme_double(dst, (size_t)n * 8);
  for (int i = 0; i < n; i++) dst[i] = src[i];
}
__attribute__((noinline)) static void copy32(uint32_t *dst, const uint32_t *src, int n) {
  __enzyme_float((void *)src, (size_t)n * 4);
  __enzyme_float(dst, (size_t)n * 4);
  for (int i = 0; i < n; i++) dst[i] = src[i];
}
__attribute__((noinline)) static void copyptr(uint64_t *dst, const uint64_t *src, int n) {
  __enzyme_pointer((void *)src, (size_t)n * 8);
  __enzyme_pointer(dst, (size_t)n * 8);
  for (int i = 0; i < n; i++) dst[i] = src[i];
}
__attribute__((noinline)) static int count(int *k, int n) {
  __enzyme_integer(k, (size_t)n * sizeof(int));
  int s = 0;
  for (int i = 0; i < n; i++) s += k[i];
  return s;
}

#define N 4
static double f(double *x, int n) {
  double y[N], *from[N], *to[N];
  float a[N], b[N];
  int k[N];
  copy64((uint64_t *)y, (const uint64_t *)x, n);
  for (int i = 0; i < n; i++) a[i] = (float)x[i], k[i] = i;
  copy32((uint32_t *)b, (const uint32_t *)a, n);
  for (int i = 0; i < n; i++) from[i] = &x[n - 1 - i];
  copyptr((uint64_t *)to, (const uint64_t *)from, n);
  double s = count(k, n);
  for (int i = 0; i < n; i++) s += y[i] * y[i] + 3.0 * b[i] + *to[i] * (double)i;
  return s;
}
/* f in double precision throughout (finite differences cannot see through float rounding) */
static double f_ref(const double *x) {
  double s = 0.0 + 1.0 + 2.0 + 3.0;
  for (int i = 0; i < N; i++) s += x[i] * x[i] + 3.0 * x[i] + x[N - 1 - i] * (double)i;
  return s;
}
static double fv(double *v, void *c) { (void)c; return f_ref(v); }

int main(void) {
  e2e_begin("declarations/type_hints");
  double x[N] = {0.5, -1.25, 2.0, 0.75}, dx[N] = {0}, g[N], tx[N] = {1.0, -1.0, 0.5, 2.0};
  for (int i = 0; i < N; i++) g[i] = 2.0 * x[i] + 3.0 + (double)(N - 1 - i);
  double want = 0.0;
  for (int i = 0; i < N; i++) want += g[i] * tx[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] += g[i];
  double t = want;
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, N);
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, x, tx, enzyme_const, N);
#endif
  check_val("primal", 0, f(x, N), f_ref(x));
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], g[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  check_an("tangent", 0, t, want);
  return e2e_finish();
}
