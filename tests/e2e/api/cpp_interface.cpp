// Enzyme's C++ interface, <enzyme/enzyme> (shipped with adcc, found without flags):
// enzyme::autodiff<Reverse | ReverseWithPrimal | Forward>, Active, Duplicated (pointer,
// reference and by-value forms), DuplicatedNoNeed, Const, enzyme::get, enzyme::tuple, a lambda,
// and a struct passed by value in forward mode.
#include "../e2e.h"
#ifndef ADCC_SELFTEST
#include <enzyme/enzyme>
#endif

static double f(double x, double y) { return sin(x) * y + x * x * y; }
static double f_x(double x, double y) { return cos(x) * y + 2 * x * y; }
static double f_y(double x, double y) { return sin(x) + x * x; }
static float sq(const float &x) { return x * x * x; }
static double norm2(const double *v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i] * v[i] * (i + 1);
  return s;
}
struct Pair {
  double a, b;
};
static double prod(Pair p) { return p.a * p.b * p.b; }

static double fv(double *v, void *) { return f(v[0], v[1]); }
static double nv(double *v, void *) { return norm2(v, 3); }

int main() {
  e2e_begin("api/cpp_interface");
  double x = 0.7, y = -1.3, v[2] = {x, y};
#ifdef ADCC_SELFTEST
  double gx = f_x(x, y), gy = f_y(x, y), pr = f(x, y), gx2 = f_x(x, y);
  double t = f_x(x, y) + 2 * f_y(x, y), tp = f(x, y), tt = t, tc = f(x, y);
  double lam = 3 * x * x;
#else
  auto g = enzyme::autodiff<enzyme::Reverse>(f, enzyme::Active{x}, enzyme::Active{y});
  double gx = enzyme::get<0>(enzyme::get<0>(g)), gy = enzyme::get<1>(enzyme::get<0>(g));
  auto gp = enzyme::autodiff<enzyme::ReverseWithPrimal>(f, enzyme::Active{x}, enzyme::Const{y});
  double gx2 = enzyme::get<0>(enzyme::get<0>(gp)), pr = enzyme::get<1>(gp);
  double t = enzyme::get<0>(enzyme::autodiff<enzyme::Forward>(f, enzyme::Duplicated{x, 1.0},
                                                                enzyme::Duplicated{y, 2.0}));
  auto both = enzyme::autodiff<enzyme::Forward, enzyme::Duplicated<double>>(f, enzyme::Duplicated{x, 1.0},
                                                                            enzyme::Duplicated{y, 2.0});
  double tp = enzyme::get<0>(both), tt = enzyme::get<1>(both);
  double tc = enzyme::get<0>(enzyme::autodiff<enzyme::Forward, enzyme::Const<double>>(
      f, enzyme::Duplicated{x, 1.0}, enzyme::Const{y}));
  auto cube = [](double u) { return u * u * u; };
  double lam = enzyme::get<0>(enzyme::get<0>(enzyme::autodiff<enzyme::Reverse>(cube, enzyme::Active{x})));
#endif
  check_an("reverse dx", 0, gx, f_x(x, y));
  check_an("reverse dy", 0, gy, f_y(x, y));
  check_fd("reverse dx", 0, gx, fdv(fv, v, 0, nullptr));
  check_fd("reverse dy", 0, gy, fdv(fv, v, 1, nullptr));
  check_an("with primal dx", 0, gx2, f_x(x, y));
  check_val("with primal primal", 0, pr, f(x, y));
  check_an("forward", 0, t, f_x(x, y) + 2 * f_y(x, y));
  check_fd("forward", 0, t, fdv(fv, v, 0, nullptr) + 2 * fdv(fv, v, 1, nullptr));
  check_val("forward Duplicated return: primal", 0, tp, f(x, y));
  check_an("forward Duplicated return: tangent", 0, tt, f_x(x, y) + 2 * f_y(x, y));
  check_val("forward Const return: primal", 0, tc, f(x, y));
  check_an("lambda", 0, lam, 3 * x * x);
  /* references and pointers accumulate into their shadows */
  const float xf = 1.5f;
  float dxf = 0.5f;
  double w[3] = {0.3, -0.8, 1.1}, dw[3] = {0, 0, 0};
#ifdef ADCC_SELFTEST
  dxf += 3 * xf * xf;
  for (int i = 0; i < 3; i++) dw[i] += 2 * (i + 1) * w[i];
  double fp = 5.0 * 70.0 * 70.0 + 3.0 * 2 * 70.0 * 110.0;
#else
  enzyme::autodiff<enzyme::Reverse>(sq, enzyme::Duplicated<const float &>{xf, dxf});
  enzyme::autodiff<enzyme::Reverse>(norm2, enzyme::Duplicated<const double *>{w, dw}, enzyme::Const{3});
  /* a struct passed by value reaches f as its fields (two doubles), each one argument to Enzyme:
     Duplicated{Pair{3, 5}, Pair{70, 110}} is a = 3 with tangent 5, then b = 70 with tangent 110 */
  double fp = enzyme::get<0>(enzyme::autodiff<enzyme::Forward>(prod, enzyme::Duplicated{Pair{3.0, 5.0},
                                                                                           Pair{70.0, 110.0}}));
#endif
  check_f32("const float & shadow", 0, dxf, 0.5 + 3 * 1.5 * 1.5);
  for (int i = 0; i < 3; i++) {
    check_an("pointer shadow", i, dw[i], 2 * (i + 1) * w[i]);
    check_fd("pointer shadow", i, dw[i], fdv(nv, w, i, nullptr));
  }
  check_an("struct by value (fields a=3, da=5, b=70, db=110)", 0, fp, 5.0 * 70.0 * 70.0 + 3.0 * 2 * 70.0 * 110.0);
  return e2e_finish();
}
