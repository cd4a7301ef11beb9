"""Split forward mode (__enzyme_fwdsplit, #11): the errors. A malformed call, or a function split
forward mode cannot replay yet, is a located compile error; a tape misused at run time (replayed
twice without enzyme_nofree, another function's tape, a null tape) stops the program with adcc's
runtime error, never a wrong tangent. The tangents themselves are tests/e2e/split/fwdsplit.c and
tests/e2e/cpp/fwdsplit.cpp (test_e2e.py)."""
import subprocess

import pytest

from test_enzyme_interface import assert_rejected, compile_c

PRELUDE = """
#include <stdio.h>
#include <stdlib.h>
extern int enzyme_dup, enzyme_const, enzyme_tape, enzyme_allocated, enzyme_nofree;
void *__enzyme_augmentfwd(void *, ...);
double __enzyme_fwdsplit(void *, ...);
double __enzyme_reverse(void *, ...);
static double f(double *x, int n) { double s = 0; for (int i = 0; i < n; i++) s += x[i] * x[i]; return s; }
static double g(double *x, int n) { double s = 1; for (int i = 0; i < n; i++) s *= x[i]; return s; }
typedef struct { void *tape; double *primal, *shadow; } Three;
Three __enzyme_augmentfwd_3(void *, ...);
static double *tail(double *x, int n) { return x + n - 1; }
double crude(double x) { return x * x; }
double crude_aug(double x) { return x; }
double crude_split(double x, double dx, void *tape) { return 2 * x * dx; }
void *__enzyme_register_splitderivative_crude[3] = {(void *)crude, (void *)crude_aug, (void *)crude_split};
static double ruled(double *x, int n) { return crude(x[0]) * n; }
static double adds(double *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += __atomic_fetch_add(&x[i], 1.0, 0);
  return s;
}
"""


@pytest.mark.parametrize("body,hints", [
    ("__enzyme_fwdsplit((void *)f, x, dx, enzyme_const, 2);",
     ("__enzyme_fwdsplit of 'f' needs, after f's arguments and shadows, the tape",)),
    ("__enzyme_fwdsplit((void *)f, x, dx, enzyme_const, 2, t, t);", ("1 argument(s) left over",)),
    ("__enzyme_fwdsplit((void *)f, enzyme_tape, &t, x, dx, enzyme_const, 2, t);",
     ("too many arguments to __enzyme_fwdsplit", "enzyme_tape")),
    ("__enzyme_fwdsplit((void *)f, enzyme_allocated, 64, x, dx, enzyme_const, 2, t);",
     ("enzyme_allocated needs enzyme_tape",)),
    ("char b[16]; __enzyme_fwdsplit((void *)f, enzyme_allocated, 16, enzyme_tape, b, x, dx, enzyme_const, 2);",
     ("tape buffer is too small", "need 48 bytes, have 16")),
    ("__enzyme_augmentfwd((void *)f, enzyme_nofree, x, dx, enzyme_const, 2);"
     "__enzyme_fwdsplit((void *)f, x, dx, enzyme_const, 2, t);",
     ("enzyme_nofree belongs to __enzyme_fwdsplit",)),
    ("t = __enzyme_augmentfwd((void *)f, x, dx, enzyme_const, 2); __enzyme_reverse((void *)f, x, dx, enzyme_const, "
     "2, 1.0, t); __enzyme_fwdsplit((void *)f, x, dx, enzyme_const, 2, t);",
     ("'f' is passed to both __enzyme_fwdsplit and __enzyme_reverse",)),
    ("Three r = __enzyme_augmentfwd_3((void *)tail, x, dx, enzyme_const, 2); (void)r;"
     "__enzyme_fwdsplit((void *)tail, x, dx, enzyme_const, 2, t);",
     ("returns no shadow of its pointer result",)),
    ("__enzyme_fwdsplit((void *)ruled, x, dx, enzyme_const, 2, t);",
     ("registration '__enzyme_register_splitderivative_crude'", "'crude_aug' must take f's arguments (double)")),
    ("__enzyme_fwdsplit((void *)adds, x, dx, enzyme_const, 2, t);",
     ("atomic update whose old value is used",)),
])
def test_malformed_or_unsupported_fwdsplit_calls_are_located_errors(tmp_path, body, hints):
    src = PRELUDE + "int main(void) {\n  double x[2] = {1, 2}, dx[2] = {1, 0}; void *t = 0; (void)t;\n  " + body + \
        "\n  return 0;\n}\n"
    r, out = compile_c(tmp_path, "bad", src, "-O1")
    assert_rejected(r, out, "bad", *hints)


RUNTIME = PRELUDE + """
int main(int argc, char **argv) {
  double x[2] = {1, 2}, dx[2] = {1, 0}, y[2] = {3, 4};
  void *t = NULL, *u = NULL;
  (void)argc;
  switch (argv[1][0] - '0') {
  case 0:  /* replayed twice without enzyme_nofree: the first replay released it */
    t = __enzyme_augmentfwd((void *)f, x, (double *)NULL, enzyme_const, 2);
    __enzyme_fwdsplit((void *)f, (double *)NULL, dx, enzyme_const, 2, t);
    __enzyme_fwdsplit((void *)f, (double *)NULL, dx, enzyme_const, 2, t);
    break;
  case 1:  /* the tape of another function */
    u = __enzyme_augmentfwd((void *)g, x, (double *)NULL, enzyme_const, 2);
    __enzyme_fwdsplit((void *)f, (double *)NULL, dx, enzyme_const, 2, u);
    break;
  case 2:  /* no tape */
    __enzyme_fwdsplit((void *)f, (double *)NULL, dx, enzyme_const, 2, t);
    break;
  case 3:  /* the right way: two tapes alive, replayed in reverse order; the recorded x, not y */
    t = __enzyme_augmentfwd((void *)f, x, (double *)NULL, enzyme_const, 2);
    u = __enzyme_augmentfwd((void *)g, y, (double *)NULL, enzyme_const, 2);
    printf("%g ", __enzyme_fwdsplit((void *)g, x, dx, enzyme_const, 2, u));
    printf("%g\\n", __enzyme_fwdsplit((void *)f, y, dx, enzyme_const, 2, t));
    break;
  }
  return 0;
}
"""


MISUSES = {
    "0": "__enzyme_fwdsplit of 'f': the tape holds no recording",
    "1": "__enzyme_fwdsplit of 'f': the tape was recorded by __enzyme_augmentfwd of another function",
    "2": "__enzyme_fwdsplit of 'f': the tape is a null pointer",
}


def test_misused_fwdsplit_tapes_stop_the_program(tmp_path):
    """One build, every misuse (and the right way, first)."""
    r, out = compile_c(tmp_path, "rt", RUNTIME, "-O2")
    assert r.returncode == 0, r.stderr
    runs = {case: subprocess.run([str(out), case], capture_output=True, text=True, timeout=60)
            for case in ("3", *MISUSES)}
    assert runs["3"].returncode == 0 and runs["3"].stdout.split() == ["4", "2"], runs["3"].stderr  # y1, 2 x0
    for case, message in MISUSES.items():
        bad = runs[case]
        assert bad.returncode != 0 and bad.stderr.startswith("adcc runtime error: "), (case, bad.stderr)
        assert message in bad.stderr, (case, bad.stderr)
