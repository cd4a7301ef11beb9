"""End-to-end tests: the programs in tests/e2e/ compiled and run.

Each program in tests/e2e/{forward,reverse,cpp}/ checks derivatives obtained
through the Enzyme API against central finite differences and a hand-written
derivative, prints ``PASS <name>`` and exits 0 iff every check matched.

* ``test_selftest``: plain clang-22/clang++-22 with ``-DADCC_SELFTEST`` (the
  Enzyme calls are replaced by the hand-written derivatives) at -O2 (and -O0 with `make test-slow`).
  This validates the test programs themselves and must always pass.
* A program that prints ``SKIP <reason>`` (a library it needs is not installed) is skipped with
  that reason.
* ``test_adcc``: adcc/adcc++ (the console scripts next to ``sys.executable``)
  at -O0..-O3 without SELFTEST (`make test`: -O0, -O2 and one of -O1/-O3 per program,
  tests/levels.py, and -O2 alone for the heavy C++ programs; `make test-slow` the others). Parametrizations the compiler cannot pass yet
  are listed in ``XFAIL`` (strict): delete an entry when it starts passing.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from levels import heavy, level_marks

E2E_DIR = Path(__file__).resolve().parent / "e2e"
BIN_DIR = Path(sys.executable).parent
TIMEOUT = 60  # seconds, per compile and per run

SELFTEST_OPTS = ("-O0", "-O2")
ADCC_OPTS = ("-O0", "-O1", "-O2", "-O3")

# (file relative to tests/e2e, opt level) -> issue that tracks it.
# "#3": forward mode (__enzyme_fwddiff); "#4": reverse mode / C++ (__enzyme_autodiff).
# Remove entries as the AD engine lands; strict xfail flags an entry that passes.
XFAIL: dict[tuple[str, str], str] = {
    ("memory/float_bits_by_value.c", opt): "#9 floats passed as the bits of a wider integer (zext/shl/or, trunc/lshr): "
                                           "refused with a located error (tests/test_ad_errors.py "
                                           "floats_as_integer_argument) until they are differentiated"
    for opt in ADCC_OPTS
} | {
    ("cpp/mixed_pointer_struct_callee.cpp", opt): "#17 a struct with a shadow read by a callee: its field of "
                                                  "pointers into enzyme_const memory has null shadows (crash)"
    for opt in ADCC_OPTS
}


def _programs():
    return sorted(
        str(p.relative_to(E2E_DIR))
        for p in E2E_DIR.glob("*/*")
        if p.suffix in (".c", ".cpp")
    )


PROGRAMS = _programs()


def _compiler(rel, adcc):
    cxx = rel.endswith(".cpp")
    if adcc:
        return [str(BIN_DIR / ("adcc++" if cxx else "adcc"))]
    name = "clang++-22" if cxx else "clang-22"
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found")
    return [path]


def _timeout(src) -> int:
    """TIMEOUT, or the program's own `// e2e-timeout: SECONDS` (heavy library headers)."""
    m = re.search(r"^// e2e-timeout: (\d+)", Path(src).read_text(), re.M)
    return int(m.group(1)) if m else TIMEOUT


def compile_and_run(src, cc, opts, tmp_path, selftest):
    """Compile src with cc in tmp_path, run it there; return (stdout, message).

    message is None on success (compile ok, exit 0, a PASS line), otherwise a
    description of the failure."""
    TIMEOUT = _timeout(src)
    exe = tmp_path / "t"
    cmd = [*cc, *opts, *(["-DADCC_SELFTEST"] if selftest else []), str(src), "-o", str(exe), "-lm"]
    try:
        c = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "", f"compile timed out after {TIMEOUT}s: {' '.join(cmd)}"
    if c.returncode != 0:
        return "", f"compile failed (exit {c.returncode}): {' '.join(cmd)}\n{c.stdout}{c.stderr}"
    if "Traceback" in c.stderr:
        return "", f"compiler printed a traceback:\n{c.stderr}"
    try:
        r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "", f"run timed out after {TIMEOUT}s"
    out = r.stdout + r.stderr
    skip = next((line for line in r.stdout.splitlines() if line.startswith("SKIP ")), None)
    if skip is not None and r.returncode == 0:
        pytest.skip(skip[5:])  # a program whose library is not installed says so
    if r.returncode != 0:
        return out, f"run exit {r.returncode}:\n{out}"
    if not any(line.startswith("PASS") for line in r.stdout.splitlines()):
        return out, f"no PASS line:\n{out}"
    return out, None


def _selftest_params():
    for rel in PROGRAMS:
        for opt in SELFTEST_OPTS:
            slow = opt == "-O0"  # (-O2 validates the program; -O0 with `make test-slow`)
            yield pytest.param(rel, opt, marks=[pytest.mark.slow] if slow else [], id=f"{rel}-{opt}")


@pytest.mark.parametrize("rel,opt", list(_selftest_params()))
def test_selftest(rel, opt, tmp_path):
    src = E2E_DIR / rel
    _, msg = compile_and_run(src, _compiler(rel, False), [opt], tmp_path, selftest=True)
    assert msg is None, msg


def _adcc_params():
    for rel in PROGRAMS:
        for opt in ADCC_OPTS:
            reason = XFAIL.get((rel, opt))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            heavy_level = heavy(E2E_DIR / rel) and opt != "-O2"  # (Boost, the standard containers)
            slow = [pytest.mark.slow] if heavy_level else level_marks(rel, opt)
            yield pytest.param(rel, opt, marks=marks + slow, id=f"{rel}{opt}")


@pytest.mark.parametrize("rel,opt", list(_adcc_params()))
def test_adcc(rel, opt, tmp_path):
    cc = _compiler(rel, True)
    if not os.path.exists(cc[0]):
        pytest.fail(f"{cc[0]} is not installed")
    _, msg = compile_and_run(E2E_DIR / rel, cc, [opt], tmp_path, selftest=False)
    assert msg is None, msg


def test_xfail_entries_name_existing_programs():
    """Stale XFAIL keys (renamed/removed files, bad opt levels) are errors."""
    stale = [k for k in XFAIL if k[0] not in PROGRAMS or k[1] not in ADCC_OPTS]
    assert not stale, stale
