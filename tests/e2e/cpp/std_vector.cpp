// C++ reverse mode through std::vector<double> accumulation inside f: push_back growth
// (reallocation copies active values), indexed accumulation and std::accumulate.
#include "../e2e.h"
#include <cmath>
#include <numeric>
#include <vector>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int N = 9;

static double f(const double *x, int n) {
  std::vector<double> terms;
  for (int i = 0; i < n; ++i) terms.push_back(x[i] * x[i] - 0.5 * x[i]);
  std::vector<double> acc(3, 0.0);
  for (int i = 0; i < n; ++i) acc[i % 3] += terms[i] * std::cos(x[(i + 4) % n]);
  double s = std::accumulate(acc.begin(), acc.end(), 0.0);
  return s + acc[0] * acc[1];
}

static void df(const double *x, int n, double *g) {
  double acc[3] = {0, 0, 0};
  for (int i = 0; i < n; ++i) acc[i % 3] += (x[i] * x[i] - 0.5 * x[i]) * std::cos(x[(i + 4) % n]);
  double w[3] = {1.0 + acc[1], 1.0 + acc[0], 1.0}; /* d(result)/d acc[k] */
  for (int i = 0; i < n; ++i) {
    int j = (i + 4) % n;
    double t = x[i] * x[i] - 0.5 * x[i], c = std::cos(x[j]);
    g[i] += w[i % 3] * (2.0 * x[i] - 0.5) * c;
    g[j] -= w[i % 3] * t * std::sin(x[j]);
  }
}

static double fv(double *v, void *) { return f(v, N); }

int main() {
  e2e_begin("cpp/std_vector");
  volatile int vn = N;
  int n = vn;
  double x[N], dx[N] = {0}, want[N] = {0};
  for (int i = 0; i < N; ++i) x[i] = 0.8 * std::sin(0.9 * i + 0.4) + 0.1;
  df(x, n, want);
#ifdef ADCC_SELFTEST
  df(x, n, dx);
#else
  __enzyme_autodiff<void>((void *)f, enzyme_dup, x, dx, enzyme_const, n);
#endif
  for (int i = 0; i < N; ++i) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, nullptr));
  }
  return e2e_finish();
}
