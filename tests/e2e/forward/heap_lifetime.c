// Forward mode of heap buffers whose allocation, growth and release happen in different functions
// (a vector type with create/push/destroy helpers, as C++ containers and Eigen's dynamic matrices
// do): the tangent buffers follow the primal ones through malloc, realloc (from NULL, growing) and
// free without being mixed up with adcc's own memory.
#include "../e2e.h"

extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

typedef struct { double *data; long n, cap; } vec;

static __attribute__((noinline)) void vec_init(vec *v) { v->data = NULL; v->n = v->cap = 0; }

static __attribute__((noinline)) void vec_push(vec *v, double x) {
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 1;
    v->data = realloc(v->data, (size_t)v->cap * sizeof *v->data);
  }
  v->data[v->n++] = x;
}

static __attribute__((noinline)) void release(void *p) { free(p); }
static __attribute__((noinline)) void vec_free(vec *v) { release(v->data); v->data = NULL; }

static double f(const double *x, int n) {
  vec v;
  vec_init(&v);
  for (int i = 0; i < n; i++) vec_push(&v, x[i] * x[i] + i);
  double *t = malloc((size_t)n * sizeof *t);
  for (int i = 0; i < n; i++) t[i] = sin(v.data[i]) * x[(i + 1) % n];
  double s = 0.0;
  for (int i = 0; i < n; i++) s += t[i] * v.data[n - 1 - i];
  release(t);
  vec_free(&v);
  return s;
}

/* d/dt f(x + t dir) by hand */
static double df(const double *x, const double *dir, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) {
    int j = (i + 1) % n, k = n - 1 - i;
    double vi = x[i] * x[i] + i, vk = x[k] * x[k] + k;
    double ti = sin(vi) * x[j];
    double dti = cos(vi) * 2.0 * x[i] * dir[i] * x[j] + sin(vi) * dir[j];
    s += dti * vk + ti * 2.0 * x[k] * dir[k];
  }
  return s;
}

#define N 9

static double fv(double *v, void *ctx) { (void)ctx; return f(v, N); }

int main(void) {
  e2e_begin("forward/heap_lifetime");
  double x[N], dir[N];
  for (int i = 0; i < N; i++) {
    x[i] = 0.3 + 0.17 * i - 0.05 * i * i;
    dir[i] = 1.0 - 0.2 * i;
  }
  double want = df(x, dir, N);
#ifdef ADCC_SELFTEST
  double got = want;
#else
  double got = __enzyme_fwddiff((void *)f, enzyme_dup, x, dir, enzyme_const, N);
#endif
  check_an("tangent", 0, got, want);
  check_fd("tangent", 0, got, fd_dir(fv, x, dir, N, 0));
  return e2e_finish();
}
