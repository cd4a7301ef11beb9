// C++ reverse and forward mode over GradBench's LSTM pattern (#17) with the sequence passed as
// enzyme_dup: the vector of row pointers then points into active memory, so it gets a shadow
// that its constructor (not inlined) fills with the rows' shadows, and adjoints reach the sequence.
#include "../e2e.h"
#include <vector>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int B = 4, C = 5, N = B + B * C;

struct Rows {
  std::vector<const double *> row;
  __attribute__((noinline)) Rows(const double *in, int b, int c) {
    row.reserve(c);
    for (int i = 0; i < c; ++i) row.push_back(&in[b * i]);
  }
};

static double f(const double *w, const double *seq, int b, int c) {
  Rows rows(seq, b, c);
  double t = 0;
  for (int k = 0; k + 1 < c; ++k) {
    const double *in = rows.row[k], *gold = rows.row[k + 1];
    for (int i = 0; i < b; ++i) t += gold[i] * in[i] * in[i] * w[i];
  }
  return t;
}

// all inputs in one vector (w, then the sequence) for finite differences
static double fv(double *v, void *) { return f(v, v + B, B, C); }

int main() {
  e2e_begin("cpp/const_pointers_dup");
  volatile int vb = B, vc = C;
  double v[N], g[N] = {0};
  for (int i = 0; i < B; ++i) v[i] = 0.3 + 0.1 * i;
  for (int i = 0; i < B * C; ++i) v[B + i] = 0.5 + 0.05 * (i % 7);
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; ++i) g[i] = fdv(fv, v, i, nullptr);
#else
  __enzyme_autodiff<void>((void *)f, enzyme_dup, v, g, enzyme_dup, v + B, g + B, enzyme_const, (int)vb,
                          enzyme_const, (int)vc);
#endif
  for (int i = 0; i < N; ++i) check_fd("grad", i, g[i], fdv(fv, v, i, nullptr));
  for (int j = 0; j < N; j += 3) {
    double d[N] = {0};
    d[j] = 1;
#ifdef ADCC_SELFTEST
    double got = g[j];
#else
    double got = __enzyme_fwddiff<double>((void *)f, enzyme_dup, v, d, enzyme_dup, v + B, d + B, enzyme_const,
                                          (int)vb, enzyme_const, (int)vc);
#endif
    check_fd("tangent", j, got, fdv(fv, v, j, nullptr));
  }
  return e2e_finish();
}
