#!/usr/bin/env python3
"""GradBench's C++ programs written for Enzyme, built with adcc++ (issue #17, `make bench-gradbench`).

For each eval (gmm, ba, lstm, llsq, lse, det) this builds GradBench's `enzyme` tool with adcc++ and
its `manual` (hand-written derivatives) and `tapenade` tools with clang, all with the same flags,
writes one input per configuration the way GradBench's eval generates it (same seeds and
distributions; ba and lstm from the ADBench files in shared/adbench-data), runs every tool's primal
and gradient on it, checks that the gradients agree and reports gradient / primal per tool in
bench/results/gradbench.{md,json}. Nothing of GradBench is kept in this repository: its checkout is
given as --gradbench (GRADBENCH=path for make).

Two measures: wall time (GradBench's own harness: the minimum over its repeated `evaluate` calls)
and, with --count, instructions per call under callgrind (the difference between runs of 1 and
1 + COUNT_RUNS evaluations, divided by COUNT_RUNS, so that parsing the input and the first call's
allocations drop out), built with -march=x86-64-v3 because valgrind 3.19 cannot run AVX-512.
Usage: run_gradbench.py --gradbench PATH [--only gmm,ba] [--count] [--flags '...'] [--out DIR]"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
ADBENCH = REPO.parent / "shared" / "adbench-data"
BIN = Path(sys.executable).parent
RESULTS = BENCH / "results"
BUILD = REPO / "build" / "gradbench"

# the issue's flags; every tool gets the same ones (--flags replaces them for all)
FLAGS = ["-O3", "-march=native"]
COUNT_MARCH = "-march=x86-64-v3"
COUNT_RUNS = 2
TOOLS = ("enzyme", "manual", "tapenade")
# gradients agree when max |a - b| / max(1, max |b|) stays under this (manual is the reference)
AGREE_TOL = 1e-8


@dataclass(frozen=True)
class Config:
    eval: str              # GradBench's eval (module) name
    name: str              # the configuration, as in the issue's table
    primal: str            # GradBench's function names
    gradient: str
    make_input: object     # () -> dict: the input JSON without min_runs/min_seconds
    issue: dict = field(default_factory=dict)  # the issue's ratios for comparison


# ---- inputs: the generation of GradBench's evals (same seeds, same draw order) ----

def gmm_input(d: int, k: int, n: int = 1000, seed: int = 31337) -> dict:
    import numpy as np
    rng = np.random.default_rng(seed=seed)
    x = [list(rng.normal(size=d)) for _ in range(n)]
    alpha = list(rng.normal(size=k))
    mu = [list(rng.uniform(size=d)) for _ in range(k)]
    q = [list(rng.normal(size=d)) for _ in range(k)]
    l = [list(rng.normal(size=d * (d - 1) // 2)) for _ in range(k)]
    return {"d": d, "k": k, "n": n, "x": x, "m": 0, "gamma": 1.0, "alpha": alpha, "mu": mu,
            "q": q, "l": l}


LLSQ_NS = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8196, 16392]
LSE_NS = [2500, 5000, 10000, 20000, 40000, 80000, 160000, 320000, 640000, 1280000]
DET_ELLS = [5, 6, 7, 8, 9, 10, 11]


def _nth_draw(sizes: list[int]) -> list[float]:
    """llsq, lse, det: one np.random.seed(31337), then one rand(size) per configuration in order;
    the last draw is the configuration's input."""
    import numpy as np
    np.random.seed(31337)
    v: list[float] = []
    for s in sizes:
        v = np.random.rand(s).tolist()
    return v


def llsq_input(n: int, m: int = 128) -> dict:
    return {"x": _nth_draw([m] * (LLSQ_NS.index(n) + 1)), "n": n}


def lse_input(n: int) -> dict:
    return {"x": _nth_draw(LSE_NS[:LSE_NS.index(n) + 1])}


def det_input(ell: int) -> dict:
    return {"A": _nth_draw([e * e for e in DET_ELLS[:DET_ELLS.index(ell) + 1]]), "ell": ell}


def ba_input(path: Path) -> dict:
    lines = path.read_text().splitlines()
    n, m, p = (int(v) for v in lines[0].split())
    return {"n": n, "m": m, "p": p, "cam": [float(v) for v in lines[1].split()],
            "x": [float(v) for v in lines[2].split()], "w": float(lines[3]),
            "feat": [float(v) for v in lines[4].split()]}


def lstm_input(path: Path) -> dict:
    """GradBench's lstm eval draws its parameters at random over a text it ships; ADBench's files
    hold the same four arrays (main parameters, extra parameters, state, one-hot-bit sequence)."""
    rows = [ln.split() for ln in path.read_text().splitlines()]
    l, c, b = (int(v) for v in rows[0])
    body = [[float(v) for v in r] for r in rows[1:] if r]
    main, extra, state, seq = body[:2 * l], body[2 * l:2 * l + 3], body[2 * l + 3:4 * l + 3], body[4 * l + 3:]
    assert len(seq) == c and all(len(r) == 4 * b for r in main), path
    return {"main_params": main, "extra_params": extra, "state": state, "sequence": seq}


CONFIGS = (
    Config("gmm", "gmm d10_K25 n1000", "objective", "jacobian", lambda: gmm_input(10, 25),
           {"adcc": 5.84, "tapenade": 3.33, "manual": 2.60}),
    Config("gmm", "gmm d64_K10 n1000", "objective", "jacobian", lambda: gmm_input(64, 10),
           {"adcc": 10.26, "tapenade": 2.93, "manual": 3.06}),
    Config("ba", "ba1 (n49 m7776 p31843)", "objective", "jacobian",
           lambda: ba_input(ADBENCH / "ba" / "ba1_n49_m7776_p31843.txt"),
           {"adcc": 6.97, "tapenade": 12.67, "manual": 4.54}),
    Config("lstm", "lstm l2_c1024", "objective", "jacobian",
           lambda: lstm_input(ADBENCH / "lstm" / "lstm_l2_c1024.txt"),
           {"adcc": 1.39, "tapenade": 3.19, "manual": 5.15}),
    Config("llsq", "llsq n1024 m128", "primal", "gradient", lambda: llsq_input(1024),
           {"adcc": 1.23, "manual": 1.88}),
    Config("lse", "lse n1280000", "primal", "gradient", lambda: lse_input(1280000),
           {"adcc": 1.45, "manual": 1.14}),
    Config("det", "det ell9", "primal", "gradient", lambda: det_input(9),
           {"adcc": 3.26, "manual": 10.02}),
)
TAPENADE_EVALS = ("gmm", "ba", "lstm")


# ---- building ----

def shim_dir(out: Path) -> Path:
    """GradBench's cpp/ expects nlohmann's json.hpp beside it (its Makefile downloads it): use the
    system's (Debian nlohmann-json3-dev)."""
    if not Path("/usr/include/nlohmann/json.hpp").exists():
        raise SystemExit("bench-gradbench: /usr/include/nlohmann/json.hpp missing "
                         "(apt-get install nlohmann-json3-dev)")
    out.mkdir(parents=True, exist_ok=True)
    (out / "json.hpp").write_text("#include <nlohmann/json.hpp>\n")
    return out


ADCC_CXX = [str(BIN / "adcc++")]  # --adcc replaces it (an A/B run against another checkout's adcc++)


def compilers() -> dict[str, tuple[str, str]]:
    cxx = shutil.which("clang++-22") or "clang++"
    cc = shutil.which("clang-22") or "clang"
    return {"enzyme": (str(BIN / "adcc"), ADCC_CXX[0]), "manual": (cc, cxx), "tapenade": (cc, cxx)}


def build(gb: Path, tool: str, ev: str, flags: list[str], out: Path) -> Path:
    exe = out / tool / ev
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    cc, cxx = compilers()[tool]
    inc = ["-I", str(gb / "cpp"), "-I", str(shim_dir(out / "include"))]
    tdir = gb / "tools" / tool
    if tool != "tapenade":
        cmds = [[cxx, "-std=c++17", *flags, *inc, "-o", str(exe), str(tdir / f"{ev}.cpp"), "-lm"]]
    else:
        srcs = [tdir / "evals" / ev / f"{ev}.c", tdir / "evals" / ev / f"{ev}_b.c",
                tdir / "utils" / "adBuffer.c", tdir / "utils" / "adStack.c"]
        objs = [out / tool / f"{ev}.{s.stem}.o" for s in srcs]
        cmds = [[cc, "-std=c11", *flags, *inc, "-c", "-o", str(o), str(s)] for s, o in zip(srcs, objs)]
        cmds.append([cxx, "-std=c++17", *flags, *inc, "-o", str(exe), str(tdir / f"{ev}.cpp"),
                     *map(str, objs), "-lm"])
    for c in cmds:
        r = subprocess.run(c, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"build of {tool}/{ev} failed: {shlex.join(c)}\n{r.stderr[-4000:]}")
    return exe


# ---- running ----

def run_tool(exe: Path, inp: Path, function: str) -> tuple[object, list[int]]:
    r = subprocess.run([str(exe), str(inp), function], capture_output=True, text=True, timeout=1800)
    if r.returncode:
        raise RuntimeError(f"{exe} {function} failed ({r.returncode}): {r.stderr[-2000:]}")
    lines = r.stdout.splitlines()
    times = [json.loads(ln)["nanoseconds"] for ln in lines[1:] if '"evaluate"' in ln]
    return json.loads(lines[0]), times


def instructions(exe: Path, inp_1: Path, inp_n: Path, function: str, work: Path) -> float:
    """Instructions of one call: callgrind totals of runs of 1 and 1 + COUNT_RUNS evaluations."""
    totals = []
    for inp in (inp_1, inp_n):
        cg = work / "callgrind.out"
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
                            str(exe), str(inp), function], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"callgrind {exe} {function}: {r.stderr[-2000:]}")
        m = re.search(r"^summary:\s*(\d+)", cg.read_text(), re.M)
        totals.append(int(m.group(1)))
        cg.unlink()
    return (totals[1] - totals[0]) / COUNT_RUNS


def flatten(v) -> list[float]:
    if isinstance(v, dict):
        return [x for k in sorted(v) for x in flatten(v[k])]
    if isinstance(v, list):
        return [x for e in v for x in flatten(e)]
    return [float(v)]


def disagreement(a, ref) -> float:
    fa, fr = flatten(a), flatten(ref)
    if len(fa) != len(fr):
        return float("inf")
    scale = max([1.0, *map(abs, fr)])
    return max((abs(x - y) for x, y in zip(fa, fr)), default=0.0) / scale


def measure(gb: Path, cfg: Config, args) -> dict:
    work = args.build / "inputs"
    work.mkdir(parents=True, exist_ok=True)
    base = cfg.make_input()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", cfg.name).strip("_")
    inp = work / f"{slug}.json"
    inp.write_text(json.dumps(base | {"min_runs": args.runs, "min_seconds": args.seconds}))
    tools = [t for t in TOOLS if t != "tapenade" or cfg.eval in TAPENADE_EVALS]
    row: dict = {"name": cfg.name, "eval": cfg.eval, "issue": cfg.issue, "tools": {}}
    grads = {}
    for tool in list(tools):
        try:
            exe = build(gb, tool, cfg.eval, args.flags, args.build / "native")
            _, tp = run_tool(exe, inp, cfg.primal)
            grad, tg = run_tool(exe, inp, cfg.gradient)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            row["failed"] = {**row.get("failed", {}), tool: str(e).splitlines()[0]}
            print(f"  {cfg.name:24} {tool:9} FAILED: {e}", file=sys.stderr)
            tools.remove(tool)
            continue
        grads[tool] = grad
        row["tools"][tool] = {"primal_s": min(tp) / 1e9, "grad_s": min(tg) / 1e9,
                              "ratio": min(tg) / min(tp)}
        print(f"  {cfg.name:24} {tool:9} primal {min(tp) / 1e6:9.3f} ms  gradient "
              f"{min(tg) / 1e6:9.3f} ms  ratio {min(tg) / min(tp):6.2f}", file=sys.stderr)
    for tool in tools:
        row["tools"][tool]["disagreement"] = (disagreement(grads[tool], grads["manual"])
                                              if "manual" in grads else float("nan"))
    if args.count:
        i1, i_n = work / f"{slug}.1.json", work / f"{slug}.n.json"
        i1.write_text(json.dumps(base | {"min_runs": 1, "min_seconds": 0}))
        i_n.write_text(json.dumps(base | {"min_runs": 1 + COUNT_RUNS, "min_seconds": 0}))
        cflags = [COUNT_MARCH if f == "-march=native" else f for f in args.flags]
        for tool in tools:
            exe = build(gb, tool, cfg.eval, cflags, args.build / "x86-64-v3")
            ip = instructions(exe, i1, i_n, cfg.primal, work)
            ig = instructions(exe, i1, i_n, cfg.gradient, work)
            row["tools"][tool] |= {"primal_ir": ip, "grad_ir": ig, "ratio_ir": ig / ip}
            print(f"  {cfg.name:24} {tool:9} primal {ip / 1e6:9.2f} M  gradient {ig / 1e6:9.2f} M"
                  f"  ratio {ig / ip:6.2f}", file=sys.stderr)
    return row


# ---- report ----

TOOL_LABEL = {"enzyme": "adcc (enzyme tool)", "manual": "hand-written", "tapenade": "Tapenade"}


def verdict(t: dict, key: str) -> str:
    best = min((t[x][key] for x in ("manual", "tapenade") if x in t), default=None)
    if best is None or key not in t["enzyme"]:
        return ""
    return f"{t['enzyme'][key] / best:.2f}x"


def render(res: dict) -> str:
    out = ["# GradBench's Enzyme C++ programs built with adcc++ (issue #17)", "",
           f"`make bench-gradbench GRADBENCH=path` (bench/gradbench/run_gradbench.py). GradBench "
           f"{res['gradbench_rev']}; adcc {res['adcc_rev']}; flags for every tool: "
           f"`{' '.join(res['flags'])}` (adcc++ for the enzyme tool, clang++-22/clang-22 for manual "
           f"and tapenade); machine: {res['machine']}, load average {res['load']}.", "",
           "ratio = the tool's gradient / its own primal. *vs best* = adcc's ratio over the best of "
           "hand-written and Tapenade (target <= 1.2). *agree* = max |gradient - hand-written| / "
           "max(1, max |hand-written|).", ""]
    for key, unit, title in (("ratio_ir", "M instr.", "Instructions per call (callgrind, -march=x86-64-v3)"),
                             ("ratio", "ms", "Wall time (GradBench's harness, min over runs)")):
        if not any(key in t for r in res["rows"] for t in r["tools"].values()):
            continue
        pk, gk, sc = (("primal_ir", "grad_ir", 1e-6) if key == "ratio_ir" else ("primal_s", "grad_s", 1e3))
        out += [f"## {title}", "",
                f"| eval | tool | primal ({unit}) | gradient ({unit}) | ratio | issue's ratio | agree | adcc vs best |",
                "|---|---|---|---|---|---|---|---|"]
        for r in res["rows"]:
            for tool, t in r["tools"].items():
                issue = r["issue"].get("adcc" if tool == "enzyme" else tool)
                out.append(f"| {r['name']} | {TOOL_LABEL[tool]} | {t[pk] * sc:.3f} | {t[gk] * sc:.3f} | "
                           f"{t[key]:.2f} | {issue if issue is not None else '–'} | "
                           f"{t['disagreement']:.1e} | {verdict(r['tools'], key) if tool == 'enzyme' else ''} |")
        out.append("")
    failed = [(r["name"], tool, why) for r in res["rows"] for tool, why in r.get("failed", {}).items()]
    if failed:
        out += ["## Failures", ""] + [f"- {name}, {TOOL_LABEL[tool]}: `{why}`" for name, tool, why in failed] + [""]
    return "\n".join(out)


def gradbench_rev(gb: Path) -> str:
    """The checkout's commit (a file .gradbench-rev holds it for a checkout made by git archive)."""
    r = subprocess.run(["git", "-C", str(gb), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip():
        return r.stdout.strip()
    mark = gb / ".gradbench-rev"
    return mark.read_text().strip() if mark.exists() else "(checkout without git metadata)"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gradbench", required=True, type=Path, help="a GradBench checkout")
    ap.add_argument("--only", default="", help="comma-separated evals (gmm,ba,lstm,llsq,lse,det)")
    ap.add_argument("--count", action="store_true", help="also count instructions under callgrind")
    ap.add_argument("--flags", default=" ".join(FLAGS), help="compiler flags for every tool")
    ap.add_argument("--runs", type=int, default=10, help="GradBench's min_runs")
    ap.add_argument("--seconds", type=float, default=0.5, help="GradBench's min_seconds")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--adcc", help="the adcc++ to build the enzyme tool with (default: this checkout's)")
    ap.add_argument("--build", type=Path, default=BUILD, help="build directory")
    args = ap.parse_args(argv)
    args.flags = shlex.split(args.flags)
    if args.adcc:
        ADCC_CXX[0] = args.adcc
    gb = args.gradbench.resolve()
    if not (gb / "tools" / "enzyme").is_dir() or not (gb / "cpp" / "gradbench").is_dir():
        print(f"run_gradbench: {gb} is not a GradBench checkout (no tools/enzyme, cpp/gradbench)",
              file=sys.stderr)
        return 2
    shutil.rmtree(args.build / "native", ignore_errors=True)
    shutil.rmtree(args.build / "x86-64-v3", ignore_errors=True)
    only = {e for e in args.only.split(",") if e}
    sys.path.insert(0, str(BENCH))
    from run_bench import adcc_revision  # noqa: E402
    res = {"gradbench_rev": gradbench_rev(gb), "adcc_rev": adcc_revision() if not args.adcc else args.adcc, "flags": args.flags,
           "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
           "load": " ".join(f"{x:.1f}" for x in os.getloadavg()), "rows": []}
    for cfg in CONFIGS:
        if only and cfg.eval not in only:
            continue
        print(f"{cfg.name}:", file=sys.stderr)
        res["rows"].append(measure(gb, cfg, args))
    bad = [(r["name"], tool) for r in res["rows"] for tool, t in r["tools"].items()
           if not t["disagreement"] <= AGREE_TOL] + \
          [(r["name"], tool) for r in res["rows"] for tool in r.get("failed", {})]
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if not only else "." + "_".join(sorted(only))
    (args.out / f"gradbench{suffix}.json").write_text(json.dumps(res, indent=1) + "\n")
    (args.out / f"gradbench{suffix}.md").write_text(render(res) + "\n")
    print(render(res))
    for name, tool in bad:
        print(f"run_gradbench: {name}: {tool} failed or its gradient disagrees with the hand-written one",
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
