/* PMPI wrappers counting the bytes this process sends point to point (bench/mpi/run_mpi.py):
 * linked into the benchmark, they see the program's messages and those of adcc's MPI runtime. */
#include <mpi.h>
#include <stdint.h>

static int64_t sent;

int64_t bench_bytes_sent(void) { return sent; }

static void count(int n, MPI_Datatype type, int peer) {
  int size;
  if (peer == MPI_PROC_NULL) return;
  MPI_Type_size(type, &size);
  sent += (int64_t)n * size;
}

int MPI_Send(const void *buf, int n, MPI_Datatype type, int dest, int tag, MPI_Comm comm) {
  count(n, type, dest);
  return PMPI_Send(buf, n, type, dest, tag, comm);
}

int MPI_Isend(const void *buf, int n, MPI_Datatype type, int dest, int tag, MPI_Comm comm, MPI_Request *req) {
  count(n, type, dest);
  return PMPI_Isend(buf, n, type, dest, tag, comm, req);
}

int MPI_Sendrecv(const void *sbuf, int sn, MPI_Datatype stype, int dest, int stag, void *rbuf, int rn,
                 MPI_Datatype rtype, int source, int rtag, MPI_Comm comm, MPI_Status *status) {
  count(sn, stype, dest);
  return PMPI_Sendrecv(sbuf, sn, stype, dest, stag, rbuf, rn, rtype, source, rtag, comm, status);
}
