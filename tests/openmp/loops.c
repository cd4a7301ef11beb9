/* Worksharing loops in parallel regions: static, chunked, dynamic and guided schedules, loops
 * over 64-bit and unsigned counters, collapse, two loops in one region, inner serial loops,
 * neighbours read across chunk boundaries (adjoints other threads share), simd loops with the
 * dependences safelen and `ordered simd` allow. */
#include "omp_check.h"

static R par_static(R *x, R *w, int n) {
#pragma omp parallel for
  for (int i = 1; i < n - 1; i++) w[i] = x[i] * x[i + 1] + sin(x[i - 1]) * w[i];
  return 0;
}

/* one array read at neighbouring indices: the reverse adds in the middle of each chunk without
 * atomics (adcc.ad.parallel), near its ends atomically */
static R par_stencil(R *x, R *w, int n) {
#pragma omp parallel for
  for (int i = 2; i < n - 2; i++) w[i] = x[i - 2] * x[i + 1] + (R)0.5 * x[i] * x[i] - sin(x[i + 2]);
  return 0;
}

static R par_stencil_dynamic(R *x, R *w, int n) {
#pragma omp parallel for schedule(dynamic, 5)
  for (int i = 1; i < n - 1; i++) w[i] = x[i - 1] * x[i] * x[i + 1];
  return 0;
}

static R par_simd_lastprivate(R *x, R *w, int n) {
  R last = 0;
#pragma omp parallel for simd lastprivate(last)
  for (int i = 0; i < n; i++) {
    last = x[i] * x[i];
    w[i] = last + w[i];
  }
  return last;
}

static R par_static_chunk(R *x, R *w, int n) {
#pragma omp parallel for schedule(static, 3)
  for (int i = 1; i < n - 1; i++) w[i] = x[i - 1] * x[i + 1] - (R)0.5 * x[i] * w[i];
  return 0;
}

static R par_dynamic(R *x, R *w, int n) {
#pragma omp parallel for schedule(dynamic, 4)
  for (int i = 0; i < n - 1; i++) w[i] = exp((R)0.3 * x[i]) * x[i + 1];
  return w[0];
}

static R par_guided(R *x, R *w, int n) {
#pragma omp parallel for schedule(guided)
  for (int i = 0; i < n; i++) w[i] += x[i] * x[n - 1 - i];
  return 0;
}

static R par_runtime(R *x, R *w, int n) {
#pragma omp parallel for schedule(runtime)
  for (int i = 0; i < n; i++) w[i] = cos(x[i]) * w[i] * x[(i + 1) % n];
  return 0;
}

static R par_long(R *x, R *w, int n) {
  long m = n;
#pragma omp parallel for
  for (long i = 0; i < m; i++) w[i] = x[i] * x[i] * x[(i + 3) % m];
  return 0;
}

static R par_unsigned(R *x, R *w, int n) {
#pragma omp parallel for schedule(static, 5)
  for (unsigned i = 2; i < (unsigned)n; i++) w[i] = x[i - 2] * x[i] + w[i] * w[i];
  return 0;
}

static R par_collapse(R *x, R *w, int n) {
  int r = n / 8;
#pragma omp parallel for collapse(2)
  for (int i = 0; i < r; i++)
    for (int j = 0; j < 8; j++) w[i * 8 + j] = x[i * 8 + j] * x[j] + x[i];
  return 0;
}

static R par_two_loops(R *x, R *w, int n) {
  R t[NW];
#pragma omp parallel
  {
#pragma omp for
    for (int i = 0; i < n; i++) t[i] = x[i] * x[i];
#pragma omp for
    for (int i = 1; i < n - 1; i++) w[i] = t[i - 1] * t[i + 1] + w[i];
  }
  return t[0] + t[n - 1];
}

static R par_nowait(R *x, R *w, int n) {
  R t[NW];
#pragma omp parallel
  {
#pragma omp for nowait
    for (int i = 0; i < n; i++) t[i] = sin(x[i]);
#pragma omp for nowait
    for (int i = 0; i < n; i++) w[i] = w[i] * x[n - 1 - i];
#pragma omp barrier
#pragma omp for
    for (int i = 0; i < n; i++) w[i] += t[i] * t[n - 1 - i];
  }
  return 0;
}

static R par_inner_loop(R *x, R *w, int n) {
  int r = n / 6;
#pragma omp parallel for
  for (int i = 0; i < r; i++) {
    R s = 0;
    for (int j = 0; j < 6; j++) s += x[i * 6 + j] * w[j + 6 * (i % 2)];
    w[24 + i] = s * s;
  }
  return 0;
}

static R par_scalar(R *x, R *w, int n) {
  R a = x[0] * x[1], b = w[2];
#pragma omp parallel for
  for (int i = 3; i < n; i++) w[i] = a * x[i] + b * w[i] * w[i];
  return 0;
}

static R par_region_twice(R *x, R *w, int n) {
  for (int k = 0; k < 3; k++) {
#pragma omp parallel for
    for (int i = 1; i < n - 1; i++) w[i] = (R)0.5 * w[i] + (R)0.25 * (x[i - 1] + x[i + 1]) * w[i];
  }
  return 0;
}

/* simd loops that carry dependences the clauses allow: distance 4 under safelen(4), and an
 * `ordered simd` block that runs in iteration order */
static R simd_dependences(R *x, R *w, int n) {
#pragma omp simd safelen(4)
  for (int i = 0; i < n - 4; i++) w[i + 4] = (R)0.5 * w[i] * x[i] + w[i + 4];
  R s = 0;
#pragma omp simd
  for (int i = 1; i < n; i++) {
    R t = x[i] * x[i - 1];
#pragma omp ordered simd
    { w[i] += (R)0.25 * w[i - 1] * t; }
    s += t;
  }
  return s;
}

DIFFERENTIATE(par_static)
DIFFERENTIATE(par_stencil)
DIFFERENTIATE(par_stencil_dynamic)
DIFFERENTIATE(par_simd_lastprivate)
DIFFERENTIATE(par_static_chunk)
DIFFERENTIATE(par_dynamic)
DIFFERENTIATE(par_guided)
DIFFERENTIATE(par_runtime)
DIFFERENTIATE(par_long)
DIFFERENTIATE(par_unsigned)
DIFFERENTIATE(par_collapse)
DIFFERENTIATE(par_two_loops)
DIFFERENTIATE(par_nowait)
DIFFERENTIATE(par_inner_loop)
DIFFERENTIATE(par_scalar)
DIFFERENTIATE(par_region_twice)
DIFFERENTIATE(simd_dependences)

int main(void) {
  int n = NX;
  CHECK(par_static, n);
  CHECK(par_stencil, n);
  CHECK(par_stencil_dynamic, n);
  CHECK(par_simd_lastprivate, n);
  CHECK(par_static_chunk, n);
  CHECK(par_dynamic, n);
  CHECK(par_guided, n);
  CHECK(par_runtime, n);
  CHECK(par_long, n);
  CHECK(par_unsigned, n);
  CHECK(par_collapse, n);
  CHECK(par_two_loops, n);
  CHECK(par_nowait, n);
  CHECK(par_inner_loop, n);
  CHECK(par_scalar, n);
  CHECK(par_region_twice, n);
  CHECK(simd_dependences, n);
  return oc_finish("openmp/loops");
}
