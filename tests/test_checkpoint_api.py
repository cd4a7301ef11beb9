"""Enzyme's checkpointing interface: <enzyme/checkpoint.h> and `__enzyme_checkpoint_for`
(adcc.ad.rules.checkpoint_api, runtime/adcc_checkpoint.c).

The schedules are replayed on a model of the driver (every turn from the state before its step,
every step reversed once, last first; Revolve's forward steps the optimum of a dynamic program);
gradients through the checkpointed loop equal the plain loop's for each scheme, number of steps and
of snapshots, with the state after the gradient the forward pass's, at -O0 and -O2; forward mode,
primal code and reverse over forward mode run the plain loop; what adcc does not support is a
located error.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from driver_helpers import ADCC, ADCXX, REPO, assert_clean_error, run

INCLUDE = REPO / "adcc" / "include"

SCHEDULES = r"""
#include <enzyme/checkpoint.h>
#include <stdio.h>
#include <stdlib.h>

static int fails;
#define EXPECT(c, ...) do { if (!(c)) { printf(__VA_ARGS__); printf("\n"); if (++fails > 30) exit(1); } } while (0)

/* Least forward steps to reverse l steps from a stored state with c more slots: advance m,
 * store, reverse the last l - m steps, then the first m from the same state. */
static long long memo[130][12];
static long long optimum(int l, int c) {
  if (l <= 1) return 0;
  if (c == 0) return (long long)l * (l - 1) / 2;
  if (memo[l][c]) return memo[l][c] - 1;
  long long best = -1;
  for (int m = 1; m < l; m++) {
    long long v = m + optimum(l - m, c - 1) + optimum(m, c);
    if (best < 0 || v < best) best = v;
  }
  memo[l][c] = best + 1;
  return best;
}

/* The driver, without the steps: which state it holds, which state each slot holds. */
static void replay(const char *name, const EnzymeCheckpointScheme *vt, int n, int budget, int revolve,
                   int periodic) {
  EnzymeCkptStats st;
  EnzymeCkptConfig config = {budget, 0, NULL, 0, &st};
  void *s = vt->init(&config, n, 0);
  long long held = 0, slot[256], next = n, starts[64];
  int nstarts = 0, forward_sweep = 1;
  for (int k = 0; k < 256; k++) slot[k] = -1;
  for (;;) {
    EnzymeCkptAction a;
    vt->next_action(s, &a);
    if (a.flag == ENZYME_CKPT_DONE) break;
    if (a.flag == ENZYME_CKPT_STORE) {
      EXPECT(a.iteration == held && a.cpnum >= 0 && a.cpnum < 256, "%s n=%d b=%d: store of %lld at %lld", name, n,
             budget, (long long)a.iteration, held);
      slot[a.cpnum] = held;
      if (forward_sweep && nstarts < 64) starts[nstarts++] = held;
    } else if (a.flag == ENZYME_CKPT_RESTORE) {
      EXPECT(slot[a.cpnum] == a.iteration, "%s n=%d b=%d: restore of slot %lld", name, n, budget,
             (long long)a.cpnum);
      held = slot[a.cpnum];
    } else if (a.flag == ENZYME_CKPT_FORWARD) {
      EXPECT(a.startiteration == held && a.iteration > held, "%s n=%d b=%d: forward from %lld at %lld", name, n,
             budget, (long long)a.startiteration, held);
      held = a.iteration;
    } else if (a.flag == ENZYME_CKPT_FIRSTUTURN || a.flag == ENZYME_CKPT_UTURN) {
      EXPECT(a.iteration == next && held == next - 1, "%s n=%d b=%d: turn at %lld, state %lld, expected %lld",
             name, n, budget, (long long)a.iteration, held, next);
      EXPECT((a.flag == ENZYME_CKPT_FIRSTUTURN) == (next == n), "%s n=%d b=%d: first turn", name, n, budget);
      forward_sweep = 0;
      next--;
      held = -1; /* the step's derivative moved the state on */
    } else {
      EXPECT(0, "%s n=%d b=%d: action %d", name, n, budget, (int)a.flag);
      break;
    }
  }
  vt->finalize(s);
  EXPECT(next == 0, "%s n=%d b=%d: %lld steps not reversed", name, n, budget, next);
  EXPECT(st.taped_steps == n, "%s n=%d b=%d: %lld taped steps", name, n, budget, (long long)st.taped_steps);
  if (revolve && n > 0) {
    int slots = budget < n ? budget : n;
    EXPECT(st.max_slots <= budget, "%s n=%d b=%d: %lld slots", name, n, budget, (long long)st.max_slots);
    EXPECT(st.forward_steps == optimum(n, slots - 1), "%s n=%d b=%d: %lld forward steps, optimum %lld", name, n,
           budget, (long long)st.forward_steps, optimum(n, slots - 1));
  }
  if (periodic && n > 0) {
    EnzymeCkptPeriodicSplit sp = enzyme_ckpt_periodic_split(n, budget);
    for (int k = 0; k + 1 < enzyme_ckpt_periodic_segments(sp) && k < nstarts; k++)
      EXPECT(starts[k] == enzyme_ckpt_periodic_start(sp, k), "%s n=%d b=%d: segment %d starts at %lld", name, n,
             budget, k, starts[k]);
  }
}

/* StoreAll over a while loop: a store before each step until the loop ends after n steps, then
 * the reverse of each step from its own snapshot. */
static void replay_while(int n) {
  EnzymeCkptStats st;
  EnzymeCkptConfig config = {1, 0, NULL, 0, &st};
  void *s = EnzymeCkptStoreAll.init(&config, -1, 0);
  long long held = 0, slot[256], next = n;
  for (int k = 0; k < 256; k++) slot[k] = -1;
  while (held < n) {
    EnzymeCkptAction a;
    EnzymeCkptStoreAll.next_action(s, &a);
    EXPECT(a.flag == ENZYME_CKPT_STORE && a.iteration == held, "while n=%d: store %lld", n, held);
    slot[a.cpnum] = held;
    EnzymeCkptStoreAll.next_action(s, &a);
    EXPECT(a.flag == ENZYME_CKPT_FORWARD && a.startiteration == held && a.iteration == held + 1, "while forward");
    held++;
  }
  EnzymeCkptStoreAll.set_nsteps(s, n);
  for (;;) {
    EnzymeCkptAction a;
    EnzymeCkptStoreAll.next_action(s, &a);
    if (a.flag == ENZYME_CKPT_DONE) break;
    if (a.flag == ENZYME_CKPT_RESTORE) {
      held = slot[a.cpnum];
      EXPECT(held == a.iteration, "while n=%d: restore", n);
    } else {
      EXPECT((a.flag == ENZYME_CKPT_FIRSTUTURN) == (next == n) && a.iteration == next && held == next - 1,
             "while n=%d: turn at %lld", n, (long long)a.iteration);
      next--;
    }
  }
  EnzymeCkptStoreAll.finalize(s);
  EXPECT(next == 0 && st.taped_steps == n, "while n=%d: %lld steps left", n, next);
}

int main(void) {
  for (int n = 1; n < 40; n++) replay_while(n);
  EXPECT(enzyme_ckpt_isqrt(0) == 0 && enzyme_ckpt_isqrt(48) == 6 && enzyme_ckpt_isqrt(49) == 7 &&
         enzyme_ckpt_isqrt(INT64_MAX) == 3037000499LL, "isqrt");
  EXPECT(enzyme_ckpt_binomial_progress(10, 3) == 4 && enzyme_ckpt_binomial_progress(1, 4) == 1 &&
         enzyme_ckpt_binomial_progress(9, 1) == 9 && enzyme_ckpt_binomial_progress(0, 2) == 0, "binomial progress");
  for (int n = 1; n < 200; n++)
    for (int s = 1; s < 9; s++) {
      long long p = enzyme_ckpt_binomial_progress(n, s);
      EXPECT(p >= 1 && p <= n && (s == 1 || n == 1 || p <= n - (s - 1) || p == 1), "progress(%d, %d) = %lld", n, s, p);
    }
  EXPECT(enzyme_ckpt_binomial_slots(100, 0) == 10 && enzyme_ckpt_binomial_slots(3, 0) == 2 &&
         enzyme_ckpt_binomial_slots(3, 8) == 3 && enzyme_ckpt_binomial_slots(0, 4) == 1, "binomial slots");
  EXPECT(enzyme_ckpt_schedule_from_name("regular", 7) == ENZYME_CKPT_SCHEDULE_PERIODIC &&
         enzyme_ckpt_schedule_from_name("store_all!", 9) == ENZYME_CKPT_SCHEDULE_STORE_ALL &&
         enzyme_ckpt_schedule_from_name("binomial", 8) == ENZYME_CKPT_SCHEDULE_BINOMIAL &&
         enzyme_ckpt_schedule_from_name("revolve", 7) == ENZYME_CKPT_SCHEDULE_REVOLVE &&
         enzyme_ckpt_schedule_from_name("none", 4) == ENZYME_CKPT_SCHEDULE_NONE &&
         enzyme_ckpt_schedule_from_name("periodi", 7) == -1 && enzyme_ckpt_schedule_from_name("nonex", 5) == -1 &&
         enzyme_ckpt_schedule_from_name("", 0) == -1, "schedule names");
  EnzymeCkptPeriodicSplit sp = enzyme_ckpt_periodic_split(37, 3);
  EXPECT(sp.inner == 13 && sp.outer == 2 && sp.trailing == 11 && enzyme_ckpt_periodic_segments(sp) == 3 &&
         enzyme_ckpt_periodic_start(sp, 2) == 26 && enzyme_ckpt_periodic_length(sp, 2) == 11, "split(37, 3)");
  sp = enzyme_ckpt_periodic_split(50, 0);
  EXPECT(sp.inner == 7 && sp.outer == 7 && sp.trailing == 1, "split(50, default)");
  for (int n = 0; n <= 120; n++)
    for (int b = 0; b <= 9; b++) {
      if (b > 0) replay("revolve", &EnzymeCkptRevolve, n, b, 1, 0);
      replay("binomial", &EnzymeCkptBinomial, n, b, 0, 0);
      replay("periodic", &EnzymeCkptPeriodic, n, b, 0, 1);
      if (b == 0) replay("store_all", &EnzymeCkptStoreAll, n, b, 0, 0);
    }
  if (fails) return 1;
  printf("ok\n");
  return 0;
}
"""


def test_schedules_replay_on_a_model_of_the_driver(tmp_path):
    """The reference schemes and the schedule arithmetic: plain C against the header."""
    (tmp_path / "sched.c").write_text(SCHEDULES)
    r = run(["clang-22", "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE}", "sched.c", "-o", "sched"],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run([tmp_path / "sched"], timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout


DRIVERLESS = r"""
#define ENZYME_CHECKPOINT_RUNTIME
#include <enzyme/checkpoint.h>
#include <stdio.h>
/* The schedule without a driver: the caller keeps the slots; every tag, step count and budget. */
int main(void) {
  int bad = 0;
  for (int tag = ENZYME_CKPT_SCHEDULE_PERIODIC; tag <= ENZYME_CKPT_SCHEDULE_BINOMIAL; tag++)
    for (int n = 0; n < 50; n++)
      for (int budget = 0; budget < 6; budget++) {
        void *h = __enzyme_ckpt_schedule_begin(tag, budget, n);
        long long slots = __enzyme_ckpt_schedule_slots(h), held = 0, next = n, slot[64];
        int32_t f;
        while ((f = __enzyme_ckpt_schedule_next(h)) != ENZYME_CKPT_DONE) {
          long long k = __enzyme_ckpt_schedule_slot(h);
          if (f == ENZYME_CKPT_STORE) {
            bad += k < 0 || k >= slots || k >= 64 || __enzyme_ckpt_schedule_iteration(h) != held;
            if (k >= 0 && k < 64) slot[k] = held;
          } else if (f == ENZYME_CKPT_RESTORE) {
            held = slot[k];
          } else if (f == ENZYME_CKPT_FORWARD) {
            bad += __enzyme_ckpt_schedule_start(h) != held;
            held = __enzyme_ckpt_schedule_iteration(h);
          } else {
            bad += __enzyme_ckpt_schedule_flag(h) != f || __enzyme_ckpt_schedule_iteration(h) != next || held != next - 1;
            next--;
          }
        }
        bad += next != 0 || (tag == ENZYME_CKPT_SCHEDULE_REVOLVE && n > 0 && slots > (budget > 0 ? budget : n));
        __enzyme_ckpt_schedule_end(h);
      }
  printf(bad ? "bad %d\n" : "ok\n", bad);
  return bad != 0;
}
"""


def test_schedule_without_a_driver(tmp_path):
    (tmp_path / "driverless.c").write_text(DRIVERLESS)
    r = run(["clang-22", "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE}", "driverless.c", "-o", "dl"],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run([tmp_path / "dl"], timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout


LAYOUT = r"""
#include <enzyme/checkpoint.h>
#include <stddef.h>
#include "adcc_checkpoint.c"
#define SAME(a, b, f) _Static_assert(offsetof(a, f) == offsetof(b, f), #f);
_Static_assert(sizeof(EnzymeCkptRegion) == sizeof(region), "region");
SAME(EnzymeCkptRegion, region, ptr) SAME(EnzymeCkptRegion, region, bytes) SAME(EnzymeCkptRegion, region, addrspace)
SAME(EnzymeCkptRegion, region, flags) SAME(EnzymeCkptRegion, region, shadow)
SAME(EnzymeCkptRegion, region, callbacks)
_Static_assert(sizeof(EnzymeCkptAction) == sizeof(action), "action");
SAME(EnzymeCkptAction, action, flag) SAME(EnzymeCkptAction, action, iteration)
SAME(EnzymeCkptAction, action, startiteration) SAME(EnzymeCkptAction, action, cpnum)
_Static_assert(sizeof(EnzymeCheckpointScheme) == sizeof(scheme), "scheme");
SAME(EnzymeCheckpointScheme, scheme, init) SAME(EnzymeCheckpointScheme, scheme, next_action)
SAME(EnzymeCheckpointScheme, scheme, store) SAME(EnzymeCheckpointScheme, scheme, restore)
SAME(EnzymeCheckpointScheme, scheme, finalize) SAME(EnzymeCheckpointScheme, scheme, save_state)
SAME(EnzymeCheckpointScheme, scheme, load_state)
_Static_assert(STORE == ENZYME_CKPT_STORE && RESTORE == ENZYME_CKPT_RESTORE && FORWARD == ENZYME_CKPT_FORWARD &&
               FIRSTUTURN == ENZYME_CKPT_FIRSTUTURN && UTURN == ENZYME_CKPT_UTURN && DONE == ENZYME_CKPT_DONE,
               "actions");
"""


def test_runtime_mirrors_the_header_layouts(tmp_path):
    (tmp_path / "layout.c").write_text(LAYOUT)
    r = run(["clang-22", "-std=c11", "-fsyntax-only", f"-I{INCLUDE}", f"-I{REPO / 'runtime'}", "layout.c"],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr


# --- gradients ------------------------------------------------------------------------------------

# A heat-like time loop whose state is an argument and a global (written by every step), with a
# coefficient passed by value; each gradient in a child process (the global's shadow keeps what
# earlier gradients put in it).
GRADIENTS = r"""
#define _GNU_SOURCE
#include <enzyme/checkpoint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define M 5
double __enzyme_autodiff(void *, ...);
double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const, enzyme_out;

static double heat[M];
static const double weight[M] = {1.0, 0.5, 0.25, 2.0, 1.5};

__attribute__((noinline)) static void step(long i, double *v, double nu) {
  double next[M];
  for (int k = 0; k < M; k++) {
    double left = v[(k + M - 1) % M], right = v[(k + 1) % M];
    next[k] = v[k] + nu * (left - 2 * v[k] + right) + 0.02 * cos(heat[k] + 0.05 * (double)i);
  }
  for (int k = 0; k < M; k++) {
    heat[k] = 0.7 * heat[k] + 0.3 * next[k] * v[k];
    v[k] = next[k];
  }
}

static double objective(const double *v) {
  double s = 0;
  for (int k = 0; k < M; k++) s += weight[k] * v[k] * v[k] + heat[k];
  return s;
}

static double plain(double *v, double nu, long n) {
  for (long i = 0; i < n; i++) step(i, v, nu);
  return objective(v);
}

static double checkpointed(double *v, double nu, long n, const EnzymeCheckpointScheme *scheme,
                           EnzymeCkptConfig *config) {
  __enzyme_checkpoint_for((void *)step, 0, n, enzyme_scheme, scheme, config, enzyme_checkpoint_region, v,
                          (int64_t)sizeof(double[M]), v, nu);
  return objective(v);
}

static void start(double *v) {
  for (int k = 0; k < M; k++) { v[k] = 0.3 + 0.4 * sin(1.0 + k); heat[k] = 0.1 * k; }
}

typedef struct { double dv[M], dnu, v[M], heat[M], value; EnzymeCkptStats stats; } Result;

static Result gradient(long n, const EnzymeCheckpointScheme *scheme, long snaps) {
  Result r;
  int fd[2];
  if (pipe(fd) != 0) _exit(2);
  if (fork() == 0) {
    double v[M];
    EnzymeCkptConfig config = {snaps, 0, NULL, 0, &r.stats};
    memset(&r, 0, sizeof r);
    start(v);
    r.value = scheme ? checkpointed(v, 0.15, n, scheme, &config) : plain(v, 0.15, n);
    start(v);
    if (scheme)
      r.dnu = __enzyme_autodiff((void *)checkpointed, enzyme_dup, v, r.dv, enzyme_out, 0.15, enzyme_const, n,
                                enzyme_const, scheme, enzyme_const, &config);
    else
      r.dnu = __enzyme_autodiff((void *)plain, enzyme_dup, v, r.dv, enzyme_out, 0.15, enzyme_const, n);
    memcpy(r.v, v, sizeof v);
    memcpy(r.heat, heat, sizeof heat);
    if (write(fd[1], &r, sizeof r) != sizeof r) _exit(2);
    _exit(0);
  }
  close(fd[1]);
  if (read(fd[0], &r, sizeof r) != sizeof r) _exit(3);
  close(fd[0]);
  wait(NULL);
  return r;
}

int main(void) {
  const EnzymeCheckpointScheme *schemes[] = {&EnzymeCkptRevolve, &EnzymeCkptBinomial, &EnzymeCkptPeriodic,
                                             &EnzymeCkptStoreAll};
  const char *names[] = {"revolve", "binomial", "periodic", "store_all"};
  long steps[] = {0, 1, 2, 7, 20, 100};
  long snaps[] = {1, 2, 3, 5};
  int fails = 0, checked = 0;
  for (unsigned a = 0; a < 6; a++) {
    long n = steps[a];
    Result want = gradient(n, NULL, 0);
    for (unsigned s = 0; s < 4; s++)
      for (unsigned b = 0; b < 4; b++) {
        Result got = gradient(n, schemes[s], snaps[b]);
        int bad = got.value != want.value || memcmp(got.v, want.v, sizeof got.v) ||
                  memcmp(got.heat, want.heat, sizeof got.heat) || got.stats.taped_steps != n ||
                  fabs(got.dnu - want.dnu) > 1e-12 * fabs(want.dnu) || (s == 0 && got.stats.max_slots > snaps[b]);
        for (int k = 0; k < M; k++) bad |= !(fabs(got.dv[k] - want.dv[k]) <= 1e-12 * fabs(want.dv[k]));
        if (bad && fails++ < 10)
          printf("%s n=%ld snaps=%ld: dv[0] %.17g (want %.17g) dnu %.17g (want %.17g) taped %lld slots %lld\n",
                 names[s], n, snaps[b], got.dv[0], want.dv[0], got.dnu, want.dnu,
                 (long long)got.stats.taped_steps, (long long)got.stats.max_slots);
        checked += want.dnu != 0 || n == 0;
      }
  }
  if (fails) return printf("%d failures\n", fails), 1;
  printf("ok %d\n", checked);
  return 0;
}
"""


def _build_and_run(tmp_path: Path, name: str, source: str, opt: str, *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / f"{name}.c").write_text(source)
    r = run([ADCC, opt, *extra, f"{name}.c", "-o", name, "-lm"], cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    return run([tmp_path / name], timeout=300)


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_gradient_equals_the_plain_loop(tmp_path, opt):
    r = _build_and_run(tmp_path, "grad", GRADIENTS, opt)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout
    assert r.stdout.split() == ["ok", str(6 * 16)]  # every case compared, with a nonzero adjoint of nu


# Forward mode (and its vector mode), primal code, reverse over forward, a local state array, and a
# loop checkpointed inside a checkpointed loop's step.
MODES = r"""
#include <enzyme/checkpoint.h>
#include <math.h>
#include <stdio.h>

double __enzyme_autodiff(void *, ...);
double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const, enzyme_width;

__attribute__((noinline)) static void step(int i, double *q, float gain) {
  double a = q[0], b = q[1];
  q[0] = a + 0.1 * gain * sin(b) + 0.001 * i;
  q[1] = b - 0.2 * a * b;
}

static double plain(double x, int n) {
  double q[2] = {x, 1.0 - x};
  for (int i = 0; i < n; i++) step(i, q, 1.5f);
  return q[0] * q[1];
}

static double ckpt(double x, int n) {
  double q[2] = {x, 1.0 - x};  /* on the differentiated function's stack */
  EnzymeCkptConfig config = {2, 0, NULL, 0, NULL};
  __enzyme_checkpoint_for((void *)step, 0, n, enzyme_scheme, &EnzymeCkptRevolve, &config,
                          enzyme_checkpoint_region, q, sizeof q, q, 1.5f);
  return q[0] * q[1];
}

typedef struct { int inner; EnzymeCkptConfig *config; } Inner;

__attribute__((noinline)) static void segment(long k, double *q, Inner *in) {
  __enzyme_checkpoint_for((void *)step, k * in->inner, in->inner, enzyme_scheme, &EnzymeCkptPeriodic, in->config,
                          enzyme_checkpoint_region, q, (int64_t)(2 * sizeof(double)), q, 1.5f);
}

static double nested(double x, int outer, int inner) {
  double q[2] = {x, 1.0 - x};
  EnzymeCkptConfig oc = {2, 0, NULL, 0, NULL}, ic = {2, 0, NULL, 0, NULL};
  Inner in = {inner, &ic};
  __enzyme_checkpoint_for((void *)segment, 0, outer, enzyme_scheme, &EnzymeCkptBinomial, &oc,
                          enzyme_checkpoint_region, q, sizeof q, q, &in);
  return q[0] * q[1];
}

__attribute__((noinline)) static double tangent_plain(double x, int n) {
  return __enzyme_fwddiff((void *)plain, x, 1.0, enzyme_const, n);
}
__attribute__((noinline)) static double tangent_ckpt(double x, int n) {
  return __enzyme_fwddiff((void *)ckpt, x, 1.0, enzyme_const, n);
}

static int close_to(double a, double b) { return fabs(a - b) <= 1e-11 * (fabs(b) + 1e-300); }

/* forward vector mode: two tangents at once */
static void both_plain(double *x, double *out, int n) { *out = plain(*x, n); }
static void both_ckpt(double *x, double *out, int n) { *out = ckpt(*x, n); }
static int vector_mode(int n) {
  double x = 0.35, dx0 = 1.0, dx1 = -2.0, out, d0 = 0, d1 = 0, y = 0.35, dy0 = 1.0, dy1 = -2.0, outc, e0 = 0, e1 = 0;
  __enzyme_fwddiff((void *)both_plain, enzyme_width, 2, enzyme_dup, &x, &dx0, &dx1, enzyme_dup, &out, &d0, &d1,
                   enzyme_const, n);
  __enzyme_fwddiff((void *)both_ckpt, enzyme_width, 2, enzyme_dup, &y, &dy0, &dy1, enzyme_dup, &outc, &e0, &e1,
                   enzyme_const, n);
  return out == outc && close_to(e0, d0) && close_to(e1, d1) && (n == 0 || d1 != 0);
}

int main(void) {
  int fails = 0;
  for (int n = 0; n <= 13; n++) {
    double x = 0.35;
    double value = plain(x, n), g = __enzyme_autodiff((void *)plain, x, enzyme_const, n);
    double t = tangent_plain(x, n);
    double second = __enzyme_autodiff((void *)tangent_plain, x, enzyme_const, n);
    if (ckpt(x, n) != value) fails++, printf("n=%d primal\n", n);
    if (!close_to(__enzyme_autodiff((void *)ckpt, x, enzyme_const, n), g)) fails++, printf("n=%d reverse\n", n);
    if (!close_to(tangent_ckpt(x, n), t)) fails++, printf("n=%d forward\n", n);
    if (!vector_mode(n)) fails++, printf("n=%d forward vector mode\n", n);
    if (!close_to(__enzyme_autodiff((void *)tangent_ckpt, x, enzyme_const, n), second))
      fails++, printf("n=%d reverse over forward\n", n);
    if (n > 0 && n % 3 == 0 && !close_to(__enzyme_autodiff((void *)nested, x, enzyme_const, n / 3, 3), g))
      fails++, printf("n=%d nested\n", n);
    if (n > 0 && n % 3 == 0 && nested(x, n / 3, 3) != value) fails++, printf("n=%d nested primal\n", n);
  }
  if (fails) return 1;
  printf("ok\n");
  return 0;
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_forward_primal_higher_order_and_nested(tmp_path, opt):
    r = _build_and_run(tmp_path, "modes", MODES, opt)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout


def test_verbose_config_reports_the_schedule(tmp_path):
    src = GRADIENTS.split("int main(void)")[0] + r"""
int main(void) {
  double v[M], dv[M] = {0};
  EnzymeCkptStats stats;
  EnzymeCkptConfig config = {3, 1, NULL, 0, &stats};
  start(v);
  __enzyme_autodiff((void *)checkpointed, enzyme_dup, v, dv, enzyme_const, 0.15, enzyme_const, 10L,
                    enzyme_const, &EnzymeCkptRevolve, enzyme_const, &config);
  printf("%lld %lld %lld\n", (long long)stats.taped_steps, (long long)stats.forward_steps, (long long)stats.max_slots);
  return 0;
}
"""
    r = _build_and_run(tmp_path, "verbose", src, "-O1")
    assert r.returncode == 0, r.stderr
    taped, forward, slots = map(int, r.stdout.split())
    assert (taped, slots) == (10, 3)
    assert f"enzyme checkpoint: {forward} forward steps, 10 taped steps" in r.stderr


# A while loop: its step says whether to go on.
WHILE = r"""
#define _GNU_SOURCE
#include <enzyme/checkpoint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

double __enzyme_autodiff(void *, ...);
double __enzyme_fwddiff(void *, ...);
extern int enzyme_dup, enzyme_const;

static int calls;  /* a global the step writes: in every snapshot */

__attribute__((noinline)) static int grow(long i, double *s, const double *cap) {
  double a = s[0], b = s[1];
  s[0] = a + 0.3 * sin(b) + 0.05;
  s[1] = b * (1.0 + 0.01 * a) + 0.001 * (double)(i + calls);
  calls = (calls * 5 + 1) % 7;
  return s[0] < *cap;
}

static double plain(double *s, const double *cap) {
  long i = 0;
  while (grow(i++, s, cap));
  return s[0] * s[1];
}

static double ckpt(double *s, const double *cap, EnzymeCkptConfig *config) {
  __enzyme_checkpoint_while((void *)grow, enzyme_scheme, &EnzymeCkptStoreAll, config, enzyme_checkpoint_region, s,
                            (int64_t)(2 * sizeof(double)), s, cap);
  return s[0] * s[1];
}

typedef struct { double ds[2], s[2], value, tangent; long taped; int calls; } Result;

static Result run(double cap, int checkpointed) {
  Result r;
  int fd[2];
  if (pipe(fd) != 0) _exit(2);
  if (fork() == 0) {
    double s[2] = {0.2, 0.9}, t[2] = {1.0, -0.5};
    EnzymeCkptStats stats = {0};
    EnzymeCkptConfig config = {1, 0, NULL, 0, &stats};
    memset(&r, 0, sizeof r);
    calls = 0;
    r.value = checkpointed ? ckpt(s, &cap, &config) : plain(s, &cap);
    s[0] = 0.2, s[1] = 0.9, calls = 0;
    r.tangent = checkpointed ? __enzyme_fwddiff((void *)ckpt, enzyme_dup, s, t, enzyme_const, &cap, enzyme_const,
                                                &config)
                             : __enzyme_fwddiff((void *)plain, enzyme_dup, s, t, enzyme_const, &cap);
    s[0] = 0.2, s[1] = 0.9, calls = 0;
    if (checkpointed)
      __enzyme_autodiff((void *)ckpt, enzyme_dup, s, r.ds, enzyme_const, &cap, enzyme_const, &config);
    else
      __enzyme_autodiff((void *)plain, enzyme_dup, s, r.ds, enzyme_const, &cap);
    memcpy(r.s, s, sizeof s);
    r.taped = stats.taped_steps;
    r.calls = calls;
    if (write(fd[1], &r, sizeof r) != sizeof r) _exit(2);
    _exit(0);
  }
  close(fd[1]);
  if (read(fd[0], &r, sizeof r) != sizeof r) _exit(3);
  wait(NULL);
  return r;
}

int main(void) {
  double caps[] = {0.1, 0.6, 1.5, 4.0};
  int fails = 0;
  for (int c = 0; c < 4; c++) {
    Result want = run(caps[c], 0), got = run(caps[c], 1);
    int bad = got.value != want.value || memcmp(got.s, want.s, sizeof got.s) || got.calls != want.calls ||
              fabs(got.tangent - want.tangent) > 1e-12 * fabs(want.tangent) || got.taped < 1;
    for (int k = 0; k < 2; k++) bad |= !(fabs(got.ds[k] - want.ds[k]) <= 1e-12 * fabs(want.ds[k]));
    if (bad) fails++, printf("cap %g: ds %.17g %.17g (want %.17g %.17g), %ld steps\n", caps[c], got.ds[0], got.ds[1],
                             want.ds[0], want.ds[1], got.taped);
  }
  if (fails) return 1;
  printf("ok\n");
  return 0;
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_while_loop(tmp_path, opt):
    r = _build_and_run(tmp_path, "while", WHILE, opt)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout


# A scheme of the program's own (its own vtable and storage): every k-th state kept, each step
# reversed by a replay from the last kept state before it.
OWN_SCHEME = r"""
#include <enzyme/checkpoint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double __enzyme_autodiff(void *, ...);
extern int enzyme_dup, enzyme_const;

typedef struct {
  long n, k, pos, next, phase;   /* phase 0: forward sweep, 1: reverse */
  char *slots;                    /* slot s at (s + 2) * bytes: the driver's -2 and -1 first */
  unsigned long bytes;
  long stores, turns, calls_after_done;
  int done;
} Every;

static void *every_init(void *data, int64_t n, uint64_t bytes) {
  Every *e = calloc(1, sizeof *e);
  e->n = n;
  e->k = *(long *)data;
  e->bytes = bytes;
  e->slots = calloc((size_t)(n / e->k + 3), bytes ? bytes : 1);
  e->next = n - 1;
  return e;
}

/* the forward sweep stores every k-th state and stops before the last step; then, for each step
 * j from the second last down, restore the kept state before it, replay to j, turn */
static void every_next(void *state, EnzymeCkptAction *a) {
  Every *e = state;
  a->cpnum = 0;
  if (e->n == 0 || e->done) {
    a->flag = ENZYME_CKPT_DONE;
    e->done = 1;
    return;
  }
  if (e->phase == 0) {
    if (e->pos % e->k == 0 && e->pos < e->n - 1 && e->stores * e->k == e->pos) {
      a->flag = ENZYME_CKPT_STORE, a->iteration = a->startiteration = e->pos, a->cpnum = e->pos / e->k;
      e->stores++;
    } else if (e->pos < e->n - 1) {
      long to = (e->pos / e->k + 1) * e->k;
      if (to > e->n - 1) to = e->n - 1;
      a->flag = ENZYME_CKPT_FORWARD, a->startiteration = e->pos, a->iteration = to;
      e->pos = to;
    } else {
      a->flag = ENZYME_CKPT_FIRSTUTURN, a->iteration = e->n, a->startiteration = e->n - 1;
      e->phase = 1;
      e->turns++;
      e->pos = -1;
    }
    return;
  }
  if (e->next == 0) {
    a->flag = ENZYME_CKPT_DONE;
    e->done = 1;
    return;
  }
  long j = e->next - 1, kept = j / e->k * e->k;
  if (e->pos != j && e->pos != kept) {
    a->flag = ENZYME_CKPT_RESTORE, a->iteration = a->startiteration = kept, a->cpnum = kept / e->k;
    e->pos = kept;
  } else if (e->pos < j) {
    a->flag = ENZYME_CKPT_FORWARD, a->startiteration = e->pos, a->iteration = j;
    e->pos = j;
  } else {
    a->flag = ENZYME_CKPT_UTURN, a->iteration = j + 1, a->startiteration = j;
    e->next = j;
    e->turns++;
    e->pos = -1;
  }
}

static void every_store(void *state, int64_t slot, int64_t step, const EnzymeCkptRegion *r, uint64_t nr) {
  Every *e = state;
  char *at = e->slots + (slot + 2) * e->bytes;
  (void)step;
  for (uint64_t i = 0; i < nr; i++) memcpy(at, r[i].ptr, r[i].bytes), at += r[i].bytes;
}

static void every_restore(void *state, int64_t slot, int64_t step, const EnzymeCkptRegion *r, uint64_t nr) {
  Every *e = state;
  const char *at = e->slots + (slot + 2) * e->bytes;
  (void)step;
  for (uint64_t i = 0; i < nr; i++) memcpy(r[i].ptr, at, r[i].bytes), at += r[i].bytes;
}

static long turns_seen;
static void every_finalize(void *state) {
  Every *e = state;
  turns_seen = e->turns;
  free(e->slots);
  free(e);
}

static const EnzymeCheckpointScheme every = {ENZYME_CKPT_ABI_VERSION, every_init, every_next, every_store,
                                             every_restore, NULL, every_finalize, NULL, NULL, NULL};

__attribute__((noinline)) static void step(long i, double *x) {
  double a = x[0], b = x[1], c = x[2];
  x[0] = a + 0.1 * b * c;
  x[1] = b - 0.05 * sin(a + 0.1 * i);
  x[2] = c * (1.0 - 0.01 * a);
}
static double plain(double *x, long n) { for (long i = 0; i < n; i++) step(i, x); return x[0] * x[1] + x[2]; }
static double own(double *x, long n, long *k) {
  __enzyme_checkpoint_for((void *)step, 0, n, enzyme_scheme, &every, k, enzyme_checkpoint_region, x,
                          (int64_t)(3 * sizeof(double)), x);
  return x[0] * x[1] + x[2];
}

int main(void) {
  int fails = 0;
  for (long n = 0; n <= 17; n++)
    for (long k = 1; k <= 5; k++) {
      double x[3] = {0.4, 0.9, 1.3}, dx[3] = {0}, y[3] = {0.4, 0.9, 1.3}, dy[3] = {0};
      __enzyme_autodiff((void *)plain, enzyme_dup, x, dx, enzyme_const, n);
      turns_seen = -1;
      __enzyme_autodiff((void *)own, enzyme_dup, y, dy, enzyme_const, n, enzyme_const, &k);
      int bad = memcmp(x, y, sizeof x) != 0 || turns_seen != n;
      for (int c = 0; c < 3; c++) bad |= !(fabs(dx[c] - dy[c]) <= 1e-13 * fabs(dx[c]));
      if (bad) fails++, printf("n=%ld k=%ld: dx %.17g, want %.17g; %ld turns\n", n, k, dy[0], dx[0], turns_seen);
    }
  if (fails) return 1;
  printf("ok\n");
  return 0;
}
"""


def test_a_scheme_of_the_programs_own(tmp_path):
    r = _build_and_run(tmp_path, "own", OWN_SCHEME, "-O1")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


SPLIT_AND_CXX = r"""
#include <enzyme/checkpoint.h>
#include <cmath>
#include <cstdio>
extern "C" double __enzyme_autodiff(void *, ...);
extern "C" void *__enzyme_augmentfwd(void *, ...);
extern "C" void __enzyme_reverse(void *, ...);
extern int enzyme_dup, enzyme_const;

struct State { double a[3]; };
__attribute__((noinline)) static void step(int64_t i, State *s, double c) {
  for (int k = 0; k < 3; k++) s->a[k] = std::sin(s->a[(k + 1) % 3]) * c + 0.01 * (double)i;
}
template <bool checkpointed> void run(State *s, double *out, long n) {
  if (checkpointed) {
    static EnzymeCkptConfig config = {2, 0, nullptr, 0, nullptr};
    __enzyme_checkpoint_for((void *)step, 0, n, enzyme_scheme, &EnzymeCkptBinomial, &config,
                            enzyme_checkpoint_region, s, (int64_t)sizeof(State), s, 0.7);
  } else {
    for (long i = 0; i < n; i++) step(i, s, 0.7);
  }
  *out = s->a[0] + s->a[1] * s->a[2];
}
int main() {
  int fails = 0;
  for (long n = 0; n < 12; n += 3) {
    State s = {{0.1, 0.2, 0.3}}, ds = {}, t = {{0.1, 0.2, 0.3}}, dt = {};
    double out, dout = 1, out2, dout2 = 1;
    __enzyme_autodiff((void *)run<false>, enzyme_dup, &s, &ds, enzyme_dup, &out, &dout, enzyme_const, n);
    void *tape = __enzyme_augmentfwd((void *)run<true>, enzyme_dup, &t, &dt, enzyme_dup, &out2, &dout2,
                                     enzyme_const, n);
    __enzyme_reverse((void *)run<true>, enzyme_dup, &t, &dt, enzyme_dup, &out2, &dout2, enzyme_const, n, tape);
    for (int k = 0; k < 3; k++)
      if (!(std::fabs(ds.a[k] - dt.a[k]) <= 1e-12 * std::fabs(ds.a[k])) || s.a[k] != t.a[k] || out != out2)
        fails++, std::printf("n=%ld k=%d: %.17g, expected %.17g\n", n, k, dt.a[k], ds.a[k]);
  }
  if (fails) return 1;
  std::printf("ok\n");
  return 0;
}
"""


def test_split_mode_in_cxx(tmp_path):
    """C++ (the header's extern "C" declarations), a function template, and split mode: the forward
    sweep in __enzyme_augmentfwd, the reverse sweep in __enzyme_reverse."""
    (tmp_path / "split.cpp").write_text(SPLIT_AND_CXX)
    r = run([ADCXX, "-O2", "split.cpp", "-o", "split"], cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    r = run([tmp_path / "split"], timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout


# --- errors --------------------------------------------------------------------------------------

ERROR_PRELUDE = """#include <enzyme/checkpoint.h>
double __enzyme_autodiff(void *, ...);
double __enzyme_fwddiff(void *, ...);
extern int enzyme_width, enzyme_dup, enzyme_const;
static void step(long i, double *u) { u[0] = u[0] * u[0] + (double)i; }
static EnzymeCkptConfig config = {2, 0, 0, 0, 0};
"""


@pytest.mark.parametrize("body, hint", [
    ("double f(double *u) {\n  __enzyme_checkpoint_for((void *)step, 0, 4, enzyme_checkpoint_region, u, 8L, u);\n"
     "  return u[0];\n}\n", "names no scheme"),
    ("double f(double *u) {\n  __enzyme_checkpoint_for((void *)step, 0, 4, enzyme_scheme, &EnzymeCkptRevolve, "
     "&config, u, u);\n  return u[0];\n}\n", "must take the step index"),
    ("static void (*volatile fp)(long, double *) = step; double f(double *u) {\n"
     "  __enzyme_checkpoint_for((void *)fp, 0, 4, enzyme_scheme, "
     "&EnzymeCkptRevolve, &config, u);\n  return u[0];\n}\n", "must be a function defined in this file"),
    ("int enzyme_dupv; double f(double *u) {\n  __enzyme_checkpoint_for((void *)step, 0, 4, enzyme_dupv, "
     "&EnzymeCkptRevolve, &config, u);\n  return u[0];\n}\n", "marker 'enzyme_dupv'"),
])
def test_malformed_calls_are_located_errors(tmp_path, body, hint):
    src = ERROR_PRELUDE + body + "double g(double *u, double *du) { return __enzyme_autodiff((void *)f, u, du); }\n"
    (tmp_path / "bad.c").write_text(src)
    r = run([ADCC, "-O1", "-c", "bad.c", "-o", "bad.o"], cwd=tmp_path, timeout=120)
    assert_clean_error(r)
    assert "bad.c:8:" in r.stderr and hint in r.stderr, r.stderr


def test_reverse_vector_mode_is_refused(tmp_path):
    src = ERROR_PRELUDE + """void f(double *u) {
  __enzyme_checkpoint_for((void *)step, 0, 4, enzyme_scheme, &EnzymeCkptRevolve, &config,
                          enzyme_checkpoint_region, u, 8L, u);
}
void g(double *u, double *du) { __enzyme_autodiff((void *)f, enzyme_width, 2, u, du, du + 1); }
"""
    (tmp_path / "v.c").write_text(src)
    r = run([ADCC, "-O1", "-c", "v.c", "-o", "v.o"], cwd=tmp_path, timeout=120)
    assert_clean_error(r)
    assert "v.c:11:" in r.stderr and "enzyme_width 2 in reverse mode" in r.stderr and \
        "checkpointed loop" in r.stderr, r.stderr


def test_forward_over_reverse_is_refused(tmp_path):
    src = ERROR_PRELUDE + """double f(double *u) {
  __enzyme_checkpoint_for((void *)step, 0, 4, enzyme_scheme, &EnzymeCkptRevolve, &config,
                          enzyme_checkpoint_region, u, 8L, u);
  return u[0];
}
__attribute__((noinline)) void g(double *u, double *du) { __enzyme_autodiff((void *)f, u, du); }
void h(double *u, double *v, double *du, double *dv) { __enzyme_fwddiff((void *)g, u, v, du, dv); }
"""
    (tmp_path / "fr.c").write_text(src)
    r = run([ADCC, "-O1", "-c", "fr.c", "-o", "fr.o"], cwd=tmp_path, timeout=120)
    assert_clean_error(r)
    assert "fr.c:13:" in r.stderr and "reverse sweep of __enzyme_checkpoint_for cannot be differentiated again" \
        in r.stderr, r.stderr


def test_checkpoint_markers_belong_to_checkpoint_for(tmp_path):
    src = ERROR_PRELUDE + "double f(double x) { return x * x; }\n" \
                          "double g(double x) { return __enzyme_autodiff((void *)f, enzyme_scheme, 0, 0, x); }\n"
    (tmp_path / "m.c").write_text(src)
    r = run([ADCC, "-O1", "-c", "m.c", "-o", "m.o"], cwd=tmp_path, timeout=120)
    assert_clean_error(r)
    assert "m.c:8:" in r.stderr and "belongs to __enzyme_checkpoint_for" in r.stderr, r.stderr
