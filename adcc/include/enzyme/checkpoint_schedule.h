/* adcc: the arithmetic of Enzyme's checkpointing schedules (<enzyme/checkpoint_schedule.h>).
 *
 * Plain functions with no dependencies: which schedule a name stands for, how many slots a
 * binomial schedule gets, how far it advances from a slot, and how a periodic schedule cuts the
 * loop into segments. <enzyme/checkpoint.h> builds its reference schemes on them.
 *
 * A budget is the number of checkpoints kept through the reverse sweep (the slots of a binomial
 * schedule, the segments of a periodic one). A budget of 0 or less means the default: about
 * sqrt(n) of them.
 */
#ifndef ENZYME_CHECKPOINT_SCHEDULE_H
#define ENZYME_CHECKPOINT_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* Schedule tags (the values of Enzyme's loop annotations). */
enum {
  ENZYME_CKPT_SCHEDULE_NONE = 0,
  ENZYME_CKPT_SCHEDULE_PERIODIC = 1,  /* segment starts kept, a segment replayed to reverse it */
  ENZYME_CKPT_SCHEDULE_REVOLVE = 2,   /* binomial checkpointing (Griewank and Walther) */
  ENZYME_CKPT_SCHEDULE_STORE_ALL = 3, /* the state before every step */
  ENZYME_CKPT_SCHEDULE_BINOMIAL = 4,  /* Enzyme-MLIR's binomial schedule (a stack of slots) */
};

/* What a scheme asks the driver to do next (the numbering of Checkpointing.jl's actions). */
enum {
  ENZYME_CKPT_NONE = 0,
  ENZYME_CKPT_STORE = 1,
  ENZYME_CKPT_RESTORE = 2,
  ENZYME_CKPT_FORWARD = 3,
  ENZYME_CKPT_FIRSTUTURN = 4,
  ENZYME_CKPT_UTURN = 5,
  ENZYME_CKPT_ERROR = 6,
  ENZYME_CKPT_DONE = 7
};

/* The schedule named by the `len` characters at `name` (not necessarily null-terminated):
 * "none", "periodic" or its older spelling "regular", "revolve", "store_all", "binomial".
 * -1 for anything else, prefixes and longer words included. */
static inline int64_t enzyme_ckpt_schedule_from_name(const char *name, size_t len) {
  static const char *const spellings[] = {"none", "periodic", "regular", "revolve", "store_all",
                                          "binomial"};
  static const int64_t tags[] = {ENZYME_CKPT_SCHEDULE_NONE,    ENZYME_CKPT_SCHEDULE_PERIODIC,
                                 ENZYME_CKPT_SCHEDULE_PERIODIC, ENZYME_CKPT_SCHEDULE_REVOLVE,
                                 ENZYME_CKPT_SCHEDULE_STORE_ALL, ENZYME_CKPT_SCHEDULE_BINOMIAL};
  size_t w, c;
  if (name == NULL)
    return -1;
  for (w = 0; w < sizeof(tags) / sizeof(tags[0]); w++) {
    const char *s = spellings[w];
    for (c = 0; c < len; c++)
      if (s[c] == '\0' || s[c] != name[c])
        break;
    if (c == len && s[c] == '\0')
      return tags[w];
  }
  return -1;
}

/* floor(sqrt(n)); 0 for n <= 0. */
static inline int64_t enzyme_ckpt_isqrt(int64_t n) {
  int64_t lo = 0, hi = 3037000499; /* floor(sqrt(INT64_MAX)) */
  if (n <= 0)
    return 0;
  while (lo < hi) { /* the largest r with r * r <= n */
    int64_t mid = lo + (hi - lo + 1) / 2;
    if (mid <= n / mid)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* C(a + b, b), the number of steps b sweeps reverse with a slots (Griewank's beta(a, b)),
 * saturated far above any step count. */
static inline int64_t enzyme_ckpt_beta(int64_t a, int64_t b) {
  int64_t k, r = 1;
  if (a < 0 || b < 0)
    return 0;
  for (k = 1; k <= b; k++) {
    if (r > ((int64_t)1 << 56) / (a + k))
      return (int64_t)1 << 56;
    r = r * (a + k) / k; /* C(a+k, k) from C(a+k-1, k-1): exact */
  }
  return r;
}

/* Revolve's advance from a slot with `left` steps to reverse and `s` slots (this one included):
 * with r the least number of sweeps for which beta(s, r) >= left, an advance that leaves
 * beta(s-1, r) steps behind it, but at least beta(s, r-2), makes the fewest forward steps in
 * all, r * left - beta(s+1, r-1) (Griewank and Walther). One slot advances all the way. (Also the
 * schedule of the loops adcc checkpoints by itself: runtime/adcc_revolve.c.) */
static inline int64_t adcc_ckpt_revolve_advance(int64_t left, int64_t s) {
  int64_t r = 0, m, floor_;
  if (left <= 1 || s <= 1)
    return left;
  while (enzyme_ckpt_beta(s, r) < left)
    r++;
  m = left - enzyme_ckpt_beta(s - 1, r);
  floor_ = r >= 2 ? enzyme_ckpt_beta(s, r - 2) : 1;
  if (m < floor_)
    m = floor_;
  if (m > left - 1)
    m = left - 1;
  return m < 1 ? 1 : m;
}

/* How many steps to advance from a slot with `n` steps left to reverse and `s` slots to place
 * (this one included). With t the least number of sweeps for which beta(s, t) >= n, every
 * advance in [n - beta(s-1, t), beta(s, t-1)] repeats the fewest steps; this is the middle of
 * that window, kept within [1, n-1] and leaving at least one step for each other slot. One slot
 * (or one step) advances all the way. */
static inline int64_t enzyme_ckpt_binomial_progress(int64_t n, int64_t s) {
  int64_t t = 0, low, high, mid;
  if (n <= 0)
    return 0;
  if (n == 1 || s <= 1)
    return n;
  while (enzyme_ckpt_beta(s, t) < n)
    t++;
  low = n - enzyme_ckpt_beta(s - 1, t);
  high = enzyme_ckpt_beta(s, t - 1);
  if (low < 1)
    low = 1;
  if (high > n - 1)
    high = n - 1;
  mid = (low + high) / 2;
  if (mid > n - (s - 1))
    mid = n - (s - 1);
  return mid < 1 ? 1 : mid;
}

/* The slots a binomial schedule over n steps uses for `budget` (default: sqrt(n), at least 2),
 * never more than the steps, at least 1. */
static inline int64_t enzyme_ckpt_binomial_slots(int64_t n, int64_t budget) {
  int64_t b = budget;
  if (b <= 0) {
    b = enzyme_ckpt_isqrt(n);
    if (b < 2)
      b = 2;
  }
  if (b > n)
    b = n;
  return b < 1 ? 1 : b;
}

/* A periodic schedule over n steps: `outer` segments of `inner` steps, then one segment of
 * `trailing` steps when inner does not divide n. inner is n / budget rounded up (so there are at
 * most `budget` segments), or floor(sqrt(n)) for the default budget. */
typedef struct EnzymeCkptPeriodicSplit {
  int64_t inner;
  int64_t outer;
  int64_t trailing;
} EnzymeCkptPeriodicSplit;

static inline EnzymeCkptPeriodicSplit enzyme_ckpt_periodic_split(int64_t n, int64_t budget) {
  EnzymeCkptPeriodicSplit s = {1, 0, 0};
  if (n <= 0)
    return s;
  s.inner = budget > 0 ? (n + budget - 1) / budget : enzyme_ckpt_isqrt(n);
  if (s.inner < 1)
    s.inner = 1;
  s.outer = n / s.inner;
  s.trailing = n - s.outer * s.inner;
  return s;
}

/* Segments in all, the trailing one included. */
static inline int64_t enzyme_ckpt_periodic_segments(EnzymeCkptPeriodicSplit s) {
  return s.outer + (s.trailing > 0 ? 1 : 0);
}

/* The first step of segment k. */
static inline int64_t enzyme_ckpt_periodic_start(EnzymeCkptPeriodicSplit s, int64_t k) {
  return k * s.inner;
}

/* The steps of segment k. */
static inline int64_t enzyme_ckpt_periodic_length(EnzymeCkptPeriodicSplit s, int64_t k) {
  return k < s.outer ? s.inner : s.trailing;
}

#endif /* ENZYME_CHECKPOINT_SCHEDULE_H */
