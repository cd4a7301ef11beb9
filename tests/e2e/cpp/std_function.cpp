// std::function in differentiated code (#9), both modes: a lambda capturing by reference is stored
// in std::function's buffer as an integer (LLVM writes the captured pointer as i64), copied with
// the function objects into an array and called through the stored invoker inside a loop. The
// integer carries the shadow pointer's bits, so the invoker reads the captured shadow (it read the
// primal memory as tangents: 0.11 for 0.47 in forward mode, and crashed in reverse mode).
#include "check_both.hpp"
#include <functional>

int enzyme_dup, enzyme_const;

constexpr int N = 3;

static double table(double *x) {
  std::function<double(double)> by_ref = [&](double t) { return t * x[1]; };
  std::function<double(double)> plain = [](double t) { return std::sin(t); };
  std::function<double(double)> fs[2] = {by_ref, plain};
  double s = 0;
  for (auto &f : fs) s += f(x[0]) * x[2];
  return s;
}
static void table_grad(const double *x, double *g) {
  g[0] = (x[1] + std::cos(x[0])) * x[2];
  g[1] = x[0] * x[2];
  g[2] = x[0] * x[1] + std::sin(x[0]);
}

int main() {
  const double X[N] = {0.7, -0.4, 1.3}, TX[N] = {0.3, -0.2, 0.5};
  e2e_begin("cpp/std_function");
  check_both<N, table, table_grad>("array of std::function", X, TX);
  return e2e_finish();
}
