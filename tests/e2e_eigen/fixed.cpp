// Eigen 3 with fixed sizes, both modes: 3x3 and 4x4 products (vectorized with SSE/AVX packets),
// a 3x3 inverse and determinant, a 4x4 Cholesky (LLT) and LU solve. The shadows of Eigen's
// 16-byte aligned stack objects are accessed with the alignment the primal accesses claim.
#include "e2e.h"
#include <Eigen/Dense>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int N = 16;

/* products only: a = p[0..8] as a 3x3, v = p[9..11]; loss = |a a^T v|^2 + sum(b∘b) for the 4x4 b = q q^T */
static double products(const double *p) {
  Eigen::Matrix3d a;
  for (int i = 0; i < 9; i++) a(i / 3, i % 3) = p[i];
  Eigen::Vector3d v(p[9], p[10], p[11]);
  Eigen::Matrix4d q = Eigen::Map<const Eigen::Matrix4d>(p);
  Eigen::Matrix4d b = q * q.transpose();
  return (a * a.transpose() * v).squaredNorm() + b.cwiseProduct(b).sum();
}

/* the gradient of `products` by hand */
static void dproducts(const double *p, double *g) {
  Eigen::Matrix3d a;
  for (int i = 0; i < 9; i++) a(i / 3, i % 3) = p[i];
  Eigen::Vector3d v(p[9], p[10], p[11]);
  Eigen::Vector3d w = a * a.transpose() * v, gw = 2.0 * w;   /* loss1 = |w|^2, w = a a^T v */
  Eigen::Matrix3d ga = gw * (a.transpose() * v).transpose() + v * (a.transpose() * gw).transpose();
  Eigen::Vector3d gv = a * a.transpose() * gw;
  for (int i = 0; i < 9; i++) g[i] += ga(i / 3, i % 3);
  for (int i = 0; i < 3; i++) g[9 + i] += gv(i);
  Eigen::Matrix4d q = Eigen::Map<const Eigen::Matrix4d>(p);
  Eigen::Matrix4d b = q * q.transpose(), gb = 2.0 * b;      /* loss2 = sum b∘b, b = q q^T */
  Eigen::Matrix4d gq = (gb + gb.transpose()) * q;
  for (int i = 0; i < 16; i++) g[i] += gq(i % 4, i / 4);   /* column-major map */
}

/* solves: s = q q^T + 4 I (symmetric positive definite); c = inverse and determinant of a 3x3 */
static double solves(const double *p) {
  Eigen::Matrix4d q = Eigen::Map<const Eigen::Matrix4d>(p);
  Eigen::Matrix4d s = q * q.transpose() + 4.0 * Eigen::Matrix4d::Identity();
  Eigen::Vector4d rhs(1.0, -0.5, 0.25, 2.0);
  Eigen::Vector4d x1 = s.llt().solve(rhs);
  Eigen::Vector4d x2 = s.partialPivLu().solve(rhs + x1);
  Eigen::Matrix3d c = s.topLeftCorner<3, 3>();
  return x1.dot(x2) + c.inverse().trace() + 0.1 * c.determinant();
}

static double products_v(double *v, void *) { return products(v); }
static double solves_v(double *v, void *) { return solves(v); }

int main() {
  e2e_begin("eigen/fixed");
  double p[N];
  for (int i = 0; i < N; i++) p[i] = 0.3 * std::cos(1.7 * i) + 0.1 * (i % 3);
  double g[N] = {0}, dp[N] = {0}, ds[N] = {0}, dir[N];
  for (int i = 0; i < N; i++) dir[i] = 1.0 - 0.1 * i;
  dproducts(p, g);
  double want_t = 0.0;
  for (int i = 0; i < N; i++) want_t += g[i] * dir[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N; i++) dp[i] += g[i];
  double tp = want_t, ts = fd_dir(solves_v, p, dir, N, nullptr);
  for (int i = 0; i < N; i++) ds[i] += fdv(solves_v, p, i, nullptr);
#else
  __enzyme_autodiff<void>((void *)products, enzyme_dup, p, dp);
  __enzyme_autodiff<void>((void *)solves, enzyme_dup, p, ds);
  double tp = __enzyme_fwddiff<double>((void *)products, enzyme_dup, p, dir);
  double ts = __enzyme_fwddiff<double>((void *)solves, enzyme_dup, p, dir);
#endif
  for (int i = 0; i < N; i++) {
    check_an("products dp", i, dp[i], g[i]);
    check_fd("products dp", i, dp[i], fdv(products_v, p, i, nullptr));
    check_fd("solves dp", i, ds[i], fdv(solves_v, p, i, nullptr));
  }
  check_an("products tangent", 0, tp, want_t);
  check_fd("solves tangent", 0, ts, fd_dir(solves_v, p, dir, N, nullptr));
  double rev_t = 0.0;
  for (int i = 0; i < N; i++) rev_t += ds[i] * dir[i];
  check_fd("solves tangent vs gradient", 0, ts, rev_t);
  return e2e_finish();
}
