/* heat_mpi.c - the gradient of a distributed PDE-constrained loss with adcc and Open MPI.
 *
 * Reaction-diffusion u_t = D u_xx + k u (1 - u) on [0, 1] (zero at both ends), explicit Euler, the
 * grid split in blocks over the ranks; every step exchanges one halo cell with each neighbour
 * (MPI_Isend/MPI_Irecv/MPI_Waitall). The loss, 1/2 dx sum (u(T) - target)^2, is summed over the
 * ranks with MPI_Allreduce. One __enzyme_autodiff call on every rank gives each rank the gradient
 * with respect to its block of u0, and dL/dD: the derivative exchanges adjoints of the halo cells
 * in the reverse direction, and reverses the Allreduce into an Allreduce of adjoints.
 *
 * Build and run (make does this):  OMPI_CC=adcc mpicc -O2 heat_mpi.c -o heat_mpi -lm
 *                                  mpirun -np 2 ./heat_mpi
 * Rank 0 checks a few entries of the gradient against central finite differences of the loss.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern double __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const, enzyme_out;

enum { NX = 64, STEPS = 200 };
static const double K = 2.0, DT = 2e-5;

/* u: this rank's block u[1..n] with halo cells u[0], u[n+1]; w: scratch of the same size */
static double loss(double *u, double *w, double D, int n, int first) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int left = rank > 0 ? rank - 1 : MPI_PROC_NULL, right = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  double dx = 1.0 / (NX + 1), c = D * DT / (dx * dx);
  for (int t = 0; t < STEPS; t++) {
    MPI_Request req[4];
    MPI_Irecv(&u[0], 1, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, &req[0]);
    MPI_Irecv(&u[n + 1], 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD, &req[1]);
    MPI_Isend(&u[1], 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, &req[2]);
    MPI_Isend(&u[n], 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD, &req[3]);
    MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
    for (int i = 1; i <= n; i++) w[i] = u[i] + c * (u[i - 1] - 2 * u[i] + u[i + 1]) + DT * K * u[i] * (1 - u[i]);
    for (int i = 1; i <= n; i++) u[i] = w[i];
  }
  double mine = 0, total;
  for (int i = 1; i <= n; i++) {
    double x = (first + i) * dx, d = u[i] - 0.3 * sin(M_PI * x);
    mine += 0.5 * dx * d * d;
  }
  MPI_Allreduce(&mine, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return rank == 0 ? total : 0; /* the loss counts once: the gradient is that of the sum over ranks */
}

static void start(double *u, int n, int first) {
  memset(u, 0, sizeof(double) * (size_t)(n + 2));
  for (int i = 1; i <= n; i++) u[i] = 0.5 * exp(-40 * pow((first + i) / (NX + 1.0) - 0.4, 2));
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (NX % size) {
    if (rank == 0) fprintf(stderr, "run with a number of ranks that divides %d\n", NX);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  int n = NX / size, first = rank * n;
  double D = 0.02, u[NX + 2], du[NX + 2] = {0}, w[NX + 2], dw[NX + 2] = {0};
  start(u, n, first);
  double dD = __enzyme_autodiff((void *)loss, enzyme_dup, u, du, enzyme_dup, w, dw, enzyme_out, D,
                                enzyme_const, n, enzyme_const, first);
  double dD_total;
  MPI_Allreduce(&dD, &dD_total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  /* finite differences: every rank runs the loss on the perturbed state; the owner of entry g perturbs it */
  int bad = 0;
  const int probes[] = {0, NX / 2 - 1, NX / 2, NX - 1};
  for (int p = 0; p < 5; p++) {
    double h = 1e-6, val[2], got = 0;
    int g = p < 4 ? probes[p] : -1, owner = g < 0 ? 0 : g / n;
    for (int s = 0; s < 2; s++) {
      start(u, n, first);
      if (g >= 0 && owner == rank) u[g - first + 1] += s ? -h : h;
      val[s] = loss(u, w, g < 0 ? D + (s ? -h : h) : D, n, first);
    }
    if (g < 0) got = dD_total;
    else if (owner == rank) got = du[g - first + 1];
    MPI_Bcast(&got, 1, MPI_DOUBLE, owner, MPI_COMM_WORLD);
    if (rank == 0) {
      double fd = (val[0] - val[1]) / (2 * h), err = fabs(got - fd) / fmax(fabs(fd), 1e-8);
      printf("%-8s adcc % .8e   finite differences % .8e\n", g < 0 ? "dL/dD" : "dL/du0", got, fd);
      if (g >= 0) printf("         (u0 entry %d, on rank %d)\n", g, owner);
      bad += err > 1e-5;
    }
  }
  MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0) printf(bad ? "FAIL\n" : "gradient of the distributed loss matches finite differences\n");
  MPI_Finalize();
  return bad != 0;
}
