#!/usr/bin/env python3
"""Cross-unit gradient: which embedded bitcode the link step differentiates (#16).

gmm.c's ADBench-order objective (gmm_objective_adbench and its helpers, taken from
bench/gmm.c) compiled alone into model.o, and a driver unit that calls __enzyme_autodiff on
it: the -c step of the driver defers the request, and the link step differentiates the
model from the bitcode model.o carries. Three builds of model.o:
- `thin` (adcc's default): ThinLTO's pre-link bitcode, before unrolling and vectorization;
- `full`: `-flto -ffat-lto-objects` given by hand, full LTO's pre-link bitcode (adcc's
  default before), unrolled and vectorized;
- `one unit`: model and driver in one file, differentiated at -c (for reference).
Counts instructions with callgrind (valgrind 3.19 cannot run AVX-512: -march=x86-64-v3),
checks that every build computes the same gradient, and writes bench/results/cross_unit.md.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADCC = str(Path(sys.executable).parent / "adcc")
LEVELS = (["-O2"], ["-O3", "-march=x86-64-v3"])

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
extern void __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
double gmm_objective_adbench(const double *alphas, const double *means, const double *icf,
                             const double *x, int d, int k, int n, double gamma, int m);
int main(void) {
  int d = 10, k = 5, n = 300, icf_sz = d * (d + 1) / 2;
  double *a = malloc(sizeof(double) * k), *mu = malloc(sizeof(double) * k * d);
  double *icf = malloc(sizeof(double) * k * icf_sz), *x = malloc(sizeof(double) * n * d);
  double *da = calloc(k, sizeof(double)), *dmu = calloc(k * d, sizeof(double));
  double *dicf = calloc(k * icf_sz, sizeof(double));
  srand(1);
  for (int i = 0; i < k; i++) a[i] = rand() / (double)RAND_MAX;
  for (int i = 0; i < k * d; i++) mu[i] = rand() / (double)RAND_MAX;
  for (int i = 0; i < k * icf_sz; i++) icf[i] = 0.1 * rand() / (double)RAND_MAX;
  for (int i = 0; i < n * d; i++) x[i] = rand() / (double)RAND_MAX;
  for (int rep = 0; rep < 5; rep++)
    __enzyme_autodiff((void *)gmm_objective_adbench, enzyme_dup, a, da, enzyme_dup, mu, dmu,
                      enzyme_dup, icf, dicf, enzyme_const, x, enzyme_const, d, enzyme_const, k,
                      enzyme_const, n, enzyme_const, 1.0, enzyme_const, 0);
  double s = 0;
  for (int i = 0; i < k * icf_sz; i++) s += dicf[i];
  for (int i = 0; i < k * d; i++) s += dmu[i];
  for (int i = 0; i < k; i++) s += da[i];
  printf("%.12g\n", s);
  return 0;
}
"""


def model_source() -> str:
    """gmm.c from log_sum_exp up to gmm_constants, the objective made external."""
    text = (REPO / "bench" / "gmm.c").read_text()
    start = text.index("static double log_sum_exp(")
    end = text.index("/* log of the multivariate gamma function and the other constant terms")
    body = text[start:end].replace("__attribute__((noinline))\n", "")
    body = re.sub(r"^static double gmm_objective_adbench\(", "double gmm_objective_adbench(", body, flags=re.M)
    return "#include <math.h>\n#include <stdlib.h>\n#ifndef M_PI\n#define M_PI 3.14159265358979323846\n#endif\n" + body


def run(argv, cwd) -> str:
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{r.stderr}")
    return r.stdout


def instructions(exe: Path, cwd: Path) -> tuple[int, str]:
    out = cwd / "callgrind.out"
    r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(exe)],
                       cwd=cwd, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode != 0 or m is None:
        raise SystemExit(f"callgrind failed on {exe}:\n{r.stderr[-2000:]}")
    return int(m.group(1)), r.stdout.strip()


def builds(d: Path, opt: list[str]) -> dict[str, Path]:
    (d / "model.c").write_text(model_source())
    (d / "main.c").write_text(DRIVER)
    (d / "one.c").write_text(model_source() + DRIVER)
    run([ADCC, *opt, "-c", "main.c", "-o", "main.o"], d)
    run([ADCC, *opt, "-c", "model.c", "-o", "thin.o"], d)
    run([ADCC, *opt, "-flto", "-ffat-lto-objects", "-c", "model.c", "-o", "full.o"], d)
    out = {}
    for name, model in (("thin", "thin.o"), ("full", "full.o")):
        run([ADCC, *opt, "main.o", model, "-lm", "-o", name], d)
        out[name] = d / name
    run([ADCC, *opt, "one.c", "-lm", "-o", "one"], d)
    out["one unit"] = d / "one"
    return out


def main() -> int:
    if shutil.which("valgrind") is None:
        print("cross_unit_bench: valgrind not installed", file=sys.stderr)
        return 1
    rows = []
    for opt in LEVELS:
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            exes = builds(d, opt)
            counts = {name: instructions(exe, d) for name, exe in exes.items()}
            values = {v for _, v in counts.values()}
            if len(values) != 1:
                raise SystemExit(f"the builds disagree on the gradient: {counts}")
            thin, full, one = (counts[k][0] for k in ("thin", "full", "one unit"))
            rows.append([" ".join(opt), f"{full / 1e6:.2f}", f"{thin / 1e6:.2f}", f"{thin / full:.2f}x",
                         f"{one / 1e6:.2f}"])
    cols = ["flags", "full-LTO bitcode (before), M instr.", "ThinLTO bitcode (now), M instr.", "now / before",
            "one unit, M instr."]
    lines = ["# Cross-unit gradient: the bitcode the link step differentiates", "",
             "`python bench/cross_unit_bench.py`: gmm.c's ADBench-order objective in its own unit, "
             "`__enzyme_autodiff` in another (d=10, K=5, n=300, 5 gradients, whole program); callgrind "
             "instruction counts, every build giving the same gradient.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    out = REPO / "bench" / "results" / "cross_unit.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
