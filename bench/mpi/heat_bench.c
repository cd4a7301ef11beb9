/* The distributed heat equation of tests/mpi/heat.c at benchmark size (bench/mpi/run_mpi.py): each
 * rank holds N points, STEPS explicit steps with a halo exchange (MPI_Isend/MPI_Irecv/MPI_Waitall)
 * each; gradient of the final energy with respect to the initial state and alpha. Rank 0 prints
 * one JSON line: best-of-REPEAT wall times of the primal and of the gradient (the slowest rank's),
 * the same for the CPU time of each rank's thread (the work, which other jobs of a loaded machine do
 * not inflate; a rank waiting for a message polls and yields, which counts too), and the bytes
 * this rank sent in each. */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern int enzyme_dup, enzyme_const;
extern double __enzyme_autodiff(void *, ...);
int64_t bench_bytes_sent(void);

enum { STEPS = 20, REPEAT = 15 };

/* u, w: this rank's block [1..n] with halo cells [0] and [n+1] (0 at the global boundary);
 * buffers swapped between steps, as bench/openmp/stencil_bench.c */
__attribute__((noinline)) static double heat(double *u, double *w, int n, double alpha) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int left = rank > 0 ? rank - 1 : MPI_PROC_NULL, right = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  for (int t = 0; t < STEPS; t++) {
    MPI_Request req[4];
    MPI_Irecv(&u[0], 1, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, &req[0]);
    MPI_Irecv(&u[n + 1], 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD, &req[1]);
    MPI_Isend(&u[1], 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, &req[2]);
    MPI_Isend(&u[n], 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD, &req[3]);
    MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
    for (int i = 1; i <= n; i++) w[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
    double *s = u;
    u = w;
    w = s;
  }
  double e = 0;
  for (int i = 1; i <= n; i++) e += u[i] * u[i];
  return e;
}

static void fill(double *u, int n, int first) {
  u[0] = u[n + 1] = 0;
  for (int i = 1; i <= n; i++) u[i] = 0.5 * sin(0.001 * (first + i)) + 0.2;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double slowest(double t) {
  double m;
  MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return m;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, n = argc > 1 ? atoi(argv[1]) : 1 << 16;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  size_t bytes = sizeof(double) * (size_t)(n + 2);
  double *u = malloc(bytes), *du = malloc(bytes), *w = calloc(n + 2, sizeof(double)), *dw = malloc(bytes);
  double best_primal = 1e30, best_grad = 1e30, alpha = 0.2, dalpha = 0, check = 0;
  double cpu_primal = 1e30, cpu_grad = 1e30;
  int64_t primal_bytes = 0, grad_bytes = 0;
  for (int k = 0; k < REPEAT; k++) {
    fill(u, n, rank * n);
    MPI_Barrier(MPI_COMM_WORLD);
    int64_t b0 = bench_bytes_sent();
    double t0 = MPI_Wtime(), c0 = cpu_now();
    check += heat(u, w, n, alpha);
    double c = cpu_now() - c0, t = slowest(MPI_Wtime() - t0);
    if (c < cpu_primal) cpu_primal = c;
    primal_bytes = bench_bytes_sent() - b0;
    if (t < best_primal) best_primal = t;
    fill(u, n, rank * n);
    memset(du, 0, bytes);
    memset(dw, 0, bytes);
    MPI_Barrier(MPI_COMM_WORLD);
    b0 = bench_bytes_sent();
    t0 = MPI_Wtime(), c0 = cpu_now();
    dalpha = __enzyme_autodiff((void *)heat, enzyme_dup, u, du, enzyme_dup, w, dw, enzyme_const, n, alpha);
    c = cpu_now() - c0, t = slowest(MPI_Wtime() - t0);
    if (c < cpu_grad) cpu_grad = c;
    grad_bytes = bench_bytes_sent() - b0;
    if (t < best_grad) best_grad = t;
  }
  cpu_primal = slowest(cpu_primal), cpu_grad = slowest(cpu_grad);
  if (rank == 0)
    printf("{\"ranks\": %d, \"points_per_rank\": %d, \"steps\": %d, \"primal_s\": %.6g, \"grad_s\": %.6g, "
           "\"primal_cpu_s\": %.6g, \"grad_cpu_s\": %.6g, "
           "\"primal_bytes\": %lld, \"grad_bytes\": %lld, \"dalpha\": %.6g, \"check\": %.6g}\n",
           size, n, STEPS, best_primal, best_grad, cpu_primal, cpu_grad, (long long)primal_bytes,
           (long long)grad_bytes, dalpha, check);
  free(u), free(du), free(w), free(dw);
  MPI_Finalize();
  return 0;
}
