/* Non-blocking requests completed out of order: each rank posts two MPI_Isend to its right
 * neighbour on one tag and two MPI_Irecv from its left, then completes the sends with MPI_Wait in
 * the reverse order (B before A) and the receives one by one in posting order; a third exchange
 * receives from MPI_ANY_SOURCE with MPI_ANY_TAG through MPI_Wait with a status. The reverse pass
 * must pair each adjoint with its own message. Gradient against the serial program (reverse mode;
 * forward mode needs an Irecv's source and tag). */
#include "mpi_check.h"

enum { N = 24 };

static double initial(int g) { return 0.4 * cos(0.8 * g + 0.1) + 0.6; }

static R exchange(R *x, int n) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int right = (rank + 1) % size, left = (rank + size - 1) % size;
  R a = x[0] * x[1], b = x[0] + x[n - 1] * x[n - 1], got_a, got_b, c = x[1] * x[1] * x[1], got_c;
  MPI_Request sa, sb, ra, rb, sc, rc;
  MPI_Irecv(&got_a, 1, MPI_R, left, 5, MPI_COMM_WORLD, &ra);
  MPI_Irecv(&got_b, 1, MPI_R, left, 5, MPI_COMM_WORLD, &rb);
  MPI_Isend(&a, 1, MPI_R, right, 5, MPI_COMM_WORLD, &sa);
  MPI_Isend(&b, 1, MPI_R, right, 5, MPI_COMM_WORLD, &sb);
  MPI_Wait(&sb, MPI_STATUS_IGNORE);
  MPI_Wait(&sa, MPI_STATUS_IGNORE);
  MPI_Wait(&ra, MPI_STATUS_IGNORE);
  MPI_Wait(&rb, MPI_STATUS_IGNORE);
  MPI_Status st;
  MPI_Irecv(&got_c, 1, MPI_R, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &rc);
  MPI_Isend(&c, 1, MPI_R, right, 9, MPI_COMM_WORLD, &sc);
  MPI_Wait(&rc, &st);
  MPI_Wait(&sc, MPI_STATUS_IGNORE);
  R w = st.MPI_TAG == 9 ? (R)1.5 : (R)0;
  return got_a * (R)sin(got_b) + got_b * got_b * x[1] + w * got_c * x[0];
}

static int ranks;

static double serial(const double *p, int np) {
  (void)np;
  int n = N / ranks;
  double out = 0;
  for (int r = 0; r < ranks; r++) {
    const double *xl = p + ((r + ranks - 1) % ranks) * n, *xr = p + r * n;
    double a = xl[0] * xl[1], b = xl[0] + xl[n - 1] * xl[n - 1], c = xl[1] * xl[1] * xl[1];
    out += a * sin(b) + b * b * xr[1] + 1.5 * c * xr[0];
  }
  return out;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ranks = mc_size();
  int rank = mc_rank(), n = N / ranks, first = rank * n;
  R x[N], dx[N] = {0};
  for (int i = 0; i < n; i++) x[i] = (R)initial(first + i);
  __enzyme_autodiff((void *)exchange, enzyme_dup, x, dx, enzyme_const, n);
  double grad[N], p[N];
  mc_gather(dx, n, grad);
  if (rank == 0) {
    for (int g = 0; g < N; g++) p[g] = (double)(R)initial(g);
    mc_check_gradient("d out / d x", serial, p, grad, N);
  }
  return mc_finish("requests");
}
