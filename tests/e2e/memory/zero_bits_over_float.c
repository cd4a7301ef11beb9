// An element of a differentiated buffer overwritten through its bits by a value that does not
// depend on the inputs (`memcpy(&t[k], &bits, 8)` with constant bits; LLVM also folds
// `t[k] = copysign(0.0, s)` made on a union's integer into `store i64 0`). The reverse of such an
// integer store must end the adjoint of the float it overwrote, as the reverse of a float store
// does: before, t[1]'s adjoint from the sum below survived and reached x[1] through t[1] = x[1]^2
// (fuzz campaign seed 321550, tests/fuzz/regressions/copysign_store_adjoint.c). Reverse mode
// against the hand-written gradient and finite differences, doubles and floats; forward mode
// (the tangent of the overwritten element is zero) along one direction.
#include "../e2e.h"
#include <stdint.h>

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern float __enzyme_autodiff_f(void *, ...) __asm__("__enzyme_autodiff");
int enzyme_dup, enzyme_const;

enum { N = 4 };

__attribute__((noinline)) static double f(const double *x, double *t) {
  for (int i = 0; i < N; i++) t[i] = x[i] * x[i];
  __asm__ volatile("" ::: "memory");
  uint64_t zero = 0, one = 0x3ff0000000000000ull; /* the bits of +0.0 and of 1.0 */
  memcpy(&t[1], &zero, sizeof zero);
  memcpy(&t[3], &one, sizeof one);
  __asm__ volatile("" ::: "memory"); /* t is reread from memory */
  double s = 0.0;
  for (int i = 0; i < N; i++) s += t[i] * x[i];
  return s;
}

__attribute__((noinline)) static float g(const float *x, float *t) {
  for (int i = 0; i < N; i++) t[i] = x[i] * x[i];
  __asm__ volatile("" ::: "memory");
  uint32_t zero = 0;
  memcpy(&t[2], &zero, sizeof zero);
  __asm__ volatile("" ::: "memory");
  float s = 0.0f;
  for (int i = 0; i < N; i++) s += t[i] * x[i];
  return s;
}

static double fv(double *v, void *ctx) { return f(v, (double *)ctx); }

int main(void) {
  e2e_begin("memory/zero_bits_over_float");
  double x[N] = {0.7, -1.3, 0.4, 2.1}, dx[N] = {0}, t[N], dt[N] = {0};
  float xf[N] = {0.7f, -1.3f, 0.4f, 2.1f}, dxf[N] = {0}, tf[N], dtf[N] = {0};
  double v[N] = {0.3, -0.9, 1.1, 0.5}, tan = 0.0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) tan += v[i] * ((i == 1) ? 0.0 : (i == 3) ? 1.0 : 3.0 * x[i] * x[i]);
#else
  tan = __enzyme_fwddiff((void *)f, enzyme_dup, x, v, enzyme_dup, t, dt);
  for (int i = 0; i < N; i++) dt[i] = 0.0;
#endif
  check_fd("forward d f . v", 0, tan, fd_dir(fv, x, v, N, t));
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] = (i == 1) ? 0.0 : (i == 3) ? 1.0 : 3.0 * x[i] * x[i];
  for (int i = 0; i < N; i++) dxf[i] = (i == 2) ? 0.0f : 3.0f * xf[i] * xf[i];
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, t, dt);
  __enzyme_autodiff_f((void *)g, enzyme_dup, xf, dxf, enzyme_dup, tf, dtf);
#endif
  for (int i = 0; i < N; i++) {
    double want = (i == 1) ? 0.0 : (i == 3) ? 1.0 : 3.0 * x[i] * x[i];
    check_an("d f / d x", i, dx[i], want);
    check_fd("d f / d x", i, dx[i], fdv(fv, x, i, t));
    check_f32("d g / d x", i, dxf[i], (i == 2) ? 0.0 : 3.0 * (double)xf[i] * (double)xf[i]);
  }
  return e2e_finish();
}
