/* adcc runtime: checkpointed loops (binomial "revolve" schedule) for reverse mode.
 * A loop that adcc outlined (adcc.ad.checkpoint_loops) keeps its state -- what one iteration reads
 * that an earlier one wrote -- in one buffer of `state_bytes`. The augmented pass first tapes its
 * steps as usual, on the record's own tape; when that tape would exceed the limit
 * (-fadcc-tape-limit, ADCC_TAPE_LIMIT, default a quarter of physical memory) it restores the
 * loop's entry state, runs the primal to count the steps n, and the reverse pass then reverses the
 * steps from snapshots of the state: the schedule of Griewank's binomial checkpointing, whose
 * split points make the number of recomputed steps minimal for the number of snapshots
 * (r*n - C(c+r+1, r-1) with c snapshots besides the entry state and r the least integer with
 * C(c+1+r, r) >= n), computed by the same functions as the Enzyme API's Revolve scheme
 * (<enzyme/checkpoint_schedule.h>). adcc_revolve_next tells the compiled code what to do next. */
#include "adcc_runtime.h"

#include <enzyme/checkpoint_schedule.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TAPING, FULL, COUNTING, CHECKPOINTED };

struct adcc_revolve {
  adcc_tape tape;      /* the steps' records (all of them, or one step's in the checkpointed mode) */
  int64_t state_bytes, limit, steps, mode;
  char *args;          /* the outlined body's arguments, as the augmented pass received them */
  char *work;          /* the state the reverse pass advances (the loop's own buffer is gone by then) */
  char *slots;         /* snapshots of the state: slot 0 holds the entry state */
  int64_t *pos;        /* the step each slot's snapshot was taken before */
  int64_t nslots, top, cur, end, goal;
  int32_t goal_snap, snap_pending;
  int64_t known_n; /* the trip count, when known at the loop's entry and over the limit (else 0) */
  int64_t advances, step_bytes, n;
};

static _Thread_local int64_t last_stats[4];
static _Thread_local int64_t known_too_long; /* the steps of a loop adcc_checkpoint_wanted found over the limit */

static void schedule(adcc_revolve *rv, int64_t n);
static int64_t next_snapshot(adcc_revolve *rv, int64_t at);

int32_t adcc_checkpoint_wanted(int64_t steps, int64_t bytes_per_step, int64_t limit) {
  if (steps < 0) return 1; /* unknown: the checkpointed version tapes while it can */
  int32_t over = (__int128)steps * bytes_per_step > adcc_tape_limit(limit);
  known_too_long = over ? steps : 0;
  return over;
}

adcc_revolve *adcc_revolve_new(int64_t state_bytes, int64_t args_bytes, int64_t limit) {
  adcc_revolve *rv = calloc(1, sizeof *rv);
  if (!rv) adcc_fatal("out of memory (checkpointed loop)");
  adcc_tape_init(&rv->tape);
  rv->state_bytes = state_bytes;
  rv->limit = adcc_tape_limit(limit);
  rv->args = malloc((size_t)(args_bytes > 0 ? args_bytes : 1));
  rv->slots = malloc((size_t)(state_bytes > 0 ? state_bytes : 1));
  rv->work = malloc((size_t)(state_bytes > 0 ? state_bytes : 1));
  rv->pos = calloc(1, sizeof *rv->pos);
  if (!rv->args || !rv->slots || !rv->work || !rv->pos) adcc_fatal("out of memory (checkpointed loop)");
  rv->nslots = 1;
  rv->known_n = known_too_long; /* then one step is taped, to measure its records */
  known_too_long = 0;
  return rv;
}

void *adcc_revolve_args(adcc_revolve *rv) { return rv->args; }
adcc_tape *adcc_revolve_tape(adcc_revolve *rv) { return &rv->tape; }
void *adcc_revolve_state(adcc_revolve *rv) { return rv->work; }

void adcc_revolve_begin(adcc_revolve *rv, const void *state) {
  memcpy(rv->slots, state, (size_t)rv->state_bytes);
  rv->pos[0] = 0;
}

int32_t adcc_revolve_taped(adcc_revolve *rv, int32_t more, void *state) {
  rv->steps++;
  rv->step_bytes = rv->tape.top / rv->steps + 1; /* records of one step, on average */
  if (!more) {
    rv->mode = FULL;
    rv->n = rv->steps;
    return 0;
  }
  if (!rv->known_n && rv->tape.cap + rv->state_bytes <= rv->limit) return 1;
  /* over the limit: forget the records, start again from the entry state, count the steps */
  adcc_tape_free(&rv->tape);
  memcpy(state, rv->slots, (size_t)rv->state_bytes);
  rv->mode = COUNTING;
  rv->steps = 0;
  if (rv->known_n > 0) { /* the first sweep takes its snapshots as it counts */
    schedule(rv, rv->known_n);
    rv->goal = next_snapshot(rv, 0);
  }
  return 2;
}

/* Steps to advance before the next snapshot, reversing l >= 2 steps from a snapshot with c >= 1
 * free slots: the least optimal split of Griewank's binomial schedule. */
static int64_t split(int64_t l, int64_t c) { return adcc_ckpt_revolve_advance(l, c + 1); }

int64_t adcc_revolve_bound(int64_t l, int64_t c) {
  if (l <= 1) return 0;
  if (c <= 0) return l * (l - 1) / 2;
  int64_t s = c + 1, r = 0;
  while (enzyme_ckpt_beta(s, r) < l) r++;
  return r * l - enzyme_ckpt_beta(s + 1, r - 1);
}

/* snapshots for a loop of n steps, and the reverse pass's start */
static void schedule(adcc_revolve *rv, int64_t n) {
  int64_t slots;
  const char *env = getenv("ADCC_CHECKPOINTS");
  if (env && *env) {
    slots = atoll(env);
  } else {
    int64_t room = rv->limit - 2 * rv->step_bytes; /* one step's records, in a tape that doubles */
    slots = rv->state_bytes > 0 ? room / rv->state_bytes : n;
  }
  if (slots > n) slots = n;
  if (slots < 1) slots = 1;
  if (slots > rv->nslots) {
    char *grown = realloc(rv->slots, (size_t)(slots * rv->state_bytes > 0 ? slots * rv->state_bytes : 1));
    int64_t *pos = realloc(rv->pos, (size_t)slots * sizeof *pos);
    if (!grown || !pos) adcc_fatal("out of memory (checkpoints of a loop)");
    rv->slots = grown;
    rv->pos = pos;
  }
  rv->nslots = slots;
  rv->n = n;
  rv->top = 0;
  rv->cur = -1; /* the reverse pass starts from a snapshot */
  rv->end = n;
  rv->goal = -1;
}

/* the next snapshot of the first sweep (the schedule's first descent), or -1 */
static int64_t next_snapshot(adcc_revolve *rv, int64_t at) {
  int64_t free_slots = rv->nslots - (rv->top + 1);
  return free_slots > 0 && rv->n - at > 1 ? at + split(rv->n - at, free_slots) : -1;
}

int32_t adcc_revolve_counted(adcc_revolve *rv, int32_t more, const void *state) {
  rv->steps++;
  if (more) {
    if (rv->steps == rv->goal && rv->steps < rv->n) { /* a known trip count: snapshots of the first sweep */
      rv->top++;
      rv->pos[rv->top] = rv->steps;
      memcpy(rv->slots + rv->top * rv->state_bytes, state, (size_t)rv->state_bytes);
      rv->goal = next_snapshot(rv, rv->steps);
    }
    return 1;
  }
  if (rv->known_n != rv->steps) schedule(rv, rv->steps); /* (and without snapshots beyond the entry's) */
  rv->mode = CHECKPOINTED;
  rv->cur = -1;
  rv->end = rv->n;
  rv->goal = -1;
  return 0;
}

int32_t adcc_revolve_next(adcc_revolve *rv, void *state) {
  if (rv->mode == FULL) {
    if (rv->steps == 0) return ADCC_REVOLVE_DONE;
    rv->steps--;
    return ADCC_REVOLVE_REVERSE;
  }
  if (rv->mode != CHECKPOINTED) adcc_fatal("checkpointed loop reversed before its steps were counted");
  int64_t sb = rv->state_bytes;
  if (rv->snap_pending) {
    rv->snap_pending = 0;
    rv->top++;
    rv->pos[rv->top] = rv->cur;
    memcpy(rv->slots + rv->top * sb, state, (size_t)sb);
    rv->goal = -1;
  }
  if (rv->end == 0) return ADCC_REVOLVE_DONE;
  while (rv->top > 0 && rv->pos[rv->top] >= rv->end) rv->top--;
  int64_t s = rv->pos[rv->top];
  if (rv->cur < s || rv->cur >= rv->end) {
    memcpy(state, rv->slots + rv->top * sb, (size_t)sb);
    rv->cur = s;
    rv->goal = -1;
  }
  if (rv->cur == rv->end - 1) {
    rv->end--;
    rv->cur = -1; /* the step's augmented pass moves the state on */
    rv->goal = -1;
    return ADCC_REVOLVE_STEP;
  }
  if (rv->goal <= rv->cur) {
    int64_t free_slots = rv->nslots - (rv->top + 1);
    rv->goal_snap = rv->cur == s && free_slots > 0;
    rv->goal = rv->goal_snap ? rv->cur + split(rv->end - rv->cur, free_slots) : rv->end - 1;
  }
  rv->cur++;
  rv->advances++;
  if (rv->cur == rv->goal && rv->goal_snap) rv->snap_pending = 1;
  return ADCC_REVOLVE_ADVANCE;
}

void adcc_revolve_free(adcc_revolve *rv) {
  last_stats[0] = rv->n;
  last_stats[1] = rv->mode == CHECKPOINTED ? rv->nslots : 0;
  last_stats[2] = rv->advances;
  last_stats[3] = rv->mode == CHECKPOINTED;
  const char *report = getenv("ADCC_CHECKPOINT_REPORT");
  if (report && *report && *report != '0')
    fprintf(stderr, "adcc: loop of %lld steps: %s, %lld snapshots, %lld steps recomputed (%lld bytes of "
                    "records per step, %lld of state, limit %lld)\n",
            (long long)last_stats[0], last_stats[3] ? "checkpointed" : "taped", (long long)last_stats[1],
            (long long)last_stats[2], (long long)rv->step_bytes, (long long)rv->state_bytes, (long long)rv->limit);
  adcc_tape_free(&rv->tape);
  free(rv->args);
  free(rv->slots);
  free(rv->work);
  free(rv->pos);
  free(rv);
}

void adcc_revolve_last(int64_t out[4]) { memcpy(out, last_stats, sizeof last_stats); }
