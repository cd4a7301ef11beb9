"""Where adcc's compile time goes on the AD benchmarks (issue #5): per-stage times from
`adcc -v -O2`, and a cProfile of the differentiation stage on the slowest one.
Writes bench/results/ad_profile.md."""
from __future__ import annotations

import cProfile
import io
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ADCC = Path(sys.executable).parent / "adcc"
STAGE = re.compile(r"adcc: stage (.+?)\s+([\d.]+) ms")
PROGRAMS = ("gmm", "ba", "lstm", "ode", "fft", "brusselator")


def stage_times(src: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([str(ADCC), "-v", "-O2", str(src), "-o", str(Path(tmp) / "a.out"), "-lm"],
                           capture_output=True, text=True, check=True)
    return {m.group(1).strip(): float(m.group(2)) for m in STAGE.finditer(r.stderr)}


def profile_differentiation(src: Path) -> str:
    from adcc.ad.api import ADOptions, differentiate_text
    from adcc.driver import stages
    with tempfile.TemporaryDirectory() as tmp:
        bc = Path(tmp) / "a.bc"
        subprocess.run(["clang-22", "-O2", "-Xclang", "-disable-llvm-passes", "-emit-llvm", "-c", str(src),
                        "-o", str(bc), f"-I{BENCH}"], check=True)
        text = stages.read_bitcode(bc.read_bytes())
    text = stages.pre_ad_optimize(stages.separate_call_sites(text), stages.target_machine(cpu=None, opt=2))
    prof = cProfile.Profile()
    prof.enable()
    differentiate_text(text, ADOptions(source_file=str(src)))
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(18)
    return out.getvalue()


def main() -> int:
    rows = {p: stage_times(BENCH / f"{p}.c") for p in PROGRAMS}
    names = [n for n in next(iter(rows.values()))]
    lines = ["# Where adcc's compile time goes (AD benchmarks, `adcc -v -O2`, ms)", "",
             "| program | " + " | ".join(names) + " | total |", "|---" * (len(names) + 2) + "|"]
    for p, t in rows.items():
        lines.append(f"| {p} | " + " | ".join(f"{t.get(n, 0):.1f}" for n in names) + f" | {sum(t.values()):.1f} |")
    slowest = max(rows, key=lambda p: rows[p].get("differentiate", 0))
    lines += ["", f"## cProfile of the differentiation stage on {slowest}.c (cumulative)", "", "```",
              profile_differentiation(BENCH / f"{slowest}.c").strip(), "```"]
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "ad_profile.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:len(rows) + 4]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
