// std::function in differentiated code (#9), both modes: a lambda capturing by reference is stored
// in std::function's buffer as an integer (LLVM writes the captured pointer as i64), copied with
// the function objects into an array and called through the stored invoker inside a loop. The
// integer carries the shadow pointer's bits, so the invoker reads the captured shadow (it read the
// primal memory as tangents: 0.11 for 0.47 in forward mode, and crashed in reverse mode).
#include "../e2e.h"
#include <functional>

extern "C" void __enzyme_autodiff(void *, ...);
extern "C" double __enzyme_fwddiff(void *, ...);
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

template <double (*F)(double *)> static double as_fnv(double *v, void *) { return F(v); }

template <double (*F)(double *), void (*G)(const double *, double *)>
static void check(const char *name) {
  double x[N] = {0.7, -0.4, 1.3}, dx[N] = {0}, want[N], tx[N] = {0.3, -0.2, 0.5};
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
  e2e_begin("cpp/std_function");
  check<table, table_grad>("array of std::function");
  return e2e_finish();
}
