// C++ reverse and forward mode (#17, remaining): mixed_pointer_struct.cpp with the struct read by a
// function adcc does not inline. The struct needs a shadow (its enzyme_dup weight pointer), and its
// shadow holds null for the enzyme_const row pointer, which has none. The function that owns the
// struct knows that field holds only pointers into constant memory (adcc.analysis.contents
// .inactive_field); the callee receives the struct with a shadow and cannot know it: it reads the
// row's floats as active, and both passes go through address 0 (a crash, never a wrong number).
#include "../e2e.h"

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int B = 6, C = 5;

struct Pair {
  const double *w, *in;
  __attribute__((noinline)) Pair(const double *w_, const double *in_) : w(w_), in(in_) {}
};

__attribute__((noinline)) static double use(const Pair &p, int b) {
  double t = 0;
  for (int i = 0; i < b; ++i) t += p.in[i] * p.w[i] * p.w[i];
  return t;
}

static double f(const double *w, const double *seq, int b, int c) {
  double t = 0;
  for (int k = 0; k < c; ++k) {
    Pair p(w, &seq[b * k]);
    t += use(p, b);
  }
  return t;
}

static double seq[B * C];
static double fv(double *v, void *) { return f(v, seq, B, C); }

int main() {
  e2e_begin("cpp/mixed_pointer_struct_callee");
  volatile int vb = B, vc = C;
  double w[B], dw[B] = {0}, want[B] = {0}, saved[B * C];
  for (int i = 0; i < B; ++i) w[i] = 0.3 + 0.1 * i;
  for (int i = 0; i < B * C; ++i) saved[i] = seq[i] = 0.5 + 0.05 * (i % 7);
  for (int k = 0; k < C; ++k)
    for (int i = 0; i < B; ++i) want[i] += 2.0 * seq[B * k + i] * w[i];
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
