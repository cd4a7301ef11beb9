"""MPI programs differentiated by adcc (adcc/ad/rules/mpi.py, runtime/adcc_mpi.c) and run in
parallel with Open MPI's mpirun at 2 and 4 ranks: a halo-exchange heat equation (Isend/Irecv/
Waitall), a distributed dot product (Allreduce sum, min and max, Reduce), master/worker
Send/Recv (MPI_ANY_SOURCE), requests completed out of order and a wildcard receive racing other
ranks' reverse pass, and the other collectives (Sendrecv, Bcast, Gather(v), Scatter(v),
Allgather, in-place variants, Barrier). Each program checks, on rank 0, its reverse-mode gradient
and a forward-mode tangent against central finite differences of the serial program
(tests/mpi/mpi_check.h). Built through Open MPI's wrappers (`OMPI_CC=adcc mpicc`,
`OMPI_CXX=adcc++ mpicxx`) and with `mpicc --showme` flags; MPI routines and datatypes adcc cannot
differentiate are located compile errors. `make test` installs Open MPI (openmpi-bin, libopenmpi-dev)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
MPI_DIR = Path(__file__).resolve().parent / "mpi"
TIMEOUT = 300
RUN_TIMEOUT = 120  # a deadlock in a derivative shows as a timeout

needs_mpi = pytest.mark.skipif(shutil.which("mpirun") is None or shutil.which("mpicc") is None,
                               reason="Open MPI (mpirun, mpicc) not installed: make test installs openmpi-bin "
                                      "and libopenmpi-dev")

CASES = [  # (program, -O level, precision)
    *((p, opt, "double") for p in ("heat", "dot", "master_worker", "collectives") for opt in ("-O0", "-O2")),
    *((p, "-O2", "float") for p in ("heat", "dot", "master_worker", "collectives")),
    ("heat", "-O3", "double"), ("heat", "-O1", "float"), ("requests", "-O0", "double"), ("requests", "-O2", "float"),
]


def _wrapper_env(**extra) -> dict:
    return {**os.environ, "OMPI_CC": str(BIN / "adcc"), "OMPI_CXX": str(BIN / "adcc++"), **extra}


def _build(argv, cwd, env=None):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=env or _wrapper_env())
    assert "Traceback" not in r.stderr, r.stderr
    return r


def _mpirun(exe: Path, ranks: int, program: str, cwd) -> None:
    argv = ["mpirun", "--oversubscribe", "-np", str(ranks)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.insert(1, "--allow-run-as-root")
    r = subprocess.run([*argv, str(exe)], cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                       env={**os.environ, "OMPI_MCA_rmaps_base_oversubscribe": "1"})
    assert r.returncode == 0 and f"PASS mpi/{program} " in r.stdout and f"{ranks} ranks" in r.stdout, \
        f"mpirun -np {ranks}:\n{r.stdout}{r.stderr}"


@needs_mpi
@pytest.mark.parametrize("program,opt,precision", CASES, ids=[f"{p}{o}-{f}" for p, o, f in CASES])
def test_mpi_program(program, opt, precision, tmp_path):
    """Built with `OMPI_CC=adcc mpicc`, run at 2 and 4 ranks."""
    flags = ["-DUSE_FLOAT"] if precision == "float" else []
    r = _build(["mpicc", opt, *flags, str(MPI_DIR / f"{program}.c"), "-o", "t", "-lm"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for ranks in (2, 4):
        _mpirun(tmp_path / "t", ranks, program, tmp_path)


@needs_mpi
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_mpi_in_a_helper_without_active_arguments(opt, tmp_path):
    r = _build(["mpicc", opt, str(MPI_DIR / "inactive_helper.c"), "-o", "t"], tmp_path)
    assert r.returncode == 0, r.stderr
    _mpirun(tmp_path / "t", 2, "inactive_helper", tmp_path)


@needs_mpi
def test_separate_compile_and_link_through_the_wrapper(tmp_path):
    """`mpicc -c` then `mpicc x.o`: the link finds that the object calls adcc's MPI runtime and
    builds it against the wrapper's mpi.h."""
    r = _build(["mpicc", "-O2", "-c", str(MPI_DIR / "heat.c"), "-o", "heat.o"], tmp_path)
    assert r.returncode == 0, r.stderr
    r = _build(["mpicc", "heat.o", "-o", "t", "-lm"], tmp_path)
    assert r.returncode == 0, r.stderr
    _mpirun(tmp_path / "t", 2, "heat", tmp_path)


def _showme(what: str) -> list[str]:
    return subprocess.run(["mpicc", f"--showme:{what}"], capture_output=True, text=True, check=True).stdout.split()


@needs_mpi
def test_showme_flags_with_adcc_directly(tmp_path):
    """adcc with `$(mpicc --showme:compile)` and `$(mpicc --showme:link)`, no wrapper."""
    r = _build([str(BIN / "adcc"), "-O2", *_showme("compile"), "-c", str(MPI_DIR / "dot.c"), "-o", "dot.o"],
               tmp_path, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    r = _build([str(BIN / "adcc"), "dot.o", "-o", "t", *_showme("link"), "-lm"], tmp_path, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    _mpirun(tmp_path / "t", 4, "dot", tmp_path)


@needs_mpi
def test_cxx_through_mpicxx(tmp_path):
    """`OMPI_CXX=adcc++ mpicxx` on the master/worker program compiled as C++."""
    shutil.copy(MPI_DIR / "mpi_check.h", tmp_path)
    (tmp_path / "mw.cpp").write_text((MPI_DIR / "master_worker.c").read_text())
    r = _build(["mpicxx", "-O2", "mw.cpp", "-o", "t"], tmp_path)
    assert r.returncode == 0, r.stderr
    _mpirun(tmp_path / "t", 3, "master_worker", tmp_path)


REFUSED = """
#include <mpi.h>
extern void __enzyme_autodiff(void *, ...);
double f(double *x, int n) {
  double r = 0;
  %s
  return r * x[0];
}
void g(double *x, double *dx, int n) { __enzyme_autodiff((void *)f, x, dx, n); }
"""


@needs_mpi
@pytest.mark.parametrize("call,message", [
    ("MPI_Request q; MPI_Isend(x, n, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, &q); int done; "
     "MPI_Test(&q, &done, MPI_STATUS_IGNORE);", "MPI_Test"),
    ("MPI_Alltoall(x, 1, MPI_DOUBLE, x + 8, 1, MPI_DOUBLE, MPI_COMM_WORLD);", "MPI_Alltoall"),
    ("MPI_Allreduce(x, &r, 1, MPI_DOUBLE, MPI_PROD, MPI_COMM_WORLD);", "'MPI_PROD'"),
    ("MPI_Send(x, 8 * n, MPI_BYTE, 1, 0, MPI_COMM_WORLD);", "'MPI_BYTE'"),
    ("MPI_Bcast(x, n, MPI_LONG_DOUBLE, 0, MPI_COMM_WORLD);", "'MPI_LONG_DOUBLE'"),
    ("double buf[4]; MPI_Datatype t = n > 2 ? MPI_DOUBLE : MPI_FLOAT; "
     "MPI_Recv(buf, 4, t, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE); r = buf[0];", "not spelled at the call"),
], ids=["test", "alltoall", "prod", "byte", "long-double", "runtime-datatype"])
def test_refused_is_a_located_error(call, message, tmp_path):
    (tmp_path / "m.c").write_text(REFUSED % call)
    r = _build(["mpicc", "-O2", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists(), r.stderr
    assert re.search(r"m\.c:\d+:\d+: error: .*" + re.escape(message), r.stderr), r.stderr


@needs_mpi
def test_integer_messages_carry_no_derivative(tmp_path):
    """An MPI_INT broadcast next to active data compiles, and the helpers' runtime is linked only
    when differentiated code calls MPI (a plain MPI program does not pull it in)."""
    (tmp_path / "m.c").write_text(REFUSED % "int k = n; MPI_Bcast(&k, 1, MPI_INT, 0, MPI_COMM_WORLD); r = k * x[0];")
    r = _build(["mpicc", "-O2", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode == 0, r.stderr
    (tmp_path / "plain.c").write_text("#include <mpi.h>\nint main(int c, char **v) { MPI_Init(&c, &v); "
                                      "MPI_Finalize(); return 0; }\n")
    r = _build(["mpicc", "-O2", "plain.c", "-o", "plain"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert b"adcc_mpi_" not in (tmp_path / "plain").read_bytes()


@needs_mpi
@pytest.mark.parametrize("ranks", ["2", "4"])
def test_sample_with_make(ranks, tmp_path):
    """samples/mpi: its Makefile builds with OMPI_CC=adcc mpicc and runs mpirun."""
    sample = Path(__file__).resolve().parents[1] / "samples" / "mpi"
    for name in ("heat_mpi.c", "Makefile"):
        shutil.copy(sample / name, tmp_path)
    r = subprocess.run(["make", "run", f"ADCC={BIN / 'adcc'}", f"RANKS={ranks}"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == 0 and "matches finite differences" in r.stdout, r.stdout + r.stderr


def test_helpers_are_defined_in_the_mpi_runtime():
    """Every helper the MPI rules call is defined in runtime/adcc_mpi.c (both modes), and the base
    runtime does not include it (programs without MPI never depend on an MPI library)."""
    from adcc.ad.rules import mpi
    from adcc.driver import runtime
    source = (Path(__file__).resolve().parents[1] / "runtime" / "adcc_mpi.c").read_text()
    defined = set(re.findall(r"^(?:void \*|void )(adcc_mpi_\w+)\(", source, re.M))
    wanted = {f"adcc_mpi_{r.helper}_{half}" for r in mpi.ROUTINES.values() for half in ("aug", "fwd")}
    assert wanted | {"adcc_mpi_reverse"} <= defined, sorted(wanted - defined)
    assert "adcc_mpi.c" not in runtime.SOURCES + runtime.FORTRAN_SOURCES
    assert "mpi.h" not in (Path(runtime.source_dir()) / "adcc_runtime.c").read_text()


@needs_mpi
def test_derivative_check_skips_mpi_calls(tmp_path):
    """-fadcc-check-derivatives cannot rerun a rank's share of a distributed function alone (its
    messages would find no partner): such calls are counted as not checkable, and the program runs."""
    r = _build(["mpicc", "-O2", "-fadcc-check-derivatives", str(MPI_DIR / "dot.c"), "-o", "t", "-lm"], tmp_path)
    assert r.returncode == 0, r.stderr
    argv = ["mpirun", "--oversubscribe", "-np", "2", str(tmp_path / "t")]
    if os.geteuid() == 0:
        argv.insert(1, "--allow-run-as-root")
    run = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert run.returncode == 0 and "PASS mpi/dot" in run.stdout, run.stdout + run.stderr
    assert "one MPI rank alone" in run.stderr and "not checkable" in run.stderr, run.stderr


@needs_mpi
def test_vector_forward_mode_is_a_located_error(tmp_path):
    (tmp_path / "m.c").write_text("""#include <mpi.h>
typedef struct { double d[2]; } pair;
extern pair __enzyme_fwddiff(void *, ...);
extern int enzyme_width, enzyme_dupv;
static void f(double *x, int n) { MPI_Bcast(x, n, MPI_DOUBLE, 0, MPI_COMM_WORLD); }
void g(double *x, double *dx, int n) { __enzyme_fwddiff((void *)f, enzyme_width, 2, enzyme_dupv, sizeof(double) * n, x, dx, n); }
""")
    r = _build(["mpicc", "-O2", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists(), r.stderr
    assert re.search(r"m\.c:5:\d+: error: .*vector forward mode", r.stderr), r.stderr


@needs_mpi
def test_mpi_in_an_openmp_region_is_a_located_error(tmp_path):
    """Hybrid code: an MPI call inside an OpenMP parallel region is refused in reverse mode (its
    reverse would accumulate into shadows the team's threads share)."""
    (tmp_path / "m.c").write_text("""#include <mpi.h>
extern void __enzyme_autodiff(void *, ...);
double f(double *x, int n) {
  double s = 0;
#pragma omp parallel
  {
    double t = x[0];
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#pragma omp atomic
    s += t;
  }
  return s * x[1];
}
void g(double *x, double *dx, int n) { __enzyme_autodiff((void *)f, x, dx, n); }
""")
    r = _build(["mpicc", "-fopenmp", "-O1", "-c", "m.c", "-o", "m.o"], tmp_path)
    assert r.returncode != 0 and not (tmp_path / "m.o").exists(), r.stderr
    assert re.search(r"m\.c:8:\d+: error: .*'MPI_Allreduce' inside an OpenMP parallel region", r.stderr), r.stderr


@needs_mpi
def test_request_completed_outside_differentiated_code_is_a_runtime_error(tmp_path):
    """A request posted in differentiated code must be completed there (docs: known limits): one
    waited for by the caller stops the reverse pass with an adcc runtime error, never a wrong adjoint."""
    (tmp_path / "m.c").write_text("""#include <mpi.h>
#include <stdio.h>
extern double __enzyme_autodiff(void *, ...);
extern int enzyme_dup, enzyme_const;
static double f(double *x, double *y, MPI_Request *q) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) MPI_Isend(x, 2, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, q);
  else MPI_Irecv(y, 2, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD, q);
  return x[0] * x[1];
}
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  double x[2] = {1, 2}, dx[2] = {0}, y[2] = {0}, dy[2] = {0};
  MPI_Request q;
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, &q);
  MPI_Wait(&q, MPI_STATUS_IGNORE);
  printf("dx = %g %g\\n", dx[0], dx[1]);
  MPI_Finalize();
  return 0;
}
""")
    r = _build(["mpicc", "-O1", "m.c", "-o", "t"], tmp_path)
    assert r.returncode == 0, r.stderr
    argv = ["mpirun", "--oversubscribe", "-np", "2", str(tmp_path / "t")]
    if os.geteuid() == 0:
        argv.insert(1, "--allow-run-as-root")
    run = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert run.returncode != 0 and "dx = " not in run.stdout, run.stdout + run.stderr
    assert "adcc runtime error: the reverse of an MPI_Isend/MPI_Irecv whose request no MPI_Wait" in run.stderr, \
        run.stderr
