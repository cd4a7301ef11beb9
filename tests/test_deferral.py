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


# Several stencil groups in one loop, their addresses `row + j` with a loop-invariant `row` (the
# peeled Brusselator's inner loop, #17): groups on two arrays, two groups on one array whose pending
# elements overlap, arrays that overlap (v = u + 1), and stores into the arrays the loads read
# (the run-time distance test must keep the plain additions). Gradients against central differences.
GROUPS = HEADER + """#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#define NC 12
#define NR 8
#define NN (NC * NR)
#define B (3 * NN)
__attribute__((noinline)) static void kernel(const double *u, const double *v, double *w, int up_shift, int nc,
                                             int nr) {
  for (int i = 1; i < nr - 1; i++) {
    int row = i * nc, up = row + up_shift, dn = row - nc;
    for (int j = 1; j < nc - 1; j++)
      w[row + j] = sin(u[row + j - 1]) + 0.3 * u[row + j] + 0.7 * u[row + j + 1] + 0.2 * u[up + j]
                   + 0.1 * u[up + j + 1] - 0.5 * u[dn + j] + v[row + j - 1] * v[row + j + 1] - 0.4 * v[row + j];
  }
}
static int voff, woff, shift, nc, nr;  /* (run-time sizes: the loops are not unrolled) */
static double f(double *x) {
  double buf[B];
  for (int k = 0; k < B; k++) buf[k] = k < 2 * NN ? x[k] : 0.01 * k;
  kernel(buf, buf + voff, buf + woff, shift, nc, nr);
  double s = 0.0;
  for (int k = 0; k < B; k++) s += (1.0 + 0.01 * k) * buf[k] + 0.1 * buf[k] * buf[k];
  return s;
}
int main(int argc, char **argv) {
  voff = atoi(argv[1]), woff = atoi(argv[2]), shift = atoi(argv[3]), nc = NC, nr = NR;
  double x[2 * NN], dx[2 * NN];
  for (int k = 0; k < 2 * NN; k++) x[k] = 0.5 + 0.37 * sin(1.3 * k), dx[k] = 0.0;
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx);
  int bad = 0;
  for (int k = 0; k < 2 * NN; k++) {
    double h = 1e-6, x0 = x[k];
    x[k] = x0 + h; double fp = f(x);
    x[k] = x0 - h; double fm = f(x);
    x[k] = x0;
    double fd = (fp - fm) / (2 * h);
    if (fabs(fd - dx[k]) > 1e-6 * (1.0 + fabs(fd))) { printf("x[%d]: adcc %.12g fd %.12g\\n", k, dx[k], fd); bad = 1; }
  }
  printf(bad ? "FAIL\\n" : "ok\\n");
  return bad;
}
"""

LAYOUTS = {  # (voff, woff, up_shift), doubles
    "apart": ("96", "192", "12"),              # u, v, w separate; `up` the row above
    "overlapping-groups": ("96", "192", "1"),  # u's groups at row and row + 1 share elements
    "aliased-bases": ("1", "192", "12"),       # v = u + 1: v's pending elements are u's
    "in-place": ("96", "0", "12"),             # w = u: each store meets u's pending elements
    "store-into-pending": ("96", "1", "12"),   # w = u + 1
    "store-into-v": ("96", "97", "12"),        # w = v + 1
    "store-apart-in-v": ("96", "98", "12"),    # w = v + 2: clear of the pending elements
    "all-overlapping": ("1", "1", "1"),
}


@pytest.mark.parametrize("opt", ["-O0", "-O2", "-O3"])
def test_several_groups_match_finite_differences(tmp_path, opt):
    src, exe = tmp_path / "g.c", tmp_path / "g"
    src.write_text(GROUPS)
    subprocess.run([str(ADCC), opt, str(src), "-o", str(exe), "-lm"], check=True, timeout=300)
    for name, args in LAYOUTS.items():
        run = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stdout.strip().endswith("ok"), (name, run.stdout[-2000:])


PEELED = HEADER + """void step(const double *restrict u, const double *restrict v, double *restrict w, int n, int m) {
  for (int i = 1; i < m - 1; i++) {
    int row = i * n, up = row + n, dn = row - n;
    for (int j = 1; j < n - 1; j++)
      w[row + j] = u[row + j - 1] + u[row + j + 1] + u[up + j] + u[dn + j] - 4.0 * u[row + j]
                   + v[row + j - 1] * v[row + j + 1];
  }
}
void grad(double *u, double *du, double *v, double *dv, double *w, double *dw, int n, int m) {
  __enzyme_autodiff((void *)step, enzyme_dup, u, du, enzyme_dup, v, dv, enzyme_dup, w, dw, enzyme_const, n,
                    enzyme_const, m);
}
"""


def test_reverse_of_row_stencils_is_vectorized(tmp_path):
    # `row + j` (a loop-invariant term) and two arrays' groups: the reverse's inner loop vectorizes
    assert _vector_accumulations(_grad_ir(tmp_path, PEELED)) > 0
