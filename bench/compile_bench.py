#!/usr/bin/env python3
"""Compile-time benchmark: adcc's fast path (no AD) against plain clang-22.

Compiles the C samples with -DADCC_SELFTEST (their hand-written derivatives: no Enzyme
calls) and a few generated C files, at -O0 and -O2 with -c, taking the median of several
runs; prints a table and writes bench/results/compile.md. Also measures adcc.ir parse/print
throughput when that package is present. Target: adcc within 1.3x of clang.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADCC = str(Path(sys.executable).parent / "adcc")
CLANG = "clang-22"
RUNS = 7
TARGET = 1.3


def generated_sources(d: Path) -> list[Path]:
    tiny = d / "gen_tiny.c"
    tiny.write_text("int add(int a, int b) { return a + b; }\n")
    headers = d / "gen_headers.c"
    headers.write_text("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <math.h>\n"
                       "int main(int argc, char **argv) { printf(\"%g\\n\", sqrt((double)argc)); "
                       "return (int)strlen(argv[0]) % 2; }\n")
    medium = d / "gen_medium.c"
    funcs = [f"double f{i}(const double *x, int n) {{ double s = 0; for (int j = 0; j < n; j++) "
             f"s += sin(x[j]) * {i}.5 + x[j] * x[j]; return s; }}" for i in range(150)]
    medium.write_text("#include <math.h>\n" + "\n".join(funcs) + "\n")
    return [tiny, headers, medium]


def time_cmd(argv: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.decode()}")
    return statistics.median(samples) * 1000


def compile_rows(d: Path) -> list[list[str]]:
    sources = sorted(REPO.glob("samples/*.c")) + generated_sources(d)
    rows = []
    for src in sources:
        for opt in ("-O0", "-O2"):
            common = [opt, "-DADCC_SELFTEST", f"-I{REPO / 'samples'}", "-c", str(src), "-o", str(d / "out.o")]
            t_clang = time_cmd([CLANG, *common])
            t_adcc = time_cmd([ADCC, *common])
            ratio = t_adcc / t_clang
            rows.append([src.name, opt, f"{t_clang:.1f}", f"{t_adcc:.1f}", f"{ratio:.2f}x",
                         "ok" if ratio <= TARGET else "over"])
    return rows


def ir_rows(d: Path) -> list[list[str]]:
    try:
        from adcc.ir import parse_module
    except ImportError:
        return []
    rows = []
    for src in [d / "gen_medium.c", *sorted(REPO.glob("samples/*.c"))]:
        ll = d / "ir.ll"
        subprocess.run([CLANG, "-O2", "-DADCC_SELFTEST", f"-I{REPO / 'samples'}", "-S", "-emit-llvm", str(src),
                        "-o", str(ll)], check=True, capture_output=True)
        text = ll.read_text()
        try:
            start = time.perf_counter()
            module = parse_module(text)
            mid = time.perf_counter()
            printed = str(module)
            end = time.perf_counter()
        except Exception as e:  # the IR layer is under construction: report, don't abort
            rows.append([src.name, f"{len(text) / 1e3:.0f}", "error", type(e).__name__, ""])
            continue
        mb = len(text) / 1e6
        rows.append([src.name, f"{len(text) / 1e3:.0f}", f"{mb / (mid - start):.2f}", f"{mb / (end - mid):.2f}",
                     f"{len(printed) / 1e3:.0f}"])
    return rows


def markdown(title: str, columns: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    from adcc.driver import console
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cols = ["file", "opt", "clang-22 ms", "adcc ms", "ratio", f"<= {TARGET}x"]
        rows = compile_rows(d)
        console.table("compile time, -c, median of %d (fast path: no AD)" % RUNS, cols, rows)
        report = ["# Compile-time benchmark", "",
                  f"`make bench-compile`; median of {RUNS} runs; `-c` with `-DADCC_SELFTEST` (no Enzyme calls).", "",
                  markdown("adcc fast path vs clang-22", cols, rows)]
        irs = ir_rows(d)
        if irs:
            icols = ["file", "IR kB", "parse MB/s", "print MB/s", "printed kB"]
            console.table("adcc.ir parse/print throughput", icols, irs)
            report.append(markdown("adcc.ir parse/print throughput", icols, irs))
    out = REPO / "bench" / "results" / "compile.md"
    out.write_text("\n".join(report))
    console.out(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
