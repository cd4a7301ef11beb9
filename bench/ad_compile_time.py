#!/usr/bin/env python3
"""Compile time of programs that are differentiated (issue #17 point 5; CI's `make test`).

`make bench-ad-compile` (opt-in). Compiles, with adcc and with clang-22 on the same source:

* `big N`: the issue's generated unit (N noinline functions with a short loop, `sin`/`cos` and a
  branch each, summed and differentiated; tests/test_driver_faults.py::test_big_unit_compiles
  builds the same at N = 1,500) with `-O2 -c`, for N in --sizes; the ratio adcc/clang-22 is
  the issue's target (at most 4x);
* the classes of programs the tests compile, each program to an executable as the tests do:
  tests/e2e C programs (-O0, -O2), the shared conformance suite's reverse-mode programs (-O0,
  -O2), tests/e2e/cpp (-O2), and the fuzz generator's groups (plain, --wide, --wide
  --closures; -O2).

Each row gives the wall time and the CPU time (user + system of the compiler and everything
it runs, from the kernel's child accounting), which a loaded machine disturbs less than wall
time; for the big unit also the per-stage times of `adcc -v`. Writes a JSON file (--json) and,
with --markdown, a table. `--adcc PATH` measures another build; `--before OLD` compiles every
program with OLD and then with --adcc, in turn, so that both see the same load (an older
checkout's launcher: bench/results/compile_time.md says how those numbers were taken).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFORMANCE = REPO.parent / "shared" / "conformance"
sys.path.insert(0, str(REPO / "tests"))
from big_unit import big_unit_source  # noqa: E402

STAGE = re.compile(r"adcc: stage (.+?)\s+([\d.]+) ms")
CLASSES = ("e2e-c", "conformance", "cpp", "fuzz", "big")


def timed(argv: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the process tree, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr[-3000:]}")
    return wall, cpu, proc.stderr


def fuzz_sources(d: Path) -> list[Path]:
    spec = importlib.util.spec_from_file_location("adcc_fuzz_gen", REPO / "tests" / "fuzz" / "gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    groups = {"fuzz_plain.c": (list(range(0, 8)), {}),
              "fuzz_wide.c": (list(range(10000, 10008)), {"wide": True}),
              "fuzz_closures.c": (list(range(10016, 10024)), {"wide": True, "closures": True})}
    out = []
    for name, (seeds, grammar) in groups.items():
        (d / name).write_text(gen.program(seeds, **grammar))
        out.append(d / name)
    return out


def class_jobs(name: str, d: Path) -> list[tuple[Path, str]]:
    if name == "e2e-c":
        return [(p, o) for p in sorted((REPO / "tests" / "e2e").glob("*/*.c")) for o in ("-O0", "-O2")]
    if name == "conformance":
        return [(p, o) for p in sorted((CONFORMANCE / "reverse").glob("*.c")) for o in ("-O0", "-O2")]
    if name == "cpp":
        return [(p, "-O2") for p in sorted((REPO / "tests" / "e2e" / "cpp").glob("*.cpp"))]
    if name == "fuzz":
        return [(p, "-O2") for p in fuzz_sources(d)]
    return []


def measure_class(name: str, compilers: dict[str, Path], d: Path, sample: int) -> dict:
    """Every `sample`-th program of the class, compiled by each of `compilers` in turn (so that
    they share the machine's load)."""
    rows = []
    for src, opt in class_jobs(name, d)[::sample]:
        row = {"program": f"{src.parent.name}/{src.name}", "opt": opt}
        for label, adcc in compilers.items():
            cc = str(adcc) + ("++" if src.suffix == ".cpp" else "")
            extra = [f"-I{src.parent}", f"-I{src.parent.parent}"]
            row[label] = dict(zip(("wall", "cpu"), timed([cc, opt, *extra, str(src), "-o", str(d / "t"), "-lm"], d)))
        rows.append(row)
        print(f"  {name:12} {src.name:32} {opt} " + "  ".join(
            f"{label}: wall {row[label]['wall']:6.2f} s cpu {row[label]['cpu']:6.2f} s" for label in compilers), flush=True)
    return {"rows": rows, **{label: {k: sum(r[label][k] for r in rows) for k in ("wall", "cpu")} for label in compilers}}


def measure_big(n: int, compilers: dict[str, Path], d: Path) -> dict:
    src = d / f"big{n}.c"
    src.write_text(big_unit_source(n))
    c_wall, c_cpu, _ = timed(["clang-22", "-O2", "-c", str(src), "-o", str(d / "c.o")], d)
    row: dict = {"n": n, "clang": {"wall": c_wall, "cpu": c_cpu}}
    for label, adcc in compilers.items():
        wall, cpu, err = timed([str(adcc), "-v", "-O2", "-c", str(src), "-o", str(d / "a.o")], d)
        stages: dict[str, float] = {}
        for m in STAGE.finditer(err):
            stages[m.group(1).strip()] = stages.get(m.group(1).strip(), 0.0) + float(m.group(2)) / 1000
        row[label] = {"wall": wall, "cpu": cpu, "stages": stages}
        print(f"  big {n} {label}: clang {c_wall:.2f} s ({c_cpu:.2f} cpu), adcc {wall:.2f} s ({cpu:.2f} cpu), "
              f"ratio {wall / c_wall:.1f}x wall, {cpu / c_cpu:.1f}x cpu", flush=True)
    return row


def markdown(result: dict) -> str:
    labels = result["compilers"]
    lines = ["; ".join(f"{label}: `{path}`" for label, path in labels.items()) +
             "; seconds; CPU = user + system of the compiler's process tree.", ""]
    if result["classes"]:
        lines += ["| class | compiles | " + " | ".join(f"{x} wall | {x} CPU" for x in labels) +
                  (" | CPU after/before |" if "before" in labels else " |"),
                  "|---|---|" + "---|---|" * len(labels) + ("---|" if "before" in labels else "")]
        for name, c in result["classes"].items():
            line = f"| {name} | {len(c['rows'])} | " + " | ".join(f"{c[x]['wall']:.1f} | {c[x]['cpu']:.1f}" for x in labels)
            if "before" in labels:
                line += f" | {c['after']['cpu'] / c['before']['cpu']:.2f}"
            lines.append(line + " |")
        lines.append("")
    for label in labels:
        rows = [r for r in result["big"] if label in r]
        if not rows:
            continue
        names = list(dict.fromkeys(s for r in rows for s in r[label]["stages"]))
        lines += [f"{label}:", "", "| functions | clang-22 -O2 | adcc -O2 | ratio (wall) | ratio (CPU) | " +
                  " | ".join(names) + " |", "|---" * (5 + len(names)) + "|"]
        for r in rows:
            a, c = r[label], r["clang"]
            lines.append(f"| {r['n']} | {c['wall']:.2f} | {a['wall']:.2f} | {a['wall'] / c['wall']:.1f}x | "
                         f"{a['cpu'] / c['cpu']:.1f}x | " + " | ".join(f"{a['stages'].get(s, 0):.2f}" for s in names) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adcc", default=str(Path(sys.executable).parent / "adcc"))
    ap.add_argument("--before", help="another build's adcc, run in turn with --adcc on every program")
    ap.add_argument("--classes", default=",".join(CLASSES), help=f"subset of {','.join(CLASSES)}")
    ap.add_argument("--sample", type=int, default=1, help="every N-th program of each class")
    ap.add_argument("--sizes", default="100,400,1500", help="function counts of the big unit")
    ap.add_argument("--json", default=str(REPO / "build" / "ad_compile_time.json"))
    ap.add_argument("--markdown", help="write the table here too")
    args = ap.parse_args(argv)
    compilers = {"before": Path(args.before), "after": Path(args.adcc)} if args.before else {"adcc": Path(args.adcc)}
    chosen = [c for c in args.classes.split(",") if c]
    result: dict = {"compilers": {k: str(v) for k, v in compilers.items()}, "classes": {}, "big": []}
    with tempfile.TemporaryDirectory(prefix="adcc-ctime-") as tmp:
        d = Path(tmp)
        for name in chosen:
            if name == "big":
                result["big"] = [measure_big(int(n), compilers, d) for n in args.sizes.split(",") if n]
            else:
                result["classes"][name] = measure_class(name, compilers, d, args.sample)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    table = markdown(result)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
