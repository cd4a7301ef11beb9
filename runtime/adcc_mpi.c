/* adcc runtime for MPI programs (adcc/ad/rules/mpi.py, README "Gradients of an MPI program").
 *
 * Built only for programs whose differentiated code calls MPI (adcc/driver/mpi_runtime.py compiles
 * it against the program's mpi.h), so the base runtime has no MPI dependency.
 *
 * Reverse mode: every MPI call of differentiated code goes through adcc_mpi_<routine>_aug, which
 * makes the call and returns a record of what its reverse needs (or NULL: nothing), saved on the
 * tape; the reverse pass calls adcc_mpi_reverse(record). The adjoint of a send is a receive of the
 * adjoint (added into the send buffer's shadow), the adjoint of a receive a send of the receive
 * buffer's shadow (then zeroed); a collective reverses into its transposed collective. Messages of
 * MPI_DOUBLE and MPI_FLOAT carry derivatives, whether or not this rank's buffers have shadows (a
 * missing shadow sends zeros and drops what it receives), so that both sides of every message
 * communicate in reverse; other datatypes carry none.
 *
 * Non-blocking requests: the record of an Isend/Irecv is found again, by its request handle, at
 * the Wait/Waitall that completes it. The reverse of the wait starts the reverse communication
 * (an Irecv of the adjoint into a scratch buffer for an Isend, an Isend of the shadow for an
 * Irecv); the reverse of the Isend/Irecv completes it (the scratch buffer is added into the send
 * buffer's shadow). Messages of one channel (direction, peer, tag, communicator) match in the order
 * they were posted, so the reverse communications of a channel start in the reverse order of the
 * posts, on every rank, whatever order the program completed its requests in.
 *
 * Forward mode: adcc_mpi_<routine>_fwd makes the call and the same call on the tangents. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
  K_SEND, K_RECV, K_ISEND, K_IRECV, K_WAIT, K_WAITALL, K_SENDRECV, K_BCAST, K_REDUCE, K_ALLREDUCE,
  K_GATHER, K_GATHERV, K_SCATTER, K_SCATTERV, K_ALLGATHER, K_BARRIER
};

typedef struct record {
  int kind;
  int fbytes;               /* 8 (MPI_DOUBLE) or 4 (MPI_FLOAT) */
  void *shadow;             /* shadow of the send (or only) buffer; NULL: none */
  void *shadow2;            /* shadow of the receive buffer */
  int count, count2;
  MPI_Datatype type, type2;
  int op;                   /* 0 sum, 1 min, 2 max */
  int peer, tag, peer2, tag2, root, rank, size, in_place;
  MPI_Comm comm;
  MPI_Request handle;       /* the program's request (non-blocking calls) */
  MPI_Request back;         /* the reverse communication's request */
  void *scratch;
  int *winners;             /* min/max: the rank whose value won, per element */
  int *counts, *displs;     /* the v-variants' arrays, copied (significant at the root) */
  int64_t seq;              /* posting order of non-blocking calls */
  int n;                    /* Waitall: how many requests */
  int wanted;               /* its wait has been reversed: its reverse communication may start */
  struct record *older;     /* the Isend/Irecv records whose reverse has not started, newest first */
  struct record **parts;    /* Waitall: their records */
  struct record *next;      /* the table of pending requests */
} record;

static void fatal(const char *what) {
  fprintf(stderr, "adcc runtime error: %s\n", what);
  MPI_Abort(MPI_COMM_WORLD, 70);
  abort();
}

static int float_bytes(MPI_Datatype t) {
  if (t == MPI_DOUBLE) return 8;
  if (t == MPI_FLOAT) return 4;
  return 0;
}

static int op_code(MPI_Op op) {
  if (op == MPI_SUM) return 0;
  if (op == MPI_MIN) return 1;
  if (op == MPI_MAX) return 2;
  return -1;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) fatal("out of memory in the MPI runtime");
  return p;
}

static record *new_record(int kind, int fbytes, MPI_Comm comm) {
  record *r = xcalloc(1, sizeof(record));
  r->kind = kind;
  r->fbytes = fbytes;
  r->comm = comm;
  r->back = MPI_REQUEST_NULL;
  MPI_Comm_rank(comm, &r->rank);
  MPI_Comm_size(comm, &r->size);
  return r;
}

static void release(record *r) {
  free(r->scratch);
  free(r->winners);
  free(r->counts);
  free(r->displs);
  free(r->parts);
  free(r);
}

/* dst[i] += src[i] */
static void add_into(void *dst, const void *src, int n, int fbytes) {
  if (!dst || !src) return;
  if (fbytes == 8)
    for (int i = 0; i < n; i++) ((double *)dst)[i] += ((const double *)src)[i];
  else
    for (int i = 0; i < n; i++) ((float *)dst)[i] += ((const float *)src)[i];
}

static void zero(void *p, int n, int fbytes) {
  if (p && n > 0) memset(p, 0, (size_t)n * (size_t)fbytes);
}

/* a copy of a shadow (zeros where there is none) */
static void *copy_of(const void *shadow, int n, int fbytes) {
  void *p = xcalloc((size_t)(n > 0 ? n : 1), (size_t)fbytes);
  if (shadow && n > 0) memcpy(p, shadow, (size_t)n * (size_t)fbytes);
  return p;
}

static void *element(void *base, int64_t k, int fbytes) {
  return base ? (char *)base + k * fbytes : NULL;
}

/* --- the channel of derivative messages ----------------------------------------------------------
 * Derivative messages (adjoints in reverse mode, tangents in forward mode) must never match the
 * program's own receives: a rank still in its forward pass may post a receive from MPI_ANY_SOURCE
 * while a neighbour already sends it adjoints. On MPI_COMM_WORLD they travel on a private duplicate
 * made when the program calls MPI_Init (the definitions below stand in for Open MPI's, as PMPI
 * tools do; weak, so that a program's own MPI_Init wins); on other communicators, with the tag |
 * DERIVATIVE_TAG, and a receive there from MPI_ANY_SOURCE with MPI_ANY_TAG is refused. */
#define DERIVATIVE_TAG (1 << 28)
static MPI_Comm private_world = MPI_COMM_NULL;

__attribute__((weak)) int MPI_Init(int *argc, char ***argv) {
  int rc = PMPI_Init(argc, argv);
  if (rc == MPI_SUCCESS) PMPI_Comm_dup(MPI_COMM_WORLD, &private_world);
  return rc;
}

__attribute__((weak)) int MPI_Init_thread(int *argc, char ***argv, int required, int *provided) {
  int rc = PMPI_Init_thread(argc, argv, required, provided);
  if (rc == MPI_SUCCESS) PMPI_Comm_dup(MPI_COMM_WORLD, &private_world);
  return rc;
}

__attribute__((weak)) int MPI_Finalize(void) {
  if (private_world != MPI_COMM_NULL) PMPI_Comm_free(&private_world);
  return PMPI_Finalize();
}

static int on_private_world(MPI_Comm comm) {
  if (comm == MPI_COMM_SELF) return 1;  /* one process: nothing else can receive its messages */
  return comm == MPI_COMM_WORLD && private_world != MPI_COMM_NULL;
}

/* the communicator and tag that carry the derivative of a message on (comm, *tag) */
static MPI_Comm channel(MPI_Comm comm, int *tag) {
  if (comm == MPI_COMM_WORLD && private_world != MPI_COMM_NULL) return private_world;
  if (comm == MPI_COMM_SELF || *tag == MPI_ANY_TAG) return comm;
  if (*tag < 0 || *tag >= DERIVATIVE_TAG)
    fatal("a differentiated MPI message with a tag of 2^28 or more on a communicator other than MPI_COMM_WORLD");
  *tag |= DERIVATIVE_TAG;
  return comm;
}

/* a receive the derivative messages of other ranks could match (see above) */
static void check_wildcards(int source, int tag, MPI_Comm comm) {
  if (source == MPI_ANY_SOURCE && tag == MPI_ANY_TAG && !on_private_world(comm))
    fatal("a differentiated receive from MPI_ANY_SOURCE with MPI_ANY_TAG on a communicator other than "
          "MPI_COMM_WORLD (another rank's derivative messages could match it)");
}

/* --- pending requests ----------------------------------------------------------------------- */

static record *pending;
static int64_t posted;
static record *unstarted; /* reverse mode: posted requests whose reverse communication has not started */

static void remember(record *r) {
  r->seq = posted++;
  r->next = pending;
  pending = r;
}

static record *take(MPI_Request h) {
  for (record **p = &pending; *p; p = &(*p)->next)
    if ((*p)->handle == h) {
      record *r = *p;
      *p = r->next;
      r->next = NULL;
      return r;
    }
  return NULL;
}

/* --- point to point ---------------------------------------------------------------------------- */

void *adcc_mpi_send_aug(const void *buf, void *shadow, int count, MPI_Datatype type, int dest, int tag,
                        MPI_Comm comm) {
  MPI_Send(buf, count, type, dest, tag, comm);
  int fb = float_bytes(type);
  if (!fb || dest == MPI_PROC_NULL) return NULL;
  record *r = new_record(K_SEND, fb, comm);
  r->shadow = shadow, r->count = count, r->type = type, r->peer = dest, r->tag = tag;
  return r;
}

static void received_from(record *r, MPI_Status *st) {
  r->peer = st->MPI_SOURCE;
  r->tag = st->MPI_TAG;
  MPI_Get_count(st, r->type, &r->count);
}

void *adcc_mpi_recv_aug(void *buf, void *shadow, int count, MPI_Datatype type, int source, int tag,
                        MPI_Comm comm, MPI_Status *status) {
  MPI_Status own;
  if (status == MPI_STATUS_IGNORE) status = &own;
  if (float_bytes(type)) check_wildcards(source, tag, comm);
  MPI_Recv(buf, count, type, source, tag, comm, status);
  int fb = float_bytes(type);
  if (!fb || source == MPI_PROC_NULL) return NULL;
  record *r = new_record(K_RECV, fb, comm);
  r->shadow = shadow, r->type = type;
  received_from(r, status);
  return r;
}

/* the record of a posted Isend/Irecv, found again by its request at the wait (NULL: no derivative) */
static record *posted_record(int kind, void *shadow, int count, MPI_Datatype type, int peer, int tag, MPI_Comm comm,
                             MPI_Request *request) {
  int fb = float_bytes(type);
  if (!fb || peer == MPI_PROC_NULL) return NULL;
  record *r = new_record(kind, fb, comm);
  r->shadow = shadow, r->count = count, r->type = type, r->peer = peer, r->tag = tag;
  r->handle = *request;
  remember(r);
  r->older = unstarted;
  unstarted = r;
  return r;
}

void *adcc_mpi_isend_aug(const void *buf, void *shadow, int count, MPI_Datatype type, int dest, int tag,
                         MPI_Comm comm, MPI_Request *request) {
  MPI_Isend(buf, count, type, dest, tag, comm, request);
  return posted_record(K_ISEND, shadow, count, type, dest, tag, comm, request);
}

void *adcc_mpi_irecv_aug(void *buf, void *shadow, int count, MPI_Datatype type, int source, int tag,
                         MPI_Comm comm, MPI_Request *request) {
  if (float_bytes(type)) check_wildcards(source, tag, comm);
  MPI_Irecv(buf, count, type, source, tag, comm, request);
  return posted_record(K_IRECV, shadow, count, type, source, tag, comm, request);
}

/* the record of a request being completed (NULL: none), with where an Irecv's message came from */
static record *completed(record *r, MPI_Status *st) {
  if (r && r->kind == K_IRECV) received_from(r, st);
  return r;
}

void *adcc_mpi_wait_aug(MPI_Request *request, MPI_Status *status) {
  MPI_Status own;
  if (status == MPI_STATUS_IGNORE) status = &own;
  record *part = take(*request);
  MPI_Wait(request, status);
  if (!part) return NULL;
  record *r = new_record(K_WAIT, part->fbytes, part->comm);
  r->n = 1;
  r->parts = xcalloc(1, sizeof(record *));
  r->parts[0] = completed(part, status);
  return r;
}

void *adcc_mpi_waitall_aug(int n, MPI_Request *requests, MPI_Status *statuses) {
  MPI_Status *own = NULL;
  if (statuses == MPI_STATUSES_IGNORE) statuses = own = xcalloc((size_t)(n > 0 ? n : 1), sizeof(MPI_Status));
  record **parts = xcalloc((size_t)(n > 0 ? n : 1), sizeof(record *));
  int found = 0;
  for (int i = 0; i < n; i++) found += (parts[i] = take(requests[i])) != NULL;
  MPI_Waitall(n, requests, statuses);
  record *r = NULL;
  if (found) {
    r = new_record(K_WAITALL, 8, MPI_COMM_SELF);
    r->n = n;
    r->parts = parts;
    for (int i = 0; i < n; i++) completed(parts[i], &statuses[i]);
  } else {
    free(parts);
  }
  free(own);
  return r;
}

/* reverse of a wait: start the reverse communication of a completed Isend/Irecv */
static void start_reverse(record *r) {
  int tag = r->tag;
  MPI_Comm c = channel(r->comm, &tag);
  if (r->kind == K_ISEND) {
    r->scratch = xcalloc((size_t)(r->count > 0 ? r->count : 1), (size_t)r->fbytes);
    MPI_Irecv(r->scratch, r->count, r->type, r->peer, tag, c, &r->back);
  } else {
    r->scratch = copy_of(r->shadow, r->count, r->fbytes);
    zero(r->shadow, r->count, r->fbytes);
    MPI_Isend(r->scratch, r->count, r->type, r->peer, tag, c, &r->back);
  }
}

static int same_channel(const record *a, const record *b) {
  return a->kind == b->kind && a->peer == b->peer && a->tag == b->tag && a->comm == b->comm;
}

/* Messages on one channel (direction, peer, tag, communicator) match in the order they are
 * posted: the reverse communications of a channel start in the reverse order of the program's
 * posts on both sides, whatever order the waits came in. Start those of `key`'s channel whose
 * waits have been reversed, newest first, up to the first whose wait has not. */
static void start_channel(const record *key) {
  record **p = &unstarted;
  while (*p) {
    record *r = *p;
    if (!same_channel(r, key)) {
      p = &r->older;
      continue;
    }
    if (!r->wanted) return;
    *p = r->older;
    start_reverse(r);
  }
}

/* the reverse of an Isend/Irecv whose communication has not started: start it now */
static void start_now(record *r) {
  for (record **p = &unstarted; *p; p = &(*p)->older)
    if (*p == r) {
      *p = r->older;
      start_reverse(r);
      return;
    }
}

static int later_first(const void *a, const void *b) {
  const record *x = *(record *const *)a, *y = *(record *const *)b;
  if (!x || !y) return (x == NULL) - (y == NULL);
  return x->seq < y->seq ? 1 : (x->seq > y->seq ? -1 : 0);
}

void *adcc_mpi_sendrecv_aug(const void *sbuf, void *sshadow, int scount, MPI_Datatype stype, int dest, int stag,
                            void *rbuf, void *rshadow, int rcount, MPI_Datatype rtype, int source, int rtag,
                            MPI_Comm comm, MPI_Status *status) {
  MPI_Status own;
  if (status == MPI_STATUS_IGNORE) status = &own;
  if (float_bytes(rtype)) check_wildcards(source, rtag, comm);
  MPI_Sendrecv(sbuf, scount, stype, dest, stag, rbuf, rcount, rtype, source, rtag, comm, status);
  int fs = float_bytes(stype), fr = float_bytes(rtype);
  if (!fs && !fr) return NULL;
  record *r = new_record(K_SENDRECV, fs ? fs : fr, comm);
  r->shadow = sshadow, r->count = scount, r->type = stype, r->peer = fs ? dest : MPI_PROC_NULL, r->tag = stag;
  r->shadow2 = rshadow, r->type2 = rtype, r->peer2 = MPI_PROC_NULL, r->tag2 = rtag, r->count2 = 0;
  if (fr && source != MPI_PROC_NULL) {
    r->peer2 = status->MPI_SOURCE, r->tag2 = status->MPI_TAG;
    MPI_Get_count(status, rtype, &r->count2);
  }
  return r;
}

/* --- collectives --------------------------------------------------------------------------------- */

void *adcc_mpi_bcast_aug(void *buf, void *shadow, int count, MPI_Datatype type, int root, MPI_Comm comm) {
  MPI_Bcast(buf, count, type, root, comm);
  int fb = float_bytes(type);
  if (!fb) return NULL;
  record *r = new_record(K_BCAST, fb, comm);
  r->shadow = shadow, r->count = count, r->type = type, r->root = root;
  return r;
}

/* min/max: the values and the winning rank of each element (MINLOC/MAXLOC of value-rank pairs) */
static int *reduce_with_winners(const void *values, void *result, int count, int fbytes, int op, int root,
                                MPI_Comm comm, int all, int rank) {
  MPI_Datatype pair = fbytes == 8 ? MPI_DOUBLE_INT : MPI_FLOAT_INT;
  MPI_Op loc = op == 1 ? MPI_MINLOC : MPI_MAXLOC;
  size_t stride = fbytes == 8 ? sizeof(struct { double v; int r; }) : sizeof(struct { float v; int r; });
  char *in = xcalloc((size_t)(count > 0 ? count : 1), stride), *out = xcalloc((size_t)(count > 0 ? count : 1), stride);
  for (int i = 0; i < count; i++) {
    memcpy(in + i * stride, (const char *)values + (size_t)i * fbytes, (size_t)fbytes);
    memcpy(in + i * stride + (fbytes == 8 ? 8 : 4), &rank, sizeof(int));
  }
  if (all) MPI_Allreduce(in, out, count, pair, loc, comm);
  else MPI_Reduce(in, out, count, pair, loc, root, comm);
  int *winners = NULL;
  if (all || rank == root) {
    winners = xcalloc((size_t)(count > 0 ? count : 1), sizeof(int));
    for (int i = 0; i < count; i++) {
      memcpy((char *)result + (size_t)i * fbytes, out + i * stride, (size_t)fbytes);
      memcpy(&winners[i], out + i * stride + (fbytes == 8 ? 8 : 4), sizeof(int));
    }
  }
  free(in);
  free(out);
  return winners;
}

static void *reduction_aug(int all, const void *sbuf, void *sshadow, void *rbuf, void *rshadow, int count,
                           MPI_Datatype type, MPI_Op op, int root, MPI_Comm comm) {
  int fb = float_bytes(type), code = op_code(op);
  if (!fb || code < 0) {
    if (all) MPI_Allreduce(sbuf, rbuf, count, type, op, comm);
    else MPI_Reduce(sbuf, rbuf, count, type, op, root, comm);
    return NULL;
  }
  record *r = new_record(all ? K_ALLREDUCE : K_REDUCE, fb, comm);
  r->in_place = sbuf == MPI_IN_PLACE;
  r->shadow = r->in_place ? rshadow : sshadow, r->shadow2 = rshadow;
  r->count = count, r->type = type, r->op = code, r->root = root;
  if (code == 0) {
    if (all) MPI_Allreduce(sbuf, rbuf, count, type, op, comm);
    else MPI_Reduce(sbuf, rbuf, count, type, op, root, comm);
  } else {
    const void *mine = r->in_place ? rbuf : sbuf;
    r->winners = reduce_with_winners(mine, rbuf, count, fb, code, root, comm, all, r->rank);
  }
  return r;
}

void *adcc_mpi_reduce_aug(const void *sbuf, void *sshadow, void *rbuf, void *rshadow, int count, MPI_Datatype type,
                          MPI_Op op, int root, MPI_Comm comm) {
  return reduction_aug(0, sbuf, sshadow, rbuf, rshadow, count, type, op, root, comm);
}

void *adcc_mpi_allreduce_aug(const void *sbuf, void *sshadow, void *rbuf, void *rshadow, int count, MPI_Datatype type,
                             MPI_Op op, MPI_Comm comm) {
  return reduction_aug(1, sbuf, sshadow, rbuf, rshadow, count, type, op, 0, comm);
}

static int *copy_ints(const int *p, int n) {
  int *q = xcalloc((size_t)(n > 0 ? n : 1), sizeof(int));
  if (p) memcpy(q, p, (size_t)n * sizeof(int));
  return q;
}

static record *block_record(int kind, const void *sbuf, void *sshadow, int scount, MPI_Datatype stype, void *rbuf,
                            void *rshadow, int rcount, MPI_Datatype rtype, int root, MPI_Comm comm, int fb) {
  record *r = new_record(kind, fb, comm);
  r->shadow = sshadow, r->count = scount, r->type = stype;
  r->shadow2 = rshadow, r->count2 = rcount, r->type2 = rtype, r->root = root;
  r->in_place = sbuf == MPI_IN_PLACE || rbuf == MPI_IN_PLACE;
  return r;
}

/* the datatype that decides whether a rooted collective carries derivatives: the root's type on
 * the side the other ranks do not pass */
static int rooted_bytes(MPI_Datatype mine, MPI_Datatype roots, int rank, int root, int in_place) {
  return rank == root && in_place ? float_bytes(roots) : float_bytes(mine);
}

void *adcc_mpi_gather_aug(const void *sbuf, void *sshadow, int scount, MPI_Datatype stype, void *rbuf, void *rshadow,
                          int rcount, MPI_Datatype rtype, int root, MPI_Comm comm) {
  MPI_Gather(sbuf, scount, stype, rbuf, rcount, rtype, root, comm);
  int rank;
  MPI_Comm_rank(comm, &rank);
  int fb = rooted_bytes(stype, rtype, rank, root, sbuf == MPI_IN_PLACE);
  return fb ? block_record(K_GATHER, sbuf, sshadow, scount, stype, rbuf, rshadow, rcount, rtype, root, comm, fb) : NULL;
}

void *adcc_mpi_gatherv_aug(const void *sbuf, void *sshadow, int scount, MPI_Datatype stype, void *rbuf, void *rshadow,
                           const int *rcounts, const int *displs, MPI_Datatype rtype, int root, MPI_Comm comm) {
  MPI_Gatherv(sbuf, scount, stype, rbuf, rcounts, displs, rtype, root, comm);
  int rank;
  MPI_Comm_rank(comm, &rank);
  int fb = rooted_bytes(stype, rtype, rank, root, sbuf == MPI_IN_PLACE);
  if (!fb) return NULL;
  record *r = block_record(K_GATHERV, sbuf, sshadow, scount, stype, rbuf, rshadow, 0, rtype, root, comm, fb);
  if (rank == root) r->counts = copy_ints(rcounts, r->size), r->displs = copy_ints(displs, r->size);
  return r;
}

void *adcc_mpi_scatter_aug(const void *sbuf, void *sshadow, int scount, MPI_Datatype stype, void *rbuf, void *rshadow,
                           int rcount, MPI_Datatype rtype, int root, MPI_Comm comm) {
  MPI_Scatter(sbuf, scount, stype, rbuf, rcount, rtype, root, comm);
  int rank;
  MPI_Comm_rank(comm, &rank);
  int fb = rooted_bytes(rtype, stype, rank, root, rbuf == MPI_IN_PLACE);
  return fb ? block_record(K_SCATTER, sbuf, sshadow, scount, stype, rbuf, rshadow, rcount, rtype, root, comm, fb) : NULL;
}

void *adcc_mpi_scatterv_aug(const void *sbuf, void *sshadow, const int *scounts, const int *displs, MPI_Datatype stype,
                            void *rbuf, void *rshadow, int rcount, MPI_Datatype rtype, int root, MPI_Comm comm) {
  MPI_Scatterv(sbuf, scounts, displs, stype, rbuf, rcount, rtype, root, comm);
  int rank;
  MPI_Comm_rank(comm, &rank);
  int fb = rooted_bytes(rtype, stype, rank, root, rbuf == MPI_IN_PLACE);
  if (!fb) return NULL;
  record *r = block_record(K_SCATTERV, sbuf, sshadow, 0, stype, rbuf, rshadow, rcount, rtype, root, comm, fb);
  if (rank == root) r->counts = copy_ints(scounts, r->size), r->displs = copy_ints(displs, r->size);
  return r;
}

void *adcc_mpi_allgather_aug(const void *sbuf, void *sshadow, int scount, MPI_Datatype stype, void *rbuf,
                             void *rshadow, int rcount, MPI_Datatype rtype, MPI_Comm comm) {
  MPI_Allgather(sbuf, scount, stype, rbuf, rcount, rtype, comm);
  int fb = float_bytes(rtype);
  return fb ? block_record(K_ALLGATHER, sbuf, sshadow, scount, stype, rbuf, rshadow, rcount, rtype, 0, comm, fb) : NULL;
}

void *adcc_mpi_barrier_aug(MPI_Comm comm) {
  MPI_Barrier(comm);
  return new_record(K_BARRIER, 8, comm);
}

/* --- the reverse pass ------------------------------------------------------------------------------ */

static void reverse_reduction(record *r) {
  int n = r->count, fb = r->fbytes, root_side = r->kind == K_ALLREDUCE || r->rank == r->root;
  void *g = xcalloc((size_t)(n > 0 ? n : 1), (size_t)fb);  /* the adjoint of the result, everywhere */
  if (r->kind == K_ALLREDUCE) {
    void *mine = copy_of(r->shadow2, n, fb);
    MPI_Allreduce(mine, g, n, r->type, MPI_SUM, r->comm);
    free(mine);
  } else if (root_side) {
    if (r->shadow2) memcpy(g, r->shadow2, (size_t)n * (size_t)fb);
  }
  if (r->kind == K_REDUCE) MPI_Bcast(g, n, r->type, r->root, r->comm);
  int *winners = r->winners;
  if (r->op != 0 && r->kind == K_REDUCE) {  /* the root's winners, for everyone */
    if (!winners) winners = r->winners = xcalloc((size_t)(n > 0 ? n : 1), sizeof(int));
    MPI_Bcast(winners, n, MPI_INT, r->root, r->comm);
  }
  if (root_side) zero(r->shadow2, n, fb);  /* the result's old value is overwritten (in place: it is ours again) */
  if (r->op != 0)
    for (int i = 0; i < n; i++)
      if (winners[i] != r->rank) zero(element(g, i, fb), 1, fb);
  if (r->in_place && !root_side) {
    /* a non-root rank's in-place buffer is its send buffer only for Reduce's root: nothing here */
  }
  add_into(r->shadow, g, n, fb);
  free(g);
}

static void reverse_blocks(record *r) {
  int fb = r->fbytes, root = r->rank == r->root;
  switch (r->kind) {
  case K_GATHER: case K_GATHERV: {
    /* the adjoint of each rank's block goes back to it: a Scatter(v) of the receive buffer's shadow */
    int64_t extent = 0;
    if (root) {
      for (int k = 0; k < r->size; k++) {
        int64_t end = r->kind == K_GATHER ? (int64_t)(k + 1) * r->count2 : (int64_t)r->displs[k] + r->counts[k];
        if (end > extent) extent = end;
      }
    }
    void *src = root ? copy_of(r->shadow2, (int)extent, fb) : NULL;
    int mine = r->kind == K_GATHER ? r->count2 : (root ? r->counts[r->rank] : 0);
    if (root && r->in_place) {
      /* the root's own block stays where it is, with its adjoint */
      int64_t at = r->kind == K_GATHER ? (int64_t)r->rank * r->count2 : r->displs[r->rank];
      zero(r->shadow2, (int)extent, fb);
      if (r->shadow2) memcpy(element(r->shadow2, at, fb), element(src, at, fb), (size_t)mine * fb);
      if (r->kind == K_GATHER) MPI_Scatter(src, r->count2, r->type2, MPI_IN_PLACE, 0, r->type, r->root, r->comm);
      else MPI_Scatterv(src, r->counts, r->displs, r->type2, MPI_IN_PLACE, 0, r->type, r->root, r->comm);
    } else {
      void *got = xcalloc((size_t)(r->count > 0 ? r->count : 1), (size_t)fb);
      if (r->kind == K_GATHER) MPI_Scatter(src, r->count2, r->type2, got, r->count, r->type, r->root, r->comm);
      else MPI_Scatterv(src, r->counts, r->displs, r->type2, got, r->count, r->type, r->root, r->comm);
      if (root) zero(r->shadow2, (int)extent, fb);
      add_into(r->shadow, got, r->count, fb);
      free(got);
    }
    free(src);
    break;
  }
  case K_SCATTER: case K_SCATTERV: {
    /* each rank's received adjoint goes back into the root's send buffer: a Gather(v) */
    int64_t extent = 0;
    if (root) {
      for (int k = 0; k < r->size; k++) {
        int64_t end = r->kind == K_SCATTER ? (int64_t)(k + 1) * r->count : (int64_t)r->displs[k] + r->counts[k];
        if (end > extent) extent = end;
      }
    }
    void *all = root ? xcalloc((size_t)(extent > 0 ? extent : 1), (size_t)fb) : NULL;
    if (root && r->in_place) {
      if (r->kind == K_SCATTER) MPI_Gather(MPI_IN_PLACE, 0, r->type2, all, r->count, r->type, r->root, r->comm);
      else MPI_Gatherv(MPI_IN_PLACE, 0, r->type2, all, r->counts, r->displs, r->type, r->root, r->comm);
    } else {
      void *mine = copy_of(r->shadow2, r->count2, fb);
      zero(r->shadow2, r->count2, fb);
      if (r->kind == K_SCATTER) MPI_Gather(mine, r->count2, r->type2, all, r->count, r->type, r->root, r->comm);
      else MPI_Gatherv(mine, r->count2, r->type2, all, r->counts, r->displs, r->type, r->root, r->comm);
      free(mine);
    }
    if (root) {
      if (r->in_place) {  /* the root's block never moved: it has its adjoint already */
        int64_t at = r->kind == K_SCATTER ? (int64_t)r->rank * r->count : r->displs[r->rank];
        int n = r->kind == K_SCATTER ? r->count : r->counts[r->rank];
        zero(element(all, at, fb), n, fb);
      }
      add_into(r->shadow, all, (int)extent, fb);
    }
    free(all);
    break;
  }
  case K_ALLGATHER: {
    /* rank k's block of every rank's receive buffer: a Reduce_scatter_block of the shadows */
    int n = r->count2, total = n * r->size;
    void *src = copy_of(r->shadow2, total, fb);
    void *got = xcalloc((size_t)(n > 0 ? n : 1), (size_t)fb);
    MPI_Reduce_scatter_block(src, got, n, r->type2, MPI_SUM, r->comm);
    zero(r->shadow2, total, fb);
    if (r->in_place) {
      if (r->shadow2) memcpy(element(r->shadow2, (int64_t)r->rank * n, fb), got, (size_t)n * fb);
    } else {
      add_into(r->shadow, got, r->count, fb);
    }
    free(src);
    free(got);
    break;
  }
  }
}

void adcc_mpi_reverse(void *p) {
  record *r = p;
  if (!r) return;
  int fb = r->fbytes;
  switch (r->kind) {
  case K_SEND: {
    void *got = xcalloc((size_t)(r->count > 0 ? r->count : 1), (size_t)fb);
    int tag = r->tag;
    MPI_Comm c = channel(r->comm, &tag);
    MPI_Recv(got, r->count, r->type, r->peer, tag, c, MPI_STATUS_IGNORE);
    add_into(r->shadow, got, r->count, fb);
    free(got);
    break;
  }
  case K_RECV: {
    void *mine = copy_of(r->shadow, r->count, fb);
    zero(r->shadow, r->count, fb);
    int tag = r->tag;
    MPI_Comm c = channel(r->comm, &tag);
    MPI_Send(mine, r->count, r->type, r->peer, tag, c);
    free(mine);
    break;
  }
  case K_ISEND: case K_IRECV:
    if (!r->wanted)
      fatal("the reverse of an MPI_Isend/MPI_Irecv whose request no MPI_Wait/MPI_Waitall of differentiated code "
            "completed");
    if (!r->scratch) start_now(r);
    MPI_Wait(&r->back, MPI_STATUS_IGNORE);
    if (r->kind == K_ISEND) add_into(r->shadow, r->scratch, r->count, fb);
    break;
  case K_WAIT: case K_WAITALL:
    qsort(r->parts, (size_t)r->n, sizeof(record *), later_first);
    for (int i = 0; i < r->n; i++)
      if (r->parts[i]) r->parts[i]->wanted = 1;
    for (int i = 0; i < r->n; i++)
      if (r->parts[i]) start_channel(r->parts[i]);
    break;
  case K_SENDRECV: {
    void *mine = copy_of(r->shadow2, r->count2, fb);
    zero(r->shadow2, r->count2, fb);
    void *got = xcalloc((size_t)(r->count > 0 ? r->count : 1), (size_t)fb);
    int to_tag = r->tag2, from_tag = r->tag;
    MPI_Comm c = channel(r->comm, &to_tag);
    channel(r->comm, &from_tag);
    MPI_Sendrecv(mine, r->count2, r->type2, r->peer2, to_tag, got, r->count, r->type, r->peer, from_tag, c,
                 MPI_STATUS_IGNORE);
    if (r->peer != MPI_PROC_NULL) add_into(r->shadow, got, r->count, fb);
    free(mine);
    free(got);
    break;
  }
  case K_BCAST: {
    void *mine = copy_of(r->shadow, r->count, fb);
    if (r->rank == r->root) {
      MPI_Reduce(MPI_IN_PLACE, mine, r->count, r->type, MPI_SUM, r->root, r->comm);
      if (r->shadow) memcpy(r->shadow, mine, (size_t)r->count * fb);
    } else {
      MPI_Reduce(mine, NULL, r->count, r->type, MPI_SUM, r->root, r->comm);
      zero(r->shadow, r->count, fb);
    }
    free(mine);
    break;
  }
  case K_REDUCE: case K_ALLREDUCE:
    reverse_reduction(r);
    break;
  case K_BARRIER:
    MPI_Barrier(r->comm);
    break;
  default:
    reverse_blocks(r);
  }
  release(r);
}

/* --- forward mode ------------------------------------------------------------------------------------
 * Each helper makes the call, then the same call on the tangents (zeros where a buffer has none;
 * what is received for a buffer without one is dropped); point-to-point tangents travel on the
 * derivative channel. */

/* a buffer for a tangent: the tangent itself, or scratch (zeros) to be freed */
static void *tangent_or_scratch(void *t, int n, int fbytes, void **scratch) {
  if (t) return t;
  return *scratch = xcalloc((size_t)(n > 0 ? n : 1), (size_t)fbytes);
}

void adcc_mpi_send_fwd(const void *buf, const void *t, int count, MPI_Datatype type, int dest, int tag,
                       MPI_Comm comm) {
  MPI_Send(buf, count, type, dest, tag, comm);
  int fb = float_bytes(type);
  if (!fb) return;
  void *scratch = NULL;
  MPI_Comm c = channel(comm, &tag);
  MPI_Send(tangent_or_scratch((void *)t, count, fb, &scratch), count, type, dest, tag, c);
  free(scratch);
}

void adcc_mpi_recv_fwd(void *buf, void *t, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
                       MPI_Status *status) {
  MPI_Status own;
  if (status == MPI_STATUS_IGNORE) status = &own;
  if (float_bytes(type)) check_wildcards(source, tag, comm);
  MPI_Recv(buf, count, type, source, tag, comm, status);
  int fb = float_bytes(type);
  if (!fb || source == MPI_PROC_NULL) return;
  int got, from_tag = status->MPI_TAG;
  MPI_Get_count(status, type, &got);
  void *scratch = NULL;
  MPI_Comm c = channel(comm, &from_tag);
  MPI_Recv(tangent_or_scratch(t, got, fb, &scratch), got, type, status->MPI_SOURCE, from_tag, c, MPI_STATUS_IGNORE);
  free(scratch);
}

void adcc_mpi_isend_fwd(const void *buf, const void *t, int count, MPI_Datatype type, int dest, int tag,
                        MPI_Comm comm, MPI_Request *request) {
  MPI_Isend(buf, count, type, dest, tag, comm, request);
  int fb = float_bytes(type);
  if (!fb || dest == MPI_PROC_NULL) return;
  record *r = new_record(K_ISEND, fb, comm);
  r->handle = *request;
  MPI_Comm c = channel(comm, &tag);
  MPI_Isend(tangent_or_scratch((void *)t, count, fb, &r->scratch), count, type, dest, tag, c, &r->back);
  remember(r);
}

void adcc_mpi_irecv_fwd(void *buf, void *t, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm,
                        MPI_Request *request) {
  MPI_Irecv(buf, count, type, source, tag, comm, request);
  int fb = float_bytes(type);
  if (!fb || source == MPI_PROC_NULL) return;
  if (source == MPI_ANY_SOURCE || tag == MPI_ANY_TAG)
    fatal("forward mode of an MPI_Irecv from MPI_ANY_SOURCE or with MPI_ANY_TAG");
  record *r = new_record(K_IRECV, fb, comm);
  r->handle = *request;
  MPI_Comm c = channel(comm, &tag);
  MPI_Irecv(tangent_or_scratch(t, count, fb, &r->scratch), count, type, source, tag, c, &r->back);
  remember(r);
}

void adcc_mpi_wait_fwd(MPI_Request *request, MPI_Status *status) {
  record *r = take(*request);
  MPI_Wait(request, status);
  if (r) {
    MPI_Wait(&r->back, MPI_STATUS_IGNORE);
    release(r);
  }
}

void adcc_mpi_waitall_fwd(int n, MPI_Request *requests, MPI_Status *statuses) {
  record **parts = xcalloc((size_t)(n > 0 ? n : 1), sizeof(record *));
  for (int i = 0; i < n; i++) parts[i] = take(requests[i]);
  MPI_Waitall(n, requests, statuses);
  for (int i = 0; i < n; i++)
    if (parts[i]) {
      MPI_Wait(&parts[i]->back, MPI_STATUS_IGNORE);
      release(parts[i]);
    }
  free(parts);
}

void adcc_mpi_sendrecv_fwd(const void *sbuf, const void *st, int scount, MPI_Datatype stype, int dest, int stag,
                           void *rbuf, void *rt, int rcount, MPI_Datatype rtype, int source, int rtag, MPI_Comm comm,
                           MPI_Status *status) {
  MPI_Status own;
  if (status == MPI_STATUS_IGNORE) status = &own;
  if (float_bytes(rtype)) check_wildcards(source, rtag, comm);
  MPI_Sendrecv(sbuf, scount, stype, dest, stag, rbuf, rcount, rtype, source, rtag, comm, status);
  int fs = float_bytes(stype), fr = float_bytes(rtype), got = 0;
  if (!fs && !fr) return;
  int from = MPI_PROC_NULL, ftag = 0;
  if (fr && source != MPI_PROC_NULL) {
    from = status->MPI_SOURCE, ftag = status->MPI_TAG;
    MPI_Get_count(status, rtype, &got);
  }
  void *s1 = NULL, *s2 = NULL;
  MPI_Comm c = channel(comm, &stag);
  channel(comm, &ftag);
  MPI_Sendrecv(fs ? tangent_or_scratch((void *)st, scount, fs, &s1) : NULL, fs ? scount : 0, stype,
               fs ? dest : MPI_PROC_NULL, stag, fr ? tangent_or_scratch(rt, got, fr, &s2) : NULL, got, rtype, from,
               ftag, c, MPI_STATUS_IGNORE);
  free(s1);
  free(s2);
}

void adcc_mpi_bcast_fwd(void *buf, void *t, int count, MPI_Datatype type, int root, MPI_Comm comm) {
  MPI_Bcast(buf, count, type, root, comm);
  int fb = float_bytes(type);
  if (!fb) return;
  void *scratch = NULL;
  MPI_Bcast(tangent_or_scratch(t, count, fb, &scratch), count, type, root, comm);
  free(scratch);
}

static void reduction_fwd(int all, const void *sbuf, const void *st, void *rbuf, void *rt, int count,
                          MPI_Datatype type, MPI_Op op, int root, MPI_Comm comm) {
  int fb = float_bytes(type), code = op_code(op), rank;
  MPI_Comm_rank(comm, &rank);
  int in_place = sbuf == MPI_IN_PLACE, result_side = all || rank == root;
  if (!fb || code < 0) {
    if (all) MPI_Allreduce(sbuf, rbuf, count, type, op, comm);
    else MPI_Reduce(sbuf, rbuf, count, type, op, root, comm);
    return;
  }
  /* my tangent contribution (for min/max: where I won) */
  void *mine = copy_of(in_place ? rt : st, count, fb);
  if (code == 0) {
    if (all) MPI_Allreduce(sbuf, rbuf, count, type, op, comm);
    else MPI_Reduce(sbuf, rbuf, count, type, op, root, comm);
  } else {
    void *values = copy_of(in_place ? rbuf : sbuf, count, fb), *result = xcalloc((size_t)(count > 0 ? count : 1), (size_t)fb);
    int *winners = reduce_with_winners(values, result, count, fb, code, root, comm, 1, rank);
    if (result_side) memcpy(rbuf, result, (size_t)count * fb);
    for (int i = 0; i < count; i++)
      if (winners[i] != rank) zero(element(mine, i, fb), 1, fb);
    free(values), free(result), free(winners);
  }
  void *sum = xcalloc((size_t)(count > 0 ? count : 1), (size_t)fb);
  if (all) MPI_Allreduce(mine, sum, count, type, MPI_SUM, comm);
  else MPI_Reduce(mine, sum, count, type, MPI_SUM, root, comm);
  if (result_side && rt) memcpy(rt, sum, (size_t)count * fb);
  free(mine), free(sum);
}

void adcc_mpi_reduce_fwd(const void *sbuf, const void *st, void *rbuf, void *rt, int count, MPI_Datatype type,
                         MPI_Op op, int root, MPI_Comm comm) {
  reduction_fwd(0, sbuf, st, rbuf, rt, count, type, op, root, comm);
}

void adcc_mpi_allreduce_fwd(const void *sbuf, const void *st, void *rbuf, void *rt, int count, MPI_Datatype type,
                            MPI_Op op, MPI_Comm comm) {
  reduction_fwd(1, sbuf, st, rbuf, rt, count, type, op, 0, comm);
}

/* the tangent buffer standing for a primal one: MPI_IN_PLACE stays in place; a missing tangent is
 * zeros (`n` elements of `fb` bytes; n < 0: the buffer is not significant here) */
static void *tangent_for(const void *primal, void *t, int64_t n, int fb, void **scratch) {
  if (primal == MPI_IN_PLACE) return MPI_IN_PLACE;
  if (t || n < 0) return t;
  return *scratch = xcalloc((size_t)(n > 0 ? n : 1), (size_t)fb);
}

static int64_t extent_of(const int *counts, const int *displs, int size) {
  int64_t e = 0;
  for (int k = 0; k < size; k++)
    if ((int64_t)displs[k] + counts[k] > e) e = (int64_t)displs[k] + counts[k];
  return e;
}

void adcc_mpi_gather_fwd(const void *sbuf, const void *st, int scount, MPI_Datatype stype, void *rbuf, void *rt,
                         int rcount, MPI_Datatype rtype, int root, MPI_Comm comm) {
  MPI_Gather(sbuf, scount, stype, rbuf, rcount, rtype, root, comm);
  int rank, size;
  MPI_Comm_rank(comm, &rank), MPI_Comm_size(comm, &size);
  int fb = rooted_bytes(stype, rtype, rank, root, sbuf == MPI_IN_PLACE);
  if (!fb) return;
  void *s1 = NULL, *s2 = NULL;
  MPI_Gather(tangent_for(sbuf, (void *)st, scount, fb, &s1), scount, stype,
             tangent_for(rbuf, rt, rank == root ? (int64_t)rcount * size : -1, fb, &s2), rcount, rtype, root, comm);
  free(s1), free(s2);
}

void adcc_mpi_gatherv_fwd(const void *sbuf, const void *st, int scount, MPI_Datatype stype, void *rbuf, void *rt,
                          const int *rcounts, const int *displs, MPI_Datatype rtype, int root, MPI_Comm comm) {
  MPI_Gatherv(sbuf, scount, stype, rbuf, rcounts, displs, rtype, root, comm);
  int rank, size;
  MPI_Comm_rank(comm, &rank), MPI_Comm_size(comm, &size);
  int fb = rooted_bytes(stype, rtype, rank, root, sbuf == MPI_IN_PLACE);
  if (!fb) return;
  void *s1 = NULL, *s2 = NULL;
  MPI_Gatherv(tangent_for(sbuf, (void *)st, scount, fb, &s1), scount, stype,
              tangent_for(rbuf, rt, rank == root ? extent_of(rcounts, displs, size) : -1, fb, &s2), rcounts, displs,
              rtype, root, comm);
  free(s1), free(s2);
}

void adcc_mpi_scatter_fwd(const void *sbuf, const void *st, int scount, MPI_Datatype stype, void *rbuf, void *rt,
                          int rcount, MPI_Datatype rtype, int root, MPI_Comm comm) {
  MPI_Scatter(sbuf, scount, stype, rbuf, rcount, rtype, root, comm);
  int rank, size;
  MPI_Comm_rank(comm, &rank), MPI_Comm_size(comm, &size);
  int fb = rooted_bytes(rtype, stype, rank, root, rbuf == MPI_IN_PLACE);
  if (!fb) return;
  void *s1 = NULL, *s2 = NULL;
  MPI_Scatter(tangent_for(sbuf, (void *)st, rank == root ? (int64_t)scount * size : -1, fb, &s1), scount, stype,
              tangent_for(rbuf, rt, rcount, fb, &s2), rcount, rtype, root, comm);
  free(s1), free(s2);
}

void adcc_mpi_scatterv_fwd(const void *sbuf, const void *st, const int *scounts, const int *displs,
                           MPI_Datatype stype, void *rbuf, void *rt, int rcount, MPI_Datatype rtype, int root,
                           MPI_Comm comm) {
  MPI_Scatterv(sbuf, scounts, displs, stype, rbuf, rcount, rtype, root, comm);
  int rank, size;
  MPI_Comm_rank(comm, &rank), MPI_Comm_size(comm, &size);
  int fb = rooted_bytes(rtype, stype, rank, root, rbuf == MPI_IN_PLACE);
  if (!fb) return;
  void *s1 = NULL, *s2 = NULL;
  MPI_Scatterv(tangent_for(sbuf, (void *)st, rank == root ? extent_of(scounts, displs, size) : -1, fb, &s1), scounts,
               displs, stype, tangent_for(rbuf, rt, rcount, fb, &s2), rcount, rtype, root, comm);
  free(s1), free(s2);
}

void adcc_mpi_allgather_fwd(const void *sbuf, const void *st, int scount, MPI_Datatype stype, void *rbuf, void *rt,
                            int rcount, MPI_Datatype rtype, MPI_Comm comm) {
  MPI_Allgather(sbuf, scount, stype, rbuf, rcount, rtype, comm);
  int size, fb = float_bytes(rtype);
  MPI_Comm_size(comm, &size);
  if (!fb) return;
  void *s1 = NULL, *s2 = NULL;
  MPI_Allgather(tangent_for(sbuf, (void *)st, scount, fb, &s1), scount, stype,
                tangent_for(rbuf, rt, (int64_t)rcount * size, fb, &s2), rcount, rtype, comm);
  free(s1), free(s2);
}

void adcc_mpi_barrier_fwd(MPI_Comm comm) { MPI_Barrier(comm); }
