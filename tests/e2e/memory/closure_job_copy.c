// A job record keeps both addresses of a copy as integers (uintptr_t, as closures and
// std::function keep their captures) and a noinline helper copies the doubles through them (#9).
// Reverse mode crashed (SIGSEGV): the destination array held no active data when the record was
// built, so it had no shadow, and the helper's derivative wrote adjoints through a null one. An
// address kept as an integer in memory with a shadow now gives its memory a shadow.
#include "both.h"
#include <stdint.h>

static volatile int len = 5;

typedef struct { uintptr_t from, to; size_t n; } job;
static __attribute__((noinline)) void run_job(const job *j) { memcpy((void *)j->to, (const void *)j->from, j->n); }

static double closure(double *x) {
  int n = len;
  double a[5], b[5];
  for (int i = 0; i < n; i++) a[i] = x[i] * (double)(i + 1);
  job j = {(uintptr_t)a, (uintptr_t)b, (size_t)n * sizeof(double)};
  run_job(&j);
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
DECLARE_FD(closure)

int main(void) {
  e2e_begin("memory/closure_job_copy");
  double x[5] = {0.5, -1.25, 2.0, 0.75, 1.5};
  double g[5];
  for (int i = 0; i < 5; i++) g[i] = 2.0 * (i + 1) * (i + 1) * x[i]; /* s = sum ((i+1) x_i)^2 */
  CHECK_BOTH(closure, x, 5, g);
  return e2e_finish();
}
