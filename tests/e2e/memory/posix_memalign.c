// posix_memalign: the allocation arrives through a `void **` out-parameter and its status is the
// result. The slot it writes gets a shadow allocation (zeroed, 64-byte aligned as asked), in the
// differentiated function and in a helper it calls; the memory is freed with free().
#define _POSIX_C_SOURCE 200112L
#include <stdint.h>
#include "both.h"

int posix_memalign(void **memptr, size_t alignment, size_t size);

static __attribute__((noinline)) double *scratch(int n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, (size_t)n * sizeof(double)) != 0) return NULL;
  return (double *)p;
}

/* sum_i (i + 1) * t_i^2 with t = x copied into aligned scratch, then sin of the first product */
static double aligned_sum(double *x) {
  double *t;
  if (posix_memalign((void **)&t, 32, 4 * sizeof(double)) != 0) return 0;
  if ((uintptr_t)t % 32 != 0) return 1e300; /* alignment kept */
  for (int i = 0; i < 4; i++) t[i] = x[i] * x[i];
  double s = 0;
  for (int i = 0; i < 4; i++) s += (i + 1) * t[i];
  free(t);
  return s;
}
DECLARE_FD(aligned_sum)

static double helper_alloc(double *x) {
  double *u = scratch(3);
  if (!u) return 0;
  for (int i = 0; i < 3; i++) u[i] = sin(x[i]) * x[3];
  double s = u[0] * u[1] + u[2];
  free(u);
  return s;
}
DECLARE_FD(helper_alloc)

int main(void) {
  e2e_begin("memory/posix_memalign");
  double x[4] = {0.7, -0.4, 1.1, 0.9};
  double g[4];
  for (int i = 0; i < 4; i++) g[i] = 2 * (i + 1) * x[i];
  CHECK_BOTH(aligned_sum, x, 4, g);
  double s0 = sin(x[0]), s1 = sin(x[1]), s2 = sin(x[2]), c = x[3];
  double gh[4] = {cos(x[0]) * c * s1 * c, s0 * c * cos(x[1]) * c, cos(x[2]) * c, 2 * s0 * s1 * c + s2};
  CHECK_BOTH(helper_alloc, x, 4, gh);
  return e2e_finish();
}
