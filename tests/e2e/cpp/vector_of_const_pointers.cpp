// C++ reverse mode over GradBench's LSTM pattern (#17): a helper object, filled by a constructor
// adcc does not inline, keeps pointers into an enzyme_const input (std::vector<const double *>),
// and the differentiated loop reads the constant data through them. adcc gives the object a
// shadow (floats are read through pointers loaded from it) but treats its constructor as
// inactive, so the shadow holds null pointers and the reverse pass adds into address 0.
#include "../e2e.h"
#include <vector>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int B = 6, C = 5;

struct Rows {
  std::vector<const double *> row;
  __attribute__((noinline)) Rows(const double *in, int b, int c) {
    row.reserve(c);
    for (int i = 0; i < c; ++i) row.push_back(&in[b * i]);
  }
};

static double f(const double *w, const double *seq, int b, int c) {
  Rows rows(seq, b, c);
  std::vector<double> y(b);
  double t = 0;
  for (int k = 0; k + 1 < c; ++k) {
    const double *in = rows.row[k], *gold = rows.row[k + 1];
    for (int i = 0; i < b; ++i) y[i] = in[i] * w[i];
    for (int i = 0; i < b; ++i) t += gold[i] * y[i] * y[i];
  }
  return t;
}

static double seq[B * C];
static double fv(double *v, void *) { return f(v, seq, B, C); }

int main() {
  e2e_begin("cpp/vector_of_const_pointers");
  volatile int vb = B, vc = C;
  double w[B], dw[B] = {0}, want[B] = {0};
  for (int i = 0; i < B; ++i) w[i] = 0.3 + 0.1 * i;
  for (int i = 0; i < B * C; ++i) seq[i] = 0.5 + 0.05 * (i % 7);
  for (int k = 0; k + 1 < C; ++k)
    for (int i = 0; i < B; ++i) want[i] += 2.0 * seq[B * (k + 1) + i] * seq[B * k + i] * seq[B * k + i] * w[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < B; ++i) dw[i] += want[i];
#else
  __enzyme_autodiff<void>((void *)f, enzyme_dup, w, dw, enzyme_const, seq, enzyme_const, (int)vb,
                          enzyme_const, (int)vc);
#endif
  for (int i = 0; i < B; ++i) {
    check_an("dw", i, dw[i], want[i]);
    check_fd("dw", i, dw[i], fdv(fv, w, i, nullptr));
  }
  return e2e_finish();
}
