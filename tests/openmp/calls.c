/* Calls from inside parallel regions (their reverse accumulates atomically too), regions inside
 * called functions, nested regions (the inner team is serialized), if and num_threads clauses,
 * a region that reads and writes a global array. */
#include "omp_check.h"

__attribute__((noinline)) static R stencil_at(const R *x, int i) {
  return x[i - 1] * x[i] + (R)0.5 * x[i + 1] * x[i + 1];
}

__attribute__((noinline)) static void scale_into(R *dst, const R *src, R a, int i) {
  dst[i] = a * src[i] * src[i];
}

static R call_helper(R *x, R *w, int n) {
#pragma omp parallel for
  for (int i = 1; i < n - 1; i++) w[i] = stencil_at(x, i) * w[i];
  return 0;
}

static R call_void_helper(R *x, R *w, int n) {
  R a = x[2];
#pragma omp parallel for schedule(dynamic, 2)
  for (int i = 0; i < n; i++) scale_into(w, x, a, i);
  return 0;
}

__attribute__((noinline)) static void smooth(R *w, const R *x, int n) {
#pragma omp parallel for
  for (int i = 1; i < n - 1; i++) w[i] = (R)0.5 * w[i] + (R)0.25 * x[i] * (x[i - 1] + x[i + 1]);
}

static R region_in_callee(R *x, R *w, int n) {
  for (int k = 0; k < 2; k++) smooth(w, x, n);
  return w[3];
}

static R nested(R *x, R *w, int n) {
  int r = n / 8;
#pragma omp parallel for
  for (int i = 0; i < r; i++) {
#pragma omp parallel for
    for (int j = 0; j < 8; j++) w[i * 8 + j] = x[i * 8 + j] * x[j] + w[i * 8 + j];
  }
  return 0;
}

static R if_clause(R *x, R *w, int n) {
  R s = 0;
  for (int m = 8; m <= n; m += n - 8) { /* 8: serialized (if false); n: a team */
#pragma omp parallel for reduction(+ : s) if (m > 16)
    for (int i = 0; i < m; i++) s += x[i] * w[i];
  }
  return s;
}

static R num_threads(R *x, R *w, int n) {
#pragma omp parallel for num_threads(3)
  for (int i = 1; i < n; i++) w[i] = x[i] * x[i - 1];
  return 0;
}

static R g_data[NX];

static R global_array(R *x, R *w, int n) {
  for (int i = 0; i < n; i++) g_data[i] = x[i];
#pragma omp parallel for
  for (int i = 1; i < n; i++) w[i] = g_data[i] * g_data[i - 1];
  return g_data[5];
}

DIFFERENTIATE(call_helper)
DIFFERENTIATE(call_void_helper)
DIFFERENTIATE(region_in_callee)
DIFFERENTIATE(nested)
DIFFERENTIATE(if_clause)
DIFFERENTIATE(num_threads)
DIFFERENTIATE(global_array)

int main(void) {
  int n = NX;
  CHECK(call_helper, n);
  CHECK(call_void_helper, n);
  CHECK(region_in_callee, n);
  CHECK(nested, n);
  CHECK(if_clause, n);
  CHECK(num_threads, n);
  CHECK(global_array, n);
  return oc_finish("openmp/calls");
}
