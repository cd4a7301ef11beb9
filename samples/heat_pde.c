/* heat_pde.c - gradient of a PDE-constrained loss with adcc.
 *
 * Fisher-KPP reaction-diffusion on the periodic unit interval,
 *
 *     u_t = D u_xx + k u (1 - u),
 *
 * integrated with explicit Euler (second-order central Laplacian) for several
 * hundred time steps. The loss is the squared mismatch of the final state
 * against a target profile,
 *
 *     L(u0, D) = 1/2 * dx * sum_i (u(T)_i - target_i)^2.
 *
 * adcc computes dL/du0 (enzyme_dup array) and dL/dD (enzyme_out scalar) in one
 * reverse sweep through the whole time loop; the time stepper allocates its two
 * scratch buffers with malloc and frees them before returning, so the
 * derivative has to keep every intermediate state alive itself.
 *
 * The result is checked against central finite differences (every entry of
 * u0, and D) and, under -DADCC_SELFTEST, replaced by a hand-written discrete
 * adjoint so the program can be validated with plain clang.
 *
 * Build: adcc -O2 samples/heat_pde.c -o heat_pde -lm && ./heat_pde
 */
#include "fd_check.h"
#include <string.h>

extern double __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

#define NX 48        /* grid points */
#define STEPS 400    /* time steps */
#define DT 0.0015    /* time step: D dt / dx^2 = 0.35 for D = 0.1, stable */
#define REACT 2.0    /* reaction rate k */

/* One explicit Euler step from u into un (periodic boundary). */
static void euler_step(const double *u, double *un, double D, int nx, double dt) {
  double dx = 1.0 / nx, c = D * dt / (dx * dx);
  for (int i = 0; i < nx; i++) {
    double ul = u[(i + nx - 1) % nx], ur = u[(i + 1) % nx], ui = u[i];
    un[i] = ui + c * (ul - 2.0 * ui + ur) + dt * REACT * ui * (1.0 - ui);
  }
}

/* The differentiated function: simulate and measure the final mismatch. */
static double pde_loss(const double *u0, double D, const double *target, int nx, int steps) {
  double *a = (double *)malloc((size_t)nx * sizeof(double));
  double *b = (double *)malloc((size_t)nx * sizeof(double));
  memcpy(a, u0, (size_t)nx * sizeof(double));
  for (int t = 0; t < steps; t++) {
    euler_step(a, b, D, nx, DT);
    double *tmp = a;
    a = b;
    b = tmp;
  }
  double L = 0.0, dx = 1.0 / nx;
  for (int i = 0; i < nx; i++) {
    double r = a[i] - target[i];
    L += 0.5 * dx * r * r;
  }
  free(a);
  free(b);
  return L;
}

/* Hand-written discrete adjoint: forward sweep storing every state, then the
 * transposed step backwards in time. Accumulates into du0, returns dL/dD. */
static double pde_adjoint(const double *u0, double D, const double *target, int nx, int steps,
                          double *du0) {
  double dx = 1.0 / nx, c = D * DT / (dx * dx);
  double *hist = (double *)malloc((size_t)(steps + 1) * nx * sizeof(double));
  double *lam = (double *)malloc((size_t)nx * sizeof(double));
  double *lnew = (double *)malloc((size_t)nx * sizeof(double));
  memcpy(hist, u0, (size_t)nx * sizeof(double));
  for (int t = 0; t < steps; t++) euler_step(hist + t * nx, hist + (t + 1) * nx, D, nx, DT);
  const double *uT = hist + steps * nx;
  for (int i = 0; i < nx; i++) lam[i] = dx * (uT[i] - target[i]);
  double dD = 0.0;
  for (int t = steps - 1; t >= 0; t--) {
    const double *u = hist + t * nx;
    for (int i = 0; i < nx; i++) {
      int l = (i + nx - 1) % nx, r = (i + 1) % nx;
      double lap = u[l] - 2.0 * u[i] + u[r];
      dD += lam[i] * lap * DT / (dx * dx);
      /* the Laplacian is symmetric: its transpose has the same stencil */
      lnew[i] = lam[i] * (1.0 + DT * REACT * (1.0 - 2.0 * u[i])) +
                c * (lam[l] - 2.0 * lam[i] + lam[r]);
    }
    memcpy(lam, lnew, (size_t)nx * sizeof(double));
  }
  for (int i = 0; i < nx; i++) du0[i] += lam[i];
  free(hist);
  free(lam);
  free(lnew);
  return dD;
}

/* FD target over v = [u0 (NX) | D]. */
struct problem { const double *target; int nx, steps; };
static double loss_v(double *v, void *ctx) {
  struct problem *p = (struct problem *)ctx;
  return pde_loss(v, v[p->nx], p->target, p->nx, p->steps);
}

int main(void) {
  volatile int vnx = NX, vsteps = STEPS; /* sizes opaque to the optimizer */
  int nx = vnx, steps = vsteps;
  double v[NX + 1], target[NX], du0[NX], fd[NX + 1], want[NX];
  const double pi = 3.14159265358979323846;

  /* initial condition: a smooth bump; target: a shifted, wider front */
  for (int i = 0; i < NX; i++) {
    double x = (i + 0.5) / NX;
    v[i] = 0.3 + 0.5 * exp(-40.0 * (x - 0.4) * (x - 0.4));
    target[i] = 0.55 + 0.25 * sin(2.0 * pi * (x - 0.1));
    du0[i] = 0.0;
    want[i] = 0.0;
  }
  double D = v[NX] = 0.1;
  struct problem prob = {target, nx, steps};

  double L = pde_loss(v, D, target, nx, steps);
  printf("Fisher-KPP, %d points, %d steps (T = %.2f), D = %.3f\n", nx, steps, steps * DT, D);
  printf("loss L(u0, D) = %.12e\n", L);

#ifdef ADCC_SELFTEST
  double dD = pde_adjoint(v, D, target, nx, steps, du0);
#else
  double dD = __enzyme_autodiff((void *)pde_loss, enzyme_dup, v, du0, enzyme_out, D,
                                enzyme_const, target, enzyme_const, nx, enzyme_const, steps);
#endif

  fd_gradient(loss_v, v, NX + 1, &prob, fd);
  double wantD = pde_adjoint(v, D, target, nx, steps, want);

  printf("\n   i      dL/du0[i] (adcc)       finite difference\n");
  for (int i = 0; i < NX; i += 6) printf("  %2d  %22.14e  %22.14e\n", i, du0[i], fd[i]);
  printf("\ndL/dD (adcc) = %.14e\ndL/dD (FD)   = %.14e\n", dD, fd[NX]);

  double e1 = fdc_check_all("dL/du0 vs FD", du0, fd, NX, FDC_RTOL);
  double e2 = fdc_check_all("dL/du0 vs adjoint", du0, want, NX, FDC_RTOL_AN);
  fdc_check("dL/dD vs FD", 0, dD, fd[NX], FDC_RTOL);
  fdc_check("dL/dD vs adjoint", 0, dD, wantD, FDC_RTOL_AN);
  printf("max rel. error: %.2e vs FD, %.2e vs hand-written adjoint\n", e1, e2);

  /* a gradient step on D must reduce the loss */
  double D2 = D - (dD > 0.0 ? 1e-3 : -1e-3);
  double L2 = pde_loss(v, D2, target, nx, steps);
  printf("loss after a small step on D: %.12e (%s)\n", L2, L2 < L ? "decreased" : "NOT decreased");
  fdc_check("loss decreases along -dL/dD", 0, L2 < L ? 1.0 : 0.0, 1.0, 0.0);
  return fdc_report("heat_pde");
}
