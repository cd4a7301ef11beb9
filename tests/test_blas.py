"""BLAS inside differentiated functions (adcc/ad/rules/blas.py): programs in tests/blas/ compiled
with adcc at -O0..-O3 (`make test`: three of them, tests/levels.py) in double and single precision, linked with OpenBLAS (`-lopenblas`, installed
by the Makefile's test set-up), each checking reverse- and forward-mode derivatives of every case
against central finite differences (tests/blas/blas_check.h). Plus what the rules promise beyond
values: inactive calls stay plain calls, operands nothing overwrites are not copied, the ILP64 and
Fortran spellings call their own interface, the memory query is conservative."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from levels import level_marks

BIN = Path(sys.executable).parent
BLAS_DIR = Path(__file__).resolve().parent / "blas"
PROGRAMS = ("level1", "level2", "level3", "fortran", "kernels")
OPTS = ("-O0", "-O1", "-O2", "-O3")
TIMEOUT = 300


def _have_openblas() -> bool:
    return any(Path(d, "cblas.h").exists() for d in ("/usr/include", "/usr/include/x86_64-linux-gnu",
                                                     "/usr/include/aarch64-linux-gnu", "/usr/include/openblas"))


needs_openblas = pytest.mark.skipif(not _have_openblas(), reason="libopenblas-dev not installed (make test installs it)")


def _adcc(args, cwd):
    r = subprocess.run([str(BIN / "adcc"), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def _params():
    for program in PROGRAMS:
        for opt in OPTS:
            for precision in ("double", "float"):
                yield pytest.param(program, opt, precision, marks=level_marks(f"{program}-{precision}", opt),
                                   id=f"{program}{opt}-{precision}")
    for opt in ("-O0", "-O2"):  # forward vector mode (enzyme_width 2)
        yield pytest.param("vector_mode", opt, "double", id=f"vector_mode{opt}-double")


@needs_openblas
@pytest.mark.parametrize("program,opt,precision", list(_params()))
def test_blas_program(program, opt, precision, tmp_path):
    flags = ["-DUSE_FLOAT"] if precision == "float" else []
    r = _adcc([opt, *flags, f"-I{BLAS_DIR}", str(BLAS_DIR / f"{program}.c"), "-o", "t", "-lopenblas", "-lm"],
              tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    run = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 0 and f"PASS blas/{program}" in run.stdout, run.stdout + run.stderr


@needs_openblas
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_fortran_caller(opt, tmp_path):
    """flang's calls (hidden character lengths, literals by reference, an automatic array), the
    gradient built at link time from a C caller."""
    src = BLAS_DIR / "fortran_caller"
    r = subprocess.run([str(BIN / "adflang"), opt, "-c", str(src / "model.f90"), "-o", "model.o"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    for args in ([opt, "-c", str(src / "main.c"), "-o", "main.o"],
                 [opt, "main.o", "model.o", "-o", "t", "-lopenblas", "-lm"]):
        r = _adcc(args, tmp_path)
        assert r.returncode == 0, r.stderr
    run = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 0 and "PASS blas/fortran_caller" in run.stdout, run.stdout


def _module(src: str, tmp_path, opt="-O0") -> str:
    (tmp_path / "m.c").write_text(src)
    r = _adcc([opt, "-S", "-emit-llvm", "m.c", "-o", "m.ll"], tmp_path)
    assert r.returncode == 0, r.stderr
    return (tmp_path / "m.ll").read_text()


def _body(ir: str, prefix: str) -> str:
    """The text of the first function whose name starts with `prefix`."""
    m = re.search(r"^define [^\n]*@\"?" + re.escape(prefix) + r"[^\n]*\{\n(.*?)^\}", ir, re.S | re.M)
    assert m, f"no function {prefix}* in the module"
    return m.group(1)


HEADER = """
#include <stdlib.h>
extern int enzyme_dup, enzyme_const;
extern void __enzyme_autodiff(void *, ...);
enum { RowMajor = 101, ColMajor = 102, NoTrans = 111 };
void cblas_dgemv(int, int, int, int, double, const double *, int, const double *, int, double, double *, int);
double cblas_ddot(int, const double *, int, const double *, int);
"""


def test_inactive_blas_call_stays_a_plain_call(tmp_path):
    ir = _module(HEADER + """
double f(const double *A, const double *x, double *y, double *w, int n) {
  cblas_dgemv(ColMajor, NoTrans, n, n, 1.0, A, n, x, 1, 0.0, y, 1);   /* no active operand */
  return cblas_ddot(n, w, 1, w, 1);
}
void g(double *A, double *x, double *y, double *w, double *dw, int n) {
  __enzyme_autodiff((void *)f, enzyme_const, A, enzyme_const, x, enzyme_const, y, enzyme_dup, w, dw,
                    enzyme_const, n);
}""", tmp_path, "-O0")
    assert "cblas_dger" not in ir                         # no derivative of the gemv
    assert len(re.findall(r"call void @cblas_dgemv", _body(ir, "adcc.aug.f"))) == 1
    assert "cblas_dgemv" not in _body(ir, "adcc.rev.f")
    assert "cblas_daxpy" in _body(ir, "adcc.rev.f")       # the dot's reverse: two axpys


OVERWRITE = HEADER + """
double f(double *A, double *x, int n) {
  double *t = malloc(n * sizeof(double));
  cblas_dgemv(RowMajor, NoTrans, n, n, 1.0, A, n, x, 1, 0.0, t, 1);
  double r = cblas_ddot(n, t, 1, t, 1);
  %s
  free(t);
  return r;
}
void g(double *A, double *dA, double *x, double *dx, int n) {
  __enzyme_autodiff((void *)f, enzyme_dup, A, dA, enzyme_dup, x, dx, enzyme_const, n);
}"""


def test_unchanged_operands_are_not_copied(tmp_path):
    aug = _body(_module(OVERWRITE % "", tmp_path), "adcc.aug.f")
    # t is freed later (the reverse of free comes first): the dot saves it; A and x are read in place
    assert aug.count("@cblas_dcopy") == 1 and "llvm.memcpy" not in aug


def test_overwritten_operands_are_saved(tmp_path):
    aug = _body(_module(OVERWRITE % "A[0] = 0; x[1] = 2;", tmp_path), "adcc.aug.f")
    assert "llvm.memcpy" in aug                           # A, a matrix: copied whole
    assert aug.count("@cblas_dcopy") == 2                 # x and t: vectors


def test_ilp64_and_fortran_spellings_call_their_own_interface(tmp_path):
    ir = _module("""
extern void __enzyme_autodiff(void *, ...);
void cblas_dgemv64_(int, int, long, long, double, const double *, long, const double *, long, double, double *, long);
void sgemv_64_(const char *, const long *, const long *, const float *, const float *, const long *, const float *,
               const long *, const float *, float *, const long *);
void f(double *A, double *x, double *y, float *B, float *u, float *v, long n) {
  float one = 1.0f;
  long inc = 1;
  cblas_dgemv64_(102, 111, n, n, 2.0, A, n, x, 1, 0.0, y, 1);
  sgemv_64_("T", &n, &n, &one, B, &n, u, &inc, &one, v, &inc);
}
void g(double *A, double *dA, double *x, double *dx, double *y, double *dy, float *B, float *dB, float *u,
       float *du, float *v, float *dv, long n) {
  __enzyme_autodiff((void *)f, A, dA, x, dx, y, dy, B, dB, u, du, v, dv, n);
}""", tmp_path)
    rev = _body(ir, "adcc.rev.f")
    assert re.search(r"call void @cblas_dger64_\(i32 102, i64", rev)
    assert "call void @sger_64_(" in rev and "@sger_(" not in rev and "@cblas_dger(" not in rev


GEMM = """
extern int enzyme_dup, enzyme_const;
extern void __enzyme_autodiff(void *, ...);
extern void __enzyme_fwddiff(void *, ...);
void cblas_dgemm(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int);
void dgemm_(const char *, const char *, const int *, const int *, const int *, const double *, const double *,
            const int *, const double *, const int *, const double *, double *, const int *);
void f(const double *A, const double *B, double *C, int n) {
  double one = 1.0, zero = 0.0;
  %s
}
void g(double *A, double *dA, double *B, double *dB, double *C, double *dC, int n) {
  __enzyme_autodiff((void *)f, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, C, dC, enzyme_const, n);
}
void h(double *A, double *dA, double *B, double *dB, double *C, double *dC, int n) {
  __enzyme_fwddiff((void *)f, enzyme_dup, A, dA, enzyme_dup, B, dB, enzyme_dup, C, dC, enzyme_const, n);
}"""


@pytest.mark.parametrize("call,callee", [
    ("cblas_dgemm(102, 111, 112, n, n, n, 1.0, A, n, B, n, 0.0, C, n);", "@cblas_dgemm("),
    ('dgemm_("N", "T", &n, &n, &n, &one, A, &n, B, &n, &zero, C, &n);', "@dgemm_("),
], ids=["cblas", "fortran"])
def test_derivative_of_gemm_is_gemm_calls(call, callee, tmp_path):
    """The reverse of a gemm is two gemms (the adjoints of A and B), its tangent two more: BLAS
    calls of the program's interface, no scalar loop over the matrices."""
    ir = _module(GEMM % call, tmp_path)
    rev, fwd = _body(ir, "adcc.rev.f"), _body(ir, "adcc.fwd.f")
    assert rev.count(callee) == 2 and fwd.count(callee) == 3, (rev, fwd)   # fwd: the primal and two tangents
    for body in (rev, fwd):
        assert not re.search(r"\b(fmul|fadd|phi)\b", body), body


# the routines of the reference BLAS (netlib), levels 1-3: what every BLAS library provides
REFERENCE_BLAS = {"rotg", "rotmg", "rot", "rotm", "swap", "scal", "copy", "axpy", "dot", "nrm2", "asum",
                  "gemv", "gbmv", "symv", "sbmv", "spmv", "trmv", "tbmv", "tpmv", "trsv", "tbsv", "tpsv", "ger",
                  "syr", "spr", "syr2", "spr2", "gemm", "symm", "syrk", "syr2k", "trmm", "trsm"}


def _blas_symbol(name: str) -> str | None:
    """The routine a CBLAS or Fortran BLAS spelling names (cblas_dgemm, sgemv_64_: gemm, gemv), or None
    for a symbol that is no BLAS spelling."""
    m = re.fullmatch(r"cblas_[sd]([a-z0-9]+?)(?:64_)?", name) or re.fullmatch(r"[sdcz]([a-z0-9]+?)_(?:64_)?", name)
    return m.group(1) if m else None


@needs_openblas
def test_derivatives_call_only_reference_blas(tmp_path):
    """What the derivatives of every covered routine call is standard BLAS (no OpenBLAS extension
    such as cblas_daxpby, no library-specific symbol): the rules do not depend on the BLAS linked."""
    called = set()
    for program in ("level1", "level2", "level3", "kernels", "fortran"):
        r = _adcc(["-O1", f"-I{BLAS_DIR}", "-c", str(BLAS_DIR / f"{program}.c"), "-o", f"{program}.o"], tmp_path)
        assert r.returncode == 0, r.stderr
        nm = subprocess.run(["llvm-nm-22", "-u", "--just-symbol-name", f"{program}.o"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout.split()
        called |= set(nm)
    assert not [s for s in called if "openblas" in s.lower() or "goto" in s.lower()], sorted(called)
    blas = {s: _blas_symbol(s) for s in called if _blas_symbol(s) is not None}
    assert {"gemm", "ger", "syr2k", "axpy"} <= set(blas.values()), sorted(blas)   # the derivatives' own calls
    assert all(r in REFERENCE_BLAS for r in blas.values()), sorted(blas)


def test_uncovered_routine_is_a_located_error(tmp_path):
    (tmp_path / "m.c").write_text("""
extern void __enzyme_autodiff(void *, ...);
void cblas_dtrsm(int, int, int, int, int, int, int, double, const double *, int, double *, int);
void f(double *A, double *B) {
  cblas_dtrsm(102, 141, 121, 111, 131, 2, 2, 1.0, A, 2, B, 2);
}
void g(double *A, double *dA, double *B, double *dB) { __enzyme_autodiff((void *)f, A, dA, B, dB); }""")
    r = _adcc(["-O1", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists()
    assert re.search(r"m\.c:5:\d+: error: .*cblas_dtrsm", r.stderr), r.stderr


def test_memory_query_is_conservative():
    """may_be_written_after: later writes through aliasing arguments, loops, unknown pointers."""
    from adcc.ad.common import RULE_NAMES
    from adcc.analysis.calls import install_rule_names
    from adcc.analysis.memory import may_be_written_after
    from adcc.ir import parse_module
    m = parse_module("""
declare void @use(ptr)
declare void @cblas_ddot(i32, ptr, i32, ptr, i32)
define void @f(ptr %a, ptr noalias %b, ptr %c, ptr %pp) {
entry:
  %l = alloca [4 x double]
  %q = load ptr, ptr %pp
  call void @cblas_ddot(i32 4, ptr %a, i32 1, ptr %b, i32 1)
  call void @cblas_ddot(i32 4, ptr %l, i32 1, ptr %q, i32 1)
  store double 1.0, ptr %c
  ret void
}
""")
    install_rule_names(m, RULE_NAMES)
    fn = m.function("f")
    first, second = [i for i in fn.instructions() if i.opcode == "call"]
    a, b, c, pp = fn.args
    local, q = fn.entry.instructions[0], fn.entry.instructions[1]
    assert may_be_written_after(m, fn, first, a, True)          # %c may alias %a
    assert not may_be_written_after(m, fn, first, b, True)      # noalias %b
    assert may_be_written_after(m, fn, first, b, False)         # a callee: its caller may write it
    assert not may_be_written_after(m, fn, second, local, True)  # a local nobody writes
    assert may_be_written_after(m, fn, second, q, True)         # a pointer loaded from memory


def test_call_not_matching_the_blas_signature_is_a_located_error(tmp_path):
    """A program's own function with a BLAS name but another signature is not silently mistaken."""
    (tmp_path / "m.c").write_text("""
extern void __enzyme_autodiff(void *, ...);
double cblas_ddot(const double *x, const double *y);   /* not BLAS's */
double f(double *x, double *y) {
  return cblas_ddot(x, y);
}
void g(double *x, double *dx, double *y, double *dy) { __enzyme_autodiff((void *)f, x, dx, y, dy); }""")
    r = _adcc(["-O1", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists()
    assert re.search(r"m\.c:5:\d+: error: .*cblas_ddot.*signature", r.stderr), r.stderr
