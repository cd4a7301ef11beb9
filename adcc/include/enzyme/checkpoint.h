/* adcc: Enzyme's checkpointing interface for time loops (<enzyme/checkpoint.h>).
 *
 *     __enzyme_checkpoint_for((void *)step, start, n, enzyme_scheme, &scheme, &config,
 *                             [enzyme_checkpoint_region, ptr, bytes,]... args...);
 *
 * runs `for (i = start; i < start + n; i++) step(i, args...)`. In a function differentiated in
 * reverse mode, adcc keeps no tape across steps: the forward pass runs the steps' primal and lets
 * the scheme snapshot the loop state (the marked regions and every mutable global the step's code
 * mentions); the reverse pass follows the scheme's actions, and at each turn runs one step's
 * gradient (its forward and reverse pass together), accumulating into the shadows of the regions
 * and of the arguments. Steps are counted from 0; step j is step(start + j, ...).
 *
 * The actions (flag values and EnzymeCkptAction layout as in Checkpointing.jl):
 *   STORE      the state is the one before step `iteration`: save it in slot `cpnum`.
 *   FORWARD    run steps startiteration .. iteration-1 without taping.
 *   FIRSTUTURN the state is the one before the last step (iteration-1): the forward sweep ends.
 *   UTURN      the state is the one before step iteration-1: differentiate that step.
 *   RESTORE    load slot `cpnum`, the state before step `iteration`.
 *   DONE       the schedule is over (the first action when n == 0).
 * Besides the scheme's slots (0, 1, ...) the driver stores two of its own through the same
 * store/restore: slot -2, the state before the last step (saved at FIRSTUTURN, restored to
 * differentiate that step first), and slot -1, the state the reverse sweep starts from (restored
 * at the end, so the primal state after the gradient is the forward pass's).
 *
 * Reference schemes, used as `enzyme_scheme, &EnzymeCkptRevolve, &config`:
 *   EnzymeCkptRevolve   binomial checkpointing in at most config.snapshots slots
 *   EnzymeCkptBinomial  Enzyme-MLIR's binomial schedule in config.snapshots slots
 *   EnzymeCkptPeriodic  config.snapshots segments; the steps of the segment being reversed are
 *                       all stored
 *   EnzymeCkptStoreAll  the state before every step; also for __enzyme_checkpoint_while
 * They keep their snapshots in memory (adcc ignores spill_dir and mem_budget).
 */
#ifndef ENZYME_CHECKPOINT_H
#define ENZYME_CHECKPOINT_H

#include <enzyme/checkpoint_schedule.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENZYME_CKPT_ABI_VERSION 1

typedef struct EnzymeCkptAction {
  int32_t flag;
  int64_t iteration;
  int64_t startiteration;
  int64_t cpnum;
} EnzymeCkptAction;

struct EnzymeCkptCallbacks;

/* A region whose state callbacks snapshot (adcc never makes one). */
#define ENZYME_CKPT_REGION_CALLBACK 1u

/* One piece of memory in a snapshot: `bytes` bytes at `ptr` (address space `addrspace`);
 * `shadow` is its shadow when the driver knows it, else NULL. */
typedef struct EnzymeCkptRegion {
  void *ptr;
  uint64_t bytes;
  uint32_t addrspace;
  uint32_t flags;
  void *shadow;
  const struct EnzymeCkptCallbacks *callbacks;
} EnzymeCkptRegion;

typedef struct EnzymeCkptCallbacks {
  void (*enter)(const struct EnzymeCkptCallbacks *cb, void *primal, void *shadow);
  void (*save)(const struct EnzymeCkptCallbacks *cb, void *primal, void *shadow, int64_t slot);
  void (*restore)(const struct EnzymeCkptCallbacks *cb, void *primal, void *shadow, int64_t slot);
  void (*sync)(const struct EnzymeCkptCallbacks *cb, void *primal, void *shadow);
  void (*leave)(const struct EnzymeCkptCallbacks *cb, void *primal, void *shadow);
  void *data;
} EnzymeCkptCallbacks;

/* A scheme: init returns its state (nsteps -1: a while loop; snapshot_bytes: all regions),
 * next_action fills in the next action, store/restore copy the regions into and out of a slot,
 * finalize releases the state. save_state/load_state, when set, replace store/restore: `env`
 * points at the step's arguments after i, each followed by its shadow if it has one. */
typedef struct EnzymeCheckpointScheme {
  uint32_t version;
  void *(*init)(void *data, int64_t nsteps, uint64_t snapshot_bytes);
  void (*next_action)(void *state, EnzymeCkptAction *out);
  void (*store)(void *state, int64_t slot, int64_t step, const EnzymeCkptRegion *regions,
                uint64_t nregions);
  void (*restore)(void *state, int64_t slot, int64_t step, const EnzymeCkptRegion *regions,
                  uint64_t nregions);
  void (*set_nsteps)(void *state, int64_t nsteps);
  void (*finalize)(void *state);
  void (*save_state)(void *state, int64_t slot, int64_t step, void *env);
  void (*load_state)(void *state, int64_t slot, int64_t step, void *env);
  void (*set_paths)(void *state, const int64_t *paths, uint64_t len);
} EnzymeCheckpointScheme;

extern int enzyme_scheme;
extern int enzyme_checkpoint_region;

void __enzyme_checkpoint_for(void *step, int64_t start, int64_t n, ...);
/* `int64_t i = 0; while (step(i++, args...));` with the same markers: the number of steps is
 * known when step returns 0. init gets nsteps = -1, set_nsteps the number of steps once the loop
 * has ended (EnzymeCkptStoreAll: a snapshot before every step). */
void __enzyme_checkpoint_while(void *step, ...);

typedef struct EnzymeCkptStats {
  int64_t forward_steps; /* steps run without taping */
  int64_t taped_steps;   /* steps differentiated: one per step */
  int64_t stores;        /* snapshots into the scheme's slots */
  int64_t restores;
  int64_t max_slots;     /* slots that held a snapshot */
  uint64_t max_bytes;
} EnzymeCkptStats;

typedef struct EnzymeCkptConfig {
  int64_t snapshots;     /* Revolve, Binomial: slots; Periodic: segments; <= 0: the default */
  int verbose;           /* 1: a summary on stderr at the end; 2: every action too */
  const char *spill_dir; /* (adcc keeps every snapshot in memory) */
  uint64_t mem_budget;
  EnzymeCkptStats *stats; /* filled in when the schedule ends, if not NULL */
} EnzymeCkptConfig;

/* ---- the reference schemes' shared state: a queue of actions and the slots ---------------- */

enum { ADCC_CKPT_REVOLVE, ADCC_CKPT_BINOMIAL, ADCC_CKPT_PERIODIC, ADCC_CKPT_STORE_ALL_WHILE };

typedef struct adcc_ckpt_scheme_state {
  const EnzymeCkptConfig *config;
  int kind;
  int64_t steps;
  /* pending actions, made a turn (or a segment) at a time */
  EnzymeCkptAction *queue;
  int64_t qhead, qlen, qcap;
  /* snapshots: slot k at index k + 2 (the driver's -2 and -1 first) */
  void **slot;
  int64_t nslot;
  uint64_t bytes;
  EnzymeCkptStats stats;
  /* binomial schedules: slot k holds the state before step pos[k]; slots 0..sp-1 are live;
   * `cur` steps are still to be reversed */
  int64_t slots, sp, cur;
  int64_t *pos;
  /* periodic: the segments, and the one whose reversal is queued */
  EnzymeCkptPeriodicSplit split;
  int64_t segments, segment;
  /* StoreAll over a while loop still running: the next step, and whether its STORE is due */
  int open_ended, store_due;
  int64_t at;
} adcc_ckpt_scheme_state;

static inline void adcc_ckpt_fail(const char *why) {
  fprintf(stderr, "enzyme checkpoint: %s\n", why);
  abort();
}

static inline void adcc_ckpt_push(adcc_ckpt_scheme_state *s, int32_t flag, int64_t iteration,
                                  int64_t start, int64_t cpnum) {
  EnzymeCkptAction *a;
  if (s->qlen == s->qcap) {
    s->qcap = s->qcap ? 2 * s->qcap : 32;
    s->queue = (EnzymeCkptAction *)realloc(s->queue, (size_t)s->qcap * sizeof(EnzymeCkptAction));
    if (!s->queue)
      adcc_ckpt_fail("out of memory");
  }
  a = &s->queue[s->qlen++];
  a->flag = flag;
  a->iteration = iteration;
  a->startiteration = start;
  a->cpnum = cpnum;
}

static inline adcc_ckpt_scheme_state *adcc_ckpt_new_state(void *data, int kind, int64_t nsteps,
                                                          uint64_t bytes) {
  adcc_ckpt_scheme_state *s;
  if (nsteps < 0 && kind != ADCC_CKPT_STORE_ALL_WHILE)
    adcc_ckpt_fail("this scheme needs the number of steps (a while loop needs EnzymeCkptStoreAll)");
  s = (adcc_ckpt_scheme_state *)calloc(1, sizeof(*s));
  if (!s)
    adcc_ckpt_fail("out of memory");
  s->config = (const EnzymeCkptConfig *)data;
  s->kind = kind;
  s->steps = nsteps;
  s->bytes = bytes;
  return s;
}

/* Binomial schedules. Reversing step cur-1 restores the top slot and replays to cur-1, storing
 * a slot at each position it advances from (Revolve's optimal advance, or Enzyme-MLIR's
 * enzyme_ckpt_binomial_progress, decides how far); those slots are
 * the stack from then on, and a top slot at cur-1 itself is popped once that step is reversed.
 * Revolve's forward sweep ends at the last step; Enzyme-MLIR's (Binomial) runs to it, then makes
 * its first turn as every other one, from the top slot. */
static inline int64_t adcc_ckpt_advance(const adcc_ckpt_scheme_state *s, int64_t left,
                                        int64_t free_slots) {
  if (free_slots > left)
    free_slots = left;
  return s->kind == ADCC_CKPT_REVOLVE ? adcc_ckpt_revolve_advance(left, free_slots)
                                      : enzyme_ckpt_binomial_progress(left, free_slots);
}

static inline void adcc_ckpt_binomial_turn(adcc_ckpt_scheme_state *s, int first, int restore) {
  int64_t cur = s->cur, top = s->sp - 1, q = s->pos[top], k = top;
  if (restore)
    adcc_ckpt_push(s, ENZYME_CKPT_RESTORE, q, q, top);
  while (q + 1 < cur) {
    int64_t left = cur - q, free_slots = s->slots - k, next, until;
    if (k != top)
      adcc_ckpt_push(s, ENZYME_CKPT_STORE, q, q, k);
    s->pos[k] = q;
    next = q + adcc_ckpt_advance(s, left, free_slots);
    until = next == cur ? cur - 1 : next;
    if (until > q)
      adcc_ckpt_push(s, ENZYME_CKPT_FORWARD, until, q, k);
    q = next;
    k++;
  }
  s->sp = k == top ? top : k;
  adcc_ckpt_push(s, first ? ENZYME_CKPT_FIRSTUTURN : ENZYME_CKPT_UTURN, cur, cur - 1, 0);
  s->cur--;
}

static inline void *adcc_ckpt_binomial_init(void *data, int kind, int64_t nsteps, uint64_t bytes) {
  adcc_ckpt_scheme_state *s = adcc_ckpt_new_state(data, kind, nsteps, bytes);
  int64_t k = 0, q = 0;
  s->slots = enzyme_ckpt_binomial_slots(nsteps, s->config->snapshots);
  s->pos = (int64_t *)calloc((size_t)s->slots + 1, sizeof(int64_t));
  if (nsteps == 0) {
    adcc_ckpt_push(s, ENZYME_CKPT_DONE, 0, 0, -1);
    return s;
  }
  for (; k < s->slots && q < nsteps; k++) { /* the forward sweep */
    int64_t left = nsteps - q, free_slots = s->slots - k, next, until;
    adcc_ckpt_push(s, ENZYME_CKPT_STORE, q, q, k);
    s->pos[k] = q;
    next = q + adcc_ckpt_advance(s, left, free_slots);
    until = next == nsteps ? nsteps - 1 : next;
    if (until > q)
      adcc_ckpt_push(s, ENZYME_CKPT_FORWARD, until, q, k);
    q = next;
  }
  s->sp = k;
  s->cur = nsteps;
  if (kind == ADCC_CKPT_BINOMIAL) {
    adcc_ckpt_binomial_turn(s, 1, 1);
  } else { /* Revolve: the state is before the last step already */
    if (s->pos[s->sp - 1] == nsteps - 1)
      s->sp--;
    adcc_ckpt_push(s, ENZYME_CKPT_FIRSTUTURN, nsteps, nsteps - 1, 0);
    s->cur--;
  }
  return s;
}

/* Periodic: the forward sweep stores the start of every segment but the last. Reversing a
 * segment stores the state before each of its steps as it replays them (the segment's first in
 * its own slot k, the others in slots from `segments` on, shared by all segments), turns at its
 * last step, then restores and turns at each earlier one. */
static inline int64_t adcc_ckpt_segment_start(adcc_ckpt_scheme_state *s, int64_t k) {
  return k >= s->segments ? s->steps : enzyme_ckpt_periodic_start(s->split, k);
}

static inline int64_t adcc_ckpt_segment_slot(adcc_ckpt_scheme_state *s, int64_t k, int64_t j) {
  int64_t first = adcc_ckpt_segment_start(s, k);
  return j == first ? k : s->segments + (j - first - 1);
}

static inline void adcc_ckpt_queue_segment(adcc_ckpt_scheme_state *s, int64_t k, int last) {
  int64_t a = adcc_ckpt_segment_start(s, k), e = adcc_ckpt_segment_start(s, k + 1), j;
  for (j = a; j + 1 < e; j++) {
    if (j != a || last) /* an earlier segment's start is in its slot already */
      adcc_ckpt_push(s, ENZYME_CKPT_STORE, j, j, adcc_ckpt_segment_slot(s, k, j));
    adcc_ckpt_push(s, ENZYME_CKPT_FORWARD, j + 1, j, adcc_ckpt_segment_slot(s, k, j));
  }
  adcc_ckpt_push(s, last ? ENZYME_CKPT_FIRSTUTURN : ENZYME_CKPT_UTURN, e, e - 1, 0);
  for (j = e - 2; j >= a; j--) {
    adcc_ckpt_push(s, ENZYME_CKPT_RESTORE, j, j, adcc_ckpt_segment_slot(s, k, j));
    adcc_ckpt_push(s, ENZYME_CKPT_UTURN, j + 1, j, 0);
  }
}

static inline void *adcc_ckpt_periodic_init_with(void *data, int64_t nsteps, uint64_t bytes,
                                                 int64_t budget) {
  adcc_ckpt_scheme_state *s = adcc_ckpt_new_state(data, ADCC_CKPT_PERIODIC, nsteps, bytes);
  int64_t k;
  s->split = enzyme_ckpt_periodic_split(nsteps, budget);
  s->segments = enzyme_ckpt_periodic_segments(s->split);
  if (nsteps == 0) {
    adcc_ckpt_push(s, ENZYME_CKPT_DONE, 0, 0, -1);
    return s;
  }
  for (k = 0; k + 1 < s->segments; k++) {
    int64_t a = adcc_ckpt_segment_start(s, k);
    adcc_ckpt_push(s, ENZYME_CKPT_STORE, a, a, k);
    adcc_ckpt_push(s, ENZYME_CKPT_FORWARD, adcc_ckpt_segment_start(s, k + 1), a, k);
  }
  s->segment = s->segments - 1;
  adcc_ckpt_queue_segment(s, s->segment, 1);
  return s;
}

/* ---- the scheme entry points ------------------------------------------------------------- */

static inline void adcc_ckpt_refill(adcc_ckpt_scheme_state *s) {
  s->qhead = s->qlen = 0;
  if (s->kind == ADCC_CKPT_STORE_ALL_WHILE) {
    adcc_ckpt_push(s, ENZYME_CKPT_DONE, 0, 0, -1);
  } else if (s->kind == ADCC_CKPT_PERIODIC) {
    if (s->segment <= 0 || s->steps == 0) {
      adcc_ckpt_push(s, ENZYME_CKPT_DONE, 0, 0, -1);
    } else {
      int64_t k = --s->segment, a = adcc_ckpt_segment_start(s, k);
      adcc_ckpt_push(s, ENZYME_CKPT_RESTORE, a, a, k);
      adcc_ckpt_queue_segment(s, k, 0);
    }
  } else if (s->cur == 0) {
    adcc_ckpt_push(s, ENZYME_CKPT_DONE, 0, 0, -1);
  } else {
    adcc_ckpt_binomial_turn(s, 0, 1);
  }
}

static inline const char *adcc_ckpt_action_name(int32_t flag) {
  static const char *const names[] = {"none",  "store", "restore", "forward",
                                      "firstuturn", "uturn", "error", "done"};
  return flag >= 0 && flag <= ENZYME_CKPT_DONE ? names[flag] : "error";
}

static inline void adcc_ckpt_next(void *state, EnzymeCkptAction *out) {
  adcc_ckpt_scheme_state *s = (adcc_ckpt_scheme_state *)state;
  if (s->open_ended) { /* a while loop: store before each step, one step at a time */
    out->flag = s->store_due ? ENZYME_CKPT_STORE : ENZYME_CKPT_FORWARD;
    out->startiteration = s->at;
    out->cpnum = s->at;
    out->iteration = s->store_due ? s->at : ++s->at;
    s->store_due = !s->store_due;
  } else {
    if (s->qhead == s->qlen)
      adcc_ckpt_refill(s);
    *out = s->queue[s->qhead++];
  }
  if (out->flag == ENZYME_CKPT_FORWARD)
    s->stats.forward_steps += out->iteration - out->startiteration;
  else if (out->flag == ENZYME_CKPT_FIRSTUTURN || out->flag == ENZYME_CKPT_UTURN)
    s->stats.taped_steps++;
  if (s->config->verbose > 1)
    fprintf(stderr, "enzyme checkpoint: %s iteration %lld from %lld slot %lld\n",
            adcc_ckpt_action_name(out->flag), (long long)out->iteration,
            (long long)out->startiteration, (long long)out->cpnum);
}

static inline void adcc_ckpt_store(void *state, int64_t slot, int64_t step,
                                   const EnzymeCkptRegion *regions, uint64_t nregions) {
  adcc_ckpt_scheme_state *s = (adcc_ckpt_scheme_state *)state;
  int64_t at = slot + 2;
  uint64_t r, total = 0, off = 0;
  int fresh;
  (void)step;
  if (slot < -2)
    adcc_ckpt_fail("store into a slot below -2");
  for (r = 0; r < nregions; r++) {
    if (regions[r].addrspace != 0 || (regions[r].flags & ENZYME_CKPT_REGION_CALLBACK))
      adcc_ckpt_fail("the reference schemes snapshot host memory only");
    total += regions[r].bytes;
  }
  if (at >= s->nslot) {
    int64_t n = s->nslot ? 2 * s->nslot : 8, k;
    while (n <= at)
      n *= 2;
    s->slot = (void **)realloc(s->slot, (size_t)n * sizeof(void *));
    if (!s->slot)
      adcc_ckpt_fail("out of memory");
    for (k = s->nslot; k < n; k++)
      s->slot[k] = NULL;
    s->nslot = n;
  }
  fresh = s->slot[at] == NULL;
  if (fresh && !(s->slot[at] = malloc(total ? total : 1)))
    adcc_ckpt_fail("out of memory for a snapshot");
  for (r = 0; r < nregions; r++) {
    memcpy((char *)s->slot[at] + off, regions[r].ptr, regions[r].bytes);
    off += regions[r].bytes;
  }
  if (slot < 0)
    return;
  s->stats.stores++;
  if (fresh) {
    s->stats.max_slots++;
    s->stats.max_bytes = (uint64_t)s->stats.max_slots * total;
  }
}

static inline void adcc_ckpt_restore(void *state, int64_t slot, int64_t step,
                                     const EnzymeCkptRegion *regions, uint64_t nregions) {
  adcc_ckpt_scheme_state *s = (adcc_ckpt_scheme_state *)state;
  int64_t at = slot + 2;
  uint64_t r, off = 0;
  (void)step;
  if (slot < -2 || at >= s->nslot || s->slot[at] == NULL)
    adcc_ckpt_fail("restore of a slot that holds no snapshot");
  for (r = 0; r < nregions; r++) {
    memcpy(regions[r].ptr, (char *)s->slot[at] + off, regions[r].bytes);
    off += regions[r].bytes;
  }
  if (slot >= 0)
    s->stats.restores++;
}

static inline void adcc_ckpt_finalize(void *state) {
  adcc_ckpt_scheme_state *s = (adcc_ckpt_scheme_state *)state;
  int64_t k;
  if (s->config->verbose > 0)
    fprintf(stderr,
            "enzyme checkpoint: %lld forward steps, %lld taped steps, %lld stores, %lld restores, "
            "%lld slots (%llu bytes)\n",
            (long long)s->stats.forward_steps, (long long)s->stats.taped_steps,
            (long long)s->stats.stores, (long long)s->stats.restores,
            (long long)s->stats.max_slots, (unsigned long long)s->stats.max_bytes);
  if (s->config->stats)
    *s->config->stats = s->stats;
  for (k = 0; k < s->nslot; k++)
    free(s->slot[k]);
  free(s->slot);
  free(s->queue);
  free(s->pos);
  free(s);
}

static inline void *adcc_ckpt_revolve_init(void *data, int64_t nsteps, uint64_t bytes) {
  return adcc_ckpt_binomial_init(data, ADCC_CKPT_REVOLVE, nsteps, bytes);
}

static inline void *adcc_ckpt_mlir_binomial_init(void *data, int64_t nsteps, uint64_t bytes) {
  return adcc_ckpt_binomial_init(data, ADCC_CKPT_BINOMIAL, nsteps, bytes);
}

static inline void *adcc_ckpt_periodic_init(void *data, int64_t nsteps, uint64_t bytes) {
  return adcc_ckpt_periodic_init_with(data, nsteps, bytes,
                                      ((const EnzymeCkptConfig *)data)->snapshots);
}

static inline void *adcc_ckpt_store_all_init(void *data, int64_t nsteps, uint64_t bytes) {
  adcc_ckpt_scheme_state *s;
  if (nsteps >= 0) /* one-step segments: the state before every step is stored */
    return adcc_ckpt_periodic_init_with(data, nsteps, bytes, nsteps > 0 ? nsteps : 1);
  s = adcc_ckpt_new_state(data, ADCC_CKPT_STORE_ALL_WHILE, nsteps, bytes);
  s->open_ended = s->store_due = 1;
  return s;
}

/* The while loop ended after n steps, the state before each in slot j: reverse from the last. */
static inline void adcc_ckpt_store_all_set_nsteps(void *state, int64_t n) {
  adcc_ckpt_scheme_state *s = (adcc_ckpt_scheme_state *)state;
  int64_t j;
  if (!s->open_ended || n < 1 || n > s->at)
    adcc_ckpt_fail("set_nsteps: not the number of steps of the running while loop");
  s->open_ended = 0;
  s->steps = s->cur = n;
  s->qhead = s->qlen = 0;
  adcc_ckpt_push(s, ENZYME_CKPT_RESTORE, n - 1, n - 1, n - 1);
  adcc_ckpt_push(s, ENZYME_CKPT_FIRSTUTURN, n, n - 1, 0);
  for (j = n - 2; j >= 0; j--) {
    adcc_ckpt_push(s, ENZYME_CKPT_RESTORE, j, j, j);
    adcc_ckpt_push(s, ENZYME_CKPT_UTURN, j + 1, j, 0);
  }
  adcc_ckpt_push(s, ENZYME_CKPT_DONE, 0, 0, -1);
}

#define ADCC_CKPT_SCHEME(init, set_nsteps)                                                       \
  {ENZYME_CKPT_ABI_VERSION, init, adcc_ckpt_next, adcc_ckpt_store, adcc_ckpt_restore, set_nsteps, \
   adcc_ckpt_finalize, NULL, NULL, NULL}

static const EnzymeCheckpointScheme EnzymeCkptRevolve = ADCC_CKPT_SCHEME(adcc_ckpt_revolve_init, NULL);
static const EnzymeCheckpointScheme EnzymeCkptBinomial =
    ADCC_CKPT_SCHEME(adcc_ckpt_mlir_binomial_init, NULL);
static const EnzymeCheckpointScheme EnzymeCkptPeriodic = ADCC_CKPT_SCHEME(adcc_ckpt_periodic_init, NULL);
static const EnzymeCheckpointScheme EnzymeCkptStoreAll =
    ADCC_CKPT_SCHEME(adcc_ckpt_store_all_init, adcc_ckpt_store_all_set_nsteps);

#undef ADCC_CKPT_SCHEME

/* The reference scheme of a schedule tag of checkpoint_schedule.h (PERIODIC for any other). */
__attribute__((weak, used)) const EnzymeCheckpointScheme *__enzyme_checkpoint_builtin(int64_t mode) {
  return mode == ENZYME_CKPT_SCHEDULE_REVOLVE     ? &EnzymeCkptRevolve
         : mode == ENZYME_CKPT_SCHEDULE_STORE_ALL ? &EnzymeCkptStoreAll
         : mode == ENZYME_CKPT_SCHEDULE_BINOMIAL  ? &EnzymeCkptBinomial
                                                  : &EnzymeCkptPeriodic;
}

/* A schedule without a driver, for code that keeps its snapshots itself and needs the actions:
 *
 *   void *h = __enzyme_ckpt_schedule_begin(tag, budget, nsteps);
 *   while (__enzyme_ckpt_schedule_next(h) != ENZYME_CKPT_DONE)
 *     ... __enzyme_ckpt_schedule_iteration(h), _start(h), _slot(h) ...
 *   __enzyme_ckpt_schedule_end(h);
 *
 * `tag` is a schedule of checkpoint_schedule.h, `budget` config.snapshots (<= 0: sqrt(nsteps), at
 * least 1). At STORE the caller saves its state in slot _slot(h), at RESTORE it loads it; the
 * slots are 0 .. __enzyme_ckpt_schedule_slots(h) - 1. Defined (weak) where ENZYME_CHECKPOINT_RUNTIME
 * is defined before this header; ENZYME_CKPT_VERBOSE=1 (2) in the environment prints a summary
 * (and every action). */
void *__enzyme_ckpt_schedule_begin(int64_t mode, int64_t budget, int64_t nsteps);
int32_t __enzyme_ckpt_schedule_next(void *h);
int32_t __enzyme_ckpt_schedule_flag(void *h);
int64_t __enzyme_ckpt_schedule_iteration(void *h);
int64_t __enzyme_ckpt_schedule_start(void *h);
int64_t __enzyme_ckpt_schedule_slot(void *h);
int64_t __enzyme_ckpt_schedule_slots(void *h);
void __enzyme_ckpt_schedule_end(void *h);

#ifdef ENZYME_CHECKPOINT_RUNTIME
typedef struct adcc_ckpt_schedule {
  const EnzymeCheckpointScheme *scheme;
  void *state;
  EnzymeCkptConfig config;
  EnzymeCkptStats stats;
  EnzymeCkptAction now;
  int64_t slots;
  int verbose;
} adcc_ckpt_schedule;

__attribute__((weak)) void *__enzyme_ckpt_schedule_begin(int64_t mode, int64_t budget, int64_t nsteps) {
  adcc_ckpt_schedule *h;
  const char *env = getenv("ENZYME_CKPT_VERBOSE");
  if (nsteps < 0)
    adcc_ckpt_fail("a schedule needs the number of steps");
  if (mode < ENZYME_CKPT_SCHEDULE_PERIODIC || mode > ENZYME_CKPT_SCHEDULE_BINOMIAL)
    adcc_ckpt_fail("unknown schedule");
  if (budget <= 0) {
    budget = enzyme_ckpt_isqrt(nsteps);
    if (budget < 1)
      budget = 1;
  }
  h = (adcc_ckpt_schedule *)calloc(1, sizeof(*h));
  if (!h)
    adcc_ckpt_fail("out of memory");
  h->scheme = __enzyme_checkpoint_builtin(mode);
  h->config.snapshots = budget;
  h->config.stats = &h->stats;
  h->verbose = env ? atoi(env) : 0;
  h->state = h->scheme->init(&h->config, nsteps, 0);
  if (mode == ENZYME_CKPT_SCHEDULE_PERIODIC || mode == ENZYME_CKPT_SCHEDULE_STORE_ALL) {
    adcc_ckpt_scheme_state *s = (adcc_ckpt_scheme_state *)h->state;
    int64_t longest = s->split.inner > s->split.trailing ? s->split.inner : s->split.trailing;
    h->slots = s->segments + (longest > 1 ? longest - 1 : 0); /* starts, then one segment's steps */
  } else {
    h->slots = ((adcc_ckpt_scheme_state *)h->state)->slots;
  }
  if (h->slots < 1)
    h->slots = 1;
  return h;
}

__attribute__((weak)) int32_t __enzyme_ckpt_schedule_next(void *p) {
  adcc_ckpt_schedule *h = (adcc_ckpt_schedule *)p;
  h->scheme->next_action(h->state, &h->now);
  if ((h->now.flag == ENZYME_CKPT_STORE || h->now.flag == ENZYME_CKPT_RESTORE) &&
      (h->now.cpnum < 0 || h->now.cpnum >= h->slots))
    adcc_ckpt_fail("the scheme named a slot out of range");
  if (h->verbose > 1)
    fprintf(stderr, "enzyme checkpoint: %s iteration %lld from %lld slot %lld\n",
            adcc_ckpt_action_name(h->now.flag), (long long)h->now.iteration,
            (long long)h->now.startiteration, (long long)h->now.cpnum);
  return h->now.flag;
}

__attribute__((weak)) int32_t __enzyme_ckpt_schedule_flag(void *h) {
  return ((adcc_ckpt_schedule *)h)->now.flag;
}
__attribute__((weak)) int64_t __enzyme_ckpt_schedule_iteration(void *h) {
  return ((adcc_ckpt_schedule *)h)->now.iteration;
}
__attribute__((weak)) int64_t __enzyme_ckpt_schedule_start(void *h) {
  return ((adcc_ckpt_schedule *)h)->now.startiteration;
}
__attribute__((weak)) int64_t __enzyme_ckpt_schedule_slot(void *h) {
  return ((adcc_ckpt_schedule *)h)->now.cpnum;
}
__attribute__((weak)) int64_t __enzyme_ckpt_schedule_slots(void *h) {
  return ((adcc_ckpt_schedule *)h)->slots;
}

__attribute__((weak)) void __enzyme_ckpt_schedule_end(void *p) {
  adcc_ckpt_schedule *h = (adcc_ckpt_schedule *)p;
  h->scheme->finalize(h->state);
  if (h->verbose > 0)
    fprintf(stderr, "enzyme checkpoint: %lld forward steps, %lld taped steps, %lld slots\n",
            (long long)h->stats.forward_steps, (long long)h->stats.taped_steps, (long long)h->slots);
  free(h);
}
#endif /* ENZYME_CHECKPOINT_RUNTIME */

#ifdef __cplusplus
}
#endif

#endif /* ENZYME_CHECKPOINT_H */
