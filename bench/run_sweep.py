#!/usr/bin/env python3
"""Scaling sweep (issue #17 point 6): gradient time, primal time, tape bytes and peak RSS against
problem size, for GMM (points), the ODE integrators (steps) and LSTM (characters). Each program is
built once with run_bench.py's flags and run once per series and size (`--only NAME --size N`, so
that the peak RSS is that series' own); writes bench/results/sweep.{json,md,png} with a fitted
growth exponent per series and the places where growth is not linear.
Usage: run_sweep.py [--tiny] [--only NAME,...] [--repeat R] [--out DIR] [--render]"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from programs import ADBENCH, BENCH, REPO  # noqa: E402
from run_bench import FLAGS, adcc_revision, fmt_bytes  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = BENCH / "results"
# growth exponents within this of 1 count as linear (times on a loaded machine are noisy)
LINEAR_TOL = 0.1


@dataclass(frozen=True)
class Series:
    name: str               # the benchmark's JSON name, also its --only argument
    program: str            # bench/<program>.c
    data: str | None        # ADBench input (relative to ADBENCH), truncated to the size by --size
    unit: str               # what the size counts
    sizes: tuple[int, ...]
    tiny: tuple[int, ...]   # --tiny (the test): a smoke run, not a measurement


# GMM: d=10, K=25, the one shape ADBench has at both 1k and 10k points; the 10k file's first 1000
# points are the 1k file's, so every size is a prefix of the same data. LSTM: l=2, b=14, prefixes of
# lstm_l2_c4096 (its c=1024 prefix has lstm_l2_c1024's shape, not its values).
SERIES: tuple[Series, ...] = (
    Series("gmm", "gmm", "gmm/10k/gmm_d10_K25.txt", "points", (1000, 2000, 5000, 10000), (20, 40)),
    Series("gmm_adbench", "gmm", "gmm/10k/gmm_d10_K25.txt", "points", (1000, 2000, 5000, 10000), (20, 40)),
    Series("ode_euler", "ode", None, "steps", (10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6), (100, 200)),
    Series("ode_rk4", "ode", None, "steps", (10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6), (100, 200)),
    Series("lstm", "lstm", "lstm/lstm_l2_c4096.txt", "characters", (256, 512, 1024, 2048, 4096), (8, 16)),
)
# The analysis of the committed bench/results/sweep.md (2026-12-07, adcc 13ff732, load ~9 on 2 CPUs):
# what each series' tape holds and what limits its linearity. Rendered under "Analysis"; a series
# whose gradient or tape exponent leaves 1 +- LINEAR_TOL is listed under "Where growth is not
# linear" whether or not it is explained here.
WHY = {
    "gmm": "tape exactly 2400 B per point = K (d + 2) = 300 doubles per point, so the tape is linear. The "
           "times are not: the gradient grows with exponent 1.29 (1.17, 1.36, 1.27 between neighbouring sizes) "
           "and the primal with 1.14, and grad/primal rises from 3.0x at 1k points to 4.1x at 10k. This version "
           "puts the points innermost and sweeps all n points once per component (K = 25 passes) over arrays of "
           "n d (xt, qx) and n K (mt) doubles: the primal's working set is about 376 B per point (0.37 MiB at 1k, "
           "3.7 MiB at 10k), the gradient's adds their shadows, so both leave the 1 MiB L2 of a core between 1k "
           "and 5k points and every component pass then reads from the shared L3. Cachegrind (an x86-64-v3 "
           "build: valgrind does not run AVX-512; last level simulated as one core's 1 MiB L2; one gradient "
           "check, one warm-up and one sample per run) from 1k to 10k points: instructions grow 9.6-9.8x in the "
           "primal, the augmented forward and the reverse pass, but the reverse pass's last-level read misses "
           "grow from 39 per point and gradient (the tape's 37.5 cache lines per point, streamed) to 186, and "
           "the primal's from 0.07 to 109 per point and call. gmm_adbench, whose working set per point is "
           "d-sized and whose 3.3x larger tape is only streamed, is linear on the same machine. A second run "
           "after merging main (ecb0896, load 7 to 4; same tapes to the byte) gave 1.20 for gmm and 1.09 for "
           "gmm_adbench: GMM's time exponents move by about 0.1 with the other processes' use of the caches, the "
           "ODE's and LSTM's by 0.01-0.05. Not done: tiling the points (a block of a few hundred points "
           "through all components) in gmm.c.",
    "gmm_adbench": "tape exactly 8032 B per point (1004 doubles: 40 per component and point, plus 4): linear, "
                   "and so is the gradient time (exponent 1.04; 1.09 in the second run). Its peak RSS grows faster (1.11): the tape "
                   "grows by doubling with a copy (runtime/adcc_runtime.c adcc_tape_grow), so at the last "
                   "growth the old and the new buffer are both resident (2 x 64 MiB at 10k points for a "
                   "76.6 MiB tape); the peak RSS steps with the powers of two of the capacity.",
    "ode_euler": "tape exactly 256 B per step = 32 doubles = twice the 16-value state, plus 288 B: linear; "
                 "gradient exponent 1.01, grad/primal 2.15x at every size. The peak RSS is the tape plus ~2 MiB: "
                 "no doubling copy, the loop's tape is sized once from its trip count (docs/reverse-mode.md, "
                 "\"Fast loops\").",
    "ode_rk4": "tape exactly 1024 B per step = 128 doubles = 8 x the 16-value state, plus 288 B: linear; "
               "gradient exponent 1.02; at 10^6 steps the tape is 977 MiB and "
               "the process's peak RSS 979 MiB, which is what point 4 (checkpointing) is to bound.",
    "lstm": "tape exactly 2224 B per predicted character (c - 1 of them) = 278 doubles, about 10 per hidden unit "
            "and layer, plus 176 B (the fit's -2.0 KiB is the one character that is not predicted): linear; "
            "gradient exponent 1.01, grad/primal 1.2x at every size.",
}


def build(program: str, build_dir: Path, flags: list[str]) -> Path:
    exe = build_dir / program
    cmd = [str(BIN / "adcc"), *flags, str(BENCH / f"{program}.c"), "-o", str(exe), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()[-600:]}")
    return exe


def run_once(argv: list[str], env: dict, timeout: float) -> tuple[dict | None, str]:
    """One run of a program: its JSON record and a note when it failed."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    recs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    note = "" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return (recs[0] if recs else None), note


def measure(s: Series, exe: Path, size: int, env: dict, args, notes: list[str]) -> dict | None:
    """One series at one size: the minimum times over args.repeat runs, the tape, the peak RSS."""
    argv = [str(exe), "--only", s.name, "--size", str(size)] + ([str(ADBENCH / s.data)] if s.data else [])
    best: dict | None = None
    load = os.getloadavg()[0]
    for rep in range(args.repeat):
        print(f"run_sweep: {s.name} {s.unit}={size} ({rep + 1}/{args.repeat})", file=sys.stderr, flush=True)
        rec, note = run_once(argv, env, args.timeout)
        if note or rec is None:
            notes.append(f"{s.name} {s.unit}={size}: {note or 'no JSON output'}")
            return None
        if best is None:
            best = rec
            continue
        if rec["tape_bytes"] != best["tape_bytes"]:  # one gradient's tape does not vary between runs
            notes.append(f"{s.name} {s.unit}={size}: tape bytes differ between runs "
                         f"({best['tape_bytes']} and {rec['tape_bytes']})")
        best = {**best, "primal_s": min(best["primal_s"], rec["primal_s"]),
                "grad_s": min(best["grad_s"], rec["grad_s"]),
                "peak_rss_bytes": max(best.get("peak_rss_bytes", -1), rec.get("peak_rss_bytes", -1)),
                "max_rel_err": max(best["max_rel_err"], rec["max_rel_err"])}
    return {"series": s.name, "unit": s.unit, "n": size, "label": best["size"], "primal_s": best["primal_s"],
            "grad_s": best["grad_s"], "ratio": best["grad_s"] / best["primal_s"],
            "tape_bytes": best["tape_bytes"], "peak_rss": best.get("peak_rss_bytes", -1),
            "max_rel_err": best["max_rel_err"], "load": load}


def collect(args) -> dict:
    build_dir = Path(args.out) / "build" if args.out else REPO / "build" / "bench-sweep"
    build_dir.mkdir(parents=True, exist_ok=True)
    flags = ["-O2"] if args.tiny else FLAGS
    env = dict(os.environ, BENCH_CLOCK=args.clock)
    if args.tiny:
        env["BENCH_SAMPLES"] = "2"  # two single-call samples: a smoke run
    load_before = os.getloadavg()
    rows, notes, exes = [], [], {}
    for s in SERIES:
        if args.only and s.name not in args.only:
            continue
        if s.data and not (ADBENCH / s.data).exists():
            notes.append(f"{s.name}: skipped, no ADBench data under {ADBENCH}")
            continue
        if s.program not in exes:
            print(f"run_sweep: building {s.program}", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            try:
                exes[s.program] = build(s.program, build_dir, flags)
            except (RuntimeError, subprocess.TimeoutExpired) as err:
                exes[s.program] = None
                notes.append(f"{s.program}: build failed: {err}")
            else:
                notes.append(f"{s.program}: built in {time.monotonic() - t0:.0f} s")
        exe = exes[s.program]
        if exe is None:
            continue
        for size in (s.tiny if args.tiny else s.sizes):
            row = measure(s, exe, size, env, args, notes)
            if row:
                rows.append(row)
    return {"machine": f"{platform.node()} {platform.machine()} {platform.processor() or ''}".strip(),
            "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "tiny": args.tiny,
            "adcc": adcc_revision(), "flags": flags, "repeat": args.repeat, "clock": args.clock,
            "load": [round(load_before[0], 1), round(os.getloadavg()[0], 1)], "rows": rows, "notes": notes}


CLOCKS = {
    "cpu": "Times are the thread's CPU time (`BENCH_CLOCK=cpu`, CLOCK_THREAD_CPUTIME_ID): on a loaded machine "
           "every call longer than a scheduler slice is preempted in every sample, so that wall time grows "
           "with the call's length by up to load / CPUs and the minimum over samples does not remove it.",
    "wall": "Times are wall time (CLOCK_MONOTONIC): on a loaded machine, calls longer than a scheduler "
            "slice include other processes' share, so growth exponents come out too large.",
}


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y against log x: the growth exponent (y ~ x^slope)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    var = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / var if var else None


def affine(xs: list[float], ys: list[float]) -> tuple[float, float, float] | None:
    """y = a + b x by least squares: (per unit b, fixed a, largest relative residual)."""
    if len(xs) < 2:
        return None
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    if not var:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var
    a = my - b * mx
    res = max(abs(a + b * x - y) / max(abs(y), 1.0) for x, y in zip(xs, ys))
    return b, a, res


def analyse(res: dict) -> dict[str, dict]:
    """Per series: growth exponents overall and between neighbouring sizes, the tape's affine fit."""
    out: dict[str, dict] = {}
    for s in SERIES:
        rows = sorted((r for r in res["rows"] if r["series"] == s.name), key=lambda r: r["n"])
        if len(rows) < 2:
            continue
        xs = [r["n"] for r in rows]
        a = {"unit": s.unit, "sizes": xs}
        for key in ("grad_s", "primal_s", "tape_bytes", "peak_rss"):
            ys = [r[key] for r in rows]
            a[key] = slope(xs, ys)
            a[key + "_local"] = [slope(xs[i:i + 2], ys[i:i + 2]) for i in range(len(xs) - 1)]
        a["tape_fit"] = affine(xs, [r["tape_bytes"] for r in rows])
        a["rss_fit"] = affine(xs, [r["peak_rss"] for r in rows])
        out[s.name] = a
    return out


def verdict(e: float | None) -> str:
    if e is None:
        return "-"
    if abs(e - 1.0) <= LINEAR_TOL:
        return "linear"
    return "sublinear" if e < 1.0 else "**superlinear**"


def fmt_e(e: float | None) -> str:
    return "-" if e is None else f"{e:.2f}"


def fmt_fit(fit: tuple[float, float, float] | None, unit: str) -> str:
    if fit is None:
        return "-"
    per, fixed, residual = fit
    fixed_s = f"+ {fmt_bytes(fixed)}" if fixed >= 0 else f"- {fmt_bytes(-fixed)}"
    return f"{per:.1f} B/{unit.rstrip('s')} {fixed_s} (residual {residual:.1e})"


def render_markdown(res: dict, fits: dict[str, dict]) -> str:
    load = res["load"]
    out = ["# Scaling sweep (issue #17 point 6)", "",
           f"Machine: {res['machine']}, {res['cpus']} CPUs; {res['date']}"
           f"{' (--tiny: a smoke run, not a measurement)' if res['tiny'] else ''}; adcc {res['adcc']}; "
           f"`adcc {' '.join(res['flags'])}`. **Load average {load[0]} before, {load[1]} after** "
           f"(per row: `load`). {CLOCKS[res.get('clock', 'wall')]} Times are the minimum per call over >= 5 "
           f"samples and >= 0.5 s of sampling (bench.h) and over {res['repeat']} run(s) of the program, "
           "and still noisy on a loaded machine (other processes evict the caches); tape bytes "
           "(adcc_tape_last_bytes: the tape of one gradient) are exact. Peak RSS is the "
           "whole process's (VmHWM) (input data, finite-difference check and the gradient's tape and shadows), "
           "one process per series and size. Inputs: GMM d=10, K=25 (ADBench's shape at both 1k and 10k "
           "points), the first n points of ADBench's gmm/10k/gmm_d10_K25 (n=1000 is exactly gmm/1k's input); "
           "ODE: bench/ode.c's 8 pendulums; LSTM l=2, b=14, the first c characters of ADBench's "
           "lstm_l2_c4096.", "",
           "| series | size | primal s | gradient s | grad/primal | tape | tape / unit | peak RSS | err | load |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(res["rows"], key=lambda r: ([s.name for s in SERIES].index(r["series"]), r["n"])):
        per = r["tape_bytes"] / r["n"] if r["tape_bytes"] >= 0 else None
        out.append(f"| {r['series']} | {r['n']} {r['unit']} ({r['label']}) | {r['primal_s']:.3g} | {r['grad_s']:.3g} "
                   f"| {r['ratio']:.2f}x | {fmt_bytes(r['tape_bytes'])} | {'-' if per is None else f'{per:.1f} B'} "
                   f"| {fmt_bytes(r['peak_rss'])} | {r['max_rel_err']:.1e} | {r['load']:.1f} |")
    out += ["", "## Growth exponents", "",
            "Least-squares slope of log(quantity) against log(size) over the series (1 = linear; "
            f"within 1 ± {LINEAR_TOL} counts as linear), and between neighbouring sizes. The tape's "
            "and the peak RSS's affine fits: bytes = per unit × size + fixed, with the largest relative residual "
            "(the RSS's fixed part, the program and its input, is why its exponent is below 1).", "",
            "| series | gradient | primal | tape | peak RSS | gradient, neighbouring sizes | tape fit | peak RSS fit |",
            "|---|---|---|---|---|---|---|---|"]
    for name, a in fits.items():
        local = ", ".join(f"{x}→{y}: {fmt_e(e)}" for x, y, e in zip(a["sizes"], a["sizes"][1:], a["grad_s_local"]))
        tfs, rfs = (fmt_fit(a[k], a["unit"]) for k in ("tape_fit", "rss_fit"))
        out.append(f"| {name} | {fmt_e(a['grad_s'])} {verdict(a['grad_s'])} | {fmt_e(a['primal_s'])} "
                   f"{verdict(a['primal_s'])} | {fmt_e(a['tape_bytes'])} {verdict(a['tape_bytes'])} "
                   f"| {fmt_e(a['peak_rss'])} {verdict(a['peak_rss'])} | {local} | {tfs} | {rfs} |")
    flagged = [(name, a) for name, a in fits.items()
               if any(verdict(a[k]) not in ("linear", "-") for k in ("grad_s", "tape_bytes"))]
    out += ["", "## Where growth is not linear", ""]
    if not flagged:
        out.append("- Nowhere: every series' gradient time and tape grow linearly with its size.")
    for name, a in flagged:
        what = ", ".join(f"{k} exponent {fmt_e(a[k])}" for k in ("grad_s", "tape_bytes")
                         if verdict(a[k]) not in ("linear", "-"))
        out.append(f"- **{name}**: {what}" + (" (see Analysis)" if WHY.get(name) and not res["tiny"] else ""))
    if not res["tiny"]:
        out += ["", "## Analysis", "", "Of the run committed on 2026-12-07 (the numbers quoted are that run's; "
                "the tape bytes are exact and do not change between runs of one commit). By wall time, at load "
                "13 on this machine, the gradient exponents came out 1.63 (gmm), 1.56 (gmm_adbench), 1.33 "
                "(ode_euler) and 1.27 (lstm): the preemption that CPU time leaves out.", "",
                *[f"- **{name}**: {text}" for name, text in WHY.items() if text]]
    out += ["", "## Notes", "", *[f"- {n}" for n in res["notes"]]]
    return "\n".join(out) + "\n"


def render_chart(res: dict, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    groups = [("GMM d10 K25", ("gmm", "gmm_adbench"), "points n"),
              ("ODE, 8 pendulums", ("ode_euler", "ode_rk4"), "steps"),
              ("LSTM l2 b14", ("lstm",), "characters c")]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    for col, (title, names, xlabel) in enumerate(groups):
        top, bottom = axes[0][col], axes[1][col]
        for i, name in enumerate(names):
            rows = sorted((r for r in res["rows"] if r["series"] == name), key=lambda r: r["n"])
            if not rows:
                continue
            xs = [r["n"] for r in rows]
            color = f"C{i}"
            top.plot(xs, [r["grad_s"] for r in rows], "o-", color=color, label=f"{name} gradient")
            top.plot(xs, [r["primal_s"] for r in rows], "s--", color=color, alpha=0.6, label=f"{name} primal")
            bottom.plot(xs, [r["tape_bytes"] for r in rows], "o-", color=color, label=f"{name} tape")
            bottom.plot(xs, [r["peak_rss"] for r in rows], "^:", color=color, alpha=0.6, label=f"{name} peak RSS")
            for ax, key in ((top, "grad_s"), (bottom, "tape_bytes")):
                if rows[0][key] > 0:  # the linear reference through the first point
                    ax.plot(xs, [rows[0][key] * x / xs[0] for x in xs], color="0.6", lw=0.8,
                            label="linear" if i == 0 else None)
        sizes = sorted({r["n"] for r in res["rows"] if r["series"] in names})
        top.set_title(title)
        top.set_ylabel("seconds per call")
        bottom.set_ylabel("bytes")
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            if sizes:  # the sizes measured, not log-scale minor tick labels that collide
                ax.set_xticks(sizes)
                ax.set_xticklabels([f"{x:g}" for x in sizes], fontsize=8)
                ax.xaxis.set_minor_formatter(plt.NullFormatter())
            ax.grid(True, which="both", alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
    fig.suptitle(f"adcc gradient cost against problem size ({res.get('clock', 'wall')} time per call; "
                 f"load average {res['load'][0]} on {res.get('cpus', '?')} CPUs)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="tiny sizes, -O2, 2 samples: a smoke run (tests)")
    ap.add_argument("--only", type=lambda s: set(s.split(",")), default=None, help="series names")
    ap.add_argument("--repeat", type=int, default=2, help="runs per size; the minimum time is kept")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="time calls by the thread's CPU time (default) or by wall time (bench.h BENCH_CLOCK)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    ap.add_argument("--out", default=None, help="directory of sweep.{json,md,png} (default bench/results)")
    ap.add_argument("--render", action="store_true", help="only re-render sweep.md/png from sweep.json")
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    if args.render:
        res = json.loads((out / "sweep.json").read_text())
    else:
        res = collect(args)
        (out / "sweep.json").write_text(json.dumps(res, indent=1) + "\n")
    md = render_markdown(res, analyse(res))
    (out / "sweep.md").write_text(md)
    if not render_chart(res, out / "sweep.png"):
        print("run_sweep: matplotlib not importable, no chart", file=sys.stderr)
    print(md)
    return 1 if any("build failed" in n or ": exit" in n or "timed out" in n or "no JSON" in n
                    for n in res["notes"]) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
