// C++ exceptions: invoke, landingpad, resume, catch by type, rethrow, noexcept, RAII cleanups.
// ir-corpus: -O2 -fsanitize=address
// ir-corpus: -O1 -fsanitize=undefined
#include <stdexcept>
#include <string>
#include <vector>
#include <memory>

struct Guard { int *p; explicit Guard(int *q) : p(q) { ++*p; } ~Guard() { --*p; } };

double checked_sqrt(double x) {
  if (x < 0) throw std::domain_error("negative: " + std::to_string(x));
  return x * 0.5;
}

double safe(double x) {
  int live = 0;
  try {
    Guard g(&live);
    std::vector<double> v(3, x);
    return checked_sqrt(v[1]) + live;
  } catch (const std::domain_error &e) {
    return -1.0 - e.what()[0];
  } catch (...) {
    throw;
  }
}

void may_throw(int n) noexcept(false) { if (n > 3) throw n; }
int catches_int(int n) { try { may_throw(n); } catch (int k) { return k; } return 0; }
std::unique_ptr<double[]> make(int n) { auto p = std::make_unique<double[]>(n); for (int i = 0; i < n; i++) p[i] = i; return p; }
double noexcept_fn(double x) noexcept { return x * 2; }
struct Base { virtual ~Base() = default; virtual double f(double) const = 0; };
struct Derived : Base { double f(double x) const override { if (x > 1e300) throw std::overflow_error("big"); return x * x; } };
double poly(const Base &b, double x) { try { return b.f(x); } catch (std::exception &) { return 0; } }
double dyn(Base *b) { if (auto *d = dynamic_cast<Derived *>(b)) return d->f(2.0); return typeid(*b) == typeid(Base) ? 1 : 0; }
int main() { Derived d; return (int)(safe(4.0) + catches_int(5) + make(3)[2] + poly(d, 3) + dyn(&d) + noexcept_fn(1)); }
