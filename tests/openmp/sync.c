/* Synchronization: critical sections (unnamed, named, non-commutative updates), atomic updates,
 * barriers between phases, single and master regions, control flow that depends on the thread
 * number, thread-private accumulation combined under a lock. */
#include "omp_check.h"

static R crit_sum(R *x, R *w, int n) {
  R s = 0;
#pragma omp parallel
  {
    R local = 0;
#pragma omp for
    for (int i = 0; i < n; i++) local += x[i] * w[i];
#pragma omp critical
    s += local * local;
  }
  return s;
}

static R crit_named_product(R *x, R *w, int n) {
  R p = 1, q = 0;
#pragma omp parallel for
  for (int i = 0; i < n; i++) {
    R f = (R)1 + (R)0.05 * sin(x[i]);
#pragma omp critical(prod)
    p = p * f;           /* order matters for the reverse: it runs backwards, by turns */
#pragma omp critical(sum)
    q = q + f * w[i];
  }
  return p * q;
}

static R crit_update_array(R *x, R *w, int n) {
#pragma omp parallel for
  for (int i = 4; i < n; i++) {
    R v = x[i] * x[i];
#pragma omp critical
    w[i % 4] = w[i % 4] * ((R)1 + (R)0.1 * v); /* a product: the value does not depend on the order */
  }
  return 0;
}

static R atomic_add(R *x, R *w, int n) {
  R s = 0;
#pragma omp parallel for
  for (int i = 3; i < n; i++) {
    R v = x[i] * w[i];
#pragma omp atomic
    s += v * v;
#pragma omp atomic
    w[i % 3] -= (R)0.1 * x[i];
  }
  return s;
}

static R barrier_phases(R *x, R *w, int n) {
  R t[NW];
#pragma omp parallel
  {
    int id = omp_get_thread_num(), nt = omp_get_num_threads();
    for (int i = id; i < n; i += nt) t[i] = x[i] * x[i];
#pragma omp barrier
    for (int i = id; i < n; i += nt) w[i] = t[i] * t[n - 1 - i] + w[i];
  }
  return t[1];
}

static R single_master(R *x, R *w, int n) {
  R scale = 0, offset = 0;
#pragma omp parallel
  {
#pragma omp single
    {
      R s = 0;
      for (int i = 0; i < n; i++) s += x[i];
      scale = s / (R)n;
    }
#pragma omp for
    for (int i = 0; i < n; i++) w[i] = w[i] * scale;
#pragma omp master
    offset = x[0] * w[0];
#pragma omp barrier
#pragma omp masked filter(1)
    offset += (R)0.5 * x[1];  /* no thread 1 with one thread: then nothing is added */
#pragma omp flush
#pragma omp barrier
#pragma omp for
    for (int i = 0; i < n; i++) w[i] += offset;
  }
  return scale;
}

static R sections(R *x, R *w, int n) {
  R a = 0, b = 0;
#pragma omp parallel sections
  {
#pragma omp section
    for (int i = 0; i < n / 2; i++) a += x[i] * w[i];
#pragma omp section
    for (int i = n / 2; i < n; i++) b += sin(x[i]);
  }
  return a * b;
}

static R thread_dependent(R *x, R *w, int n) {
  R parts[64] = {0};
#pragma omp parallel
  {
    int id = omp_get_thread_num();
    R s = 0;
#pragma omp for schedule(static)
    for (int i = 0; i < n; i++) s += (id % 2 ? x[i] : (R)2 * x[i]) * w[i];
    parts[id] = s;
  }
  /* the gradient depends on the thread count, as the value does */
  R r = 0;
  for (int k = 0; k < 64; k++) r += parts[k] * parts[k];
  return r;
}

DIFFERENTIATE(crit_sum)
DIFFERENTIATE(crit_named_product)
DIFFERENTIATE(crit_update_array)
DIFFERENTIATE(atomic_add)
DIFFERENTIATE(barrier_phases)
DIFFERENTIATE(single_master)
DIFFERENTIATE(sections)
DIFFERENTIATE(thread_dependent)

int main(void) {
  int n = NX;
  CHECK(crit_sum, n);
  CHECK(crit_named_product, n);
  CHECK(crit_update_array, n);
  CHECK(atomic_add, n);
  CHECK(barrier_phases, n);
  CHECK(single_master, n);
  CHECK(sections, n);
  CHECK(thread_dependent, n);
  return oc_finish("openmp/sync");
}
