/* The checkpointing schedule of runtime/adcc_revolve.c on a loop whose state is its step count:
 * every step is reversed once, last first, from its own state; recomputation meets the binomial
 * bound. Built and run by tests/test_checkpoint.py. */
#include <stdio.h>
#include <stdlib.h>
#include "adcc_runtime.h"

static int check(int64_t n, int64_t slots, int known) {
  char env[32];
  snprintf(env, sizeof env, "%lld", (long long)slots);
  setenv("ADCC_CHECKPOINTS", env, 1);
  setenv("ADCC_TAPE_LIMIT", "1", 1); /* any record is over the limit: checkpointed */
  int64_t state = 0;
  if (known && adcc_checkpoint_wanted(n, 64, 0) != 1) return printf("wanted\n"), 1; /* a known trip count */
  adcc_revolve *rv = adcc_revolve_new(sizeof state, 8, 0);
  adcc_revolve_begin(rv, &state);
  int32_t more = 1;
  /* the first step, taped */
  adcc_tape_push(adcc_revolve_tape(rv), 64);
  state++;
  if (adcc_revolve_taped(rv, state < n, &state) != (n > 1 ? 2 : 0)) return printf("taped n=%lld\n", (long long)n), 1;
  if (n == 1) { /* done within the limit: the reverse of one taped step */
    if (adcc_revolve_next(rv, &state) != ADCC_REVOLVE_REVERSE || adcc_revolve_next(rv, &state) != ADCC_REVOLVE_DONE) return 1;
    adcc_revolve_free(rv);
    return 0;
  }
  if (state != 0) return printf("not restored\n"), 1;
  do { state++; more = state < n; } while (adcc_revolve_counted(rv, more, &state));
  int64_t expect = n - 1;
  for (;;) {
    int32_t a = adcc_revolve_next(rv, &state);
    if (a == ADCC_REVOLVE_DONE) break;
    if (a == ADCC_REVOLVE_ADVANCE) state++;
    else if (a == ADCC_REVOLVE_STEP) {
      if (state != expect) return printf("n=%lld c=%lld: step %lld from state %lld\n", (long long)n, (long long)slots, (long long)expect, (long long)state), 1;
      state++;
      expect--;
    } else return printf("action %d\n", a), 1;
  }
  if (expect != -1) return printf("n=%lld: %lld steps not reversed\n", (long long)n, (long long)expect + 1), 1;
  int64_t stats[4];
  adcc_revolve_free(rv);
  adcc_revolve_last(stats);
  int64_t c = (slots > n ? n : slots) - 1;
  /* a known trip count: the first sweep, counting, took the first snapshots (fewer steps again) */
  if (stats[0] != n || stats[3] != 1 || (known ? stats[2] > adcc_revolve_bound(n, c) : stats[2] != adcc_revolve_bound(n, c)))
    return printf("n=%lld c=%lld: %lld recomputed, bound %lld\n", (long long)n, (long long)c, (long long)stats[2],
                  (long long)adcc_revolve_bound(n, c)), 1;
  return 0;
}

int main(void) {
  int bad = 0;
  for (int64_t n = 1; n <= 300; n++)
    for (int64_t s = 1; s <= 12; s++) bad += check(n, s, 0) + check(n, s, 1);
  bad += check(100000, 30, 0) + check(1000000, 1000, 0) + check(100000, 30, 1);
  /* the bound itself: T(l, c) = min over m of m + T(l - m, c - 1) + T(m, c), by dynamic programming */
  static int64_t T[8][200];
  for (int c = 0; c < 8; c++)
    for (int l = 1; l < 200; l++) {
      if (l == 1) { T[c][l] = 0; continue; }
      if (c == 0) { T[c][l] = (int64_t)l * (l - 1) / 2; continue; }
      int64_t best = -1;
      for (int m = 1; m < l; m++) {
        int64_t t = m + T[c - 1][l - m] + T[c][m];
        if (best < 0 || t < best) best = t;
      }
      T[c][l] = best;
      if (adcc_revolve_bound(l, c) != best) bad += printf("bound l=%d c=%d: %lld, optimum %lld\n", l, c,
                                                          (long long)adcc_revolve_bound(l, c), (long long)best) > 0;
    }
  printf(bad ? "FAIL\n" : "ok\n");
  return bad != 0;
}
