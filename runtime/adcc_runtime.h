/* adcc runtime: tapes for reverse mode and shadow memory for duplicated allocations.
 * The AD code generator calls exactly these symbols (names checked by tests/test_runtime.py).
 * Tape blocks are LIFO and 16-byte aligned; heap shadows are plain heap blocks (the program may
 * free one that escapes to it), their sizes kept in the runtime's table of live shadows. */
#ifndef ADCC_RUNTIME_H
#define ADCC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct adcc_tape {
  char *base;
  int64_t top;
  int64_t cap;
} adcc_tape; /* LIFO of byte blocks, each 16-byte aligned */

void adcc_tape_init(adcc_tape *t);
void *adcc_tape_push(adcc_tape *t, int64_t nbytes); /* reserve a block (size rounded up to 16) */
void *adcc_tape_pop(adcc_tape *t, int64_t nbytes);  /* release the top block of that size; valid until next push */
void *adcc_tape_grow(adcc_tape *t, int64_t nbytes); /* slow path of push: grow geometrically, then push */
void adcc_tape_free(adcc_tape *t);
void adcc_tape_free_later(adcc_tape *t); /* its buffer released at the next adcc_free_flush */
void adcc_tape_note(int64_t bytes);       /* records the tape size after an augmented forward pass */
int64_t adcc_tape_last_bytes(void);       /* tape bytes of this thread's last gradient */
int64_t adcc_tape_peak_bytes(void);       /* largest tape of this thread so far */

void *adcc_shadow_alloc(int64_t nbytes); /* zeroed, 16-byte aligned, a plain heap block (free() releases it) */
void *adcc_shadow_calloc(int64_t count, int64_t size);
void *adcc_shadow_realloc_fwd(void *old_shadow, int64_t nbytes); /* reverse mode: new shadow, old copied then zeroed; old not freed */
void adcc_shadow_realloc_rev(void *old_shadow, void *new_shadow); /* bytes move back into old (zeroed since); frees new */
void *adcc_shadow_realloc(void *old_shadow, int64_t nbytes); /* forward mode: like realloc (a caller's shadow with realloc) */
int32_t adcc_shadow_free_if_ours(void *shadow); /* frees and returns 1 if adcc allocated it; else 0 (NULL: 0) */
void adcc_shadow_free(void *shadow); /* NULL ok */
void adcc_shadow_release(void *shadow, void (*user_free)(void *)); /* ours: adcc_shadow_free; else user_free */
int64_t adcc_shadow_live_count(void); /* heap shadows allocated and not yet released (one that escaped and
                                         the program freed counts until adcc_shadow_alloc reuses its address) */
void adcc_free_later(void *p, void (*fn)(void *)); /* fn(p) at the next adcc_free_flush below it */
int64_t adcc_free_mark(void);
void adcc_free_flush(int64_t mark);     /* run the deferred frees made since `mark`, latest first */
void *adcc_tape_grow_zeroed(adcc_tape *t, int64_t nbytes); /* grow, zeroing the new capacity (shadow tapes) */
void *adcc_tape_mirror(adcc_tape *shadow, const adcc_tape *primal, void *primal_block,
                       int32_t zeroed); /* a shadow tape follows its primal's growth (higher order) */
void *adcc_shadow_stack_alloc(int64_t nbytes);           /* zeroed, LIFO (shadows of stack objects) */
void adcc_shadow_stack_free(void *shadow, int64_t nbytes); /* must be the most recent allocation */
int64_t adcc_tape_live_bytes(void); /* heap bytes held for tapes and shadow stacks (cached buffers included) */
int64_t adcc_shadow_size(void *shadow);
/* Shadow contexts (__enzyme_context): a global that points to heap memory the program allocated
 * outside differentiated code. `note` is {block, bytes}, the last allocation stored into the global.
 * Returns the context's shadow: `shadow` when it is set and (if ours) of that size; else a zeroed
 * heap shadow of `bytes` when `primal` is that block; else `shadow`. */
void *adcc_context_heap_shadow(void *primal, void *shadow, const void *note);
void adcc_context_zero_heap(void *shadow); /* zeroes a heap shadow adcc allocated; anything else: nothing */

/* Split mode (__enzyme_augmentfwd / __enzyme_reverse). Each tape is its own object: a header,
 * then (when the most the augmented pass records is known at compile time and fits) its records;
 * otherwise the header owns a growing record buffer. Records and the tape's shadow stack belong
 * to the tape alone, so tapes may be reversed in any order and on any thread (one thread at a
 * time per tape). README, "Split mode", documents the ABI. */
#define ADCC_SPLIT_TAPE_HEADER 48 /* bytes; also the least an enzyme_allocated buffer may have */
#define ADCC_SPLIT_RECORDED 1u    /* state: holds a recording not yet reversed */
#define ADCC_SPLIT_HEAP 2u        /* state: the header was allocated by adcc_split_tape_new */

typedef struct adcc_split_tape {
  adcc_tape records; /* what the augmented pass pushes and the reverse pass pops */
  void *stack;       /* this tape's shadow stack (shadows of stack objects, objects kept alive) */
  int64_t inline_bytes; /* of a heap tape: record room allocated with the header */
  uint32_t check;    /* which augmented pass recorded it: function and activities (0: a shadow tape,
                        whose records start zeroed; higher-order AD) */
  uint32_t state;    /* ADCC_SPLIT_RECORDED | ADCC_SPLIT_HEAP */
} adcc_split_tape;

adcc_split_tape *adcc_split_tape_new(int64_t inline_bytes, uint32_t check); /* a heap tape */
void adcc_split_tape_init(void *buffer, int64_t size, int64_t inline_bytes, uint32_t check,
                          const char *where); /* a tape in the caller's buffer of `size` bytes */
void adcc_split_tape_check(adcc_split_tape *t, uint32_t check, const char *where); /* before a reverse */
void adcc_split_tape_free(void *tape); /* releases a tape: all of a heap one, what a caller's buffer owns */
void *adcc_split_enter(adcc_split_tape *t); /* t's shadow stack becomes this thread's; returns a token */
void adcc_split_leave(void *token);          /* back to the previous shadow stack */
int64_t adcc_split_tape_live_count(void);    /* split tapes recorded and not yet released */

/* Split forward mode (__enzyme_fwdsplit). A tape __enzyme_augmentfwd records for it is a replay
 * log in the tape's records: f's arguments, then every value f's call tree loads and every result
 * of a call it does not differentiate (malloc, printf, ...), in execution order. The tangent pass
 * reads them back in the same order, so it needs neither the primal memory nor a primal rerun.
 * One log is current per thread (begin/end nest); `where` names the call in errors. */
typedef struct adcc_replay_cursor {
  char *next; /* recording: where the next value goes; reading: where it is */
  char *end;  /* recording: the records' capacity; reading: their end */
} adcc_replay_cursor;
#ifdef __cplusplus
extern thread_local adcc_replay_cursor adcc_replay_at;
#else
extern _Thread_local adcc_replay_cursor adcc_replay_at; /* synthesized code's fast path writes and reads
                                                          8-byte values here while next + 8 <= end */
#endif
typedef struct adcc_replay_state {
  adcc_split_tape *tape;
  int64_t reading;
  adcc_replay_cursor at;
} adcc_replay_state;

void adcc_replay_begin(adcc_replay_state *save, adcc_split_tape *t, int32_t reading);
void adcc_replay_end(adcc_replay_state *save, const char *where); /* reading: every value was read back */
void adcc_replay_put(uint64_t bits);             /* record one value of up to 8 bytes (slow path) */
uint64_t adcc_replay_get(void);                  /* read the next value back (slow path) */
void adcc_replay_put_bytes(const void *value, int64_t nbytes); /* wider values (vectors, long double) */
void adcc_replay_get_bytes(void *value, int64_t nbytes);

/* sorting (qsort/qsort_r derivatives): sorts base like qsort and returns the permutation it applied
 * (base[i] = old base[perm[i]]); permute/unpermute apply it, or its inverse, to a shadow */
int64_t *adcc_sort_permutation(void *base, int64_t n, int64_t size, void *cmp, void *arg, int32_t with_arg);
void adcc_permute(void *mem, const int64_t *perm, int64_t n, int64_t size);
void adcc_unpermute(void *mem, const int64_t *perm, int64_t n, int64_t size);
void adcc_permutation_free(int64_t *perm);

void adcc_fatal(const char *msg); /* "adcc runtime error: msg" on stderr, then abort */

/* x rounded to nearest (ties to even) in a binary format of `exponent_bits` (2..11) and
 * `mantissa_bits` (1..52) stored fraction bits, with its subnormals and overflow to infinity;
 * the result is exact in double (Enzyme's truncation, adcc/ad/truncate.py). No libm. */
double adcc_fp_round(double x, int32_t exponent_bits, int32_t mantissa_bits);

/* OpenMP parallel regions in reverse mode (adcc/ad/rules/openmp.py): one team record per execution
 * of a region holds a tape and a shadow stack per thread number, from the augmented forward pass
 * (a team of n threads) to the reverse pass (a team of the same size; thread k resumes slot k). */
typedef struct adcc_omp_team adcc_omp_team;
adcc_omp_team *adcc_omp_team_new(void);
/* thread `tid` of `nthreads` starts running slot tid (reverse: 0 forward, 1 reverse pass); returns its tape */
adcc_tape *adcc_omp_team_enter(adcc_omp_team *team, int32_t tid, int32_t nthreads, int32_t reverse);
void adcc_omp_team_leave(adcc_omp_team *team, int32_t tid, int32_t reverse);
int32_t adcc_omp_team_size(adcc_omp_team *team); /* threads of the forward pass */
void adcc_omp_team_free(adcc_omp_team *team);
/* Critical sections run their reverse in the reverse order of the forward pass: at its exit in the
 * forward pass a thread takes a ticket (entries of `lock` before it, in the team of `tape`, a slot
 * tape); in the reverse pass it waits for its turn (every later entry's reverse done), runs the
 * reverse of the section and passes the turn on. */
int64_t adcc_omp_ticket(adcc_tape *tape, void *lock);
void adcc_omp_turn_wait(adcc_tape *tape, void *lock, int64_t ticket);
void adcc_omp_turn_pass(adcc_tape *tape, void *lock);

/* Checkpointed loops (runtime/adcc_revolve.c; adcc.ad.rules.checkpoint): a loop's steps taped while
 * its records fit the limit, else reversed from snapshots of its state (binomial schedule). */
typedef struct adcc_revolve adcc_revolve;
enum { ADCC_REVOLVE_DONE = 0, ADCC_REVOLVE_ADVANCE = 1, ADCC_REVOLVE_STEP = 2, ADCC_REVOLVE_REVERSE = 3 };
int64_t adcc_tape_limit(int64_t compiled); /* ADCC_TAPE_LIMIT, else `compiled` (> 0), else RAM / 4 */
/* at a loop's entry: would `steps` steps of `bytes_per_step` records pass the limit? (steps < 0: unknown) */
int32_t adcc_checkpoint_wanted(int64_t steps, int64_t bytes_per_step, int64_t limit);
adcc_revolve *adcc_revolve_new(int64_t state_bytes, int64_t args_bytes, int64_t limit);
void *adcc_revolve_args(adcc_revolve *rv);       /* room for the body's arguments */
adcc_tape *adcc_revolve_tape(adcc_revolve *rv);  /* the tape the steps' records go on */
void *adcc_revolve_state(adcc_revolve *rv); /* the state buffer of the reverse pass (the loop's is out of scope) */
void adcc_revolve_begin(adcc_revolve *rv, const void *state); /* snapshot of the entry state */
/* after a taped step (`more`: the loop goes on): 1 tape the next, 0 done (all taped), 2 over the
 * limit (state restored to the entry state: count the steps with adcc_revolve_counted) */
int32_t adcc_revolve_taped(adcc_revolve *rv, int32_t more, void *state);
int32_t adcc_revolve_counted(adcc_revolve *rv, int32_t more, const void *state); /* after a primal step: `more` */
/* the reverse pass's next action: DONE; ADVANCE (one primal step); STEP (the augmented step, then
 * its reverse); REVERSE (the reverse of the last taped step) */
int32_t adcc_revolve_next(adcc_revolve *rv, void *state);
void adcc_revolve_free(adcc_revolve *rv);
int64_t adcc_revolve_bound(int64_t steps, int64_t free_slots); /* recomputed steps, binomial schedule */
void adcc_revolve_last(int64_t out[4]); /* this thread's last loop: steps, snapshots, recomputed, checkpointed */

#ifdef __cplusplus
}
#endif

#endif /* ADCC_RUNTIME_H */
