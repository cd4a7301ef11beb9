/* A distributed dot product with MPI_Allreduce (sum), then the same reduced through MPI_Allreduce
 * with MPI_MAX and MPI_MIN in place, and MPI_Reduce (sum and max) to rank 0: the gradient of
 * sin(x.y) * (1 + x.y) + max_i + min_i (each rank contributes its share) against the serial program. */
#include "mpi_check.h"

enum { N = 24 };

static double initial(int g) { return 0.9 * sin(0.61 * g + 0.4) + 0.05 * g; }

/* x, y: this rank's blocks (n each) */
static R dot(const R *x, const R *y, int n) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  R local = 0, total = 0;
  for (int i = 0; i < n; i++) local += x[i] * y[i];
  MPI_Allreduce(&local, &total, 1, MPI_R, MPI_SUM, MPI_COMM_WORLD);
  /* elementwise max and min over ranks of a block-local function, in place */
  R hi[2] = {x[0] * x[1], y[n - 1]}, lo[2] = {x[n - 1] - y[0], x[0] * y[1]};
  MPI_Allreduce(MPI_IN_PLACE, hi, 2, MPI_R, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, lo, 2, MPI_R, MPI_MIN, MPI_COMM_WORLD);
  R sums[2] = {x[0] * y[0] * y[0], 0}, at_root[2] = {0, 0};
  sums[1] = x[n - 1] + y[n - 1] * y[n - 1];
  MPI_Reduce(sums, at_root, 2, MPI_R, MPI_SUM, 0, MPI_COMM_WORLD);
  R peak = x[0] + (R)0.1 * y[0], top = 0;
  MPI_Reduce(&peak, &top, 1, MPI_R, MPI_MAX, 0, MPI_COMM_WORLD);
  R out = rank == 0 ? (R)sin(total) * (1 + total) + hi[0] + hi[1] + lo[0] + lo[1] : 0;
  if (rank == 0) out += at_root[0] * at_root[1] + top * top;
  return out;
}

static int ranks;

static double serial(const double *p, int np) {
  (void)np;
  const double *x = p, *y = p + N;
  int n = N / ranks;
  double total = 0, hi[2] = {-1e300, -1e300}, lo[2] = {1e300, 1e300}, s0 = 0, s1 = 0, top = -1e300;
  for (int i = 0; i < N; i++) total += x[i] * y[i];
  for (int r = 0; r < ranks; r++) {
    const double *xr = x + r * n, *yr = y + r * n;
    hi[0] = fmax(hi[0], xr[0] * xr[1]), hi[1] = fmax(hi[1], yr[n - 1]);
    lo[0] = fmin(lo[0], xr[n - 1] - yr[0]), lo[1] = fmin(lo[1], xr[0] * yr[1]);
    s0 += xr[0] * yr[0] * yr[0], s1 += xr[n - 1] + yr[n - 1] * yr[n - 1];
    top = fmax(top, xr[0] + 0.1 * yr[0]);
  }
  return sin(total) * (1 + total) + hi[0] + hi[1] + lo[0] + lo[1] + s0 * s1 + top * top;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ranks = mc_size();
  int rank = mc_rank(), n = N / ranks, first = rank * n;
  R x[N], y[N], dx[N] = {0}, dy[N] = {0};
  for (int i = 0; i < n; i++) x[i] = (R)initial(first + i), y[i] = (R)initial(N + first + i);
  __enzyme_autodiff((void *)dot, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, n);
  double grad[2 * N], p[2 * N];
  mc_gather(dx, n, grad);
  mc_gather(dy, n, grad + N);
  R tx[N], ty[N];
  for (int i = 0; i < n; i++) tx[i] = (R)cos(first + i), ty[i] = (R)sin(0.3 * (first + i));
  double tangent = mc_sum(__enzyme_fwddiff((void *)dot, enzyme_dup, x, tx, enzyme_dup, y, ty, enzyme_const, n));
  if (rank == 0) {
    double dir[2 * N];
    for (int g = 0; g < N; g++) {
      p[g] = (double)(R)initial(g), p[N + g] = (double)(R)initial(N + g);
      dir[g] = (double)(R)cos(g), dir[N + g] = (double)(R)sin(0.3 * g);
    }
    mc_check_gradient("d f / d (x, y)", serial, p, grad, 2 * N);
    mc_check_tangent("tangent of f", serial, p, dir, tangent, 2 * N);
  }
  return mc_finish("dot");
}
