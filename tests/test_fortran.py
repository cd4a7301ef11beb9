"""Fortran end-to-end tests: the programs in tests/fortran/ compiled by adflang at -O0..-O3 and run.

Each program takes derivatives through the adcc_ad module (`call autodiff(f, ...)`,
`call fwddiff(f, ...)`), checks them against central finite differences and hand-written values
(tests/fortran/fdcheck.f90) and prints ``PASS <name>``. Parametrizations the compiler cannot pass
yet are listed in ``XFAIL`` (strict) with the issue that tracks them.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FORTRAN_DIR = Path(__file__).resolve().parent / "fortran"
BIN_DIR = Path(sys.executable).parent
TIMEOUT = 120
OPTS = ("-O0", "-O1", "-O2", "-O3")
PROGRAMS = sorted(p.name for p in FORTRAN_DIR.glob("*.f90") if p.name != "fdcheck.f90")

# (program, opt level) -> issue that tracks it
XFAIL: dict[tuple[str, str], str] = {}

pytestmark = pytest.mark.skipif(shutil.which("flang-new-22") is None, reason="flang-new-22 is not installed")


def build_and_run(program: str, opt: str, tmp_path: Path) -> str:
    exe = tmp_path / "t"
    cmd = [str(BIN_DIR / "adflang"), opt, str(FORTRAN_DIR / "fdcheck.f90"), str(FORTRAN_DIR / program),
           "-o", str(exe)]
    c = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    assert c.returncode == 0, f"compile failed: {' '.join(cmd)}\n{c.stdout}{c.stderr}"
    assert "Traceback" not in c.stderr, c.stderr
    r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"run exit {r.returncode}:\n{out}"
    return r.stdout


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_program(program, opt, tmp_path, request):
    issue = XFAIL.get((program, opt))
    if issue:
        request.applymarker(pytest.mark.xfail(strict=True, reason=issue))
    out = build_and_run(program, opt, tmp_path)
    assert f"PASS fortran/{program[:-4]}" in out.splitlines(), out


RUNTIME_CALLS = ("_FortranASumReal8", "_FortranAProductReal8", "_FortranAMaxvalReal8", "_FortranAMinvalReal8",
                 "_FortranASumDim", "_FortranAProductDim", "_FortranAMaxvalDim", "_FortranAMinvalDim",
                 "_FortranANorm2Dim", "_FortranADotProductReal8", "_FortranAMatmulReal8Real8", "_FortranATranspose",
                 "_FortranAReshape", "_FortranASpread", "_FortranACshiftVector", "_FortranAEoshiftVector",
                 "_FortranAPack", "_FortranAUnpack", "_FortranAAssign")


@pytest.mark.parametrize("opt", ("-O0", "-O2"))
def test_runtime_calls(opt, tmp_path):
    """The intrinsics flang leaves to its runtime library when it does not optimize: kernels compiled
    by flang-new-22 -O0 to LLVM IR, differentiated by adflang from that IR."""
    src = FORTRAN_DIR / "runtime_calls"
    ir = tmp_path / "kernels.ll"
    c = subprocess.run(["flang-new-22", "-O0", "-S", "-emit-llvm", str(src / "kernels.f90"), "-o", str(ir)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    assert c.returncode == 0, c.stderr
    text = ir.read_text()
    missing = [name for name in RUNTIME_CALLS if f"@{name}(" not in text]
    assert not missing, f"flang no longer calls {missing}: the test does not cover their rules"
    exe = tmp_path / "t"
    cmd = [str(BIN_DIR / "adflang"), opt, str(FORTRAN_DIR / "fdcheck.f90"), str(ir), str(src / "main.f90"),
           "-o", str(exe)]
    c = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    assert c.returncode == 0, f"{' '.join(cmd)}\n{c.stderr}"
    r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0 and "PASS fortran/runtime_calls" in r.stdout, r.stdout + r.stderr


def test_rule_helpers_are_declared_and_compile_cleanly(tmp_path):
    """Every helper the Fortran rule family calls is declared in runtime/adcc_fortran.h, and the
    Fortran part of the runtime compiles without warnings."""
    import re
    from adcc.ad.rules import fortran
    runtime = Path(__file__).resolve().parent.parent / "runtime"
    declared = set(re.findall(r"\b(adcc_fortran_\w+)\(", (runtime / "adcc_fortran.h").read_text()))
    used = {fortran.Helper.parse(h).name for e in fortran._ENTRIES for h in (e.forward, e.augment) if h}
    used |= {"adcc_fortran_shadow", "adcc_fortran_reverse", "adcc_fortran_arg_address", "adcc_fortran_arg_done",
             "adcc_fortran_global_shadow"}
    assert used <= declared, used - declared
    for src in sorted(runtime.glob("adcc_fortran*.c")):
        c = subprocess.run(["clang-22", "-c", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{runtime}", str(src),
                            "-o", str(tmp_path / (src.stem + ".o"))], capture_output=True, text=True)
        assert c.returncode == 0, c.stderr
