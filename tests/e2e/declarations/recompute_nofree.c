// __enzyme_shouldrecompute: the reverse pass calls coeff() again for the value it needs
// instead of taping it (counted: 2 calls per use), in a loop; and __enzyme_nofree, a promise
// that a function frees no memory, which changes no derivative (adcc's reverse pass never
// relies on memory a differentiated call may free).
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;

static int coeff_calls;
__attribute__((noinline)) double coeff(int i) { coeff_calls++; return 1.0 + 0.25 * i; }
void *__enzyme_shouldrecompute[1] = {(void *)coeff};

__attribute__((noinline)) double weight(double x) { return x * x; }
void *__enzyme_nofree[1] = {(void *)weight};
__attribute__((annotate("enzyme_nofree"))) __attribute__((noinline)) double weight2(double x) { return 3.0 * x; }

#define N 5
static double f(const double *x, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += coeff(i) * x[i] * x[i] + weight(x[i]) * weight2(x[i]);
  return s;
}
static double fv(double *v, void *c) { (void)c; return f(v, N); }

int main(void) {
  e2e_begin("declarations/recompute_nofree");
  double x[N] = {0.5, -1.0, 0.25, 2.0, -0.75}, dx[N] = {0}, g[N];
  for (int i = 0; i < N; i++) g[i] = 2.0 * (1.0 + 0.25 * i) * x[i] + 9.0 * x[i] * x[i];
  coeff_calls = 0;
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dx[i] += g[i], coeff(i), coeff(i);
#else
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, N);
#endif
  check_val("calls of coeff (forward and reverse pass)", 0, coeff_calls, 2 * N);
  for (int i = 0; i < N; i++) {
    check_an("dx", i, dx[i], g[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, 0));
  }
  return e2e_finish();
}
