// Eigen 3 dense algebra: fixed-size and dynamic matrices, products, LU and LLT solves.
// ir-corpus-levels: -O0 -O2
#include <Eigen/Dense>
#include <iostream>

double fixed3(const double *p) {
  Eigen::Matrix3d a;
  for (int i = 0; i < 9; i++) a(i / 3, i % 3) = p[i];
  Eigen::Vector3d v(p[0], p[1], p[2]);
  Eigen::Matrix3d b = a * a.transpose() + Eigen::Matrix3d::Identity();
  return (b * v).squaredNorm() + b.determinant() + b.inverse().trace();
}

double fixed4(const double *p) {
  Eigen::Matrix4d a = Eigen::Map<const Eigen::Matrix4d>(p);
  Eigen::Matrix4d s = a * a.transpose() + 4.0 * Eigen::Matrix4d::Identity();
  Eigen::Vector4d b = Eigen::Vector4d::Ones();
  return s.llt().solve(b).sum();
}

double dynamic(const double *p, int n) {
  Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(p, n, n);
  Eigen::MatrixXd s = a.transpose() * a + Eigen::MatrixXd::Identity(n, n);
  Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, 1.0, 2.0);
  Eigen::VectorXd x = s.partialPivLu().solve(b);
  Eigen::VectorXd y = s.llt().solve(b);
  return x.dot(y) + s.norm();
}

float floats(const float *p) {
  Eigen::Matrix2f m;
  m << p[0], p[1], p[2], p[3];
  return (m * m).sum() + m.array().sin().sum();
}

int main() {
  double p[16];
  for (int i = 0; i < 16; i++) p[i] = 0.1 * (i + 1) + (i % 5 == 0);
  float q[4] = {1, 2, 3, 4};
  std::cout << fixed3(p) << " " << fixed4(p) << " " << dynamic(p, 4) << " " << floats(q) << "\n";
  return 0;
}
