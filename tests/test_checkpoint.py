"""Long loops in bounded memory (#17 item 4): a loop that touches no memory is outlined and, when
its tape would pass -fadcc-tape-limit, reversed from snapshots of its state (binomial schedule,
runtime/adcc_revolve.c). Its gradients equal the fully taped ones (1e-12) and finite differences;
the number of recomputed steps is the binomial bound; a loop that is no candidate keeps full
taping and the runtime says when a gradient's tape passed the limit."""
import re
from math import comb

import pytest

from driver_helpers import ADCC, REPO, assert_clean_error, run

PROGRAM = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
enum { M = 3, NS = 2 * M, NX = NS + 3 };

static void rhs(const double *y, const double *p, double *dy) {
  for (int i = 0; i < M; i++) {
    double l = i > 0 ? y[i - 1] : 0.0, r = i < M - 1 ? y[i + 1] : 0.0;
    dy[i] = y[M + i];
    dy[M + i] = -p[0] * p[0] * sin(y[i]) + p[1] * (l - 2.0 * y[i] + r) - p[2] * y[M + i];
  }
}

/* RK4: the state is in local arrays (scalars after optimization) */
__attribute__((noinline)) static double rk4(const double *x, int steps) {
  double y[NS], k1[NS], k2[NS], k3[NS], k4[NS], t[NS], dt = 0.01;
  memcpy(y, x, sizeof y);
  for (int s = 0; s < steps; s++) {
    rhs(y, x + NS, k1);
    for (int i = 0; i < NS; i++) t[i] = y[i] + 0.5 * dt * k1[i];
    rhs(t, x + NS, k2);
    for (int i = 0; i < NS; i++) t[i] = y[i] + 0.5 * dt * k2[i];
    rhs(t, x + NS, k3);
    for (int i = 0; i < NS; i++) t[i] = y[i] + dt * k3[i];
    rhs(t, x + NS, k4);
    for (int i = 0; i < NS; i++) y[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
  }
  double s = 0.0;
  for (int i = 0; i < NS; i++) s += y[i] * y[i];
  return s;
}

/* Euler on a scalar oscillator with damping: a loop-invariant active scalar (the stiffness) */
__attribute__((noinline)) static double euler(const double *x, int steps) {
  double u = x[0], v = x[1], k = x[2] * x[2], c = x[3];
  for (int s = 0; s < steps; s++) {
    double a = -k * sin(u) - c * v * fabs(v) + 0.1 * cos(0.5 * u) * exp(-0.01 * v * v);
    double un = u + 0.002 * v, vn = v + 0.002 * a;
    double w = tanh(un) * 0.001;
    u = un - w * w;
    v = vn + w * atan(vn) * 0.001;
  }
  return u * u + 0.5 * v * v + u * v;
}

/* the same, until a time is reached: a trip count unknown at the loop's entry */
__attribute__((noinline)) static double until(const double *x, int steps) {
  double u = x[0], v = x[1], k = x[2] * x[2], c = x[3], t = 0.0, end = steps * 0.002;
  while (t < end) {
    double a = -k * sin(u) - c * v * fabs(v) + 0.1 * cos(0.5 * u) * exp(-0.01 * v * v);
    double un = u + 0.002 * v, vn = v + 0.002 * a;
    double w = tanh(un) * 0.001;
    u = un - w * w;
    v = vn + w * atan(vn) * 0.001;
    t += 0.002;
  }
  return u * u + 0.5 * v * v + u * v;
}

/* not a candidate: every step writes memory the caller sees */
__attribute__((noinline)) static double logged(double *x, int steps) {
  double u = x[0];
  for (int s = 0; s < steps; s++) {
    u = u + 0.01 * sin(u * x[1]);
    x[2 + s % 4] = u;
  }
  return u * u + x[2] * x[3];
}

typedef double (*fn)(double *, int);

int main(int argc, char **argv) {
  const char *which = argv[1];
  int steps = atoi(argv[2]);
  fn f = !strcmp(which, "rk4") ? (fn)rk4 : !strcmp(which, "euler") ? (fn)euler : !strcmp(which, "until") ? (fn)until
                                                                                                    : logged;
  double x[NX], g[NX] = {0};
  for (int i = 0; i < NX; i++) x[i] = 0.4 + 0.3 * sin(1.7 * i);
  double xs[NX];
  memcpy(xs, x, sizeof x);
  if (f == (fn)rk4) __enzyme_autodiff((void *)rk4, enzyme_dup, x, g, enzyme_const, steps);
  else if (f == (fn)euler) __enzyme_autodiff((void *)euler, enzyme_dup, x, g, enzyme_const, steps);
  else if (f == (fn)until) __enzyme_autodiff((void *)until, enzyme_dup, x, g, enzyme_const, steps);
  else __enzyme_autodiff((void *)logged, enzyme_dup, x, g, enzyme_const, steps);
  double err = 0.0;
  int n = f == (fn)rk4 ? NX : f == (fn)logged ? 2 : 4;
  for (int i = 0; i < n; i++) {
    double h = 1e-6 * fmax(1.0, fabs(xs[i])), a[NX], b[NX];
    memcpy(a, xs, sizeof a), memcpy(b, xs, sizeof b);
    a[i] += h, b[i] -= h;
    double fd = (f(a, steps) - f(b, steps)) / (2 * h);
    double e = fabs(fd - g[i]) / fmax(1e-3, fabs(fd));
    if (e > err) err = e;
    printf("%.17g\n", g[i]);
  }
  printf("fd %g\n", err);
  return 0;
}
"""

REPORT = re.compile(r"adcc: loop of (\d+) steps: (taped|checkpointed), (\d+) snapshots, (\d+) steps recomputed")


def bound(steps: int, free: int) -> int:
    """Recomputed steps of the binomial schedule with `free` snapshots besides the entry state."""
    if steps <= 1:
        return 0
    if free == 0:
        return steps * (steps - 1) // 2
    s, r = free + 1, 0
    while comb(s + r, s) < steps:
        r += 1
    return r * steps - (comb(s + 1 + r - 1, s + 1) if r >= 1 else 0)


def split(steps: int, free: int) -> int:
    """Steps advanced before the next snapshot (runtime/adcc_revolve.c's `split`)."""
    s, r = free + 1, 0
    while comb(s + r, s) < steps:
        r += 1
    low = comb(s + r - 2, s) if r >= 2 else 1
    return min(max(1, steps - comb(s - 1 + r, s - 1), low), steps - 1)


def first_sweep(steps: int, snapshots: int) -> int:
    """Where the first sweep's last snapshot is: a loop whose trip count is known at its entry takes
    those snapshots while it counts its steps, so the reverse pass does not advance to them again."""
    at, top = 0, 0
    while snapshots - (top + 1) > 0 and steps - at > 1:
        at, top = at + split(steps - at, snapshots - (top + 1)), top + 1
    return at


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    (d / "p.c").write_text(PROGRAM)
    out = {}
    for opt in ("-O0", "-O2"):
        for limit in ("64K", "none"):
            exe = d / f"p{opt}{limit}"
            r = run([ADCC, opt, f"-fadcc-tape-limit={limit}", "p.c", "-o", exe.name, "-lm"], cwd=d)
            assert r.returncode == 0, r.stderr
            out[opt, limit] = exe
    return out


def gradient(exe, which: str, steps: int, **env):
    r = run([exe, which, str(steps)], env={"ADCC_CHECKPOINT_REPORT": "1", **env})
    assert r.returncode == 0, r.stderr
    fd = float(r.stdout.rsplit("fd ", 1)[1])
    grad = [float(v) for v in r.stdout.split("fd ")[0].split()]
    return grad, fd, REPORT.findall(r.stderr), r.stderr


def close(a, b, tol=1e-12):
    return all(abs(x - y) <= tol * max(1.0, abs(x), abs(y)) for x, y in zip(a, b)) and len(a) == len(b)


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
@pytest.mark.parametrize("which", ["rk4", "euler", "until"])
def test_checkpointed_gradient_equals_full_taping_and_finite_differences(builds, opt, which):
    steps = 800 if which == "rk4" else 3000
    full, fd_full, reports, _ = gradient(builds[opt, "none"], which, steps)
    assert reports == [] and fd_full < 1e-6
    ck, fd, reports, _ = gradient(builds[opt, "64K"], which, steps)
    (n, mode, _, _), = reports
    assert mode == "checkpointed" and int(n) - steps in ((0, 1) if which == "until" else (0,))  # (t += dt rounds)
    assert close(ck, full), (ck, full)
    assert fd < 1e-6
    # a short loop stays within the limit: taped in full, the same gradient (a known trip count
    # chooses the loop itself at its entry; an unknown one tapes the outlined steps)
    short, _, reports, _ = gradient(builds[opt, "64K"], which, 5)
    assert [mode for _, mode, _, _ in reports] == (["taped"] if which == "until" else [])
    assert close(short, gradient(builds[opt, "none"], which, 5)[0])


@pytest.mark.parametrize("which", ["rk4", "until"])
@pytest.mark.parametrize("snapshots", [1, 2, 3, 7, 50])
def test_recomputed_steps_meet_the_binomial_bound(builds, which, snapshots):
    steps = 400
    exe = builds["-O2", "64K"]
    every, _, _, _ = gradient(exe, which, steps, ADCC_CHECKPOINTS=str(steps + 1))
    inline, _, reports, _ = gradient(exe, which, steps, ADCC_TAPE_LIMIT="1G")
    assert close(every, inline)
    ck, fd, reports, _ = gradient(exe, which, steps, ADCC_CHECKPOINTS=str(snapshots))
    (n, mode, snaps, recomputed), = reports
    n = int(n)
    assert (mode, int(snaps)) == ("checkpointed", snapshots) and n - steps in (0, 1)
    # the binomial schedule's steps, less those of the first sweep when the trip count is known
    expected = bound(n, snapshots - 1) - (first_sweep(n, snapshots) if which == "rk4" else 0)
    assert int(recomputed) == expected
    assert ck == every  # the same steps from other snapshots: bitwise the same gradient
    assert fd < 1e-6


def test_bound_formula_is_the_optimum():
    opt: dict = {}
    for c in range(0, 5):
        for n in range(1, 60):
            best = n * (n - 1) // 2 if c == 0 or n <= 1 else \
                min(m + opt[c - 1, n - m] + opt[c, m] for m in range(1, n))
            opt[c, n] = 0 if n <= 1 else best
            assert bound(n, c) == opt[c, n], (n, c)


def test_loop_that_writes_memory_keeps_full_taping_and_says_so(builds):
    exe = builds["-O2", "64K"]
    full, fd, reports, err = gradient(exe, "logged", 20000, ADCC_TAPE_LIMIT="64K")
    assert reports == []  # not checkpointed
    assert fd < 1e-6
    assert "adcc: warning: a gradient's tape took" in err and "over the tape limit" in err
    assert close(full, gradient(builds["-O2", "none"], "logged", 20000)[0])


def test_schedule_unit_test(tmp_path):
    exe = tmp_path / "test_revolve"
    r = run(["clang-22", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-Wall",
             "-Wextra", "-Werror", f"-I{REPO / 'runtime'}", f"-I{REPO / 'adcc' / 'include'}",
             REPO / "runtime" / "adcc_runtime.c",
             REPO / "runtime" / "adcc_revolve.c", REPO / "runtime" / "tests" / "test_revolve.c", "-o", exe])
    assert r.returncode == 0, r.stderr
    r = run([exe])
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout


@pytest.mark.parametrize("value", ["12Q", "0", "-5M", ""])
def test_bad_tape_limit_is_a_clean_error(tmp_path, value):
    (tmp_path / "a.c").write_text("int main(void) { return 0; }\n")
    r = run([ADCC, f"-fadcc-tape-limit={value}", "-c", "a.c"], cwd=tmp_path)
    assert_clean_error(r)
    assert "-fadcc-tape-limit" in r.stderr


HESSIAN = r"""
#include <math.h>
#include <stdio.h>
extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup, enzyme_const;
__attribute__((noinline)) static double euler(const double *x, int steps) {
  double u = x[0], v = x[1], k = x[2] * x[2], c = x[3];
  for (int s = 0; s < steps; s++) {
    double a = -k * sin(u) - c * v * fabs(v) + 0.1 * cos(0.5 * u) * exp(-0.01 * v * v);
    double un = u + 0.002 * v, vn = v + 0.002 * a, w = tanh(un) * 0.001;
    u = un - w * w;
    v = vn + w * atan(vn) * 0.001;
  }
  return u * u + 0.5 * v * v + u * v;
}
static void grad(const double *x, double *g, int steps) {
  for (int i = 0; i < 4; i++) g[i] = 0;
  __enzyme_autodiff((void *)euler, enzyme_dup, x, g, enzyme_const, steps);
}
int main(void) {
  double x[4] = {0.3, 0.2, 0.9, 0.1}, dx[4] = {1, 0.5, 0, 0}, g[4], dg[4];
  __enzyme_fwddiff((void *)grad, enzyme_dup, x, dx, enzyme_dup, g, dg, enzyme_const, 3000);
  for (int i = 0; i < 4; i++) printf("%.17g %.17g\n", g[i], dg[i]);
  return 0;
}
"""


@pytest.mark.parametrize("stage", ["optimized", "unoptimized"])
def test_higher_order_keeps_full_taping(tmp_path, stage):
    """Forward over reverse: the inner gradient is derivative code differentiated again, so its loop
    is not checkpointed (the runtime's snapshots would carry no tangents); the Hessian-vector product
    equals the one built without checkpointing."""
    (tmp_path / "h.c").write_text(HESSIAN)
    outs = []
    for limit in ("64K", "none"):
        r = run([ADCC, "-O2", f"--ad-stage={stage}", f"-fadcc-tape-limit={limit}", "h.c", "-o", f"h{limit}", "-lm"],
                cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        r = run([tmp_path / f"h{limit}"], env={"ADCC_CHECKPOINT_REPORT": "1"})
        assert r.returncode == 0 and REPORT.search(r.stderr) is None, r.stderr
        outs.append([float(v) for v in r.stdout.split()])
    assert close(*outs)


SPLIT = HESSIAN.split("static void grad")[0].replace(
    "extern double __enzyme_fwddiff(void *, ...);",
    "void *__enzyme_augmentfwd(void *, ...);\nvoid __enzyme_reverse(void *, ...);") + r"""
int main(void) {
  double x[4] = {0.3, 0.2, 0.9, 0.1}, g[4] = {0}, g2[4] = {0};
  void *tape = __enzyme_augmentfwd((void *)euler, enzyme_dup, x, g, enzyme_const, 3000);
  __enzyme_reverse((void *)euler, enzyme_dup, x, g, enzyme_const, 3000, 1.0, tape);
  __enzyme_autodiff((void *)euler, enzyme_dup, x, g2, enzyme_const, 3000);
  for (int i = 0; i < 4; i++) printf("%.17g %.17g\n", g[i], g2[i]);
  return 0;
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_split_mode_checkpoints_too(tmp_path, opt):
    """__enzyme_augmentfwd / __enzyme_reverse: the loop's record travels on the split tape."""
    (tmp_path / "s.c").write_text(SPLIT)
    r = run([ADCC, opt, "-fadcc-tape-limit=64K", "s.c", "-o", "s", "-lm"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run([tmp_path / "s"], env={"ADCC_CHECKPOINT_REPORT": "1"})
    assert r.returncode == 0, r.stderr
    assert [m.group(2) for m in REPORT.finditer(r.stderr)] == ["checkpointed", "checkpointed"]
    values = [float(v) for v in r.stdout.split()]
    assert values[0::2] == values[1::2]


@pytest.mark.slow
def test_rk4_at_ten_million_steps_in_under_a_gibibyte(tmp_path):
    """#17 item 4's target: bench/ode.c's RK4 gradient at 1e7 steps (full taping: ~10 GB of tape)
    in under 1 GiB of peak RSS, its gradient checked against finite differences by the program."""
    import json
    bench = REPO / "bench"
    r = run([ADCC, "-O2", "-fadcc-tape-limit=256M", f"-I{bench}", bench / "ode.c", "-o", "ode", "-lm"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run([tmp_path / "ode", "--only", "ode_rk4", "--size", "10000000"],
            env={"BENCH_SAMPLES": "1", "ADCC_CHECKPOINT_REPORT": "1"}, timeout=3600)
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout.strip().splitlines()[-1])
    assert row["peak_rss_bytes"] < 1 << 30 and row["max_rel_err"] < 1e-5, row
    assert "checkpointed" in r.stderr


TWO_LOOPS = r"""
#include <math.h>
#include <stdio.h>
extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
__attribute__((noinline)) static double f(const double *x, int n, int m) {
  double u = x[0], v = x[1], p = x[2];
  for (int s = 0; s < n; s++) {
    double a = -p * sin(u) + 0.1 * cos(0.5 * u) * exp(-0.01 * v * v) - 0.05 * v;
    double un = u + 0.002 * v, vn = v + 0.002 * a, w = tanh(un) * 0.001;
    u = un - w * w + 1e-4 * sin(vn * un); v = vn + w * atan(vn) * 0.001 + 1e-4 * cos(un - vn * p);
  }
  double q = u * v;
  for (int s = 0; s < m; s++) {
    double a = -q * sin(v) + 0.1 * cos(0.5 * u) * exp(-0.01 * u * u) - 0.05 * u;
    double vn = v + 0.003 * u, un = u + 0.003 * a, w = tanh(vn) * 0.001;
    v = vn - w * w + 1e-4 * sin(vn * un); u = un + w * atan(un) * 0.001 + 1e-4 * cos(un - vn * q);
  }
  return u * u + v * q;
}
int main(int argc, char **argv) {
  int n = 2000, m = 1500;
  double x[3] = {0.3, 0.2, 0.9}, g[3] = {0};
  __enzyme_autodiff((void *)f, enzyme_dup, x, g, enzyme_const, n, enzyme_const, m);
  double err = 0;
  for (int i = 0; i < 3; i++) {
    double a[3] = {x[0], x[1], x[2]}, b[3] = {x[0], x[1], x[2]}, h = 1e-6;
    a[i] += h; b[i] -= h;
    double fd = (f(a, n, m) - f(b, n, m)) / (2 * h);
    printf("%.17g %.17g\n", g[i], fd);
  }
  return 0;
}
"""


def test_two_loops_in_a_row(tmp_path):
    """Two candidate loops of one function, the second starting from what the first left."""
    (tmp_path / "t.c").write_text(TWO_LOOPS)
    r = run([ADCC, "-O2", "-fadcc-tape-limit=16K", "t.c", "-o", "t", "-lm"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run([tmp_path / "t"], env={"ADCC_CHECKPOINT_REPORT": "1"})
    assert r.returncode == 0, r.stderr
    assert sorted((int(n), m) for n, m, _, _ in REPORT.findall(r.stderr)) == [(1500, "checkpointed"),
                                                                            (2000, "checkpointed")]
    rows = [[float(v) for v in line.split()] for line in r.stdout.splitlines()]
    assert all(abs(g - fd) <= 1e-6 * max(1.0, abs(fd)) for g, fd in rows), rows
