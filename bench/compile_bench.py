#!/usr/bin/env python3
"""Compile-time benchmark: adcc's fast path (no AD) against plain clang-22.

Compiles the C samples with -DADCC_SELFTEST (their hand-written derivatives: no Enzyme
calls) and a few generated C files, at -O0 and -O2 with -c, taking the median of several
runs; prints a table and writes bench/results/compile.md. Also measures adcc.ir parse/print
throughput when that package is present, and object sizes against clang's (the samples and,
when ZLIB_DIR names a zlib source tree, zlib's static library at -O3). Target: adcc within
1.3x of clang.
"""
from __future__ import annotations

import os
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


ZLIB_SOURCES = ("adler32.c crc32.c deflate.c infback.c inffast.c inflate.c inftrees.c trees.c zutil.c "
                "compress.c uncompr.c gzclose.c gzlib.c gzread.c gzwrite.c").split()


def library_size(compiler: str, sources: list[Path], flags: list[str], d: Path) -> tuple[int, int]:
    """(size of the static library of `sources`, bytes of embedded bitcode before compression)."""
    from adcc.driver import objfile
    out = d / Path(compiler).name
    out.mkdir(exist_ok=True)
    objects, bitcode = [], 0
    for src in sources:
        obj = out / (src.stem + ".o")
        subprocess.run([compiler, *flags, "-c", str(src), "-o", str(obj)], check=True, capture_output=True)
        bitcode += len(objfile.embedded_bitcode(obj.read_bytes()) or b"")
        objects.append(str(obj))
    lib = out / "lib.a"
    lib.unlink(missing_ok=True)
    subprocess.run(["llvm-ar-22", "rcs", str(lib), *objects], check=True)
    return lib.stat().st_size, bitcode


def size_rows(d: Path) -> list[list[str]]:
    sets = [("samples (-O2, -DADCC_SELFTEST)", sorted(REPO.glob("samples/*.c")),
             ["-O2", "-DADCC_SELFTEST", f"-I{REPO / 'samples'}"])]
    zlib = os.environ.get("ZLIB_DIR")
    if zlib and (Path(zlib) / "deflate.c").exists():
        sets.append(("zlib (-O3)", [Path(zlib) / f for f in ZLIB_SOURCES],
                     ["-O3", "-D_LARGEFILE64_SOURCE=1", "-DHAVE_HIDDEN", f"-I{zlib}"]))
    rows = []
    for name, sources, flags in sets:
        clang_size, _ = library_size(CLANG, sources, flags, d)
        adcc_size, bitcode = library_size(ADCC, sources, flags, d)
        rows.append([name, f"{clang_size}", f"{adcc_size}", f"{adcc_size / clang_size:.2f}x",
                     f"{(clang_size + bitcode) / clang_size:.2f}x"])
    return rows


SIZE_NOTE = """\
Every object carries its unit's bitcode (the link step differentiates across units from it),
zlib-compressed in a `.adcc.bc` section (SHF_COMPRESSED, SHF_EXCLUDE: linkers drop it). The
target of #16, at most 1.5x clang's size on zlib's static library, is not reached: the bitcode
of a unit is about 1.6x its machine code (zlib at -O3: 226 KB against 138 KB), and compression
takes off only a quarter of it (zlib level 1, as adcc uses it: 175 KB; level 9: 173 KB; xz:
162 KB). Nothing in it is
dead weight for the link step: any function of any unit may be called by a differentiated one
(allocation wrappers and byte copies without floating point included), so its body must be
there. A smaller object needs a policy choice: e.g. no bitcode for units without floating
point (zlib would be 1.0x; differentiating through such a unit's functions would then be a
located link-time error). Compressing is zlib level 1 on the bitcode: for zlib's deflate.c (42 KB
of bitcode) 10 ms on this session's loaded machine, where compiling it takes over a second.

Where the bitcode's bytes go (zlib's 15 units at -O3, 226 KB of bitcode before compression;
`llvm-bcanalyzer-22` on each object's embedded bitcode, blocks summed):

| bitcode blocks | share | needed by the link step? |
|---|---|---|
| function bodies (FUNCTION_BLOCK 36.0%) and their constants (CONSTANTS_BLOCK 13.0%) | 49.0% | yes: what is differentiated |
| metadata attachments, metadata, kind and bundle tables (12.3 + 6.7 + 6.0 + 1.5%) | 26.5% | yes: 97% of the attachments are `!tbaa`, which type analysis reads |
| attribute groups (PARAMATTR_GROUP 9.3%, PARAMATTR 0.7%) | 10.0% | yes: `noalias`, `readonly`, ... feed activity and memory analyses |
| module, string table, types, block info, value names | 9.0% | yes: the module itself |
| LTO symbol table and summary (SYMTAB 4.3%, FULL_LTO_GLOBALVAL_SUMMARY 1.4%) | 5.7% | no (adcc merges bitcode itself) |

1.5x clang's 138 KB library leaves about 67 KB for the sections, 38% of today's 175 KB compressed:
even dropping every block but the function bodies, their constants and the module tables (the
metadata and attributes the analyses need included) would leave about 58% of the bitcode. The
only block that is dead weight, the LTO symbol table and summary, is 5.7%: stripping it would
give about 2.2x, not 1.5x.
"""


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
        scols = ["static library", "clang-22 bytes", "adcc bytes", "adcc / clang", "uncompressed bitcode would be"]
        srows = size_rows(d)
        console.table("object size", scols, srows)
        report.append(markdown("Object size: static library of adcc's objects (bitcode embedded, zlib-compressed) "
                               "vs clang-22's", scols, srows))
        report.append(SIZE_NOTE)
    out = REPO / "bench" / "results" / "compile.md"
    out.write_text("\n".join(report))
    console.out(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
