"""Parse + print throughput of adcc.ir on a generated ~54k-instruction module.

Usage: python bench/ir_bench.py [--functions N] [--repeat R]
Prints a table and writes bench/results/ir.md. Target: parse under 2 s.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "data", "ir"))

from gen_large import large_module_text  # noqa: E402

from adcc.ir import parse_module  # noqa: E402


def measure(text: str, repeat: int) -> dict:
    best = {"split": 1e9, "parse": 1e9, "print": 1e9}
    n_inst = 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        m = parse_module(text)
        t1 = time.perf_counter()
        n_inst = 0
        for name in m.defined_function_names():
            n_inst += sum(len(b.instructions) for b in m.function(name).blocks)
        t2 = time.perf_counter()
        str(m)
        t3 = time.perf_counter()
        best["split"] = min(best["split"], t1 - t0)
        best["parse"] = min(best["parse"], t2 - t0)
        best["print"] = min(best["print"], t3 - t2)
    best["instructions"] = n_inst
    best["lines"] = text.count("\n")
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        text = large_module_text(d, args.functions)
    r = measure(text, args.repeat)
    rate = r["instructions"] / r["parse"]
    rows = [
        ("instructions", f"{r['instructions']}"),
        ("lines", f"{r['lines']}"),
        ("module split (s)", f"{r['split']:.3f}"),
        ("parse, all functions (s)", f"{r['parse']:.3f}"),
        ("print (s)", f"{r['print']:.3f}"),
        ("parse rate (inst/s)", f"{rate:,.0f}"),
        ("target: parse < 2 s", "met" if r["parse"] < 2.0 else "MISSED"),
    ]
    width = max(len(k) for k, _ in rows)
    table = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    print(table)
    os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
    md = ["# adcc.ir parse/print benchmark", "",
          f"Generated module: {args.functions} C functions (tests/data/ir/gen_large.py), clang-22 -O1; "
          f"best of {args.repeat}; Python {sys.version.split()[0]}.", "",
          "| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    with open(os.path.join(REPO, "bench", "results", "ir.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    return 0 if r["parse"] < 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
