// C++: split mode and nesting through templated Enzyme declarations (mangled names), a class
// whose method is the objective (new[]/delete[] scratch, a template helper), a Hessian-vector
// product by forward mode over a split-mode gradient, and a split-mode gradient of a function
// that calls __enzyme_fwddiff (reverse over forward, in split mode).
#include "../e2e.h"

extern int enzyme_dup, enzyme_const, enzyme_out;
template <typename Ret, typename... Args> Ret __enzyme_augmentfwd(Args...);
template <typename Ret, typename... Args> Ret __enzyme_reverse(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);

constexpr int N = 4;

template <typename T> static T cube(T v) { return v * v * v; }

struct Chain {
  double k;
  // E(x) = sum_i k * (x_{i+1} - x_i)^3 + sin(x_i)
  double energy(const double *x, int n) const {
    double *d = new double[n];
    for (int i = 0; i + 1 < n; i++) d[i] = x[i + 1] - x[i];
    double e = 0.0;
    for (int i = 0; i + 1 < n; i++) e += k * cube(d[i]);
    for (int i = 0; i < n; i++) e += sin(x[i]);
    delete[] d;
    return e;
  }
};

static const Chain CHAIN{0.7};
static double energy(const double *x, int n) { return CHAIN.energy(x, n); }

static void grad_an(const double *x, double *g, int n) {
  for (int i = 0; i < n; i++) g[i] = cos(x[i]);
  for (int i = 0; i + 1 < n; i++) {
    double t = 3.0 * CHAIN.k * (x[i + 1] - x[i]) * (x[i + 1] - x[i]);
    g[i + 1] += t;
    g[i] -= t;
  }
}
static void hvp_an(const double *x, const double *v, double *hv, int n) {
  for (int i = 0; i < n; i++) hv[i] = -sin(x[i]) * v[i];
  for (int i = 0; i + 1 < n; i++) {
    double t = 6.0 * CHAIN.k * (x[i + 1] - x[i]) * (v[i + 1] - v[i]);
    hv[i + 1] += t;
    hv[i] -= t;
  }
}

static void grad_split(double *x, double *g, int n) {
  for (int i = 0; i < n; i++) g[i] = 0.0;
#ifdef ADCC_SELFTEST
  grad_an(x, g, n);
#else
  void *tape = __enzyme_augmentfwd<void *>((void *)energy, enzyme_dup, x, g, enzyme_const, n);
  __enzyme_reverse<void>((void *)energy, enzyme_dup, x, g, enzyme_const, n, 1.0, tape);
#endif
}

// v . grad E(x) by forward mode
static double dir(double *x, double *v, int n) {
#ifdef ADCC_SELFTEST
  double g[N];
  grad_an(x, g, n);
  double s = 0.0;
  for (int i = 0; i < n; i++) s += g[i] * v[i];
  return s;
#else
  return __enzyme_fwddiff<double>((void *)energy, enzyme_dup, x, v, enzyme_const, n);
#endif
}

struct GradK { int k; };
static double grad_k(double *x, void *ctx) {
  double g[N];
  grad_an(x, g, N);
  return g[static_cast<GradK *>(ctx)->k];
}
static double dir_v(double *x, void *v) { return dir(x, static_cast<double *>(v), N); }

int main() {
  e2e_begin("higher/cpp_nested");
  double x[N] = {0.2, -0.4, 0.9, 0.5}, v[N] = {1.0, -0.5, 0.25, 2.0}, g[N], hv[N] = {0}, want[N];
#ifdef ADCC_SELFTEST
  grad_split(x, g, N);
  hvp_an(x, v, hv, N);
#else
  __enzyme_fwddiff<void>((void *)grad_split, enzyme_dup, x, v, enzyme_dup, g, hv, enzyme_const, N);
#endif
  hvp_an(x, v, want, N);
  for (int i = 0; i < N; i++) {
    GradK ctx{i};
    check_an("Hv", i, hv[i], want[i]);
    check_fd("Hv", i, hv[i], fd_dir(grad_k, x, v, N, &ctx));
  }
  double hv2[N] = {0};
#ifdef ADCC_SELFTEST
  hvp_an(x, v, hv2, N);
#else
  void *tape = __enzyme_augmentfwd<void *>((void *)dir, enzyme_dup, x, hv2, enzyme_const, v, enzyme_const, N);
  __enzyme_reverse<void>((void *)dir, enzyme_dup, x, hv2, enzyme_const, v, enzyme_const, N, 1.0, tape);
#endif
  for (int i = 0; i < N; i++) {
    check_an("Hv (split over forward)", i, hv2[i], want[i]);
    check_fd("Hv (split over forward)", i, hv2[i], fdv(dir_v, x, i, v));
  }
  return e2e_finish();
}
