"""The interchanged reverse of a loop nest (adcc.ad.interchange, #17 item 3): which nests qualify,
that the reverse of C = A*B becomes vector code, and random nests (sums, decaying sums, several
terms, starts loaded in head, nonlinear tails, shadows that receive from many (j, k)) against
finite differences.
Correctness where it runs and where it must not (shadows shared, nothing proved, loads taped) is
checked end to end by tests/e2e/reverse/matmul_layouts.c and nest_variants.c."""
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


# --- random nests against finite differences ------------------------------------------------

_BODY_TERMS = ("A[i * nk + k] * B[k * nj + j]", "A[i * nk + k] * A[i * nk + k] * B[k * nj + j]",
               "B[k * nj + j] * u[k]", "A[i * nk + k] * u[j + k]", "x * B[k * nj + j]",
               "A[i * nk + k] * B[k * nj + j] * B[k * nj + j]", "u[k] * u[j]")
_TAILS = ("s", "s * s", "s * u[j]", "x * s + u[j + 1]", "s * s * s")


def _random_kernel(rng, name: str) -> str:
    """A nest `for i { for j { s = s0; for k { s = c s + terms }; C[i][j] = tail(s) } }` over
    separate arrays A (ni x nk), B (nk x nj), u (nk + nj + 1) and C, with a scalar x."""
    terms = " + ".join(rng.sample(_BODY_TERMS, rng.randint(1, 3)))
    decay = rng.choice(["", "0.9 * "])
    start = rng.choice(["0.0", "0.5", "u[j]"])
    tail = rng.choice(_TAILS)
    return (f"__attribute__((noinline)) static double {name}(const double *A, const double *B, const double *u,"
            f" double *C, double x, int ni, int nk, int nj) {{\n"
            f"  for (int i = 0; i < ni; i++)\n    for (int j = 0; j < nj; j++) {{\n"
            f"      double s = {start};\n"
            f"      for (int k = 0; k < nk; k++) s = {decay}s + {terms};\n"
            f"      C[i * nj + j] = {tail};\n    }}\n"
            f"  double l = 0.0;\n  for (int i = 0; i < ni * nj; i++) l += sin(C[i]) * (1.0 + 0.1 * i);\n"
            f"  return l;\n}}\n")


_DRIVER = r"""
#define NI 3
#define NK 4
#define NJ 5
#define NV (NI * NK + NK * NJ + NK + NJ + 1 + 1)
typedef double (*kernel_t)(const double *, const double *, const double *, double *, double, int, int, int);
static double fv(double *v, void *p) {
  double C[NI * NJ];
  return (*(kernel_t *)p)(v, v + NI * NK, v + NI * NK + NK * NJ, C, v[NV - 1], NI, NK, NJ);
}
extern double __enzyme_autodiff_x(void *, ...);
#define CHECK(F)                                                                                     \
  {                                                                                                  \
    double v[NV];                                                                                    \
    for (int i = 0; i < NV; i++) v[i] = 0.4 * sin(0.7 * i + seed);                                   \
    double *A = malloc(NI * NK * 8), *B = malloc(NK * NJ * 8), *u = malloc((NK + NJ + 1) * 8);       \
    double *C = malloc(NI * NJ * 8), *dA = calloc(NI * NK, 8), *dB = calloc(NK * NJ, 8);             \
    double *du = calloc(NK + NJ + 1, 8), *dC = calloc(NI * NJ, 8);                                   \
    memcpy(A, v, NI * NK * 8), memcpy(B, v + NI * NK, NK * NJ * 8);                                  \
    memcpy(u, v + NI * NK + NK * NJ, (NK + NJ + 1) * 8);                                             \
    double dx = __enzyme_autodiff_x((void *)F, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, u, du, \
                                    enzyme_dup, C, dC, enzyme_out, v[NV - 1], enzyme_const, ni,      \
                                    enzyme_const, nk, enzyme_const, nj);                             \
    kernel_t f = F;                                                                                  \
    double got[NV];                                                                                  \
    memcpy(got, dA, NI * NK * 8), memcpy(got + NI * NK, dB, NK * NJ * 8);                            \
    memcpy(got + NI * NK + NK * NJ, du, (NK + NJ + 1) * 8), got[NV - 1] = dx;                        \
    for (int i = 0; i < NV; i++) {                                                                   \
      double want = fdv(fv, v, i, &f);                                                               \
      if (fabs(got[i] - want) > 1e-5 * fmax(1.0, fabs(want))) {                                      \
        printf("%s: %d got %.17g want %.17g\n", #F, i, got[i], want);                                \
        fails++;                                                                                     \
      }                                                                                              \
    }                                                                                                \
    free(A), free(B), free(u), free(C), free(dA), free(dB), free(du), free(dC);                      \
  }
"""


def test_random_nests_match_finite_differences(tmp_path):
    import random
    rng = random.Random(17)
    names = [f"k{n}" for n in range(10)]
    src = ['#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n'
           '#include "e2e.h"\nint enzyme_dup, enzyme_const, enzyme_out;\n']
    src += [_random_kernel(rng, n) for n in names]
    src.append(_DRIVER)
    src.append("int main(void) {\n  int fails = 0, seed = 1;\n  volatile int vi = NI, vk = NK, vj = NJ;\n"
               "  int ni = vi, nk = vk, nj = vj;\n")
    src += [f"  CHECK({n})\n" for n in names]
    src.append('  printf(fails ? "FAIL %d\\n" : "PASS\\n", fails);\n  return fails != 0;\n}\n')
    c = tmp_path / "nests.c"
    c.write_text("".join(src))
    inc = f"-I{Path(__file__).resolve().parent / 'e2e'}"
    exe, ll = tmp_path / "nests", tmp_path / "nests.ll"
    subprocess.run([str(ADCC), "-O2", inc, str(c), "-o", str(exe), "-lm"], check=True, timeout=300)
    subprocess.run([str(ADCC), "-O2", inc, "-S", "-emit-llvm", str(c), "-o", str(ll)], check=True, timeout=300)
    interchanged = ll.read_text().count('!"adcc.interchange"}')
    assert interchanged >= 8, "the random nests should mostly run their reverse interchanged"
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("PASS"), r.stdout
