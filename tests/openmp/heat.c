/* End to end: a 1-D heat equation u_t = alpha u_xx with a source term, explicit time steps, each
 * an `omp parallel for` over the grid, buffers swapped between steps. The gradient of the final
 * energy with respect to the initial state and to alpha (reverse mode), and its directional
 * derivative (forward mode), against central finite differences. */
#include "omp_check.h"

enum { N = 64, STEPS = 25 };

static R energy(R *u0, R *tmp, int n, int steps, R alpha) {
  R *u = u0, *w = tmp;
  for (int t = 0; t < steps; t++) {
#pragma omp parallel for
    for (int i = 1; i < n - 1; i++)
      w[i] = u[i] + alpha * (u[i - 1] - (R)2 * u[i] + u[i + 1]) + (R)0.01 * sin(u[i]);
    w[0] = u[0];
    w[n - 1] = u[n - 1];
    R *s = u;
    u = w;
    w = s;
  }
  R e = 0;
#pragma omp parallel for reduction(+ : e)
  for (int i = 0; i < n; i++) e += u[i] * u[i] * (R)(1 + i % 3);
  return e;
}

extern double __enzyme_autodiff_heat(void *, ...) __asm__("__enzyme_autodiff");

int main(void) {
  R u[N], tmp[N], du[N], dtmp[N], w[N], wt[N];
  for (int i = 0; i < N; i++) u[i] = (R)sin(0.2 * i) + (R)0.1 * (R)(i % 5);
  R alpha = (R)0.2;
  /* reverse mode: d energy / d u0 and d energy / d alpha */
  memset(du, 0, sizeof du);
  memset(dtmp, 0, sizeof dtmp);
  memcpy(w, u, sizeof u);
  R dalpha = (R)__enzyme_autodiff_heat((void *)energy, enzyme_dup, w, du, enzyme_dup, tmp, dtmp, enzyme_const, N,
                                       enzyme_const, STEPS, alpha);
  oc_cases++;
  for (int k = 0; k <= N; k++) {
    R h = (R)FD_STEP;
    memcpy(w, u, sizeof u);
    R ap = alpha, am = alpha;
    if (k < N) w[k] += h; else ap += h;
    double fp = energy(w, wt, N, STEPS, ap);
    memcpy(w, u, sizeof u);
    if (k < N) w[k] -= h; else am -= h;
    double fm = energy(w, wt, N, STEPS, am);
    double fd = (fp - fm) / (2 * (double)h);
    double got = k < N ? du[k] : dalpha;
    if (!oc_close(got, fd)) oc_mismatch("heat", k < N ? "d/du0" : "d/dalpha", k, got, fd);
  }
  /* forward mode: along a random direction of u0 and alpha */
  R dir[N], tan[N], da = (R)0.3;
  for (int i = 0; i < N; i++) dir[i] = oc_rand();
  memcpy(w, u, sizeof u);
  memcpy(tan, dir, sizeof dir);
  memset(dtmp, 0, sizeof dtmp);
  R t = __enzyme_fwddiff((void *)energy, enzyme_dup, w, tan, enzyme_dup, tmp, dtmp, enzyme_const, N,
                         enzyme_const, STEPS, alpha, da);
  R h = (R)FD_STEP;
  for (int i = 0; i < N; i++) w[i] = u[i] + h * dir[i];
  double fp = energy(w, wt, N, STEPS, alpha + h * da);
  for (int i = 0; i < N; i++) w[i] = u[i] - h * dir[i];
  double fm = energy(w, wt, N, STEPS, alpha - h * da);
  double fd = (fp - fm) / (2 * (double)h);
  if (!oc_close(t, fd)) oc_mismatch("heat", "tangent", 0, t, fd);
  return oc_finish("openmp/heat");
}
