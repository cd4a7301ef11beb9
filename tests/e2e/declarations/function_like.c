// Functions declared to behave like others (__enzyme_function_like and the
// enzyme_function_like=NAME annotation Enzyme's plugin emits): mylog1p like log1p (its body is a
// truncated series, so only the declared behaviour gives 1/(1+x)), mysqrt/mysqrt2 like sqrt,
// my_alloc/my_free like malloc/free, and an allocation_like pool allocator (size in argument 1,
// freed by pool_free of the returned pointer). Memory from the allocators carries derivatives.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

double mylog1p(double x) { return x - 0.5 * x * x; } /* crude on purpose */
void *__enzyme_function_like[2] = {(void *)mylog1p, "log1p"};
double mysqrt(double x) { return sqrt(x); }
void *__enzyme_function_like_sqrt[2] = {(void *)mysqrt, "sqrt"};
__attribute__((annotate("enzyme_function_like=sqrt"))) double mysqrt2(double x) { return sqrt(x); }

static int allocs, frees, pool_allocs, pool_frees;
void *my_alloc(size_t n) { allocs++; return malloc(n); }
void my_free(void *p) { frees++; free(p); }
void *__enzyme_function_like_malloc[2] = {(void *)my_alloc, "malloc"};
void *__enzyme_function_like_free[2] = {(void *)my_free, "free"};

void *pool_alloc(int tag, size_t n) { pool_allocs++; (void)tag; return calloc(1, n); }
void pool_free(void *p) { pool_frees++; free(p); }
void *__enzyme_allocation_like[4] = {(void *)pool_alloc, (void *)1, "-1", (void *)pool_free};

/* g1(x) = mylog1p(x^2) * x: with mylog1p like log1p, dg1/dx = 2x^2/(1+x^2) + mylog1p(x^2) */
static double g1(double x) { return mylog1p(x * x) * x; }

#define N 4
static double f(const double *x, int n) {
  double *t = (double *)my_alloc((size_t)n * sizeof(double));
  double *u = (double *)pool_alloc(3, (size_t)n * sizeof(double));
  for (int i = 0; i < n; i++) {
    t[i] = x[i] * x[i] + 1.0;
    u[i] = mysqrt(t[i]) + mysqrt2(x[i] + 2.0);
  }
  double s = 0.0;
  for (int i = 0; i < n; i++) s += u[i] * x[i] * t[i];
  my_free(t);
  pool_free(u);
  return s;
}
static double fv(double *v, void *c) { (void)c; return f(v, N); }
static void grad(const double *x, double *g) {
  for (int i = 0; i < N; i++) {
    double t = x[i] * x[i] + 1.0, r = sqrt(t), q = sqrt(x[i] + 2.0), u = r + q;
    g[i] = u * t + x[i] * u * 2.0 * x[i] + x[i] * t * (0.5 / r * 2.0 * x[i] + 0.5 / q);
  }
}

int main(void) {
  e2e_begin("declarations/function_like");
  double x[N] = {0.3, -0.6, 1.2, 0.05}, dx[N] = {0}, g[N], tx[N] = {1.0, 0.5, -1.0, 2.0};
  double z = 0.45, want1 = 2.0 * z * z / (1.0 + z * z) + mylog1p(z * z);
  grad(x, g);
  double want = 0.0;
  for (int i = 0; i < N; i++) want += g[i] * tx[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] += g[i];
  double t = want, d1 = want1, t1 = want1;
#else
  double d1 = __enzyme_autodiff((void *)g1, z);
  double t1 = __enzyme_fwddiff((void *)g1, z, 1.0);
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, N);
  check_val("allocations (reverse)", 0, allocs, 1);
  check_val("frees (reverse)", 0, frees, 1);
  check_val("pool allocations (reverse)", 0, pool_allocs, 1);
  check_val("pool frees (reverse)", 0, pool_frees, 1);
  double t = __enzyme_fwddiff((void *)f, enzyme_dup, x, tx, enzyme_const, N);
  check_val("allocations (forward)", 0, allocs, 2);
  check_val("frees (forward)", 0, frees, 2);
#endif
  check_an("d g1 (log1p-like, reverse)", 0, d1, want1);
  check_an("d g1 (log1p-like, forward)", 0, t1, want1);
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], g[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  check_an("tangent", 0, t, want);
  check_fd("tangent", 0, t, fd_dir(fv, x, tx, N, 0));
  return e2e_finish();
}
