// Boost.Odeint in differentiated code (#9): explicit Euler with a fixed step through
// integrate_const (std::vector state, every output point recorded by an observer that pushes into a
// std::vector, checked up to t = 10, well past the 80th point) and integrate_adaptive with the
// same fixed-step stepper (std::array state); both modes, against a hand-written forward
// sensitivity of the Euler recursion and central finite differences. Skipped (SKIP line) when the
// Boost headers are missing.
// e2e-timeout: 400
#include "../e2e.h"
#if __has_include(<boost/numeric/odeint.hpp>)
#include <array>
#include <boost/numeric/odeint.hpp>
#include <cmath>
#include <vector>

extern "C" void __enzyme_autodiff(void *, ...);
extern "C" double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

namespace ode = boost::numeric::odeint;
constexpr double DT = 0.1, T_END = 10.0;
constexpr int P = 3;  // k, x(0), v(0)

// weight of the observation at step i (all of them count)
static double weight(int i) { return std::cos(0.37 * i) + (i == 81 ? 5.0 : 0.0); }

typedef std::vector<double> vstate;
typedef std::array<double, 2> astate;

// x'' = -k x - 0.1 sin(x'): the weighted sum of x over every output point
static double with_const(double *p) {
  double k = p[0];
  vstate x{p[1], p[2]};
  std::vector<double> xs;
  auto rhs = [k](const vstate &s, vstate &d, double) { d[0] = s[1]; d[1] = -k * s[0] - 0.1 * std::sin(s[1]); };
  ode::integrate_const(ode::euler<vstate>(), rhs, x, 0.0, T_END, DT,
                       [&xs](const vstate &s, double) { xs.push_back(s[0]); });
  double r = 0;
  for (size_t i = 0; i < xs.size(); i++) r += weight((int)i) * xs[i];
  return r;
}

static double with_adaptive(double *p) {
  double k = p[0];
  astate x{{p[1], p[2]}};
  double r = 0;
  int i = 0;
  auto rhs = [k](const astate &s, astate &d, double) { d[0] = s[1]; d[1] = -k * s[0] - 0.1 * std::sin(s[1]); };
  ode::integrate_adaptive(ode::euler<astate>(), rhs, x, 0.0, T_END, DT,
                          [&](const astate &s, double) { r += weight(i++) * s[0] * s[0]; });
  return r;
}

// the hand-written derivative: the Euler recursion with its sensitivities to (k, x0, v0)
static void by_hand(const double *p, bool squares, double *grad) {
  double x = p[1], v = p[2], k = p[0];
  double sx[P] = {0, 1, 0}, sv[P] = {0, 0, 1};
  int n = (int)std::lround(T_END / DT);
  for (int j = 0; j < P; j++) grad[j] = 0;
  for (int i = 0; i <= n; i++) {
    for (int j = 0; j < P; j++) grad[j] += weight(i) * (squares ? 2 * x * sx[j] : sx[j]);
    if (i == n) break;
    double ax = v, av = -k * x - 0.1 * std::sin(v);
    for (int j = 0; j < P; j++) {
      double dav = -(j == 0 ? x : 0.0) - k * sx[j] - 0.1 * std::cos(v) * sv[j];
      sx[j] += DT * sv[j];
      sv[j] += DT * dav;
    }
    x += DT * ax;
    v += DT * av;
  }
}

static double with_const_v(double *v, void *) { return with_const(v); }
static double with_adaptive_v(double *v, void *) { return with_adaptive(v); }

template <double (*F)(double *), double (*FV)(double *, void *)>
static void check(const char *name, bool squares) {
  double p[P] = {1.3, 1.0, -0.2}, dp[P] = {0}, want[P], tp[P] = {0.7, -0.4, 0.9};
  by_hand(p, squares, want);
#ifdef ADCC_SELFTEST
  for (int j = 0; j < P; j++) dp[j] += want[j];
  double t = 0;
  for (int j = 0; j < P; j++) t += want[j] * tp[j];
#else
  __enzyme_autodiff((void *)F, enzyme_dup, p, dp);
  double t = __enzyme_fwddiff((void *)F, enzyme_dup, p, tp);
#endif
  double tw = 0;
  for (int j = 0; j < P; j++) {
    check_an(name, j, dp[j], want[j]);
    check_fd(name, j, dp[j], fdv(FV, p, j, nullptr));
    tw += want[j] * tp[j];
  }
  check_an(name, P, t, tw);
  check_fd(name, P, t, fd_dir(FV, p, tp, P, nullptr));
}

int main() {
  e2e_begin("cpp/odeint");
  check<with_const, with_const_v>("integrate_const", false);
  check<with_adaptive, with_adaptive_v>("integrate_adaptive", true);
  return e2e_finish();
}
#else
int main() {
  printf("SKIP cpp/odeint: Boost.Odeint headers (<boost/numeric/odeint.hpp>) not found; install libboost-dev\n");
  return 0;
}
#endif
