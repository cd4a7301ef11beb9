"""Derivative/primal time ratios of the conformance kernels (dot, matmul, long_loop), reverse
and forward mode, built with adcc -O2 -march=native; writes bench/results/kernels.md (issues #3, #4)."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
ADCC = Path(sys.executable).parent / "adcc"


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "ad_ratio"
        subprocess.run([str(ADCC), "-O2", "-march=native", str(HERE / "ad_ratio.c"), "-o", str(exe), "-lm"],
                       check=True)
        out = subprocess.run([str(exe)] + (["--quick"] if quick else []), check=True, capture_output=True,
                             text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    lines = ["# Derivative / primal time, conformance kernels (adcc -O2 -march=native)", "",
             "| kernel | size | primal (s) | derivative (s) | ratio |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['size']} | {r['primal_s']:.3g} | {r['grad_s']:.3g} | {r['ratio']:.2f} |")
    lines += ["", "`*_forward` rows are forward mode (one tangent); the others reverse mode (full gradient).",
              "long_loop's adjoint of x underflows to subnormal numbers after a few thousand steps, which",
              "makes its reverse pass slow on any AD tool (the hand-written derivative is as slow)."]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kernels.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
