// enzyme_sparse_accumulate (the attribute, and the registration `__enzyme_sparse_accumulate`)
// marks the function that stores one entry of a sparse derivative, for the loop sparsification
// of __enzyme_todense. Outside it the mark changes no value: the function runs, and is
// differentiated, as any other. A marked function that records the entries it is given (run
// from the primal and from inside the derivatives), and a marked function that computes part of
// the result: both modes against the analytic derivative and finite differences.
#include "../e2e.h"

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);

static int entries;
static double last_entry;

__attribute__((enzyme_sparse_accumulate, noinline)) void store_entry(long row, double value) {
  entries += row >= 0;
  last_entry = value;
}

__attribute__((noinline)) double weight(double v) { return v * v + 1.0; }
#ifndef ADCC_SELFTEST
void *__enzyme_sparse_accumulate_weight[1] = {(void *)weight};
#endif

/* f(x) = weight(x) * sin(x); f'(x) = 2x sin x + (x^2 + 1) cos x */
static double f(double x) {
  store_entry(1, x);
  return weight(x) * sin(x);
}

int main(void) {
  e2e_begin("api/sparse_accumulate");
  for (int i = 0; i < 3; i++) {
    double x = 0.4 + 0.6 * i;
    double want = 2 * x * sin(x) + (x * x + 1) * cos(x);
#ifdef ADCC_SELFTEST
    double d = want, t = want;
    store_entry(1, x), store_entry(1, x);
#else
    double d = __enzyme_autodiff((void *)f, x);
    double t = __enzyme_fwddiff((void *)f, x, 1.0);
#endif
    check_val("last entry", i, last_entry, x); /* the derivatives ran the marked function */
    check_an("reverse", i, d, want);
    check_an("forward", i, t, want);
    check_fd("reverse", i, d, fd1(f, x));
  }
  check_val("entries", 0, entries > 0, 1);
  return e2e_finish();
}
