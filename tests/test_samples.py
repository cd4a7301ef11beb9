"""The sample programs in samples/ compiled and run.

Each sample computes gradients with the Enzyme API, checks them against
central finite differences, prints a final ``PASS``/``FAIL`` line and exits 0
iff every check passed.

* ``test_selftest``: plain clang-22 with ``-DADCC_SELFTEST`` (hand-written
  derivatives instead of the Enzyme calls) at -O0 and -O2: validates the
  samples themselves and must always pass.
* ``test_adcc``: the ``adcc`` console script next to ``sys.executable`` at
  -O0..-O3. Entries in ``XFAIL`` (strict) are expected to fail until the AD
  engine handles them; delete an entry when it passes.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"
ADCC = Path(sys.executable).parent / "adcc"
TIMEOUT = 60  # seconds, per compile and per run

SAMPLES = ("demo.c", "heat_pde.c", "least_squares.c", "newton_cg.c", "nn_loss.c")
SELFTEST_OPTS = ("-O0", "-O2")
ADCC_OPTS = ("-O0", "-O1", "-O2", "-O3")

# (sample, opt level) -> tracking issue ("#4": reverse mode; least_squares also
# needs forward mode, #3). Remove entries as they start passing.
XFAIL = {}


def compile_and_run(cc, src, opt, tmp_path, selftest):
    """Compile and run one sample in tmp_path; None on success, else a message."""
    exe = tmp_path / src.stem
    cmd = [cc, opt, *(["-DADCC_SELFTEST"] if selftest else []), str(src), "-o", str(exe), "-lm"]
    try:
        c = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"compile timed out after {TIMEOUT}s: {' '.join(cmd)}"
    if c.returncode != 0:
        return f"compile failed (exit {c.returncode}): {' '.join(cmd)}\n{c.stdout}{c.stderr}"
    if "Traceback" in c.stderr:
        return f"compiler printed a traceback:\n{c.stderr}"
    try:
        r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"run timed out after {TIMEOUT}s"
    out = r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0:
        return f"run exit {r.returncode}:\n{out}"
    if not lines or not lines[-1].startswith("PASS"):
        return f"last line is not PASS:\n{out}"
    return None


@pytest.mark.parametrize("opt", SELFTEST_OPTS)
@pytest.mark.parametrize("name", SAMPLES)
def test_selftest(name, opt, tmp_path):
    clang = shutil.which("clang-22")
    if clang is None:
        pytest.skip("clang-22 not found")
    msg = compile_and_run(clang, SAMPLES_DIR / name, opt, tmp_path, selftest=True)
    assert msg is None, msg


def _adcc_params():
    for name in SAMPLES:
        for opt in ADCC_OPTS:
            reason = XFAIL.get((name, opt))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, opt, marks=marks, id=f"{name}{opt}")


@pytest.mark.parametrize("name,opt", list(_adcc_params()))
def test_adcc(name, opt, tmp_path):
    assert ADCC.exists(), f"{ADCC} is not installed"
    msg = compile_and_run(str(ADCC), SAMPLES_DIR / name, opt, tmp_path, selftest=False)
    assert msg is None, msg


def test_samples_listed():
    """Every samples/*.c is tested, and every XFAIL key names a tested sample."""
    on_disk = sorted(p.name for p in SAMPLES_DIR.glob("*.c"))
    assert on_disk == sorted(SAMPLES)
    stale = [k for k in XFAIL if k[0] not in SAMPLES or k[1] not in ADCC_OPTS]
    assert not stale, stale
