// C++ forward mode over GradBench's LSTM pattern (#17, vector_of_const_pointers.cpp in reverse):
// rows of an enzyme_const sequence kept as std::vector<const double *> by a constructor adcc does
// not inline. The vector holds only pointers into constant memory, so it needs no shadow and the
// floats read through it have zero tangents; the sequence stays untouched.
#include "../e2e.h"
#include <vector>

template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int B = 5, C = 6;

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
    for (int i = 0; i < b; ++i) t += gold[i] * in[i] * w[i] * w[i];
  }
  return t;
}

static double seq[B * C];
static double fv(double *v, void *) { return f(v, seq, B, C); }

int main() {
  e2e_begin("cpp/const_pointers_forward");
  volatile int vb = B, vc = C;
  double w[B], saved[B * C];
  for (int i = 0; i < B; ++i) w[i] = 0.4 + 0.1 * i;
  for (int i = 0; i < B * C; ++i) saved[i] = seq[i] = 0.5 + 0.05 * (i % 7);
  for (int j = 0; j < B; ++j) {
    double dw[B] = {0}, want = 0;
    dw[j] = 1;
    for (int k = 0; k + 1 < C; ++k) want += 2.0 * seq[B * (k + 1) + j] * seq[B * k + j] * w[j];
#ifdef ADCC_SELFTEST
    double got = want;
#else
    double got = __enzyme_fwddiff<double>((void *)f, enzyme_dup, w, dw, enzyme_const, seq, enzyme_const,
                                          (int)vb, enzyme_const, (int)vc);
#endif
    check_an("dt", j, got, want);
    check_fd("dt", j, got, fdv(fv, w, j, nullptr));
  }
  for (int i = 0; i < B * C; ++i) check_val("seq", i, seq[i], saved[i]);
  return e2e_finish();
}
