/* Reductions: + on one and two variables, *, max and min (libomp's critical-section method in
 * both modes), on a parallel for and on a for inside a region (the blocking __kmpc_reduce),
 * and a reduction result used by the same region afterwards. */
#include "omp_check.h"

static R red_sum(R *x, R *w, int n) {
  R s = 0;
#pragma omp parallel for reduction(+ : s)
  for (int i = 0; i < n; i++) s += x[i] * x[i] * w[i];
  return s * s;
}

static R red_two(R *x, R *w, int n) {
  R a = 1, b = 0;
#pragma omp parallel for reduction(+ : a, b)
  for (int i = 0; i < n; i++) {
    a += sin(x[i]);
    b += x[i] * w[i];
  }
  return a * b;
}

static R red_prod(R *x, R *w, int n) {
  R p = 1;
#pragma omp parallel for reduction(* : p)
  for (int i = 0; i < n; i++) p *= (R)1 + (R)0.1 * x[i];
  w[0] = p;
  return p;
}

static R red_max(R *x, R *w, int n) {
  R m = -100, lo = 100;
#pragma omp parallel for reduction(max : m) reduction(min : lo)
  for (int i = 0; i < n; i++) {
    R v = x[i] + (R)0.01 * (R)i; /* distinct values: no ties */
    m = v > m ? v : m;
    lo = v < lo ? v : lo;
  }
  return m * lo + w[1];
}

static R red_in_region(R *x, R *w, int n) {
  R s = 0;
#pragma omp parallel
  {
#pragma omp for reduction(+ : s)
    for (int i = 0; i < n; i++) s += x[i] * w[i];
    /* every thread sees the reduced value after the loop's barrier */
#pragma omp for
    for (int i = 0; i < n; i++) w[i] = w[i] * s;
  }
  return s;
}

static R red_dynamic(R *x, R *w, int n) {
  R s = 0;
#pragma omp parallel for schedule(dynamic, 3) reduction(+ : s)
  for (int i = 1; i < n; i++) s += x[i] * x[i - 1] + cos(w[i]);
  return s;
}

DIFFERENTIATE(red_sum)
DIFFERENTIATE(red_two)
DIFFERENTIATE(red_prod)
DIFFERENTIATE(red_max)
DIFFERENTIATE(red_in_region)
DIFFERENTIATE(red_dynamic)

int main(void) {
  int n = NX;
  CHECK(red_sum, n);
  CHECK(red_two, n);
  CHECK(red_prod, n);
  CHECK(red_max, n);
  CHECK(red_in_region, n);
  CHECK(red_dynamic, n);
  return oc_finish("openmp/reduction");
}
