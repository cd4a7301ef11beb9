// C++ reverse mode through a lambda passed to a function template: the lambda captures an
// active scalar s by reference and a const by value; gradient w.r.t. the dup array x and the
// enzyme_out scalar s (returned as a double).
#include "../e2e.h"
#include <cmath>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
int enzyme_dup, enzyme_const, enzyme_out;

constexpr int N = 5;

template <typename F> double sum_pairs(const double *x, int n, F &&fn) {
  double acc = 0.0;
  for (int i = 0; i + 1 < n; ++i) acc += fn(x[i], x[i + 1]);
  return acc;
}

static double loss(const double *x, double s, int n) {
  const double c = 0.3;
  auto term = [&s, c](double a, double b) { return std::sin(s * a) * b + c * a * a * s; };
  return sum_pairs(x, n, term);
}

static double dloss(const double *x, double s, int n, double *g) {
  const double c = 0.3;
  double gs = 0.0;
  for (int i = 0; i + 1 < n; ++i) {
    double a = x[i], b = x[i + 1];
    g[i] += std::cos(s * a) * s * b + 2.0 * c * a * s;
    g[i + 1] += std::sin(s * a);
    gs += std::cos(s * a) * a * b + c * a * a;
  }
  return gs;
}

static double fv(double *v, void *) { return loss(v, v[N], N); }

int main() {
  e2e_begin("cpp/lambda");
  volatile int vn = N;
  int n = vn;
  double v[N + 1], dx[N] = {0}, want[N] = {0};
  for (int i = 0; i < N; ++i) v[i] = 0.4 * i - 0.7;
  double s = v[N] = 1.3;
  double wants = dloss(v, s, n, want);
#ifdef ADCC_SELFTEST
  double ds = dloss(v, s, n, dx);
#else
  double ds = __enzyme_autodiff<double>((void *)loss, enzyme_dup, v, dx, enzyme_out, s,
                                        enzyme_const, n);
#endif
  for (int i = 0; i < N; ++i) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, v, i, nullptr));
  }
  check_an("ds", N, ds, wants);
  check_fd("ds", N, ds, fdv(fv, v, N, nullptr));
  return e2e_finish();
}
