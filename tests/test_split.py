"""Split mode, batch mode and higher order (#11): the errors. A malformed split-mode or batch call is a
located compile error; what only the run can know (a tape buffer below the size adcc needs, a tape
reversed twice, a reverse given other arguments or another function's tape) stops the program with
adcc's runtime error, never a wrong adjoint. The derivatives themselves are tests/e2e/{split,batch,
higher}/ (test_e2e.py)."""
import subprocess

import pytest

from test_enzyme_interface import assert_rejected, compile_c

SPLIT = """
#include <stdlib.h>
extern int enzyme_dup, enzyme_const, enzyme_out, enzyme_tape, enzyme_allocated, enzyme_nofree,
    enzyme_primal_return, enzyme_vector, enzyme_scalar, enzyme_width;
void *__enzyme_augmentfwd(void *, ...);
double __enzyme_reverse(void *, ...);
int __enzyme_augmentsize(void *, ...);
double __enzyme_autodiff(void *, ...);
double __enzyme_fwddiff(void *, ...);
typedef struct { double a, b; } Two;
Two __enzyme_batch(void *, ...);
static double f(double *x, int n) { double s = 0; for (int i = 0; i < n; i++) s += x[i] * x[i]; return s; }
static double h(double *x, int n) { double s = 1; for (int i = 0; i < n; i++) s *= x[i]; return s; }
static double sq(double x) { return x * x; }
"""


@pytest.mark.parametrize("body,hints", [
    ("char b[16]; __enzyme_augmentfwd((void *)f, enzyme_allocated, 16, enzyme_tape, b, x, dx, enzyme_const, 2);",
     ("tape buffer is too small", "need 48 bytes, have 16")),
    ("__enzyme_reverse((void *)f, enzyme_allocated, 1, enzyme_tape, p, x, dx, enzyme_const, 2);",
     ("need 48 bytes, have 1",)),
    ("__enzyme_augmentfwd((void *)f, enzyme_allocated, 64, x, dx, enzyme_const, 2);",
     ("enzyme_allocated needs enzyme_tape",)),
    ("return __enzyme_augmentsize((void *)f, enzyme_dup, x, enzyme_const);", ("takes only markers",)),
    ("return __enzyme_augmentsize((void *)f, enzyme_dup);", ("one activity marker per argument",)),
    ("__enzyme_reverse((void *)f, x, dx, enzyme_const, 2, 1.0);", ("needs, after f's arguments", "the tape")),
    ("__enzyme_reverse((void *)f, x, dx, enzyme_const, 2, 1.0, p, p);", ("too many arguments to __enzyme_reverse",)),
    ("__enzyme_augmentfwd((void *)f, enzyme_primal_return, x, dx, enzyme_const, 2);",
     ("enzyme_primal_return is not available in split mode",)),
    ("__enzyme_augmentfwd((void *)f, enzyme_nofree, x, dx, enzyme_const, 2);", ("enzyme_nofree belongs to __enzyme_reverse",)),
    ("__enzyme_autodiff((void *)f, enzyme_vector, x, dx, enzyme_const, 2);", ("belongs to __enzyme_batch",)),
    ("__enzyme_fwddiff((void *)f, enzyme_tape, p, x, dx, enzyme_const, 2);", ("belongs to split mode",)),
    ("__enzyme_batch((void *)sq, enzyme_width, 2, enzyme_vector, 1.0);", ("too few arguments to __enzyme_batch",)),
    ("__enzyme_batch((void *)sq, enzyme_width, 2, 1.0, 2.0, 3.0);", ("too many arguments to __enzyme_batch",)),
    ("__enzyme_augmentfwd((void *)f, enzyme_width, 2, x, dx, dx, enzyme_const, 2);",
     ("enzyme_width is not available in split mode",)),
])
def test_malformed_split_and_batch_calls_are_located_errors(tmp_path, body, hints):
    src = SPLIT + "int main(void) {\n  double x[2] = {1, 2}, dx[2] = {0}; void *p = 0; (void)p;\n  " + body + \
        "\n  return 0;\n}\n"
    r, out = compile_c(tmp_path, "bad", src, "-O1")
    assert_rejected(r, out, "bad", *hints, line=SPLIT.count("\n") + 3)


RUNTIME = SPLIT + """
#include <stdio.h>
int main(int argc, char **argv) {
  double x[2] = {1, 2}, y[2] = {3, 4}, dx[2] = {0}, dy[2] = {0};
  int which = argv[1][0] - '0';
  size_t small = (size_t)argc * 8;  /* not known at compile time */
  _Alignas(16) char buffer[256];
  void *t;
  switch (which) {
  case 0:  /* a caller buffer whose size is known at run time only */
    __enzyme_augmentfwd((void *)f, enzyme_allocated, small, enzyme_tape, buffer, x, dx, enzyme_const, 2);
    break;
  case 1:  /* reversed twice */
    __enzyme_augmentfwd((void *)f, enzyme_allocated, 256, enzyme_tape, buffer, x, dx, enzyme_const, 2);
    __enzyme_reverse((void *)f, enzyme_allocated, 256, enzyme_tape, buffer, x, dx, enzyme_const, 2, 1.0);
    __enzyme_reverse((void *)f, enzyme_allocated, 256, enzyme_tape, buffer, x, dx, enzyme_const, 2, 1.0);
    break;
  case 2:  /* other arguments at the reverse than at the augmented pass */
    t = __enzyme_augmentfwd((void *)f, x, dx, enzyme_const, 2);
    __enzyme_reverse((void *)f, y, dy, enzyme_const, 2, 1.0, t);
    break;
  case 3:  /* the tape of another function */
    t = __enzyme_augmentfwd((void *)h, x, dx, enzyme_const, 2);
    __enzyme_reverse((void *)f, x, dx, enzyme_const, 2, 1.0, t);
    break;
  case 4:  /* the right way: nothing to report */
    t = __enzyme_augmentfwd((void *)f, x, dx, enzyme_const, 2);
    __enzyme_reverse((void *)f, x, dx, enzyme_const, 2, 1.0, t);
    printf("%g %g\\n", dx[0], dx[1]);
    break;
  }
  return 0;
}
"""


@pytest.mark.parametrize("case,message", [
    ("0", "the tape buffer (enzyme_allocated) has 16 bytes, adcc needs at least 48"),
    ("1", "the tape holds no recording"),
    ("2", "its arguments differ from those the tape was recorded with"),
    ("3", "recorded by __enzyme_augmentfwd of another function"),
])
def test_misused_tapes_stop_the_program(tmp_path, case, message):
    r, out = compile_c(tmp_path, "rt", RUNTIME, "-O2")
    assert r.returncode == 0, r.stderr
    ok = subprocess.run([str(out), "4"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.split() == ["2", "4"], ok.stdout + ok.stderr
    bad = subprocess.run([str(out), case], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert bad.stderr.startswith("adcc runtime error: "), bad.stderr
    assert message in bad.stderr, bad.stderr


def test_split_runtime_activity_is_refused(tmp_path):
    src = SPLIT + "extern int enzyme_runtime_activity;\nint main(void) {\n  double x[2] = {1, 2};\n" \
        "  __enzyme_augmentfwd((void *)f, enzyme_runtime_activity, x, x, enzyme_const, 2);\n  return 0;\n}\n"
    r, out = compile_c(tmp_path, "ra", src, "-O1")
    assert_rejected(r, out, "ra", "enzyme_runtime_activity is not supported in split mode")
