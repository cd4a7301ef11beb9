/* Every other rule in one program: MPI_Sendrecv (a ring shift), MPI_Bcast, MPI_Gather, MPI_Gatherv,
 * MPI_Scatter, MPI_Scatterv, MPI_Allgather (also in place), MPI_Gather in place at the root,
 * MPI_Barrier, an MPI_INT message (no derivative). Gradient with respect to the blocks of x and the
 * root's coefficients c, against the serial program. */
#include "mpi_check.h"

enum { N = 24, MAX_RANKS = 8 };

static double initial(int g) { return 0.7 * sin(0.5 * g + 0.3) + 0.2; }

static R collectives(R *x, R *c, int n) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int right = (rank + 1) % size, left = (rank + size - 1) % size, root = rank == 0;
  R shifted[N];
  MPI_Sendrecv(x, n, MPI_R, right, 7, shifted, n, MPI_R, left, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  R coef[4] = {0, 0, 0, 0};
  if (root)
    for (int k = 0; k < 4; k++) coef[k] = c[k];
  MPI_Bcast(coef, 4, MPI_R, 0, MPI_COMM_WORLD);
  int sizes[MAX_RANKS], counts[MAX_RANKS], displs[MAX_RANKS];
  int mine_count = rank + 1;
  MPI_Allgather(&mine_count, 1, MPI_INT, sizes, 1, MPI_INT, MPI_COMM_WORLD);
  for (int r = 0, d = 0; r < size; d += sizes[r], r++) counts[r] = sizes[r], displs[r] = d;
  R v[2] = {0, 0};
  for (int i = 0; i < n; i++) v[0] += shifted[i] * x[i] * coef[0], v[1] += x[i] * x[i] * coef[1];
  R all[2 * MAX_RANKS];
  MPI_Gather(v, 2, MPI_R, all, 2, MPI_R, 0, MPI_COMM_WORLD);
  R w[MAX_RANKS], allv[MAX_RANKS * (MAX_RANKS + 1) / 2];
  for (int k = 0; k < rank + 1; k++) w[k] = x[k % n] * coef[2] + (R)k;
  MPI_Gatherv(w, rank + 1, MPI_R, allv, counts, displs, MPI_R, 0, MPI_COMM_WORLD);
  R back[2 * MAX_RANKS], sq[MAX_RANKS * (MAX_RANKS + 1) / 2];
  if (root) {
    for (int j = 0; j < 2 * size; j++) back[j] = all[j] * all[(j + 1) % (2 * size)];
    for (int j = 0; j < displs[size - 1] + counts[size - 1]; j++) sq[j] = allv[j] * allv[j] * coef[3];
  }
  R mine[2], got[MAX_RANKS];
  MPI_Scatter(back, 2, MPI_R, mine, 2, MPI_R, 0, MPI_COMM_WORLD);
  MPI_Scatterv(sq, counts, displs, MPI_R, got, rank + 1, MPI_R, 0, MPI_COMM_WORLD);
  R mix = mine[0] * mine[1] + got[rank], everyone[MAX_RANKS], ring[MAX_RANKS], g2[MAX_RANKS];
  MPI_Allgather(&mix, 1, MPI_R, everyone, 1, MPI_R, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  ring[rank] = x[0] * mix;
  MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ring, 1, MPI_R, MPI_COMM_WORLD);
  g2[rank] = x[n - 1] * x[n - 1];
  if (root) MPI_Gather(MPI_IN_PLACE, 1, MPI_R, g2, 1, MPI_R, 0, MPI_COMM_WORLD);
  else MPI_Gather(&g2[rank], 1, MPI_R, NULL, 1, MPI_R, 0, MPI_COMM_WORLD);
  if (!root) return 0;
  R out = 0;
  for (int r = 0; r < size; r++)
    out += everyone[r] * (R)(1 + 0.1 * r) + ring[r] * ring[(r + 1) % size] + g2[r] * all[2 * r];
  return out;
}

static int ranks;

static double serial(const double *p, int np) {
  (void)np;
  int P = ranks, n = N / P;
  const double *x = p, *c = p + N;
  double all[2 * MAX_RANKS], allv[MAX_RANKS * (MAX_RANKS + 1) / 2], mix[MAX_RANKS];
  int displs[MAX_RANKS];
  for (int r = 0, d = 0; r < P; d += r + 1, r++) displs[r] = d;
  for (int r = 0; r < P; r++) {
    const double *xr = x + r * n, *sh = x + ((r + P - 1) % P) * n;
    all[2 * r] = all[2 * r + 1] = 0;
    for (int i = 0; i < n; i++) all[2 * r] += sh[i] * xr[i] * c[0], all[2 * r + 1] += xr[i] * xr[i] * c[1];
    for (int k = 0; k < r + 1; k++) allv[displs[r] + k] = xr[k % n] * c[2] + k;
  }
  double out = 0, ring[MAX_RANKS];
  for (int r = 0; r < P; r++) {
    double m0 = all[2 * r] * all[(2 * r + 1) % (2 * P)], m1 = all[2 * r + 1] * all[(2 * r + 2) % (2 * P)];
    double gr = allv[displs[r] + r] * allv[displs[r] + r] * c[3];
    mix[r] = m0 * m1 + gr;
    ring[r] = x[r * n] * mix[r];
  }
  for (int r = 0; r < P; r++) {
    double last = x[r * n + n - 1];
    out += mix[r] * (1 + 0.1 * r) + ring[r] * ring[(r + 1) % P] + last * last * all[2 * r];
  }
  return out;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ranks = mc_size();
  int rank = mc_rank(), n = N / ranks, first = rank * n;
  if (ranks > MAX_RANKS) {
    MPI_Finalize();
    return 2;
  }
  R x[N], dx[N] = {0}, c[4] = {0.9f, -0.4f, 0.6f, 0.35f}, dc[4] = {0};
  for (int i = 0; i < n; i++) x[i] = (R)initial(first + i);
  __enzyme_autodiff((void *)collectives, enzyme_dup, x, dx, enzyme_dup, c, dc, enzyme_const, n);
  double grad[N + 4], p[N + 4];
  mc_gather(dx, n, grad);
  for (int k = 0; k < 4; k++) grad[N + k] = mc_sum(dc[k]);
  R tx[N], tc[4] = {0.2f, 0.5f, -0.3f, 0.8f};
  for (int i = 0; i < n; i++) tx[i] = (R)cos(0.7 * (first + i));
  double tangent = mc_sum(__enzyme_fwddiff((void *)collectives, enzyme_dup, x, tx, enzyme_dup, c, tc, enzyme_const, n));
  if (rank == 0) {
    double dir[N + 4];
    for (int g = 0; g < N; g++) p[g] = (double)(R)initial(g), dir[g] = (double)(R)cos(0.7 * g);
    for (int k = 0; k < 4; k++) p[N + k] = (double)c[k], dir[N + k] = (double)tc[k];
    mc_check_gradient("d out / d (x, c)", serial, p, grad, N + 4);
    mc_check_tangent("tangent of out", serial, p, dir, tangent, N + 4);
  }
  return mc_finish("collectives");
}
