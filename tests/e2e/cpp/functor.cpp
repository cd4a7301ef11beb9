// C++ reverse mode through a templated functor: a function template applies a functor object
// (with const double members) to each entry and reduces; differentiated through the templated
// __enzyme_autodiff<void> declaration with explicit markers.
#include "../e2e.h"
#include <cmath>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int N = 6;

struct Soft {
  double a, b;
  double operator()(double x) const { return a * std::log(1.0 + std::exp(b * x)); }
  double deriv(double x) const { return a * b / (1.0 + std::exp(-b * x)); }
};

template <typename F, typename T> T reduce_map(const F &fn, const T *x, int n) {
  T s = T(0);
  for (int i = 0; i < n; ++i) s += fn(x[i]) * fn(x[(i + 1) % n]);
  return s;
}

static double loss(const double *x, int n) {
  Soft sp{0.8, 1.5};
  return reduce_map(sp, x, n);
}

static void dloss(const double *x, int n, double *g) {
  Soft sp{0.8, 1.5};
  for (int i = 0; i < n; ++i) {
    int j = (i + 1) % n;
    g[i] += sp.deriv(x[i]) * sp(x[j]);
    g[j] += sp(x[i]) * sp.deriv(x[j]);
  }
}

static double fv(double *v, void *) { return loss(v, N); }

int main() {
  e2e_begin("cpp/functor");
  volatile int vn = N;
  int n = vn;
  double x[N], dx[N] = {0}, want[N] = {0};
  for (int i = 0; i < N; ++i) x[i] = std::sin(1.3 * i) - 0.2;
  dloss(x, n, want);
#ifdef ADCC_SELFTEST
  dloss(x, n, dx);
#else
  __enzyme_autodiff<void>((void *)loss, enzyme_dup, x, dx, enzyme_const, n);
#endif
  for (int i = 0; i < N; ++i) {
    check_an("dx", i, dx[i], want[i]);
    check_fd("dx", i, dx[i], fdv(fv, x, i, nullptr));
  }
  return e2e_finish();
}
