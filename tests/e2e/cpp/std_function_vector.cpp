// std::function objects held in a std::vector (#9), both modes: push_back moves each function
// object into the vector's heap buffer with a 16-byte memcpy of its raw storage (TBAA: "omnipotent
// char"), which holds a captured pointer, or a captured double, as raw bytes. Nothing types those
// bytes, so the copy tells pointer words from doubles at run time: a captured pointer's shadow
// moves with it (it used to be lost: SIGSEGV in reverse mode), a captured double's adjoint flows back.
#include "check_both.hpp"
#include <functional>
#include <vector>

int enzyme_dup, enzyme_const;

constexpr int N = 3;

static double in_vector(double *x) {
  double scale = x[2] * x[2], c = 2 * x[0];
  std::vector<std::function<double(double)>> fs;
  fs.push_back([&](double t) { return t * scale; });
  fs.push_back([x](double t) { return t * x[1]; });
  fs.push_back([](double t) { return std::exp(0.5 * t); });
  fs.push_back([c](double t) { return c * t; });  // a double stored in the function's own bytes
  double s = 0;
  for (int i = 0; i < 3; i++)
    for (auto &f : fs) s += f(x[i]);
  return s;
}
static void in_vector_grad(const double *x, double *g) {
  double scale = x[2] * x[2], sum = x[0] + x[1] + x[2];
  for (int i = 0; i < N; i++) g[i] = scale + x[1] + 0.5 * std::exp(0.5 * x[i]);
  g[1] += sum;
  g[2] += 2 * x[2] * sum;
  for (int i = 0; i < N; i++) g[i] += 2 * x[0];
  g[0] += 2 * sum;
}

int main() {
  const double X[N] = {0.7, -0.4, 1.3}, TX[N] = {0.3, -0.2, 0.5};
  e2e_begin("cpp/std_function_vector");
  check_both<N, in_vector, in_vector_grad>("vector of std::function", X, TX);
  return e2e_finish();
}
