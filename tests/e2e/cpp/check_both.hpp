// check_both.hpp - checks a function `double F(double *x)` of N inputs in reverse and forward mode
// (tests/e2e/cpp) against its hand-written gradient G and central finite differences. Under
// -DADCC_SELFTEST the Enzyme calls are replaced by the hand-written gradient.
#ifndef ADCC_E2E_CPP_CHECK_BOTH_HPP
#define ADCC_E2E_CPP_CHECK_BOTH_HPP
#include "../e2e.h"

extern "C" void __enzyme_autodiff(void *, ...);
extern "C" double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const;

template <double (*F)(double *)> static double as_fnv(double *v, void *) { return F(v); }

template <int N, double (*F)(double *), void (*G)(const double *, double *)>
static void check_both(const char *name, const double (&x0)[N], const double (&tx0)[N]) {
  double x[N], dx[N] = {0}, want[N], tx[N];
  for (int j = 0; j < N; j++) x[j] = x0[j], tx[j] = tx0[j];
  G(x, want);
#ifdef ADCC_SELFTEST
  for (int j = 0; j < N; j++) dx[j] += want[j];
  double t = 0;
  for (int j = 0; j < N; j++) t += want[j] * tx[j];
#else
  __enzyme_autodiff((void *)F, enzyme_dup, x, dx);
  double t = __enzyme_fwddiff((void *)F, enzyme_dup, x, tx);
#endif
  double tw = 0;
  for (int j = 0; j < N; j++) {
    check_an(name, j, dx[j], want[j]);
    check_fd(name, j, dx[j], fdv(as_fnv<F>, x, j, nullptr));
    tw += want[j] * tx[j];
  }
  check_an(name, N, t, tw);
  check_fd(name, N, t, fd_dir(as_fnv<F>, x, tx, N, nullptr));
}
#endif
