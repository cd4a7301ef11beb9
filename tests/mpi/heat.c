/* A 1-D heat equation with a cubic sink, distributed in blocks over the ranks: each step exchanges
 * halo cells with MPI_Isend/MPI_Irecv and MPI_Waitall. Gradient of the final weighted energy with
 * respect to the initial state and the diffusion coefficient (reverse mode, and split mode in
 * double precision) and its tangent (forward mode), against the serial program. */
#include "mpi_check.h"

enum { N = 24, STEPS = 10 }; /* global points: divisible by 1, 2, 3, 4 */

static double initial(int g) { return 0.6 * sin(0.37 * g + 0.2) + 0.3; }
static double weight(int g) { return 1.0 + 0.05 * g; }

/* u: this rank's block u[1..n] with halo cells u[0], u[n+1] (0 at the global boundary) */
static R heat(R *u, R *alpha, int n, int first) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int left = rank > 0 ? rank - 1 : MPI_PROC_NULL, right = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  R *v = (R *)malloc(sizeof(R) * (size_t)(n + 2));
  for (int t = 0; t < STEPS; t++) {
    MPI_Request req[4];
    MPI_Irecv(&u[0], 1, MPI_R, left, 0, MPI_COMM_WORLD, &req[0]);
    MPI_Irecv(&u[n + 1], 1, MPI_R, right, 1, MPI_COMM_WORLD, &req[1]);
    MPI_Isend(&u[1], 1, MPI_R, left, 1, MPI_COMM_WORLD, &req[2]);
    MPI_Isend(&u[n], 1, MPI_R, right, 0, MPI_COMM_WORLD, &req[3]);
    MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
    for (int i = 1; i <= n; i++)
      v[i] = u[i] + *alpha * (u[i - 1] - 2 * u[i] + u[i + 1]) - (R)0.05 * u[i] * u[i] * u[i];
    for (int i = 1; i <= n; i++) u[i] = v[i];
  }
  free(v);
  R e = 0;
  for (int i = 1; i <= n; i++) e += (R)weight(first + i - 1) * u[i] * u[i];
  return e;
}

/* the same objective on one process: p = initial state (N), then alpha */
static double serial(const double *p, int np) {
  (void)np;
  double u[N + 2] = {0}, v[N + 2];
  for (int i = 1; i <= N; i++) u[i] = p[i - 1];
  for (int t = 0; t < STEPS; t++) {
    for (int i = 1; i <= N; i++) v[i] = u[i] + p[N] * (u[i - 1] - 2 * u[i] + u[i + 1]) - 0.05 * u[i] * u[i] * u[i];
    for (int i = 1; i <= N; i++) u[i] = v[i];
  }
  double e = 0;
  for (int i = 1; i <= N; i++) e += weight(i - 1) * u[i] * u[i];
  return e;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = mc_rank(), n = N / mc_size(), first = rank * n;
  R u[N + 2] = {0}, du[N + 2] = {0}, alpha = (R)0.21, dalpha = 0;
  for (int i = 1; i <= n; i++) u[i] = (R)initial(first + i - 1);
  R u0[N + 2];
  memcpy(u0, u, sizeof u);
  __enzyme_autodiff((void *)heat, enzyme_dup, u, du, enzyme_dup, &alpha, &dalpha, enzyme_const, n,
                    enzyme_const, first);
  double grad[N + 1], p[N + 1];
  mc_gather(&du[1], n, grad);
  grad[N] = mc_sum(dalpha);
  /* forward mode: the tangent of the energy along a direction in every parameter */
  R t[N + 2] = {0}, dt_alpha = (R)0.7;
  memcpy(u, u0, sizeof u);
  for (int i = 1; i <= n; i++) t[i] = (R)cos(0.5 * (first + i));
  alpha = (R)0.21;
  double tangent = mc_sum(__enzyme_fwddiff((void *)heat, enzyme_dup, u, t, enzyme_dup, &alpha, &dt_alpha,
                                           enzyme_const, n, enzyme_const, first));
#ifndef USE_FLOAT
  /* split mode: __enzyme_augmentfwd on every rank, then __enzyme_reverse (the records of the
   * messages wait on the tape in between) */
  R su[N + 2] = {0}, salpha = 0;
  double split[N + 1];
  memcpy(u, u0, sizeof u);
  alpha = (R)0.21;
  void *tape = __enzyme_augmentfwd((void *)heat, enzyme_dup, u, su, enzyme_dup, &alpha, &salpha, enzyme_const, n,
                                   enzyme_const, first);
  __enzyme_reverse((void *)heat, enzyme_dup, u, su, enzyme_dup, &alpha, &salpha, enzyme_const, n, enzyme_const,
                   first, 1.0, tape);
  mc_gather(&su[1], n, split);
  split[N] = mc_sum(salpha);
#endif
  if (rank == 0) {
#ifndef USE_FLOAT
    for (int k = 0; k <= N; k++) mc_expect("split-mode gradient", k, split[k], grad[k]);
#endif
    double dir[N + 1];
    for (int g = 0; g < N; g++) p[g] = (double)(R)initial(g), dir[g] = (double)(R)cos(0.5 * (g + 1));
    p[N] = (double)(R)0.21, dir[N] = (double)(R)0.7;
    mc_check_gradient("d energy / d (u0, alpha)", serial, p, grad, N + 1);
    mc_check_tangent("tangent of energy", serial, p, dir, tangent, N + 1);
  }
  return mc_finish("heat");
}
