"""The AD benchmark programs of bench/ (issue #5), compiled with adcc -O2 and run with --quick:
each exits 0 and prints one JSON line per benchmark whose gradient agrees with finite differences.
Also the minimal reproducers of adcc bugs the benchmarks ran into (bench/repro/)."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from driver_helpers import ADCC, REPO

_spec = importlib.util.spec_from_file_location("bench_programs", REPO / "bench" / "programs.py")
programs = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = programs  # dataclasses look their module up
_spec.loader.exec_module(programs)

KEYS = {"name", "size", "primal_s", "grad_s", "ratio", "max_rel_err", "tape_bytes"}

# Known failures: program name -> reason (remove as they start passing; xfail is strict).
XFAIL: dict[str, str] = {}


def params() -> list:
    return [pytest.param(prog, id=prog.name,
                         marks=[pytest.mark.xfail(strict=True, reason=XFAIL[prog.name])] if prog.name in XFAIL else [])
            for prog in programs.PROGRAMS]


@pytest.mark.parametrize("prog", params())
def test_bench_program_quick(prog, tmp_path):
    if prog.data and not (programs.ADBENCH / prog.data).exists():
        pytest.skip(f"ADBench data not found: {programs.ADBENCH / prog.data}")
    exe = tmp_path / prog.name
    compiler = str(Path(ADCC).parent / prog.compiler)
    build = subprocess.run([compiler, "-O2", str(prog.source), "-o", str(exe), "-lm"],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe), *prog.quick_args()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert lines, "no JSON output"
    for rec in lines:
        assert set(rec) == KEYS, rec
        assert rec["name"].startswith(prog.name), rec
        assert rec["primal_s"] > 0 and rec["grad_s"] > 0, rec
        assert rec["max_rel_err"] < 1e-5, rec
        assert rec["tape_bytes"] >= 0, rec  # the adcc runtime reported the gradient's tape


def test_two_call_sites_on_different_functions(tmp_path):
    exe = tmp_path / "two_call_sites"
    build = subprocess.run([ADCC, "-O2", str(REPO / "bench" / "repro" / "two_call_sites.c"), "-o", str(exe)],
                           capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    assert subprocess.run([str(exe)], capture_output=True).returncode == 0
    assert subprocess.run([str(exe), "x"], capture_output=True).returncode == 0


def test_const_pointer_untouched_with_ad_before_optimization(tmp_path):
    exe = tmp_path / "const_pointer"
    src = REPO / "bench" / "repro" / "const_pointer_unoptimized.c"
    build = subprocess.run([ADCC, "-O2", "--ad-stage=unoptimized", str(src), "-o", str(exe)],
                           capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
