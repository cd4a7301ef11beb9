// C++ reverse and forward mode (#17): pointers into an enzyme_const sequence kept in a plain struct
// (a window of two rows) by a constructor adcc does not inline, as GradBench's LSTM keeps its input
// rows. What the struct holds points into constant memory only: it needs no shadow, the floats
// read through it have no derivative, and the sequence stays untouched.
#include "../e2e.h"

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int B = 6, C = 5;

struct Window {
  const double *in, *gold;
  int n;
  __attribute__((noinline)) Window(const double *seq, int b, int k) : in(&seq[b * k]), gold(&seq[b * (k + 1)]), n(b) {}
};

static double f(const double *w, const double *seq, int b, int c) {
  double t = 0;
  for (int k = 0; k + 1 < c; ++k) {
    Window win(seq, b, k);
    for (int i = 0; i < win.n; ++i) t += win.gold[i] * win.in[i] * w[i] * w[i] * w[i];
  }
  return t;
}

static double seq[B * C];
static double fv(double *v, void *) { return f(v, seq, B, C); }

int main() {
  e2e_begin("cpp/struct_of_const_pointers");
  volatile int vb = B, vc = C;
  double w[B], dw[B] = {0}, want[B] = {0}, saved[B * C];
  for (int i = 0; i < B; ++i) w[i] = 0.3 + 0.1 * i;
  for (int i = 0; i < B * C; ++i) saved[i] = seq[i] = 0.5 + 0.05 * (i % 7);
  for (int k = 0; k + 1 < C; ++k)
    for (int i = 0; i < B; ++i) want[i] += 3.0 * seq[B * (k + 1) + i] * seq[B * k + i] * w[i] * w[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < B; ++i) dw[i] = want[i];
#else
  __enzyme_autodiff<void>((void *)f, enzyme_dup, w, dw, enzyme_const, seq, enzyme_const, (int)vb,
                          enzyme_const, (int)vc);
#endif
  for (int i = 0; i < B; ++i) {
    check_an("dw", i, dw[i], want[i]);
    check_fd("dw", i, dw[i], fdv(fv, w, i, nullptr));
  }
  for (int j = 0; j < B; ++j) {
    double d[B] = {0};
    d[j] = 1;
#ifdef ADCC_SELFTEST
    double got = want[j];
#else
    double got = __enzyme_fwddiff<double>((void *)f, enzyme_dup, w, d, enzyme_const, seq, enzyme_const, (int)vb,
                                          enzyme_const, (int)vc);
#endif
    check_an("tangent", j, got, want[j]);
  }
  for (int i = 0; i < B * C; ++i) check_val("seq", i, seq[i], saved[i]);
  return e2e_finish();
}
