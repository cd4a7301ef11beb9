"""The interchanged reverse of a loop nest (adcc.ad.interchange, #17 item 3): which nests qualify,
and that the reverse of C = A*B becomes vector code. Correctness, where it runs and where it must
not (shadows shared, nothing proved, loads taped), is checked end to end by
tests/e2e/reverse/matmul_layouts.c."""
import subprocess
import sys
from pathlib import Path

import pytest

from test_tape_plan import plan_of

ADCC = Path(sys.executable).parent / "adcc"

MATMUL = ("double f(const double *a, const double *b, double *c, int n) {"
          " for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { double s = 0;"
          "   for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j]; c[i * n + j] = s; }"
          " double l = 0; for (int i = 0; i < n * n; i++) l += c[i] * c[i]; return l; }")
CALL = "__enzyme_autodiff((void *)f, enzyme_dup, a, da, enzyme_dup, b, db, enzyme_dup, c, dc, enzyme_const, n)"
ALLOCATED = "double *a = malloc(n * n * 8), *b = malloc(n * n * 8), *c = malloc(n * n * 8);"
SHADOWS = "double *da = calloc(n * n, 8), *db = calloc(n * n, 8), *dc = calloc(n * n, 8);"


def _caller(pointers: str, shadows: str = SHADOWS, call: str = CALL) -> str:
    return f"void g(double *p, double *q, double *r, int n) {{ {pointers} {shadows} {call}; }}"


def _nests(tmp_path, body: str, caller: str):
    return plan_of(tmp_path, body, CALL, caller=caller).nests


def test_matmul_of_distinct_allocations_runs_its_reverse_interchanged(tmp_path):
    nests = list(_nests(tmp_path, MATMUL, _caller(ALLOCATED)).values())
    assert len(nests) == 1
    # the adjoint of the sum over k crosses from one (j, k) to the next: one value of state per j
    assert len(nests[0].state) == 1


@pytest.mark.parametrize("pointers,shadows", [
    # nothing proves the arrays apart: the pointers are the caller's
    ("double *a = p, *b = q, *c = r;", SHADOWS),
    # one buffer: c's shadow could be what the reverse of the body adds into
    ("double *a = malloc(3 * n * n * 8), *b = a + n * n, *c = b + n * n;",
     "double *da = calloc(3 * n * n, 8), *db = da + n * n, *dc = db + n * n;"),
    # distinct primals, but dc is da: clearing dc[i][j] early would lose additions into da[i][k]
    (ALLOCATED, "double *da = calloc(n * n, 8), *db = calloc(n * n, 8), *dc = da;"),
    # a shadow that is primal memory the body reads
    (ALLOCATED, "double *da = calloc(n * n, 8), *db = (double *)b, *dc = calloc(n * n, 8);"),
])
def test_nest_keeps_its_plain_reverse_without_a_proof(tmp_path, pointers, shadows):
    assert _nests(tmp_path, MATMUL, _caller(pointers, shadows)) == {}


def test_nest_whose_body_reads_the_tape_keeps_its_plain_reverse(tmp_path):
    # a[...] is overwritten after the nest: its loads are taped, so the body's reverse reads the
    # tape in the order it was written
    body = MATMUL.replace("return l; }", "a[0] = l; return l; }").replace("const double *a", "double *a")
    assert _nests(tmp_path, body, _caller(ALLOCATED)) == {}


def test_reverse_of_matmul_is_vector_code(tmp_path):
    src = tmp_path / "k.c"
    src.write_text("#include <stdlib.h>\nextern void __enzyme_autodiff(void *, ...);\n"
                   "int enzyme_dup, enzyme_const;\n" + MATMUL + "\n" + _caller(ALLOCATED) + "\n")
    out = tmp_path / "k.ll"
    subprocess.run([str(ADCC), "-O2", "-march=x86-64-v3", "-S", "-emit-llvm", str(src), "-o", str(out)],
                   check=True, timeout=120)
    text = out.read_text()
    grad = text[text.index("define dso_local void @g("):]
    grad = grad[:grad.index("\n}\n")]
    assert "adcc.interchange" in text
    # adjoint additions (adcc's carry `reassoc nsz contract`) on vectors: dB[k][j..j+3] += ...
    assert any("fadd reassoc nsz contract <" in line for line in grad.splitlines())
