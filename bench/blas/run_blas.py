"""Gradient/primal time of code that calls BLAS (issue #13), adcc -O2 -march=native, OpenBLAS with
1 and 2 threads; writes bench/results/blas.md."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
ADCC = Path(sys.executable).parent / "adcc"
TARGET = 3.0


def _run(exe: Path, threads: int, quick: bool) -> list[dict]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([str(exe)] + (["--quick"] if quick else []), check=True, capture_output=True, text=True,
                         env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "blas_bench"
        subprocess.run([str(ADCC), "-O2", "-march=native", str(HERE / "blas_bench.c"), "-o", str(exe), "-lopenblas",
                        "-lm"], check=True)
        runs = {t: _run(exe, t, quick) for t in (1, 2)}
    load = os.getloadavg()[0]
    lines = ["# Gradient / primal time with BLAS calls (adcc -O2 -march=native, OpenBLAS)", "",
             f"Measured with load average {load:.1f} on {os.cpu_count()} cores (other jobs running: the",
             "2-thread rows are the least reliable).", "",
             "| case | size | BLAS threads | primal (s) | gradient (s) | ratio | by hand (s) | hand ratio | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    parts, errors = {}, {}
    for t, rows in runs.items():
        for r in rows:
            if r["name"] == "parts":
                parts[t] = r
                continue
            if r["name"].endswith("_check"):  # bench.h's line: the gradient against finite differences
                errors[r["name"][:-len("_check")]] = r["max_rel_err"]
                continue
            ok = "met" if r["ratio"] <= TARGET else "missed"
            lines.append(f"| {r['name']} | {r['size']} | {t} | {r['primal_s']:.3g} | {r['grad_s']:.3g} | "
                         f"{r['ratio']:.2f} | {r['hand_s']:.3g} | {r['hand_ratio']:.2f} | <= {TARGET:g}: {ok} |")
    lines += ["", "Gradient parts of `norm_ax_gemv` (one call each, same sizes):", "",
              "| BLAS threads | gemv (s) | ger (s) | gemv transposed (s) |", "|---|---|---|---|"]
    for t, p in parts.items():
        lines.append(f"| {t} | {p['gemv_s']:.3g} | {p['ger_s']:.3g} | {p['gemv_t_s']:.3g} |")
    lines += ["", "Gradients checked against 4th-order central differences along 3 random directions: "
              + ", ".join(f"{k} max rel. error {v:.1e}" for k, v in errors.items()) + ".",
              "", "`by hand`: the same gradient written by hand with the same BLAS calls (the floor for a",
              "derivative that calls BLAS). See docs/blas.md (Performance) for the analysis."]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "blas.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
