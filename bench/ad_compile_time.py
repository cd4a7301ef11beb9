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
with --markdown, a table; --baseline OLD.json adds the OLD columns and the ratio to the table.
`--adcc PATH` measures another build (e.g. an older checkout's launcher).
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


def measure_class(name: str, adcc: Path, d: Path) -> dict:
    rows = []
    for src, opt in class_jobs(name, d):
        cc = str(adcc) + ("++" if src.suffix == ".cpp" else "")
        extra = [f"-I{src.parent}", f"-I{src.parent.parent}"]
        wall, cpu, _ = timed([cc, opt, *extra, str(src), "-o", str(d / "t"), "-lm"], d)
        rows.append({"program": f"{src.parent.name}/{src.name}", "opt": opt, "wall": wall, "cpu": cpu})
        print(f"  {name:12} {src.name:32} {opt} wall {wall:6.2f} s  cpu {cpu:6.2f} s", flush=True)
    return {"rows": rows, "wall": sum(r["wall"] for r in rows), "cpu": sum(r["cpu"] for r in rows)}


def measure_big(n: int, adcc: Path, d: Path) -> dict:
    src = d / f"big{n}.c"
    src.write_text(big_unit_source(n))
    c_wall, c_cpu, _ = timed(["clang-22", "-O2", "-c", str(src), "-o", str(d / "c.o")], d)
    a_wall, a_cpu, err = timed([str(adcc), "-v", "-O2", "-c", str(src), "-o", str(d / "a.o")], d)
    stages: dict[str, float] = {}
    for m in STAGE.finditer(err):
        stages[m.group(1).strip()] = stages.get(m.group(1).strip(), 0.0) + float(m.group(2)) / 1000
    row = {"n": n, "clang_wall": c_wall, "clang_cpu": c_cpu, "adcc_wall": a_wall, "adcc_cpu": a_cpu,
           "ratio_wall": a_wall / c_wall, "ratio_cpu": a_cpu / c_cpu, "stages": stages}
    print(f"  big {n}: clang {c_wall:.2f} s ({c_cpu:.2f} cpu), adcc {a_wall:.2f} s ({a_cpu:.2f} cpu), "
          f"ratio {row['ratio_wall']:.1f}x wall, {row['ratio_cpu']:.1f}x cpu", flush=True)
    return row


def markdown(result: dict, base: dict | None) -> str:
    lines = [f"adcc: `{result['adcc']}`; seconds; CPU = user + system of the compiler's process tree.", ""]
    if result["classes"]:
        head = "| class | compiles | wall | CPU |"
        sep = "|---|---|---|---|"
        if base:
            head += " wall before | CPU before | CPU after/before |"
            sep += "---|---|---|"
        lines += [head, sep]
        for name, c in result["classes"].items():
            line = f"| {name} | {len(c['rows'])} | {c['wall']:.1f} | {c['cpu']:.1f} |"
            b = (base or {}).get("classes", {}).get(name)
            if base and b:
                line += f" {b['wall']:.1f} | {b['cpu']:.1f} | {c['cpu'] / b['cpu']:.2f} |"
            lines.append(line)
        lines.append("")
    if result["big"]:
        names = sorted({s for r in result["big"] for s in r["stages"]},
                       key=lambda s: min(list(r["stages"]).index(s) for r in result["big"] if s in r["stages"]))
        lines += ["| functions | clang-22 -O2 | adcc -O2 | ratio (wall) | ratio (CPU) | " + " | ".join(names) + " |",
                  "|---" * (5 + len(names)) + "|"]
        for r in result["big"]:
            lines.append(f"| {r['n']} | {r['clang_wall']:.2f} | {r['adcc_wall']:.2f} | {r['ratio_wall']:.1f}x | "
                         f"{r['ratio_cpu']:.1f}x | " + " | ".join(f"{r['stages'].get(s, 0):.2f}" for s in names) + " |")
        if base and base.get("big"):
            lines += ["", "before: " + ", ".join(f"{r['n']} functions {r['adcc_wall']:.2f} s "
                                                  f"({r['ratio_wall']:.1f}x wall, {r['ratio_cpu']:.1f}x CPU)"
                                                  for r in base["big"])]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adcc", default=str(Path(sys.executable).parent / "adcc"))
    ap.add_argument("--classes", default=",".join(CLASSES), help=f"subset of {','.join(CLASSES)}")
    ap.add_argument("--sizes", default="100,400,1500", help="function counts of the big unit")
    ap.add_argument("--json", default=str(REPO / "build" / "ad_compile_time.json"))
    ap.add_argument("--markdown", help="write the table here too")
    ap.add_argument("--baseline", help="an earlier --json output to compare with")
    args = ap.parse_args(argv)
    adcc = Path(args.adcc)
    chosen = [c for c in args.classes.split(",") if c]
    result: dict = {"adcc": str(adcc), "classes": {}, "big": []}
    with tempfile.TemporaryDirectory(prefix="adcc-ctime-") as tmp:
        d = Path(tmp)
        for name in chosen:
            if name == "big":
                result["big"] = [measure_big(int(n), adcc, d) for n in args.sizes.split(",") if n]
            else:
                result["classes"][name] = measure_class(name, adcc, d)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    base = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    table = markdown(result, base)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
