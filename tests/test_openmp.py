"""OpenMP inside differentiated functions (adcc/ad/rules/openmp.py, docs/openmp.md): the programs
in tests/openmp/ compiled with adcc -fopenmp at -O0..-O3 in double and single precision, each run
20 times with OMP_NUM_THREADS=2 (a race shows as a sporadic mismatch), checking reverse- and
forward-mode derivatives of every construct against central finite differences
(tests/openmp/omp_check.h). Plus: the constructs adcc refuses are located errors, the derivative of
a region is a parallel region, and (slow) a ThreadSanitizer build of every program."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
OMP_DIR = REPO / "tests" / "openmp"
PROGRAMS = ("loops", "reduction", "sync", "calls", "heat")
OPTS = ("-O0", "-O1", "-O2", "-O3")
RUNS = 20
TIMEOUT = 300
# passive waiting: the test machine is shared, spinning threads would only slow the runs down
ENV = {**os.environ, "OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "passive"}


def _omp_header() -> Path | None:
    r = subprocess.run(["clang-22", "-print-resource-dir"], capture_output=True, text=True)
    header = Path(r.stdout.strip(), "include", "omp.h") if r.returncode == 0 else None
    return header if header is not None and header.exists() else None


needs_libomp = pytest.mark.skipif(_omp_header() is None, reason="libomp-22-dev not installed (make test installs it)")


def _adcc(args, cwd):
    r = subprocess.run([str(BIN / "adcc"), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def _run_many(exe: Path, program: str, runs: int = RUNS, env=None) -> None:
    for k in range(runs):
        run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=TIMEOUT, env=env or ENV)
        assert run.returncode == 0 and f"PASS openmp/{program}" in run.stdout, \
            f"run {k + 1} of {runs}:\n{run.stdout}{run.stderr}"


def _params():
    for program in PROGRAMS:
        for opt in OPTS:
            for precision in ("double", "float"):
                yield pytest.param(program, opt, precision, id=f"{program}{opt}-{precision}")


@needs_libomp
@pytest.mark.parametrize("program,opt,precision", list(_params()))
def test_openmp_program(program, opt, precision, tmp_path):
    flags = ["-DUSE_FLOAT"] if precision == "float" else []
    r = _adcc(["-fopenmp", opt, *flags, str(OMP_DIR / f"{program}.c"), "-o", "t", "-lm"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    _run_many(tmp_path / "t", program)


@needs_libomp
@pytest.mark.parametrize("program", ["loops", "sync"])
def test_unoptimized_stage(program, tmp_path):
    """The front end's IR differentiated as it is (every loop variable in memory)."""
    r = _adcc(["-fopenmp", "-O2", "--ad-stage=unoptimized", str(OMP_DIR / f"{program}.c"), "-o", "t", "-lm"],
              tmp_path)
    assert r.returncode == 0, r.stderr
    _run_many(tmp_path / "t", program, runs=3)


@needs_libomp
@pytest.mark.parametrize("threads", ["1", "3"])
def test_other_thread_counts(threads, tmp_path):
    r = _adcc(["-fopenmp", "-O2", str(OMP_DIR / "sync.c"), "-o", "t", "-lm"], tmp_path)
    assert r.returncode == 0, r.stderr
    _run_many(tmp_path / "t", "sync", runs=3, env={**ENV, "OMP_NUM_THREADS": threads})


@needs_libomp
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_fortran_region_differentiated_at_link_time(opt, tmp_path):
    """flang's OpenMP lowering (a parallel do, a reduction) called from C: the link step
    differentiates the regions of the Fortran object."""
    src = OMP_DIR / "fortran"
    steps = [[str(BIN / "adflang"), "-fopenmp", opt, "-c", str(src / "energy.f90"), "-o", "e.o"],
             [str(BIN / "adcc"), "-fopenmp", opt, "-c", str(src / "main.c"), "-o", "m.o"],
             [str(BIN / "adcc"), "-fopenmp", opt, "m.o", "e.o", "-o", "t", "-lm"]]
    for argv in steps:
        r = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    _run_many(tmp_path / "t", "fortran", runs=5)


def _module(src: str, tmp_path, opt="-O0", *flags: str) -> str:
    (tmp_path / "m.c").write_text(src)
    r = _adcc(["-fopenmp", opt, *flags, "-S", "-emit-llvm", "m.c", "-o", "m.ll"], tmp_path)
    assert r.returncode == 0, r.stderr
    return (tmp_path / "m.ll").read_text()


def _body(ir: str, prefix: str) -> str:
    m = re.search(r"^define [^\n]*@\"?" + re.escape(prefix) + r"[^\n]*\{\n(.*?)^\}", ir, re.S | re.M)
    assert m, f"no function {prefix}* in the module"
    return m.group(1)


STENCIL = """
extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
void f(double *x, double *y, int n) {
#pragma omp parallel for
  for (int i = 1; i < n - 1; i++) y[i] = x[i - 1] * x[i + 1];
}
void g(double *x, double *dx, double *y, double *dy, int n) { __enzyme_autodiff((void *)f, x, dx, y, dy, n); }
double h(double *x, double *dx, double *y, double *dy, int n) { return __enzyme_fwddiff((void *)f, x, dx, y, dy, n); }
"""


@needs_libomp
def test_derivatives_of_a_region_are_regions(tmp_path):
    ir = _module(STENCIL, tmp_path)
    # reverse: a team forks the augmented microtask, later a team of the same size its reverse
    aug = _body(ir, "adcc.aug.f.")
    assert re.search(r"call void \(ptr, i32, ptr, \.\.\.\) @__kmpc_fork_call\([^)]*@adcc\.omp\.aug\.f\.omp_outlined", aug)
    rev = _body(ir, "adcc.rev.f.")
    assert "@__kmpc_push_num_threads" in rev
    assert re.search(r"@__kmpc_fork_call\([^)]*@adcc\.omp\.rev\.f\.omp_outlined", rev)
    # the reverse of the loop accumulates into x's adjoint, which neighbouring chunks share: atomically
    assert "atomicrmw fadd" in _body(ir, "adcc.rev.f.omp_outlined")
    # forward: the forward derivative of the microtask, forked with the tangents
    assert re.search(r"@__kmpc_fork_call\([^)]*@adcc\.fwd\.f\.omp_outlined", _body(ir, "adcc.fwd.f."))


HEAT_STEP = """
extern void __enzyme_autodiff(void *, ...);
void f(double *u, double *w, double alpha, int n) {
#pragma omp parallel for
  for (int i = 1; i < n - 1; i++) w[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
}
void g(double *u, double *du, double *w, double *dw, double a, int n) { __enzyme_autodiff((void *)f, u, du, w, dw, a, n); }
"""


@needs_libomp
@pytest.mark.parametrize("debug", [(), ("-g",)], ids=["", "g"])
def test_stencil_reverse_adds_plainly_inside_chunks(debug, tmp_path):
    """docs/openmp.md, Adjoints of shared memory: the reverse of a stencil step adds into u's adjoint
    with plain loads and stores in the middle of a thread's chunk and atomically near its ends only;
    alpha's adjoint is summed in a register over the chunk and added atomically once. Inside the
    chunk the additions wait in registers (adcc.ad.deferral): one plain addition per iteration, and
    that loop is vector code. The same with -g: debug records naming the captured variables are no
    uses of them (they were: alpha's load stayed in the loop, taped per point, and every addition,
    alpha's included, was atomic; the gradient of bench/openmp/stencil_bench.c took 12x longer)."""
    rev = _body(_module(HEAT_STEP, tmp_path, "-O2", *debug), "adcc.rev.f.omp_outlined")
    defs = dict(re.findall(r"^\s*(%[\w.]+) = (\w+)", rev, re.M))
    plain = [p for v, p in re.findall(r"store double (%[\w.]+), ptr (%[\w.]+)", rev) if defs.get(v) == "fadd"]
    atomic = re.findall(r"atomicrmw fadd ptr (%[\w.]+), double (%[\w.]+)", rev)
    # u[i-1], u[i], u[i+1] in the chunk's last iterations, then the finished element u[i+1]
    assert len(set(plain)) == 4, rev
    assert len({p for p, _ in atomic} & set(plain)) == 3, rev        # ... atomic near the chunk's ends
    assert re.search(r"fadd reassoc nsz contract <\d+ x double>", rev), rev   # the deferred loop, vectorized
    others = [(p, v) for p, v in atomic if p not in plain]
    pending = [p for p, _ in others if defs.get(p) != "load"]         # u[lb], u[lb-1]: next to the chunk's start
    assert len(pending) == 2, rev
    once = [v for p, v in others if defs.get(p) == "load"]            # alpha's adjoint (a captured variable's shadow)
    assert len(once) == 1 and defs.get(once[0]) == "phi", rev         # a running sum, not per iteration


SUM_OF_SQUARES = """
extern void __enzyme_autodiff(void *, ...);
double f(double *x, int n) {
  double s = 0.0;
#pragma omp parallel for reduction(+ : s)
  for (int i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}
void g(double *x, double *dx, int n) { __enzyme_autodiff((void *)f, x, dx, n); }
"""


@needs_libomp
@pytest.mark.parametrize("debug", [(), ("-g",)], ids=["", "g"])
def test_reduction_reverse_adds_plainly_inside_chunks(debug, tmp_path):
    """A reduction region: the shared variable the threads combine into is a caller's local only
    the region reaches (`"adcc.separate"`), the private copy's address goes only into the reduction
    list that adcc's critical-section combine never passes on; neither keeps x's adjoint additions
    atomic (they were, one compare-and-exchange loop per element). Only the combine's addition into
    the shared variable's adjoint stays atomic, and the guarded branch near the chunk's ends, which
    runs until the rest of the chunk is this thread's alone: that loop has no test, and is vector
    code."""
    ir = _module(SUM_OF_SQUARES, tmp_path, "-O2", *debug)
    assert re.search(r'define internal void @f\.omp_outlined\([^\n]*"adcc\.separate"', ir), ir
    # the private copy (its address goes into the reduction list) is written once, after the loop
    # (adcc.ad.rules.openmp.split_reduction_copies): the loop sums in a register, so its reverse
    # neither reads nor clears the copy's adjoint per iteration
    region = _body(ir, "f.omp_outlined")
    copy = re.search(r"store ptr (%[\w.]+), ptr", region).group(1)
    assert len(re.findall(r"store double [^,]+, ptr " + re.escape(copy) + r"\b", region)) == 1, region
    rev = _body(ir, "adcc.rev.f.omp_outlined")
    defs = dict(re.findall(r"^\s*(%[\w.]+) = (\w+)", rev, re.M))
    plain = {p for v, p in re.findall(r"store double (%[\w.]+), ptr (%[\w.]+)", rev) if defs.get(v) == "fadd"}
    atomic = re.findall(r"atomicrmw fadd ptr (%[\w.]+), double", rev)
    assert len(atomic) == 2, rev                                       # near the chunk's ends; the combine
    assert any(p in plain for p in atomic), rev                        # (the test's other branch: plain)
    # the rest of the chunk runs without that test (adcc.ad.deferral, nothing waiting): vector code
    assert re.search(r"store <\d+ x double>", rev), rev
    assert "__kmpc_critical" in rev


REFUSED = [
    ("task", "#pragma omp parallel\n#pragma omp single\n{\n#pragma omp task\n y[0] = x[0] * x[1];\n}",
     "OpenMP tasks"),
    ("ordered", "#pragma omp parallel for ordered\nfor (int i = 0; i < n; i++) {\n#pragma omp ordered\n"
                " y[0] += x[i];\n}", "OpenMP ordered regions"),
    ("atomic_mul", "#pragma omp parallel for\nfor (int i = 0; i < n; i++) {\n#pragma omp atomic\n y[0] *= x[i];\n}",
     "atomic compare-and-exchange"),
    ("firstprivate", "double a = x[0];\n#pragma omp parallel for firstprivate(a)\nfor (int i = 0; i < n; i++)"
                     " y[i] = a * x[i];", "captures a floating-point variable by value"),
    ("taskloop", "#pragma omp parallel\n#pragma omp single\n#pragma omp taskloop\nfor (int i = 0; i < n; i++)"
                 " y[i] = x[i] * x[i];", "OpenMP tasks"),
    ("taskwait", "#pragma omp parallel\n{\n#pragma omp taskwait\n y[0] = x[0] * x[1];\n}", "OpenMP tasks"),
    ("teams", "#pragma omp teams distribute parallel for\nfor (int i = 0; i < n; i++) y[i] = x[i] * x[i];",
     "OpenMP teams and distribute"),
    ("copyprivate", "double a;\n#pragma omp parallel private(a)\n{\n#pragma omp single copyprivate(a)\n a = 2.0;\n"
                    " y[omp_get_thread_num()] = a * x[0];\n}", "copyprivate"),
    ("cancel", "#pragma omp parallel for\nfor (int i = 0; i < n; i++) {\n y[i] = x[i] * x[i];\n"
               "#pragma omp cancel for if (i > 5)\n}", "cancellation"),
    ("lock", "omp_lock_t l;\nomp_init_lock(&l);\n#pragma omp parallel for\nfor (int i = 0; i < n; i++) {"
             " omp_set_lock(&l); y[0] += x[i]; omp_unset_lock(&l); }", "'omp_init_lock'"),
    ("atomic_capture", "#pragma omp parallel for\nfor (int i = 0; i < n; i++) {\n double v;\n#pragma omp atomic capture\n"
                       " { v = y[0]; y[0] += x[i]; }\n y[i + 1] = v * x[i];\n}", "atomic update whose old value is used"),
]


@needs_libomp
@pytest.mark.parametrize("name,body,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_unsupported_constructs_are_located_errors(name, body, message, tmp_path):
    (tmp_path / "m.c").write_text(f"""#include <omp.h>
extern void __enzyme_autodiff(void *, ...);
void f(double *x, double *y, int n) {{
{body}
}}
void g(double *x, double *dx, double *y, double *dy, int n) {{ __enzyme_autodiff((void *)f, x, dx, y, dy, n); }}
""")
    r = _adcc(["-fopenmp", "-O1", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists(), r.stderr
    assert re.search(r"m\.c:\d+:\d+: error: .*" + re.escape(message), r.stderr), r.stderr


@needs_libomp
def test_thread_unsafe_rule_in_a_region_is_a_located_error(tmp_path):
    """A custom gradient accumulates without synchronization: refused inside a region (reverse)."""
    (tmp_path / "m.c").write_text("""extern void __enzyme_autodiff(void *, ...);
double sq(double v) { return v * v; }
double aug_sq(double v) { return v * v; }
double rev_sq(double v, double d) { return 2 * v * d; }
void *__enzyme_register_gradient_sq[] = {(void *)sq, (void *)aug_sq, (void *)rev_sq};
void f(double *x, double *y, int n) {
#pragma omp parallel for
  for (int i = 0; i < n; i++)
    y[i] = sq(x[i]);
}
void g(double *x, double *dx, double *y, double *dy, int n) { __enzyme_autodiff((void *)f, x, dx, y, dy, n); }
""")
    r = _adcc(["-fopenmp", "-O1", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists(), r.stderr
    assert re.search(r"m\.c:9:\d+: error: .*'sq' inside an OpenMP parallel region", r.stderr), r.stderr


@needs_libomp
def test_blas_in_a_region_is_a_located_error(tmp_path):
    """A BLAS call's reverse accumulates into shadows other threads may share: refused inside a
    region in reverse mode (forward mode differentiates it)."""
    (tmp_path / "m.c").write_text("""extern void __enzyme_autodiff(void *, ...);
double cblas_ddot(int, const double *, int, const double *, int);
double f(double *x, double *y, int n) {
  double s = 0;
#pragma omp parallel for reduction(+ : s)
  for (int i = 0; i < n; i++)
    s += cblas_ddot(4, x + 4 * i, 1, y, 1);
  return s;
}
void g(double *x, double *dx, double *y, double *dy, int n) { __enzyme_autodiff((void *)f, x, dx, y, dy, n); }
""")
    r = _adcc(["-fopenmp", "-O1", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists(), r.stderr
    assert re.search(r"m\.c:7:\d+: error: .*'cblas_ddot' inside an OpenMP parallel region", r.stderr), r.stderr


@needs_libomp
def test_reverse_with_fewer_threads_is_a_runtime_error(tmp_path):
    """The reverse of a region needs the team size of its forward pass: a reverse granted fewer
    threads (here: split mode, the reverse called inside another active region, where nested
    regions get one thread) stops with an adcc runtime error instead of a wrong derivative."""
    (tmp_path / "m.c").write_text("""#include <omp.h>
#include <stdio.h>
extern void *__enzyme_augmentfwd(void *, ...);
extern void __enzyme_reverse(void *, ...);
extern int enzyme_dup, enzyme_const;
double f(double *x, int n) {
  double s = 0;
#pragma omp parallel for reduction(+ : s)
  for (int i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}
int main(void) {
  double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dx[8] = {0};
  void *tape = __enzyme_augmentfwd((void *)f, enzyme_dup, x, dx, enzyme_const, 8);
#pragma omp parallel num_threads(2)
  if (omp_get_thread_num() == 0) __enzyme_reverse((void *)f, enzyme_dup, x, dx, enzyme_const, 8, 1.0, tape);
  printf("dx[0] = %g\\n", dx[0]);
  return 0;
}
""")
    r = _adcc(["-fopenmp", "-O1", "m.c", "-o", "t", "-lm"], tmp_path)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, timeout=TIMEOUT,
                         env={**ENV, "OMP_MAX_ACTIVE_LEVELS": "1"})
    assert run.returncode != 0 and "dx[0]" not in run.stdout, run.stdout + run.stderr
    assert "adcc runtime error: the reverse pass of an OpenMP parallel region got a different number of threads" \
        in run.stderr, run.stderr


def _archer() -> Path | None:
    r = subprocess.run(["clang-22", "-print-resource-dir"], capture_output=True, text=True)
    lib = Path(r.stdout.strip()).parents[1] / "libarcher.so" if r.returncode == 0 else None
    return lib if lib is not None and lib.exists() else None


@pytest.mark.slow
@needs_libomp
@pytest.mark.skipif(_archer() is None, reason="libarcher.so (libomp-22-dev) not found")
@pytest.mark.parametrize("program", PROGRAMS)
def test_thread_sanitizer(program, tmp_path):
    """ThreadSanitizer over the derivatives (adcc's IR compiled by clang with -fsanitize=thread, the
    runtime too; Archer tells TSan about OpenMP's synchronization): no data race reported."""
    r = _adcc(["-fopenmp", "-fsanitize=thread", "-O1", "-S", "-emit-llvm", str(OMP_DIR / f"{program}.c"),
               "-o", "t.ll"], tmp_path)
    assert r.returncode == 0, r.stderr
    build = subprocess.run(["clang-22", "-fopenmp", "-fsanitize=thread", "-O1", "-g", "t.ll",
                            str(REPO / "runtime" / "adcc_runtime.c"), "-o", "t", "-lm"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    assert build.returncode == 0, build.stderr
    env = {**ENV, "OMP_TOOL_LIBRARIES": str(_archer()), "TSAN_OPTIONS": "ignore_noninstrumented_modules=1"}
    for k in range(3):
        run = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, timeout=TIMEOUT, env=env)
        assert "ThreadSanitizer" not in run.stderr and run.returncode == 0, run.stderr[-4000:]
        assert f"PASS openmp/{program}" in run.stdout, run.stdout
