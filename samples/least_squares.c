/* least_squares.c - nonlinear least squares with adcc gradients and JVPs.
 *
 * Fit the model  y(t) = a * exp(-b t) + c  to noisy samples by minimizing
 *
 *     L(p) = 1/2 * sum_i r_i(p)^2,   r_i = a exp(-b t_i) + c - y_i,  p = (a, b, c).
 *
 * Reverse mode (__enzyme_autodiff) gives grad L for gradient descent with a
 * backtracking line search; the loss is printed at every iteration and must
 * decrease. Forward mode (__enzyme_fwddiff) gives Jacobian-vector products
 * J(p) v of the residual vector; three of them (v = unit vectors) assemble J,
 * and J^T r must reproduce the reverse-mode gradient.
 *
 * Every derivative is checked against central finite differences and, under
 * -DADCC_SELFTEST, replaced by its hand-written formula.
 *
 * Build: adcc -O2 samples/least_squares.c -o least_squares -lm && ./least_squares
 */
#include "fd_check.h"

extern void __enzyme_autodiff(void *, ...);
extern void __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;

#define M 24 /* samples */
#define NP 3 /* parameters a, b, c */

/* Residual vector r(p). */
static void residuals(const double *p, double *r, const double *t, const double *y, int m) {
  for (int i = 0; i < m; i++) r[i] = p[0] * exp(-p[1] * t[i]) + p[2] - y[i];
}

/* Loss L(p), differentiated in reverse mode. */
static double lsq_loss(const double *p, const double *t, const double *y, int m) {
  double L = 0.0;
  for (int i = 0; i < m; i++) {
    double r = p[0] * exp(-p[1] * t[i]) + p[2] - y[i];
    L += 0.5 * r * r;
  }
  return L;
}

/* Hand-written Jacobian row i: dr_i/d(a, b, c). */
static void jac_row(const double *p, double t, double *J) {
  double e = exp(-p[1] * t);
  J[0] = e;
  J[1] = -p[0] * t * e;
  J[2] = 1.0;
}

static void hand_grad(const double *p, const double *t, const double *y, int m, double *g) {
  double J[NP];
  for (int i = 0; i < m; i++) {
    double r = p[0] * exp(-p[1] * t[i]) + p[2] - y[i];
    jac_row(p, t[i], J);
    for (int k = 0; k < NP; k++) g[k] += r * J[k];
  }
}

/* Gradient via adcc (reverse mode); overwrites g. */
static void gradient(const double *p, const double *t, const double *y, int m, double *g) {
  for (int k = 0; k < NP; k++) g[k] = 0.0;
#ifdef ADCC_SELFTEST
  hand_grad(p, t, y, m, g);
#else
  __enzyme_autodiff((void *)lsq_loss, enzyme_dup, p, g, enzyme_const, t, enzyme_const, y,
                    enzyme_const, m);
#endif
}

/* J(p) v via adcc (forward mode); also writes the primal residuals r. */
static void jvp(const double *p, const double *v, double *r, double *jv, const double *t,
                const double *y, int m) {
#ifdef ADCC_SELFTEST
  double J[NP];
  residuals(p, r, t, y, m);
  for (int i = 0; i < m; i++) {
    jac_row(p, t[i], J);
    jv[i] = J[0] * v[0] + J[1] * v[1] + J[2] * v[2];
  }
#else
  __enzyme_fwddiff((void *)residuals, enzyme_dup, p, v, enzyme_dup, r, jv, enzyme_const, t,
                   enzyme_const, y, enzyme_const, m);
#endif
}

struct data { const double *t, *y; int m, k; };
static double loss_v(double *p, void *ctx) {
  struct data *d = (struct data *)ctx;
  return lsq_loss(p, d->t, d->y, d->m);
}
static double resid_k(double *p, void *ctx) { /* residual entry k, for FD of the JVP */
  struct data *d = (struct data *)ctx;
  return p[0] * exp(-p[1] * d->t[d->k]) + p[2] - d->y[d->k];
}

static void check_gradient(const char *when, double *p, struct data *d) {
  double g[NP], want[NP] = {0, 0, 0}, fd[NP];
  gradient(p, d->t, d->y, d->m, g);
  hand_grad(p, d->t, d->y, d->m, want);
  fd_gradient(loss_v, p, NP, d, fd);
  printf("  grad at %-7s (adcc) = (% .10f, % .10f, % .10f)\n", when, g[0], g[1], g[2]);
  printf("  grad at %-7s (FD)   = (% .10f, % .10f, % .10f)\n", when, fd[0], fd[1], fd[2]);
  fdc_check_all("grad vs FD", g, fd, NP, FDC_RTOL);
  fdc_check_all("grad vs hand", g, want, NP, FDC_RTOL_AN);
}

int main(void) {
  volatile int vm = M;
  int m = vm;
  double t[M], y[M];
  const double truth[NP] = {2.0, 1.3, 0.5};
  for (int i = 0; i < M; i++) { /* deterministic "noise" */
    t[i] = 0.125 * i;
    y[i] = truth[0] * exp(-truth[1] * t[i]) + truth[2] + 0.02 * sin(7.3 * i);
  }
  struct data d = {t, y, m, 0};
  double p[NP] = {1.0, 0.6, 0.0};

  printf("fit y = a exp(-b t) + c to %d samples (truth a=%.1f b=%.1f c=%.1f)\n", m, truth[0],
         truth[1], truth[2]);
  check_gradient("start", p, &d);

  /* --- forward mode: J v for a direction, and J column by column --- */
  double r[M], jv[M], dir[NP] = {0.5, -1.0, 2.0}, J[NP][M];
  jvp(p, dir, r, jv, t, y, m);
  for (int i = 0; i < M; i++) {
    d.k = i;
    fdc_check("Jv vs FD", i, jv[i], fd_directional(resid_k, p, dir, NP, &d), FDC_RTOL);
    double row[NP];
    jac_row(p, t[i], row);
    fdc_check("Jv vs hand", i, jv[i], row[0] * dir[0] + row[1] * dir[1] + row[2] * dir[2],
              FDC_RTOL_AN);
  }
  for (int k = 0; k < NP; k++) {
    double e[NP] = {0, 0, 0};
    e[k] = 1.0;
    jvp(p, e, r, J[k], t, y, m);
  }
  double jtr[NP] = {0, 0, 0}, g[NP];
  for (int k = 0; k < NP; k++)
    for (int i = 0; i < M; i++) jtr[k] += J[k][i] * r[i];
  gradient(p, t, y, m, g);
  printf("  J^T r (forward mode)     = (% .10f, % .10f, % .10f)\n", jtr[0], jtr[1], jtr[2]);
  fdc_check_all("J^T r vs reverse gradient", jtr, g, NP, FDC_RTOL_AN);

  /* --- gradient descent with backtracking --- */
  printf("\n iter        loss            a          b          c\n");
  double L = lsq_loss(p, t, y, m), L0 = L, step = 1.0;
  int decreasing = 1;
  for (int it = 0; it <= 30; it++) {
    if (it % 3 == 0) printf(" %4d  %.10e  %9.6f  %9.6f  %9.6f\n", it, L, p[0], p[1], p[2]);
    gradient(p, t, y, m, g);
    double gg = g[0] * g[0] + g[1] * g[1] + g[2] * g[2], q[NP], Lq;
    for (;;) { /* Armijo backtracking */
      for (int k = 0; k < NP; k++) q[k] = p[k] - step * g[k];
      Lq = lsq_loss(q, t, y, m);
      if (Lq <= L - 1e-4 * step * gg || step < 1e-12) break;
      step *= 0.5;
    }
    if (!(Lq < L)) decreasing = 0;
    for (int k = 0; k < NP; k++) p[k] = q[k];
    L = Lq;
    step *= 2.0;
  }
  printf("loss %.6e -> %.6e\n", L0, L);
  fdc_check("loss decreases at every iteration", 0, decreasing, 1.0, 0.0);
  fdc_check("loss reduced 10x", 1, L < 0.1 * L0 ? 1.0 : 0.0, 1.0, 0.0);
  check_gradient("end", p, &d);
  return fdc_report("least_squares");
}
