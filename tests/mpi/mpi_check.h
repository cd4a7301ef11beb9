/* mpi_check.h - harness of adcc's MPI derivative tests (tests/test_mpi.py).
 *
 * Each program differentiates a distributed function (every rank holds a block of the global
 * parameters; the objective is the sum over ranks of what each rank's function returns), gathers
 * the gradient blocks on rank 0, and compares them there with central finite differences of a
 * serial program that computes the same objective on one process, in double precision. Build with
 * -DUSE_FLOAT for MPI_FLOAT buffers. Rank 0 prints "PASS mpi/<name>"; every rank exits 0 iff all
 * values matched.
 */
#ifndef MPI_CHECK_H
#define MPI_CHECK_H

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef USE_FLOAT
typedef float R;
#define MPI_R MPI_FLOAT
#define TOL 2e-3
#else
typedef double R;
#define MPI_R MPI_DOUBLE
#define TOL 1e-6
#endif

extern int enzyme_dup, enzyme_const, enzyme_dupnoneed;
extern void __enzyme_autodiff(void *, ...);
extern R __enzyme_fwddiff(void *, ...);
extern void *__enzyme_augmentfwd(void *, ...);
extern void __enzyme_reverse(void *, ...);

static int mc_fails = 0, mc_checked = 0;

static int mc_rank(void) {
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

static int mc_size(void) {
  int s;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

/* central finite difference of a serial objective in parameter k */
static double mc_fd(double (*serial)(const double *p, int n), const double *p, int n, int k) {
  double *q = (double *)malloc(sizeof(double) * (size_t)n);
  memcpy(q, p, sizeof(double) * (size_t)n);
  double h = 1e-6 * (fabs(p[k]) > 1 ? fabs(p[k]) : 1.0);
  q[k] = p[k] + h;
  double up = serial(q, n);
  q[k] = p[k] - h;
  double down = serial(q, n);
  free(q);
  return (up - down) / (2 * h);
}

/* rank 0: does `got` match `want`? */
static void mc_expect(const char *what, int k, double got, double want) {
  double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
  mc_checked++;
  if (!(fabs(got - want) <= TOL * scale)) {
    mc_fails++;
    printf("MISMATCH %s[%d]: adcc %.12g, finite differences %.12g\n", what, k, got, want);
  }
}

/* rank 0: compare a gathered gradient with finite differences of `serial` at `p` */
static void mc_check_gradient(const char *what, double (*serial)(const double *p, int n), const double *p,
                              const double *grad, int n) {
  for (int k = 0; k < n; k++) mc_expect(what, k, grad[k], mc_fd(serial, p, n, k));
}

/* rank 0: compare a directional derivative (forward mode) with finite differences along `dir` */
static void mc_check_tangent(const char *what, double (*serial)(const double *p, int n), const double *p,
                             const double *dir, double tangent, int n) {
  double *q = (double *)malloc(sizeof(double) * (size_t)n);
  double h = 1e-6;
  for (int k = 0; k < n; k++) q[k] = p[k] + h * dir[k];
  double up = serial(q, n);
  for (int k = 0; k < n; k++) q[k] = p[k] - h * dir[k];
  double down = serial(q, n);
  free(q);
  mc_expect(what, 0, tangent, (up - down) / (2 * h));
}

/* every rank: the verdict of rank 0, and MPI_Finalize; the exit status */
static int mc_finish(const char *name) {
  int verdict[2] = {mc_fails, mc_checked};
  MPI_Bcast(verdict, 2, MPI_INT, 0, MPI_COMM_WORLD);
  if (mc_rank() == 0) {
    if (verdict[0] == 0 && verdict[1] > 0) printf("PASS mpi/%s (%d values, %d ranks)\n", name, verdict[1], mc_size());
    else printf("FAIL mpi/%s: %d of %d values\n", name, verdict[0], verdict[1]);
  }
  MPI_Finalize();
  return verdict[0] == 0 && verdict[1] > 0 ? 0 : 1;
}

/* gather one double per rank... and blocks of R into doubles on rank 0 */
static void mc_gather(const R *local, int n, double *global) {
  R *all = mc_rank() == 0 ? (R *)malloc(sizeof(R) * (size_t)n * (size_t)mc_size()) : NULL;
  MPI_Gather(local, n, MPI_R, all, n, MPI_R, 0, MPI_COMM_WORLD);
  if (all)
    for (int k = 0; k < n * mc_size(); k++) global[k] = (double)all[k];
  free(all);
}

static double mc_sum(R local) {
  double mine = (double)local, total = 0;
  MPI_Reduce(&mine, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  return total;
}

#endif
