#!/usr/bin/env python3
"""Split mode, Hessian-vector products and batches (issue #11): builds the benchmark programs with
`adcc -O2 -march=native`, runs each with `--higher`, writes bench/results/higher.{json,md}.

- split: the gradient as `__enzyme_augmentfwd` + `__enzyme_reverse` (two calls) against
  `__enzyme_autodiff`, with the inputs marked `enzyme_not_overwritten` and without (Enzyme's split
  mode default: the caller may change them between the halves, so the reverse re-reads nothing);
- HVP: forward mode over the gradient (`__enzyme_fwddiff` of a function calling
  `__enzyme_autodiff`) against the gradient, checked against central differences of the gradient;
- batch: 4 directional derivatives of the RK4 loss in vector forward mode (`enzyme_width 4`) and
  with `__enzyme_batch` of the one-direction function, against one forward derivative.
Each program checks its results and exits 1 when they are wrong.
Usage: run_higher.py [--quick] [--only NAME,...]"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from programs import ADBENCH, BENCH, REPO  # noqa: E402
from run_bench import adcc_revision  # noqa: E402

ADCC = str(Path(sys.executable).parent / "adcc")
RESULTS = BENCH / "results"
BUILD = REPO / "build" / "bench-higher"
RUNS = (("gmm", ["gmm/1k/gmm_d10_K25.txt"]), ("lstm", ["lstm/lstm_l2_c1024.txt"]),
        ("brusselator", []), ("ode", []))
TARGETS = {"split_ratio": 1.15, "hvp_ratio": 4.0, "width4_ratio": 2.0, "batch4_ratio": 2.0}


def run_one(name: str, data: list[str], quick: bool) -> tuple[dict | None, str]:
    exe = BUILD / name
    cmd = [ADCC, "-O2", "-march=native", str(BENCH / f"{name}.c"), "-o", str(exe), "-lm"]
    c = subprocess.run(cmd, capture_output=True, text=True)
    if c.returncode != 0:
        return None, f"build failed: {c.stderr.strip()[-300:]}"
    args = [str(exe), "--higher"] + (["--quick"] if quick else []) + [str(ADBENCH / d) for d in data]
    r = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    note = "" if r.returncode == 0 else f"exit {r.returncode}: {r.stderr.strip()[-300:]}"
    return (rows[0] if rows else None), note


def fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    return f"{v:.3g}{unit}"


def ratio(row: dict, key: str) -> str:
    v = row.get(key)
    if v is None:
        return "-"
    mark = " ✗" if key in TARGETS and v > TARGETS[key] else ""
    return f"{v:.2f}x{mark}"


def write(rows: list[dict], notes: list[str], load: tuple[float, float], quick: bool) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"machine": f"{platform.node()} {platform.machine()}", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "adcc": adcc_revision(), "quick": quick, "load_before": load[0], "load_after": load[1],
            "cpus": os.cpu_count()}
    (RESULTS / "higher.json").write_text(json.dumps({"meta": meta, "rows": rows, "notes": notes}, indent=1) + "\n")
    out = ["# Split mode, Hessian-vector products, batches (issue #11)", "",
           f"Machine: {meta['machine']}; {meta['date']}; adcc {meta['adcc']}. Built with `adcc -O2 -march=native`; "
           f"times in seconds per call, the minimum over 3 interleaved rounds of >= 5 samples (>= 0.5 s each). "
           f"Load average before/after: {load[0]:.1f} / {load[1]:.1f} on {meta['cpus']} CPUs"
           + (" (a loaded machine: ratios are more reliable than times)." if load[0] > (meta['cpus'] or 1) else ".")
           + (" `--quick` sizes." if quick else ""), "",
           "## Split mode against `__enzyme_autodiff` (target: within 1.15x)", "",
           "| benchmark | size | gradient | split, inputs `enzyme_not_overwritten` | ratio | split, default | ratio |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "split_s" in r:
            out.append(f"| {r['name']} | {r['size']} | {fmt(r['grad_s'])} | {fmt(r['split_s'])} | "
                       f"{ratio(r, 'split_ratio')} | {fmt(r.get('split_default_s'))} | "
                       f"{ratio(r, 'split_default_ratio')} |")
    out += ["", "## Hessian-vector products, forward over reverse (target: at most 4x the gradient)", "",
            "| benchmark | size | gradient | HVP | HVP / gradient | max rel. error (HVP vs FD of the gradient) |",
            "|---|---|---|---|---|---|"]
    for r in rows:
        if "hvp_s" in r:
            out.append(f"| {r['name']} | {r['size']} | {fmt(r['grad_s'])} | {fmt(r['hvp_s'])} | "
                       f"{ratio(r, 'hvp_ratio')} | {r['max_rel_err']:.1e} |")
    out += ["", "## 4 directional derivatives at once (target: at most 2x one forward derivative)", "",
            "| benchmark | size | one forward derivative | `enzyme_width 4` | ratio | `__enzyme_batch` width 4 | ratio |",
            "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "width4_s" in r:
            out.append(f"| {r['name']} | {r['size']} | {fmt(r['fwd1_s'])} | {fmt(r['width4_s'])} | "
                       f"{ratio(r, 'width4_ratio')} | {fmt(r['batch4_s'])} | {ratio(r, 'batch4_ratio')} |")
    out += ["", "✗: misses the issue's target. `__enzyme_batch` runs its lanes one after another "
            "(adcc/ad/batch.py), so 4 lanes of a forward derivative cost about 4 of them; vector forward mode "
            "(`enzyme_width`) shares the primal computation between its tangents."]
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    (RESULTS / "higher.md").write_text("\n".join(out) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", type=lambda s: set(s.split(",")), default=None)
    ap.add_argument("--no-jax", action="store_true", help="accepted for make bench's BENCH_ARGS")
    args = ap.parse_args()
    BUILD.mkdir(parents=True, exist_ok=True)
    load0 = os.getloadavg()[0]
    rows, notes, status = [], [], 0
    for name, data in RUNS:
        if args.only and name not in args.only:
            continue
        if any(not (ADBENCH / d).exists() for d in data):
            notes.append(f"{name}: skipped, no ADBench data under {ADBENCH}")
            continue
        row, note = run_one(name, data, args.quick)
        if row is not None:
            rows.append(row)
        if note:
            notes.append(f"{name}: {note}")
            status = 1
        print(json.dumps(row) if row else f"{name}: {note}", flush=True)
    write(rows, notes, (load0, os.getloadavg()[0]), args.quick)
    return status


if __name__ == "__main__":
    sys.exit(main())
