// C++ forward mode (and reverse mode, for comparison) through virtual calls: a polymorphic
// layer stack (std::unique_ptr<Layer>, chosen at run time) evaluated on a dup array; each
// virtual call is an indirect call through the vtable.
#include "../e2e.h"
#include <cmath>
#include <memory>
#include <vector>

template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
int enzyme_dup, enzyme_const, enzyme_out;

constexpr int N = 4;

struct Layer {
  virtual ~Layer() {}
  virtual double apply(double x, int i) const = 0;
  virtual double slope(double x, int i) const = 0; /* hand-written d apply / dx */
};

struct Scale : Layer {
  double k;
  explicit Scale(double k_) : k(k_) {}
  double apply(double x, int i) const override { return k * (i + 1) * x; }
  double slope(double, int i) const override { return k * (i + 1); }
};

struct Tanh : Layer {
  double apply(double x, int) const override { return std::tanh(x); }
  double slope(double x, int) const override { double t = std::tanh(x); return 1.0 - t * t; }
};

struct Cube : Layer {
  double c;
  explicit Cube(double c_) : c(c_) {}
  double apply(double x, int) const override { return x * x * x + c * x; }
  double slope(double x, int) const override { return 3.0 * x * x + c; }
};

struct Net { std::vector<std::unique_ptr<Layer>> layers; };

static double loss(const double *x, const Net *net) {
  double s = 0.0;
  for (int i = 0; i < N; ++i) {
    double h = x[i];
    for (const auto &l : net->layers) h = l->apply(h, i);
    s += h * x[(i + 1) % N];
  }
  return s;
}

/* gradient of loss by hand */
static void dloss(const double *x, const Net *net, double *g) {
  for (int i = 0; i < N; ++i) {
    double h = x[i], dh = 1.0;
    for (const auto &l : net->layers) {
      dh *= l->slope(h, i);
      h = l->apply(h, i);
    }
    g[i] += dh * x[(i + 1) % N];
    g[(i + 1) % N] += h;
  }
}

static double fv(double *v, void *c) { return loss(v, static_cast<const Net *>(c)); }

int main() {
  e2e_begin("cpp/virtual_forward");
  for (int t = 0; t < 2; ++t) {
    Net net;
    volatile int pick = t;
    net.layers.emplace_back(new Scale(0.5 + 0.25 * t));
    if (pick) net.layers.emplace_back(new Cube(0.3));
    net.layers.emplace_back(new Tanh());
    if (!pick) net.layers.emplace_back(new Cube(-0.2));
    double x[N], dir[N], grad[N] = {0}, dx[N] = {0};
    for (int i = 0; i < N; ++i) {
      x[i] = 0.4 * std::cos(1.3 * i + t);
      dir[i] = 1.0 - 0.3 * i;
    }
    dloss(x, &net, grad);
    double want = 0.0;
    for (int i = 0; i < N; ++i) want += grad[i] * dir[i];
#ifdef ADCC_SELFTEST
    double got = want;
    for (int i = 0; i < N; ++i) dx[i] += grad[i];
#else
    double got = __enzyme_fwddiff<double>((void *)loss, enzyme_dup, x, dir, enzyme_const, &net);
    __enzyme_autodiff<void>((void *)loss, enzyme_dup, x, dx, enzyme_const, &net);
#endif
    check_an("tangent", t, got, want);
    check_fd("tangent", t, got, fd_dir(fv, x, dir, N, &net));
    for (int i = 0; i < N; ++i) check_an("dx", N * t + i, dx[i], grad[i]);
  }
  return e2e_finish();
}
