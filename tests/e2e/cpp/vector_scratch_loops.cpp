// C++ reverse mode over GradBench's GMM pattern (#17): std::vector scratch buffers rewritten for
// every point, a triangular product `qx[j] += l[k] * xc[i]` whose xc[i] adcc moves out of the j
// loop (adcc/ad/hoist.py: the two vectors are each an allocation or null), and restrict inputs
// re-read in reverse although std::vector's constructor may throw (invoke).
#include "../e2e.h"
#include <cmath>
#include <vector>

template <typename Ret, typename... Args> Ret __enzyme_autodiff(Args...);
int enzyme_dup, enzyme_const;

constexpr int D = 5, P = 4, L = D * (D - 1) / 2, NV = L + D;

static double f(const double *__restrict l, const double *__restrict mu, const double *__restrict x,
                int d, int n) {
  std::vector<double> xc(d), qx(d);
  double s = 0;
  for (int p = 0; p < n; p++) {
    for (int j = 0; j < d; j++) xc[j] = x[p * d + j] - mu[j];
    for (int j = 0; j < d; j++) qx[j] = xc[j];
    int k = 0;
    for (int i = 0; i < d; i++)
      for (int j = i + 1; j < d; j++) { qx[j] = qx[j] + l[k] * xc[i]; k++; }
    double sq = 0;
    for (int j = 0; j < d; j++) sq += qx[j] * qx[j];
    s += std::log(1.0 + sq);
  }
  return s;
}

// the gradient by hand: g = dlog(1 + |qx|^2)/dqx = 2 qx / (1 + sq), qx = (I + strict lower L) xc
static void df(const double *l, const double *mu, const double *x, double *dl, double *dmu) {
  for (int p = 0; p < P; p++) {
    double xc[D], qx[D], g[D], sq = 0;
    for (int j = 0; j < D; j++) qx[j] = xc[j] = x[p * D + j] - mu[j];
    for (int i = 0, k = 0; i < D; i++)
      for (int j = i + 1; j < D; j++, k++) qx[j] += l[k] * xc[i];
    for (int j = 0; j < D; j++) sq += qx[j] * qx[j];
    for (int j = 0; j < D; j++) g[j] = 2.0 * qx[j] / (1.0 + sq);
    for (int i = 0, k = 0; i < D; i++) {
      double gx = g[i];
      for (int j = i + 1; j < D; j++, k++) {
        dl[k] += g[j] * xc[i];
        gx += g[j] * l[k];
      }
      dmu[i] -= gx;
    }
  }
}

static double xs[P * D];
static double fv(double *v, void *) { return f(v, v + L, xs, D, P); }

int main() {
  e2e_begin("cpp/vector_scratch_loops");
  volatile int vd = D, vp = P;
  double v[NV], dv[NV] = {0}, want[NV] = {0};
  for (int i = 0; i < NV; ++i) v[i] = 0.6 * std::sin(1.3 * i + 0.2);
  for (int i = 0; i < P * D; ++i) xs[i] = std::cos(0.7 * i + 0.1);
  df(v, v + L, xs, want, want + L);
#ifdef ADCC_SELFTEST
  df(v, v + L, xs, dv, dv + L);
#else
  __enzyme_autodiff<void>((void *)f, enzyme_dup, v, dv, enzyme_dup, v + L, dv + L, enzyme_const, xs,
                          enzyme_const, (int)vd, enzyme_const, (int)vp);
#endif
  for (int i = 0; i < NV; ++i) {
    check_an("dv", i, dv[i], want[i]);
    check_fd("dv", i, dv[i], fdv(fv, v, i, nullptr));
  }
  return e2e_finish();
}
