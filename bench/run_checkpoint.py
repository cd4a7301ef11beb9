"""Long loops in bounded memory (#17 item 4): bench/ode.c's RK4 gradient with full taping against
the checkpointed loop (-fadcc-tape-limit), time and peak RSS, at 1e5 and 1e6 steps, and the
checkpointed one at 1e7 steps (full taping would need ~10 GB). Writes results/checkpoint.md.

    .venv/bin/python bench/run_checkpoint.py [--limit 64M] [--sizes 100000,1000000,10000000] [--full-max 1000000]

Times are CPU seconds of the gradient (BENCH_CLOCK=cpu, the minimum of BENCH_SAMPLES samples after a
warm-up call), with the primal's in the same process; peak RSS is the process's (getrusage, as
bench.h reports it). The runtime's report line (ADCC_CHECKPOINT_REPORT=1) gives the schedule."""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ADCC = str(Path(sys.executable).parent / "adcc")
REPORT = re.compile(r"adcc: loop of (\d+) steps: (\w+), (\d+) snapshots, (\d+) steps recomputed "
                    r"\((\d+) bytes of records per step")


def build(out: Path, limit: str) -> Path:
    exe = out / f"ode_{limit}"
    subprocess.run([ADCC, "-O2", "-march=native", f"-fadcc-tape-limit={limit}", f"-I{HERE}", str(HERE / "ode.c"),
                    "-o", str(exe), "-lm"], check=True)
    return exe


def measure(exe: Path, steps: int, samples: int) -> dict:
    env = dict(os.environ, BENCH_CLOCK="cpu", BENCH_SAMPLES=str(samples), ADCC_CHECKPOINT_REPORT="1")
    start = time.monotonic()
    r = subprocess.run([str(exe), "--only", "ode_rk4", "--size", str(steps)], env=env, capture_output=True,
                       text=True)
    wall = time.monotonic() - start
    if r.returncode != 0:
        raise SystemExit(f"{exe.name} --size {steps}: exit {r.returncode}\n{r.stderr}")
    row = json.loads(r.stdout.strip().splitlines()[-1])
    reports = REPORT.findall(r.stderr)
    row["schedule"] = reports[0] if reports else None
    row["wall_s"] = wall
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", default="64M")
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--full-max", type=int, default=1000000, help="largest size also run with full taping")
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results" / "checkpoint.md"))
    args = ap.parse_args()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        full, ck = build(Path(tmp), "none"), build(Path(tmp), args.limit)
        for steps in (int(s) for s in args.sizes.split(",")):
            runs = [("checkpointed", ck)] + ([("full taping", full)] if steps <= args.full_max else [])
            for what, exe in runs:
                row = measure(exe, steps, args.samples)
                rows.append((steps, what, row))
                print(steps, what, row, flush=True)
    load_after = os.getloadavg()
    lines = [
        "# Long loops in bounded memory: bench/ode.c RK4 (#17 item 4)",
        "",
        f"`bench/run_checkpoint.py --limit {args.limit}`: `adcc -O2 -march=native`, full taping "
        f"(`-fadcc-tape-limit=none`) against `-fadcc-tape-limit={args.limit}`; 8 coupled pendulums "
        "(16 state variables, 3 parameters); gradient and primal in CPU seconds (minimum of "
        f"{args.samples} samples after a warm-up call), peak RSS of the process (getrusage).",
        f"Machine: {os.cpu_count()} cores, load average {load_before[0]:.1f} before and {load_after[0]:.1f} after "
        "(shared with other sessions: CPU times, not wall times, are the figures to compare).",
        "",
        "| steps | taping | gradient s | primal s | ratio | peak RSS MiB | tape MiB | schedule | max rel err |",
        "|---:|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for steps, what, row in rows:
        sched = row["schedule"]
        if sched:
            n, mode, snaps, recomputed, per_step = sched
            text = f"{mode}: {int(snaps):,} snapshots, {int(recomputed):,} steps recomputed, {per_step} B/step"
        else:
            text = "the loop itself"
        tape = row["tape_bytes"] / 2**20
        lines.append(f"| {steps:,} | {what} | {row['grad_s']:.3f} | {row['primal_s']:.4f} | {row['ratio']:.2f} | "
                     f"{row['peak_rss_bytes'] / 2**20:.1f} | {tape:.1f} | {text} | {row['max_rel_err']:.1e} |")
    lines += ["", "`tape MiB` is the gradient's own tape; a checkpointed loop keeps one step's records and its "
              "snapshots in the runtime's record of the loop (bounded by the limit), not on that tape.", ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
