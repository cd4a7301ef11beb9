// Forward mode of functions returning std::vector<double> by value (through a hidden sret
// pointer): the tangent vector's buffer is the shadow of the one f allocates, and the program's
// own destructor (operator delete) releases it. Raw __enzyme_fwddiff and <enzyme/enzyme>'s
// DuplicatedNoNeed / Duplicated return activities.
#include "../e2e.h"
#include <vector>
#ifndef ADCC_SELFTEST
#include <enzyme/enzyme>
extern "C" std::vector<double> __enzyme_fwddiff(void *, ...);
#endif

typedef std::vector<double> Vec;

/* r = (x0 * x1, exp(x1) - x0, x0^3) */
static Vec kernel(const Vec &x) {
  Vec r(3);
  r[0] = x[0] * x[1];
  r[1] = exp(x[1]) - x[0];
  r[2] = x[0] * x[0] * x[0];
  return r;
}
static Vec kernel_tangent(const Vec &x, const Vec &dx) {
  return {dx[0] * x[1] + x[0] * dx[1], exp(x[1]) * dx[1] - dx[0], 3 * x[0] * x[0] * dx[0]};
}
static double kernel_i(double *v, void *ctx) {
  Vec x{v[0], v[1]};
  return kernel(x)[*(int *)ctx];
}

static void check(const char *label, const Vec &t, Vec x, const Vec &dx) {
  Vec want = kernel_tangent(x, dx);
  for (int i = 0; i < 3; i++) {
    check_an(label, i, t[i], want[i]);
    double fd = dx[0] * fdv(kernel_i, x.data(), 0, &i) + dx[1] * fdv(kernel_i, x.data(), 1, &i);
    check_fd(label, i, t[i], fd);
  }
}

int main() {
  e2e_begin("cpp/returned_vector");
  Vec x{0.9, -0.4}, dx{1.0, 0.3};
  for (int round = 0; round < 50; round++) {
#ifdef ADCC_SELFTEST
    Vec t = kernel_tangent(x, dx);
#else
    Vec t = __enzyme_fwddiff((void *)kernel, enzyme_dup, &x, &dx);
#endif
    if (round == 0) check("raw", t, x, dx);
  }
#ifdef ADCC_SELFTEST
  Vec t2 = kernel_tangent(x, dx), p = kernel(x);
#else
  Vec t2 = enzyme::get<0>(enzyme::autodiff<enzyme::Forward, enzyme::DuplicatedNoNeed<Vec>>(
      kernel, enzyme::Duplicated<const Vec &>(x, dx)));
  auto both = enzyme::autodiff<enzyme::Forward, enzyme::Duplicated<Vec>>(kernel, enzyme::Duplicated<const Vec &>(x, dx));
  Vec p = enzyme::get<0>(both);
  check("sugar with primal", enzyme::get<1>(both), x, dx);
#endif
  check("sugar", t2, x, dx);
  Vec want = kernel(x);
  for (int i = 0; i < 3; i++) check_val("primal", i, p[i], want[i]);
  return e2e_finish();
}
