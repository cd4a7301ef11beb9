// Eigen 3 with dynamic sizes (MatrixXd/VectorXd on the heap), both modes: a product a^T a + I, a
// matrix-vector product, and Cholesky (LLT) and LU solves of the 4x4 result. Eigen keeps a reference
// to an operand inside an expression object as a pointer-sized integer (ptrtoint, store i64): its
// shadow travels the same way.
#include "e2e.h"
#include <Eigen/Dense>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
template <typename Ret, typename... Args> Ret __enzyme_fwddiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int N = 4;

static double loss(const double *p, int n) {
  Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(p, n, n);
  Eigen::MatrixXd s = a.transpose() * a + Eigen::MatrixXd::Identity(n, n);
  Eigen::VectorXd rhs = Eigen::VectorXd::LinSpaced(n, 1.0, 2.0);
  Eigen::VectorXd x = s.llt().solve(rhs);
  Eigen::VectorXd y = s.partialPivLu().solve(a * rhs);
  return x.dot(y) + (s * x).squaredNorm();
}

/* the gradient of the product part alone by hand: q = sum (a^T a)_{ij} w_{ij} */
static double quad(const double *p, int n) {
  Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(p, n, n);
  Eigen::MatrixXd w = Eigen::MatrixXd::Constant(n, n, 0.5) + Eigen::MatrixXd::Identity(n, n);
  return (a.transpose() * a).cwiseProduct(w).sum();
}

static void dquad(const double *p, int n, double *g) {
  Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(p, n, n);
  Eigen::MatrixXd w = Eigen::MatrixXd::Constant(n, n, 0.5) + Eigen::MatrixXd::Identity(n, n);
  Eigen::MatrixXd ga = a * (w + w.transpose());
  for (int i = 0; i < n * n; i++) g[i] += ga(i % n, i / n);
}

static double loss_v(double *v, void *) { return loss(v, N); }
static double quad_v(double *v, void *) { return quad(v, N); }

int main() {
  e2e_begin("eigen/dynamic");
  double p[N * N], dir[N * N];
  for (int i = 0; i < N * N; i++) {
    p[i] = 0.4 * std::sin(1.3 * i + 0.2) + (i % (N + 1) == 0 ? 1.0 : 0.0);
    dir[i] = 0.5 - 0.07 * i;
  }
  double g[N * N] = {0}, dq[N * N] = {0}, dl[N * N] = {0};
  dquad(p, N, g);
  double want_q = 0.0;
  for (int i = 0; i < N * N; i++) want_q += g[i] * dir[i];
#ifdef ADCC_SELFTEST
  for (int i = 0; i < N * N; i++) {
    dq[i] += g[i];
    dl[i] += fdv(loss_v, p, i, nullptr);
  }
  double tq = want_q, tl = fd_dir(loss_v, p, dir, N * N, nullptr);
#else
  __enzyme_autodiff<void>((void *)quad, enzyme_dup, p, dq, enzyme_const, N);
  __enzyme_autodiff<void>((void *)loss, enzyme_dup, p, dl, enzyme_const, N);
  double tq = __enzyme_fwddiff<double>((void *)quad, enzyme_dup, p, dir, enzyme_const, N);
  double tl = __enzyme_fwddiff<double>((void *)loss, enzyme_dup, p, dir, enzyme_const, N);
#endif
  double rev_l = 0.0;
  for (int i = 0; i < N * N; i++) {
    check_an("quad dp", i, dq[i], g[i]);
    check_fd("quad dp", i, dq[i], fdv(quad_v, p, i, nullptr));
    check_fd("loss dp", i, dl[i], fdv(loss_v, p, i, nullptr));
    rev_l += dl[i] * dir[i];
  }
  check_an("quad tangent", 0, tq, want_q);
  check_fd("loss tangent", 0, tl, fd_dir(loss_v, p, dir, N * N, nullptr));
  check_fd("loss tangent vs gradient", 0, tl, rev_l);
  return e2e_finish();
}
