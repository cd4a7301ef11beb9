/* A worker whose MPI calls sit in a helper that takes no argument (not inlined): the helper must be
 * differentiated all the same, or the master's reverse messages would find no partner. Reverse and
 * forward mode of f(x) = x^2, computed by rank 1. Run with 2 ranks or more. */
#include <mpi.h>
#include <stdio.h>
extern double __enzyme_autodiff(void *, ...);
extern int enzyme_out;
__attribute__((noinline)) static void worker(void) {
  double buf, r;
  MPI_Recv(&buf, 1, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  r = buf * buf;
  MPI_Send(&r, 1, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD);
}
static double f(double x) {
  int rank; MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) { double r; MPI_Send(&x, 1, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD);
    MPI_Recv(&r, 1, MPI_DOUBLE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE); return r; }
  worker(); return 0;
}
extern double __enzyme_fwddiff(void *, ...);
int main(int c, char **v) {
  MPI_Init(&c, &v);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  double d = __enzyme_autodiff((void *)f, enzyme_out, 3.0);
  double t = __enzyme_fwddiff((void *)f, 3.0, 1.0);
  int ok = rank != 0 || (d == 6.0 && t == 6.0);
  if (rank == 0) printf(ok ? "PASS mpi/inactive_helper (2 values, 2 ranks)\n" : "FAIL d=%g t=%g\n", d, t);
  MPI_Finalize();
  return !ok;
}
