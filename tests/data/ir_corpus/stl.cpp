// The standard library a scientist uses: complex, map, unordered_map, iostream, random, algorithms.
#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <functional>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

double complex_abs(double re, double im) {
  std::complex<double> z(re, im);
  z = z * z + std::exp(z) / (z + 1.0) + std::sqrt(z) + std::pow(z, 2.5) + std::log(z);
  return std::abs(z) + std::arg(z) + std::norm(z);
}
std::complex<long double> complex_ld(std::complex<long double> a) { return a * a + std::conj(a); }

double map_sum(const std::vector<double> &xs) {
  std::map<int, double> m;
  std::unordered_map<std::string, double> u;
  for (size_t i = 0; i < xs.size(); i++) { m[int(i) % 3] += xs[i]; u["k" + std::to_string(i % 2)] += xs[i] * xs[i]; }
  double s = 0;
  for (auto &[k, v] : m) s += k * v;
  for (auto &kv : u) s += kv.second;
  return s;
}

double stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  auto mx = *std::max_element(v.begin(), v.end());
  std::array<double, 4> a{1, 2, 3, 4};
  std::transform(a.begin(), a.end(), a.begin(), [mean](double x) { return x * mean; });
  return mean + mx + std::inner_product(a.begin(), a.end(), a.begin(), 0.0);
}

double random_walk(unsigned seed, int n) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_real_distribution<float> ud(-1.0f, 1.0f);
  double x = 0;
  for (int i = 0; i < n; i++) x += nd(gen) * 0.1 + ud(gen);
  return x;
}

std::function<double(double)> compose(std::function<double(double)> f, std::function<double(double)> g) {
  return [f, g](double x) { return f(g(x)); };
}

int main() {
  std::vector<double> xs{1.5, 2.5, -0.5, 4.0};
  std::ostringstream os;
  os << complex_abs(1.0, 2.0) << " " << map_sum(xs) << " " << stats(xs) << " " << random_walk(7, 10);
  std::cout << os.str() << std::endl;
  std::cerr << compose([](double x) { return x * 2; }, [](double x) { return std::sin(x); })(0.3) << "\n";
  auto c = complex_ld({1.0L, 2.0L});
  printf("%Lg\n", c.real());
  return 0;
}
