/* both.h - checks a function `double F(double *x)` of N inputs in reverse and forward mode
 * against its hand-written gradient and central finite differences (tests/e2e/memory).
 *
 *   DECLARE_FD(F)                 once per function (the adapter fdv needs)
 *   CHECK_BOTH(F, x, N, grad)     grad: the analytic gradient at x (N doubles)
 *   CHECK_BOTH_F32(F, x, N, grad) single-precision internals: analytic check only, float tolerance
 *
 * Under -DADCC_SELFTEST the Enzyme calls are replaced by the analytic gradient. */
#ifndef ADCC_E2E_BOTH_H
#define ADCC_E2E_BOTH_H
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

#define BOTH_MAX 64

#define DECLARE_FD(F) \
  static double F##_fdv(double *v, void *ctx) { (void)ctx; return F(v); }

#ifdef ADCC_SELFTEST
#define BOTH_REVERSE(F, X, DX, N, G) for (int i_ = 0; i_ < (N); i_++) (DX)[i_] += (G)[i_]
#define BOTH_FORWARD(F, X, TX, N, G, OUT) do { (OUT) = 0; for (int i_ = 0; i_ < (N); i_++) (OUT) += (G)[i_] * (TX)[i_]; } while (0)
#else
#define BOTH_REVERSE(F, X, DX, N, G) __enzyme_autodiff((void *)F, enzyme_dup, X, DX)
#define BOTH_FORWARD(F, X, TX, N, G, OUT) (OUT) = __enzyme_fwddiff((void *)F, enzyme_dup, X, TX)
#endif

/* direction of the forward check: a fixed mix of signs and sizes */
static inline double both_dir(int i) { return 0.3 + 0.25 * (i % 3) - 0.6 * (i % 2); }

#define CHECK_GENERIC(F, X, N, G, CHK, FD)                                   \
  do {                                                                       \
    double dx_[BOTH_MAX] = {0}, tx_[BOTH_MAX], x0_[BOTH_MAX], fwd_ = 0, an_ = 0; \
    memcpy(x0_, X, (N) * sizeof(double));                                    \
    BOTH_REVERSE(F, X, dx_, N, G);                                           \
    for (int i_ = 0; i_ < (N); i_++) {                                       \
      check_val(#F " x unchanged", i_, (X)[i_], x0_[i_]);                    \
      CHK(#F " reverse", i_, dx_[i_], (G)[i_]);                              \
      if (FD) check_fd(#F " reverse", i_, dx_[i_], fdv(F##_fdv, X, i_, 0));  \
      tx_[i_] = both_dir(i_);                                                \
      an_ += (G)[i_] * tx_[i_];                                              \
    }                                                                        \
    BOTH_FORWARD(F, X, tx_, N, G, fwd_);                                     \
    CHK(#F " forward", 0, fwd_, an_);                                        \
    if (FD) check_fd(#F " forward", 0, fwd_, fd_dir(F##_fdv, X, tx_, N, 0)); \
  } while (0)

#define CHECK_BOTH(F, X, N, G) CHECK_GENERIC(F, X, N, G, check_an, 1)
#define CHECK_BOTH_F32(F, X, N, G) CHECK_GENERIC(F, X, N, G, check_f32, 0)

#endif
