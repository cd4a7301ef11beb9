// C++ reverse and forward mode over GradBench's LSTM objective in small (#17): three wrapper objects
// built by constructors adcc does not inline keep pointers into an enzyme_dup parameter vector
// (std::vector of structs of row pointers: it needs a shadow filled with the parameters' shadows),
// into a heap copy of an enzyme_const state (active once written: shadowed too) and into an
// enzyme_const sequence (std::vector<const double *>: inactive, no shadow). As in GradBench, a row
// of the sequence is only read: the layers chain through active memory. (Merged with active
// pointers, the rows would need shadows they do not have: a located error, test_ad_errors.py's
// merged_constant_rows.)
#include "../e2e.h"
#include <algorithm>
#include <cmath>
#include <vector>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const, enzyme_dupnoneed;

constexpr int H = 3, L = 2, C = 4, NP = 2 * H * L;

struct Layer {
  const double *weight, *bias;
  __attribute__((noinline)) Layer(const double *p, int h) : weight(p), bias(p + h) {}
};
struct Params {
  std::vector<Layer> layer;
  __attribute__((noinline)) Params(const double *p, int h, int l) {
    for (int i = 0; i < l; ++i) layer.emplace_back(p + 2 * h * i, h);
  }
};
struct State {
  std::vector<double *> hidden;
  __attribute__((noinline)) State(double *s, int h, int l) {
    for (int i = 0; i < l; ++i) hidden.push_back(s + h * i);
  }
};
struct Sequence {
  std::vector<const double *> row;
  __attribute__((noinline)) Sequence(const double *x, int h, int c) {
    for (int i = 0; i < c; ++i) row.push_back(x + h * i);
  }
};

static void objective(const double *params, const double *state, const double *seq, double *loss) {
  Params p(params, H, L);
  std::vector<double> copy(state, state + H * L);
  State s(copy.data(), H, L);
  Sequence x(seq, H, C);
  std::vector<double> y(H);
  double total = 0;
  for (int t = 0; t + 1 < C; ++t) {
    for (int i = 0; i < H; ++i) y[i] = x.row[t][i] * p.layer[0].bias[i];
    const double *in = y.data();
    for (int l = 0; l < L; ++l) {
      double *h = s.hidden[l];
      for (int i = 0; i < H; ++i) h[i] = std::tanh(in[i] * p.layer[l].weight[i] + h[i] + p.layer[l].bias[i]);
      in = h;
    }
    const double *gold = x.row[t + 1];
    for (int i = 0; i < H; ++i) total += gold[i] * in[i];
  }
  *loss = total;
}

static double state[H * L], seq[H * C];
static double fv(double *v, void *) {
  double r;
  objective(v, state, seq, &r);
  return r;
}

int main() {
  e2e_begin("cpp/lstm_wrappers");
  double params[NP], g[NP] = {0}, saved[H * C], loss = 0, dloss = 1;
  for (int i = 0; i < NP; ++i) params[i] = 0.2 + 0.05 * (i % 5) - 0.1 * (i % 2);
  for (int i = 0; i < H * L; ++i) state[i] = 0.1 * (i % 3);
  for (int i = 0; i < H * C; ++i) saved[i] = seq[i] = 0.5 + 0.1 * (i % 4);
#ifdef ADCC_SELFTEST
  for (int i = 0; i < NP; ++i) g[i] = fdv(fv, params, i, nullptr);
#else
  __enzyme_autodiff<void>((void *)objective, enzyme_dup, params, g, enzyme_const, state, enzyme_const, seq,
                          enzyme_dupnoneed, &loss, &dloss);
#endif
  for (int i = 0; i < NP; ++i) check_fd("grad", i, g[i], fdv(fv, params, i, nullptr));
  for (int j = 0; j < NP; j += 2) {
    double d[NP] = {0}, r = 0, dr = 0;
    d[j] = 1;
#ifdef ADCC_SELFTEST
    dr = g[j];
#else
    __enzyme_fwddiff<void>((void *)objective, enzyme_dup, params, d, enzyme_const, state, enzyme_const, seq,
                           enzyme_dup, &r, &dr);
#endif
    check_fd("tangent", j, dr, fdv(fv, params, j, nullptr));
  }
  for (int i = 0; i < H * C; ++i) check_val("seq", i, seq[i], saved[i]);
  return e2e_finish();
}
