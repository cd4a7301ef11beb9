// Vector reverse mode: __enzyme_autodiff with enzyme_width N, N adjoint seeds in one call (the rows
// of a Jacobian). Shadows one per lane (enzyme_dup x, dx_0, ..., dx_{N-1}) or strided
// (enzyme_dupv, stride in bytes, x, dx: lane l at dx + l*stride); enzyme_const arguments have none.
// Each lane accumulates into its input shadows and consumes its output seed, as N separate calls;
// the primal outputs are written once. f has a loop (tape records replayed per lane), sin/cos and
// exp, and an integer argument.
#include "../e2e.h"

extern void __enzyme_autodiff(void *, ...);
int enzyme_width, enzyme_dup, enzyme_dupv, enzyme_const;

#define N 5         /* inputs x */
#define NIN (N + 2) /* x, then p[0], p[1] */

__attribute__((noinline)) static void f(const double *x, const double *p, int n, double *y) {
  double c = cos(p[0]), s = sin(p[0]);
  double acc = 0.0, prod = 1.0;
  for (int i = 0; i < n; i++) {
    acc += x[i] * x[i] * p[1];
    prod *= 1.0 + 0.1 * x[i];
  }
  y[0] = c * acc - s * prod;
  y[1] = s * acc + c * prod;
  y[2] = acc / prod + exp(0.3 * x[0]);
}

static double component(double *v, void *ctx) { /* y[row] as a function of (x, p) */
  double y[3];
  f(v, v + N, N, y);
  return y[*(int *)ctx];
}

/* hand-written Jacobian J[r][k], k over (x, p[0], p[1]) */
static void jacobian(const double *x, const double *p, double J[3][NIN]) {
  double c = cos(p[0]), s = sin(p[0]), sq = 0.0, prod = 1.0;
  for (int i = 0; i < N; i++) {
    sq += x[i] * x[i];
    prod *= 1.0 + 0.1 * x[i];
  }
  double acc = p[1] * sq;
  for (int i = 0; i < N; i++) {
    double dacc = 2.0 * p[1] * x[i], dprod = 0.1 * prod / (1.0 + 0.1 * x[i]);
    J[0][i] = c * dacc - s * dprod;
    J[1][i] = s * dacc + c * dprod;
    J[2][i] = dacc / prod - acc * dprod / (prod * prod) + (i == 0 ? 0.3 * exp(0.3 * x[0]) : 0.0);
  }
  J[0][N] = -s * acc - c * prod, J[0][N + 1] = c * sq;
  J[1][N] = c * acc - s * prod, J[1][N + 1] = s * sq;
  J[2][N] = 0.0, J[2][N + 1] = sq / prod;
}

int main(void) {
  e2e_begin("reverse/vector_reverse");
  double v[NIN] = {0.3, -0.7, 1.1, 0.45, -0.2, 0.6, 1.3}, *x = v, *p = v + N;
  double J[3][NIN], y[3], want_y[3];
  jacobian(x, p, J);
  f(x, p, N, want_y);
  /* width 3: every row of the Jacobian; x's shadows strided, p's one per lane; the input shadows
   * start at 0.5 (adjoints are added), the seeds are the rows of the identity */
  double jx[3][N], jp[3][2], seed[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  for (int r = 0; r < 3; r++) {
    for (int i = 0; i < N; i++) jx[r][i] = 0.5;
    jp[r][0] = jp[r][1] = 0.5;
  }
#ifdef ADCC_SELFTEST
  f(x, p, N, y);
  for (int r = 0; r < 3; r++) {
    for (int i = 0; i < N; i++) jx[r][i] += J[r][i];
    jp[r][0] += J[r][N], jp[r][1] += J[r][N + 1];
    for (int k = 0; k < 3; k++) seed[r][k] = 0.0;
  }
#else
  __enzyme_autodiff((void *)f, enzyme_width, 3, enzyme_dupv, sizeof jx[0], x, jx, enzyme_dup, p, jp[0], jp[1],
                    jp[2], enzyme_const, N, enzyme_dupv, sizeof seed[0], y, seed);
#endif
  for (int r = 0; r < 3; r++) {
    check_val("y", r, y[r], want_y[r]);
    for (int k = 0; k < NIN; k++) {
      double got = (k < N ? jx[r][k] : jp[r][k - N]) - 0.5;
      check_an("J", r * NIN + k, got, J[r][k]);
      check_fd("J", r * NIN + k, got, fdv(component, v, k, &r));
    }
    for (int k = 0; k < 3; k++) check_val("seed consumed", r * 3 + k, seed[r][k], 0.0);
  }
  /* width 2 with weighted seeds: lane l gets w_l^T J */
  double w[2][3] = {{0.5, -1.0, 2.0}, {0.0, 3.0, -0.25}}, gx[2][N] = {{0}}, gp[2][2] = {{0}};
#ifdef ADCC_SELFTEST
  f(x, p, N, y);
  for (int l = 0; l < 2; l++) {
    for (int r = 0; r < 3; r++) {
      for (int i = 0; i < N; i++) gx[l][i] += w[l][r] * J[r][i];
      gp[l][0] += w[l][r] * J[r][N], gp[l][1] += w[l][r] * J[r][N + 1];
    }
    for (int r = 0; r < 3; r++) w[l][r] = 0.0;
  }
#else
  __enzyme_autodiff((void *)f, enzyme_width, 2, enzyme_dup, x, gx[0], gx[1], enzyme_dupv, sizeof gp[0], p, gp,
                    enzyme_const, N, enzyme_dup, y, w[0], w[1]);
#endif
  double w0[2][3] = {{0.5, -1.0, 2.0}, {0.0, 3.0, -0.25}};
  for (int l = 0; l < 2; l++)
    for (int k = 0; k < NIN; k++) {
      double want = 0.0;
      for (int r = 0; r < 3; r++) want += w0[l][r] * J[r][k];
      check_an("wJ", l * NIN + k, k < N ? gx[l][k] : gp[l][k - N], want);
    }
  return e2e_finish();
}
