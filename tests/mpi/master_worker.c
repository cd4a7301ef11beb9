/* Master/worker with blocking MPI_Send/MPI_Recv: rank 0 sends each worker a chunk of the
 * parameters, the workers send back one value each, received from MPI_ANY_SOURCE and placed by the
 * status's MPI_SOURCE. Gradient with respect to the parameters (on rank 0) and a scale every rank
 * holds, against the serial program. Needs 2 ranks or more. */
#include "mpi_check.h"

enum { N = 24, TAG_WORK = 3, TAG_RESULT = 4, MAX_RANKS = 16 };

static double initial(int g) { return 0.8 * cos(0.45 * g) + 0.1; }

static R work(const R *c, int m) {
  R s = 0;
  for (int i = 0; i < m; i++) s += (R)sin(c[i]) * c[i] + (R)0.1 * c[i] * c[i];
  return s;
}

static R master_worker(R *x, R *scale) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int workers = size - 1, chunk = N / workers;
  if (rank == 0) {
    for (int w = 1; w <= workers; w++) MPI_Send(x + (w - 1) * chunk, chunk, MPI_R, w, TAG_WORK, MPI_COMM_WORLD);
    R results[MAX_RANKS];
    for (int k = 0; k < workers; k++) {
      R r;
      MPI_Status st;
      MPI_Recv(&r, 1, MPI_R, MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &st);
      results[st.MPI_SOURCE] = r;
    }
    R out = 0;
    for (int w = 1; w <= workers; w++) out += results[w] * results[w] * (R)(1 + 0.1 * w);
    return out;
  }
  R buf[N];
  MPI_Status st;
  int m;
  MPI_Recv(buf, N, MPI_R, 0, TAG_WORK, MPI_COMM_WORLD, &st);
  MPI_Get_count(&st, MPI_R, &m);
  R r = *scale * work(buf, m);
  MPI_Send(&r, 1, MPI_R, 0, TAG_RESULT, MPI_COMM_WORLD);
  return 0;
}

static int ranks;

static double serial(const double *p, int np) {
  (void)np;
  int workers = ranks - 1, chunk = N / workers;
  double out = 0;
  for (int w = 1; w <= workers; w++) {
    double s = 0;
    for (int i = 0; i < chunk; i++) {
      double c = p[(w - 1) * chunk + i];
      s += sin(c) * c + 0.1 * c * c;
    }
    double r = p[N] * s;
    out += r * r * (1 + 0.1 * w);
  }
  return out;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ranks = mc_size();
  int rank = mc_rank();
  if (ranks < 2 || ranks > MAX_RANKS || N % (ranks - 1) != 0) {
    if (rank == 0) printf("master_worker needs 2 to %d ranks, one more than a divisor of %d\n", MAX_RANKS, N);
    MPI_Finalize();
    return 2;
  }
  R x[N] = {0}, dx[N] = {0}, scale = (R)0.7, dscale = 0;
  if (rank == 0)
    for (int g = 0; g < N; g++) x[g] = (R)initial(g);
  __enzyme_autodiff((void *)master_worker, enzyme_dup, x, dx, enzyme_dup, &scale, &dscale);
  double total_dscale = mc_sum(dscale);
  R tx[N] = {0}, tscale = (R)0.3;
  if (rank == 0)
    for (int g = 0; g < N; g++) tx[g] = (R)sin(0.9 * g);
  double tangent = mc_sum(__enzyme_fwddiff((void *)master_worker, enzyme_dup, x, tx, enzyme_dup, &scale, &tscale));
  if (rank == 0) {
    double p[N + 1], grad[N + 1], dir[N + 1];
    for (int g = 0; g < N; g++) p[g] = (double)(R)initial(g), grad[g] = dx[g], dir[g] = (double)(R)sin(0.9 * g);
    p[N] = (double)(R)0.7, grad[N] = total_dscale, dir[N] = (double)(R)0.3;
    mc_check_gradient("d out / d (x, scale)", serial, p, grad, N + 1);
    mc_check_tangent("tangent of out", serial, p, dir, tangent, N + 1);
  }
  return mc_finish("master_worker");
}
