// The C++ standard library in differentiated code (#9), both modes: std::vector (push_back,
// insert, erase, resize), std::array copies, std::map (libstdc++'s red-black tree: the shadow tree
// follows the primal's), std::unordered_map, std::complex<double> (compiler-rt's complex product
// and quotient, cexp, cabs), and output through std::cout and printf inside f (inactive).
// e2e-timeout: 400
#include "../e2e.h"
#include <array>
#include <complex>
#include <iostream>
#include <map>
#include <unordered_map>
#include <vector>

extern "C" void __enzyme_autodiff(void *, ...);
extern "C" double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

constexpr int N = 4;
static volatile int len = N;
typedef std::complex<double> cd;

static double vec(double *x) {
  std::vector<double> v;
  for (int i = 0; i < len; i++) v.push_back(x[i] * x[i]);
  v.insert(v.begin() + 1, std::sin(x[0]));
  v.erase(v.begin() + 2);
  v.resize(v.size() + 2, x[1]);
  double s = 0;
  for (double e : v) s += e * e;
  return s;
}
static void vec_grad(const double *x, double *g) {
  g[0] = 4 * x[0] * x[0] * x[0] + 2 * std::sin(x[0]) * std::cos(x[0]);
  g[1] = 4 * x[1];
  g[2] = 4 * x[2] * x[2] * x[2];
  g[3] = 4 * x[3] * x[3] * x[3];
}

static double arr(double *x) {
  std::array<double, N> a;
  for (int i = 0; i < N; i++) a[i] = x[i] * (i + 1);
  std::array<double, N> b = a;
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i] * b[N - 1 - i];
  return s;
}
static void arr_grad(const double *x, double *g) {
  g[0] = 8 * x[3]; g[1] = 12 * x[2]; g[2] = 12 * x[1]; g[3] = 8 * x[0];
}

static double ordered(double *x) {
  std::map<int, double> m;
  for (int i = 0; i < len; i++) m[(i * 7) % 5] += x[i] * x[(i + 1) % len];
  double s = 0;
  for (auto &kv : m) s += kv.second * (kv.first + 1);
  return s;
}
static void ordered_grad(const double *x, double *g) {
  /* keys 0, 2, 4, 1: x0 x1 + 3 x1 x2 + 5 x2 x3 + 2 x3 x0 */
  g[0] = x[1] + 2 * x[3]; g[1] = x[0] + 3 * x[2]; g[2] = 3 * x[1] + 5 * x[3]; g[3] = 5 * x[2] + 2 * x[0];
}

static double hashed(double *x) {
  std::unordered_map<int, double> m;
  for (int i = 0; i < len; i++) m[i % 3] += std::exp(0.5 * x[i]);
  return m[0] * m[1] + m[2];
}
static void hashed_grad(const double *x, double *g) {
  double e[N];
  for (int i = 0; i < N; i++) e[i] = std::exp(0.5 * x[i]);
  g[0] = 0.5 * e[0] * e[1]; g[3] = 0.5 * e[3] * e[1]; g[1] = 0.5 * e[1] * (e[0] + e[3]); g[2] = 0.5 * e[2];
}

static double complex_(double *x) {
  cd z(x[0], x[1]), w(x[2], x[3]);
  cd r = z * w + std::exp(z) / (w + 2.0);
  return std::abs(r) + r.real();
}
static void complex_grad(const double *x, double *g) {
  cd z(x[0], x[1]), w(x[2], x[3]);
  cd r = z * w + std::exp(z) / (w + 2.0);
  cd dz = w + std::exp(z) / (w + 2.0), dw = z - std::exp(z) / ((w + 2.0) * (w + 2.0));
  cd c = std::conj(r) / std::abs(r) + 1.0;  /* df = Re(c dr) */
  cd i(0, 1);
  g[0] = (c * dz).real(); g[1] = (c * dz * i).real(); g[2] = (c * dw).real(); g[3] = (c * dw * i).real();
}

static double printing(double *x) {
  double s = 0;
  for (int i = 0; i < len; i++) s += x[i] * x[i];
  std::printf("printing: %d terms\n", len);
  std::cout << "printing: s = " << s << std::endl;
  return s;
}
static void printing_grad(const double *x, double *g) {
  for (int i = 0; i < N; i++) g[i] = 2 * x[i];
}

template <double (*F)(double *)> static double as_fnv(double *v, void *) { return F(v); }

template <double (*F)(double *), void (*G)(const double *, double *)>
static void check(const char *name) {
  double x[N] = {0.7, -0.4, 1.1, 0.3}, dx[N] = {0}, want[N], tx[N] = {0.3, -0.2, 0.5, 0.1};
  G(x, want);
#ifdef ADCC_SELFTEST
  for (int j = 0; j < N; j++) dx[j] += want[j];
  double t = 0;
  for (int j = 0; j < N; j++) t += want[j] * tx[j];
#else
  __enzyme_autodiff((void *)F, enzyme_dup, x, dx);
  double t = __enzyme_fwddiff((void *)F, enzyme_dup, x, tx);
#endif
  double tw = 0;
  for (int j = 0; j < N; j++) {
    check_an(name, j, dx[j], want[j]);
    check_fd(name, j, dx[j], fdv(as_fnv<F>, x, j, nullptr));
    tw += want[j] * tx[j];
  }
  check_an(name, N, t, tw);
  check_fd(name, N, t, fd_dir(as_fnv<F>, x, tx, N, nullptr));
}

int main() {
  e2e_begin("cpp/std_containers");
  check<vec, vec_grad>("vector");
  check<arr, arr_grad>("array");
  check<ordered, ordered_grad>("map");
  check<hashed, hashed_grad>("unordered_map");
  check<complex_, complex_grad>("complex");
  check<printing, printing_grad>("printing");
  return e2e_finish();
}
