// C++ corners: templates, virtual inheritance, thread_local, static init guards, lambdas,
// coroutines-free generics, operator overloading, placement new, std::atomic, long double templates.
// ir-corpus: -O2 -fsanitize=cfi -flto -fvisibility=hidden
// ir-corpus: -O2 -fprofile-instr-generate -fcoverage-mapping
#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <cmath>

template <class T> T horner(const T *c, int n, T x) { T s = 0; for (int i = n - 1; i >= 0; --i) s = s * x + c[i]; return s; }
template float horner<float>(const float *, int, float);
template double horner<double>(const double *, int, double);
template long double horner<long double>(const long double *, int, long double);

struct A { virtual double f(double x) { return x; } virtual ~A() {} };
struct B : virtual A { double f(double x) override { return 2 * x; } };
struct C : virtual A { double g(double x) { return 3 * x; } };
struct D : B, C { double f(double x) override { return B::f(x) + g(x); } };
double vcall(A *a, double x) { return a->f(x); }

double counted(double x) { static double scale = std::sqrt(2.0); thread_local int calls = 0; ++calls; return x * scale + calls; }

struct Dual { double v, d; };
Dual operator*(Dual a, Dual b) { return {a.v * b.v, a.d * b.v + a.v * b.d}; }
Dual operator+(Dual a, Dual b) { return {a.v + b.v, a.d + b.d}; }
Dual square_plus(Dual a) { return a * a + a; }

std::atomic<long> hits{0};
long hit() { return hits.fetch_add(1, std::memory_order_relaxed) + hits.load(); }

double placement(double x) { alignas(double) unsigned char buf[sizeof(double)]; double *p = new (buf) double(x); return *p * 2; }
double bitcast(std::uint64_t u) { double d; std::memcpy(&d, &u, sizeof d); return d; }
template <class F> double apply(F f, double x) { return f(x); }
double lambdas(double x) { double k = 3; auto f = [&](double y) { return k * y + std::exp(y); }; return apply(f, x) + apply([](double y) { return y * y; }, x); }
constexpr double ce(double x) { return x * x + 1; }
double use_ce() { constexpr double v = ce(3.0); return v; }
long double ld_math(long double x) { return std::log(x) + std::pow(x, 1.5L) + std::fma(x, x, 1.0L) + std::sin(x); }

int main() { D d; return (int)(vcall(&d, 1.0) + counted(1.0) + square_plus({1, 1}).d + hit() + placement(1) + lambdas(0.5) + use_ce() + (double)ld_math(2.0L)); }
