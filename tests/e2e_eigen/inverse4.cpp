// Eigen 3's 4x4 inverse (vectorized: it flips signs by XOR-ing the sign bit of SSE packets viewed as
// integers), both modes.
#include "e2e.h"
#include <Eigen/Dense>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup;

constexpr int N = 16;

static double loss(const double *p) {
  Eigen::Matrix4d m = Eigen::Map<const Eigen::Matrix4d>(p);
  return m.inverse().sum();
}

/* d sum(M^-1) = -sum(M^-1 dM M^-1): gradient -(M^-T 1 1^T M^-T) */
static void dloss(const double *p, double *g) {
  Eigen::Matrix4d m = Eigen::Map<const Eigen::Matrix4d>(p);
  Eigen::Matrix4d inv = m.inverse();
  Eigen::Matrix4d ones = Eigen::Matrix4d::Ones();
  Eigen::Matrix4d gm = -(inv.transpose() * ones * inv.transpose());
  for (int i = 0; i < N; i++) g[i] += gm(i % 4, i / 4);
}

static double loss_v(double *v, void *) { return loss(v); }

int main() {
  e2e_begin("eigen/inverse4");
  double p[N], dir[N], g[N] = {0}, dp[N] = {0};
  for (int i = 0; i < N; i++) {
    p[i] = 0.3 * std::cos(1.7 * i) + (i % 5 == 0 ? 1.0 : 0.0);
    dir[i] = 1.0 - 0.1 * i;
  }
  dloss(p, g);
  double want = 0.0;
  for (int i = 0; i < N; i++) want += g[i] * dir[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dp[i] += g[i];
  double t = want;
#else
  __enzyme_autodiff<void>((void *)loss, enzyme_dup, p, dp);
  double t = __enzyme_fwddiff<double>((void *)loss, enzyme_dup, p, dir);
#endif
  for (int i = 0; i < N; i++) {
    check_an("dp", i, dp[i], g[i]);
    check_fd("dp", i, dp[i], fdv(loss_v, p, i, nullptr));
  }
  check_an("tangent", 0, t, want);
  check_fd("tangent", 0, t, fd_dir(loss_v, p, dir, N, nullptr));
  return e2e_finish();
}
