// C++ reverse mode through a virtual method (indirect call via the vtable): the object (const,
// chosen at run time from two derived classes) computes an energy of the dup array x.
#include "../e2e.h"
#include <cmath>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int N = 5;

struct Potential {
  virtual ~Potential() {}
  virtual double energy(const double *x, int n) const = 0;
  virtual void grad(const double *x, int n, double *g) const = 0; /* hand-written */
};

struct Spring : Potential {
  double k;
  explicit Spring(double k_) : k(k_) {}
  double energy(const double *x, int n) const override {
    double e = 0.0;
    for (int i = 0; i + 1 < n; ++i) e += 0.5 * k * (x[i + 1] - x[i]) * (x[i + 1] - x[i]);
    return e;
  }
  void grad(const double *x, int n, double *g) const override {
    for (int i = 0; i + 1 < n; ++i) {
      double d = k * (x[i + 1] - x[i]);
      g[i + 1] += d;
      g[i] -= d;
    }
  }
};

struct Morse : Potential {
  double a;
  explicit Morse(double a_) : a(a_) {}
  double energy(const double *x, int n) const override {
    double e = 0.0;
    for (int i = 0; i < n; ++i) {
      double t = 1.0 - std::exp(-a * x[i]);
      e += t * t;
    }
    return e;
  }
  void grad(const double *x, int n, double *g) const override {
    for (int i = 0; i < n; ++i) {
      double ex = std::exp(-a * x[i]);
      g[i] += 2.0 * (1.0 - ex) * a * ex;
    }
  }
};

static double total(const double *x, const Potential *p, int n) {
  return p->energy(x, n) + 0.1 * x[0] * x[n - 1];
}

struct ctx { const Potential *p; };
static double fv(double *v, void *c) { return total(v, static_cast<ctx *>(c)->p, N); }

int main() {
  e2e_begin("cpp/virtual_method");
  volatile int vn = N;
  int n = vn;
  Spring sp(2.5);
  Morse mo(0.7);
  for (int t = 0; t < 2; ++t) {
    volatile int pick = t;
    const Potential *p = pick ? static_cast<const Potential *>(&mo) : &sp;
    double x[N], dx[N] = {0}, want[N] = {0};
    for (int i = 0; i < N; ++i) x[i] = 0.5 * std::cos(1.1 * i) + 0.2 * t;
    p->grad(x, n, want);
    want[0] += 0.1 * x[n - 1];
    want[n - 1] += 0.1 * x[0];
#ifdef ADCC_SELFTEST
    for (int i = 0; i < n; ++i) dx[i] += want[i];
#else
    __enzyme_autodiff<void>((void *)total, enzyme_dup, x, dx, enzyme_const, p, enzyme_const, n);
#endif
    ctx c{p};
    for (int i = 0; i < N; ++i) {
      check_an("dx", N * t + i, dx[i], want[i]);
      check_fd("dx", N * t + i, dx[i], fdv(fv, x, i, &c));
    }
  }
  return e2e_finish();
}
