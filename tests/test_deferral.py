"""The reverse of a stencil loop defers its additions into registers (adcc.ad.deferral), so that
LLVM's loop vectorizer accepts it (#13, #14: the gradient of a heat-equation step).

Correctness (separate buffers, and buffers that overlap, where the deferral must not run) is
checked end to end by tests/e2e/reverse/stencil_loops.c; here: the optimized reverse is vector
code."""
import subprocess
import sys
from pathlib import Path

import pytest

ADCC = Path(sys.executable).parent / "adcc"

HEADER = """extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
"""

STEP = HEADER + """void step(double *u, double *w, int n, double a) {
  for (int i = 1; i < n - 1; i++) w[i] = u[i] + a * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
}
void grad(double *u, double *du, double *w, double *dw, int n, double a) {
  __enzyme_autodiff((void *)step, enzyme_dup, u, du, enzyme_dup, w, dw, enzyme_const, n, enzyme_const, a);
}
"""

def _grad_ir(tmp_path, source: str) -> str:
    src = tmp_path / "k.c"
    src.write_text(source)
    out = tmp_path / "k.ll"
    subprocess.run([str(ADCC), "-O2", "-S", "-emit-llvm", str(src), "-o", str(out)], check=True, timeout=120)
    text = out.read_text()
    start = text.index("define dso_local void @grad(")
    return text[start:text.index("\n}\n", start)]


def _vector_accumulations(ir: str) -> int:
    # adcc's adjoint additions carry `reassoc nsz contract`; on vectors they are vectorized reverse code
    return sum(1 for line in ir.splitlines() if "fadd reassoc nsz contract <" in line)


def test_reverse_of_stencil_step_is_vectorized(tmp_path):
    assert _vector_accumulations(_grad_ir(tmp_path, STEP)) > 0
