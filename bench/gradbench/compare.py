#!/usr/bin/env python3
"""Before/after table of two or more run_gradbench.py results (JSON): adcc's gradient/primal by
instruction count (and wall time) next to the hand-written and Tapenade tools of the same run.
Usage: compare.py --before A.json[,B.json] --after C.json[,D.json]  (rows of several files merge)"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def rows(paths: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for p in paths.split(","):
        for r in json.loads(Path(p).read_text())["rows"]:
            out[r["name"]] = r
    return out


def cell(r: dict | None, tool: str, key: str) -> str:
    if r is None:
        return "–"
    if tool in r.get("failed", {}):
        return "crash"
    t = r["tools"].get(tool)
    return f"{t[key]:.2f}" if t and key in t else "–"


def best_other(r: dict | None, key: str) -> float | None:
    vals = [r["tools"][t][key] for t in ("manual", "tapenade") if r and t in r["tools"] and key in r["tools"][t]]
    return min(vals) if vals else None


def versus(r: dict | None, key: str) -> str:
    b = best_other(r, key)
    if r is None or b is None or key not in r["tools"].get("enzyme", {}):
        return "–"
    return f"{r['tools']['enzyme'][key] / b:.2f}x"


def table(before: dict, after: dict, key: str) -> list[str]:
    out = ["| eval | adcc before | adcc after | hand-written | Tapenade | after vs best | issue's adcc |",
           "|---|---|---|---|---|---|---|"]
    for name in list(dict.fromkeys([*before, *after])):
        b, a = before.get(name), after.get(name)
        ref = a or b
        issue = (ref or {}).get("issue", {}).get("adcc", "–")
        out.append(f"| {name} | {cell(b, 'enzyme', key)} | {cell(a, 'enzyme', key)} | {cell(ref, 'manual', key)} | "
                   f"{cell(ref, 'tapenade', key)} | {versus(a, key)} | {issue} |")
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    args = ap.parse_args(argv)
    before, after = rows(args.before), rows(args.after)
    lines = ["### gradient / primal, instructions (callgrind, -march=x86-64-v3)", "",
             *table(before, after, "ratio_ir"), "",
             "### gradient / primal, wall time (GradBench's harness, min over runs)", "",
             *table(before, after, "ratio"), ""]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
