"""End-to-end tests with Eigen 3 (tests/e2e_eigen/): real C++ library code differentiated in both
modes, checked as the programs of tests/e2e/ are (finite differences, hand-written derivatives,
a PASS line; `-DADCC_SELFTEST` validates a program with plain clang++-22).

Skipped, with the reason, when Eigen's headers are missing (`make test` installs libeigen3-dev).
Programs adcc cannot differentiate correctly yet are listed in `XFAIL` (strict) and run at -O2 only.
`make test` compiles every program at -O2; the other levels run with `make test-slow` (each compile
takes about a minute of CPU: CI's 20-minute limit).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROGRAMS_DIR = HERE / "e2e_eigen"
EIGEN = Path(os.environ.get("ADCC_EIGEN_DIR", "/usr/include/eigen3"))
FLAGS = ["-I", str(EIGEN), "-I", str(HERE / "e2e")]
OPTS = ("-O0", "-O1", "-O2", "-O3")
BIN_DIR = Path(sys.executable).parent
TIMEOUT = 900  # seconds per compile: Eigen's templates make big modules (about 20 s of CPU each)

# program -> issue and reason (strict xfail; delete the entry when the program passes)
XFAIL: dict[str, str] = {}

PROGRAMS = sorted(p.name for p in PROGRAMS_DIR.glob("*.cpp"))
pytestmark = pytest.mark.skipif(not (EIGEN / "Eigen" / "Dense").exists(),
                                reason=f"Eigen 3 headers not found in {EIGEN} (make test installs libeigen3-dev)")


def _params():
    for name in PROGRAMS:
        reason = XFAIL.get(name)
        for opt in (("-O2",) if reason else OPTS):
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            if opt != "-O2":  # (about a minute of CPU per compile: -O0, -O1, -O3 with `make test-slow`)
                marks.append(pytest.mark.slow)
            yield pytest.param(name, opt, marks=marks, id=f"{name}{opt}")


def compile_and_run(src: Path, cc: str, opts: list[str], tmp_path: Path, selftest: bool) -> str | None:
    """None when the program compiles, runs, exits 0 and prints PASS; otherwise what went wrong."""
    exe = tmp_path / "t"
    cmd = [cc, *opts, *(["-DADCC_SELFTEST"] if selftest else []), str(src), "-o", str(exe), "-lm"]
    try:
        c = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"compile timed out after {TIMEOUT}s: {' '.join(cmd)}"
    if c.returncode != 0 or "Traceback" in c.stderr:
        return f"compile failed (exit {c.returncode}): {' '.join(cmd)}\n{c.stderr[-6000:]}"
    r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    if r.returncode != 0 or not any(line.startswith("PASS") for line in r.stdout.splitlines()):
        return f"run exit {r.returncode}:\n{out[-6000:]}"
    return None


@pytest.mark.parametrize("name,opt", list(_params()))
def test_adcc(name, opt, tmp_path):
    cc = BIN_DIR / "adcc++"
    if not cc.exists():
        pytest.fail(f"{cc} is not installed")
    msg = compile_and_run(PROGRAMS_DIR / name, str(cc), [opt, *FLAGS], tmp_path, selftest=False)
    assert msg is None, msg


@pytest.mark.parametrize("name", PROGRAMS)
def test_selftest(name, tmp_path):
    clang = shutil.which("clang++-22")
    if clang is None:
        pytest.skip("clang++-22 not found")
    msg = compile_and_run(PROGRAMS_DIR / name, clang, ["-O2", *FLAGS], tmp_path, selftest=True)
    assert msg is None, msg


def test_xfail_entries_name_existing_programs():
    assert set(XFAIL) <= set(PROGRAMS), set(XFAIL) - set(PROGRAMS)
