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
        assert KEYS <= set(rec) <= KEYS | {"peak_rss_bytes"}, rec  # bench.h reports the peak RSS too
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


def _load_sweep():
    spec = importlib.util.spec_from_file_location("bench_run_sweep", REPO / "bench" / "run_sweep.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_sweep_growth_fits():
    """The sweep's growth exponent is the log-log slope; the tape's affine fit is exact on affine data."""
    sweep = _load_sweep()
    xs = [100, 300, 1000, 3000]
    assert abs(sweep.slope(xs, [7.0 * x for x in xs]) - 1.0) < 1e-12
    assert abs(sweep.slope(xs, [0.5 * x ** 1.5 for x in xs]) - 1.5) < 1e-12
    per, fixed, residual = sweep.affine(xs, [256 * x + 288 for x in xs])
    assert abs(per - 256) < 1e-9 and abs(fixed - 288) < 1e-6 and residual < 1e-12
    assert sweep.verdict(1.05) == "linear" and "superlinear" in sweep.verdict(1.3)
    assert sweep.verdict(0.5) == "sublinear"


def test_sweep_tiny_end_to_end(tmp_path):
    """bench/run_sweep.py --tiny (-O2, two tiny sizes per series) builds, runs and reports: one row per
    series and size, the tape growing with the size, a fitted exponent per series, the chart."""
    series = ["ode_euler", "ode_rk4"]
    if (programs.ADBENCH / "lstm" / "lstm_l2_c4096.txt").exists():
        series.append("lstm")
    run = subprocess.run([sys.executable, str(REPO / "bench" / "run_sweep.py"), "--tiny", "--repeat", "1",
                          "--only", ",".join(series), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    res = json.loads((tmp_path / "sweep.json").read_text())
    assert res["tiny"] and res["load"][0] >= 0
    sweep = _load_sweep()
    for name in series:
        rows = sorted((r for r in res["rows"] if r["series"] == name), key=lambda r: r["n"])
        want = next(s.tiny for s in sweep.SERIES if s.name == name)
        assert [r["n"] for r in rows] == list(want), rows
        assert all(r["grad_s"] > 0 and r["primal_s"] > 0 and r["max_rel_err"] < 1e-5 for r in rows), rows
        assert all(r["peak_rss"] > 0 for r in rows), rows
        assert rows[0]["tape_bytes"] > 0 and rows[1]["tape_bytes"] > rows[0]["tape_bytes"], rows
    md = (tmp_path / "sweep.md").read_text()
    assert "## Growth exponents" in md and "Load average" in md
    for name in series:
        assert f"\n| {name} | " in md
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (tmp_path / "sweep.png").stat().st_size > 0
