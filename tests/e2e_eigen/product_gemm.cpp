// Eigen 3 products of dynamic matrices above Eigen's coefficient-based threshold (12x12): the
// blocked kernel packs panels of both operands into scratch buffers (gemm_pack_lhs/rhs) and
// multiplies them with SIMD micro kernels (gebp). Both operands active, both modes.
#include "e2e.h"
#include <Eigen/Dense>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int N = 12;

/* sum(a^T a ∘ w) */
static double loss(const double *p, int n) {
  Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(p, n, n);
  Eigen::MatrixXd w = Eigen::MatrixXd::Constant(n, n, 0.25) + Eigen::MatrixXd::Identity(n, n);
  Eigen::MatrixXd s = a.transpose() * a;
  return s.cwiseProduct(w).sum();
}

static void dloss(const double *p, int n, double *g) {
  Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(p, n, n);
  Eigen::MatrixXd w = Eigen::MatrixXd::Constant(n, n, 0.25) + Eigen::MatrixXd::Identity(n, n);
  Eigen::MatrixXd ga = a * (w + w.transpose());
  for (int i = 0; i < n * n; i++) g[i] += ga(i % n, i / n);
}

static double loss_v(double *v, void *) { return loss(v, N); }

int main() {
  e2e_begin("eigen/product_gemm");
  static double p[N * N], dir[N * N], g[N * N], dp[N * N];
  for (int i = 0; i < N * N; i++) {
    p[i] = 0.2 * std::sin(0.7 * i) + 0.05 * (i % 7);
    dir[i] = std::cos(0.3 * i);
  }
  dloss(p, N, g);
  double want = 0.0;
  for (int i = 0; i < N * N; i++) want += g[i] * dir[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N * N; i++) dp[i] += g[i];
  double t = want;
#else
  __enzyme_autodiff<void>((void *)loss, enzyme_dup, p, dp, enzyme_const, N);
  double t = __enzyme_fwddiff<double>((void *)loss, enzyme_dup, p, dir, enzyme_const, N);
#endif
  for (int i = 0; i < N * N; i += 7) {
    check_an("dp", i, dp[i], g[i]);
    check_fd("dp", i, dp[i], fdv(loss_v, p, i, nullptr));
  }
  check_an("tangent", 0, t, want);
  check_fd("tangent", 0, t, fd_dir(loss_v, p, dir, N * N, nullptr));
  return e2e_finish();
}
