"""Generator of a large, realistic C program (loops, switches, calls, structs, libm)
whose IR is used by the round-trip test and bench/ir_bench.py. Deterministic."""
from __future__ import annotations

import os
import random
import subprocess

_PRELUDE = """\
#include <math.h>
#include <string.h>
#include <stdlib.h>
typedef struct { double x, y; int tag; double *w; } node_t;
"""


def _function(k: int, rng: random.Random) -> str:
    ops = ["+", "-", "*"]
    body = []
    body.append(f"double f{k}(double *restrict a, const double *restrict b, node_t *n, int len, int mode) {{")
    body.append("  double acc = 0.0, t = n->x;")
    body.append("  for (int i = 0; i < len; ++i) {")
    for j in range(rng.randint(2, 5)):
        o = rng.choice(ops)
        fn = rng.choice(["sin", "cos", "exp", "sqrt", "log1p", "tanh"])
        body.append(f"    t = t {o} {fn}(b[i] * {j + 1}.5) {rng.choice(ops)} a[i];")
    body.append("    switch ((i + mode) & 3) {")
    for c in range(3):
        body.append(f"      case {c}: acc += t * {c + 1}.25; a[i] = acc; break;")
    body.append("      default: acc -= n->w[i & 7] * t; n->tag += i;")
    body.append("    }")
    body.append("    for (int j = 0; j < (i & 7); ++j) acc += b[j] * n->y;")
    body.append("  }")
    if k > 0:
        body.append(f"  if (mode > 0) acc += f{rng.randrange(k)}(a, b, n, len / 2, mode - 1);")
    body.append("  node_t copy; memcpy(&copy, n, sizeof copy); copy.x += acc; *n = copy;")
    body.append("  return acc + t;")
    body.append("}")
    return "\n".join(body)


def large_c_source(n_functions: int = 400, seed: int = 1) -> str:
    rng = random.Random(seed)
    return _PRELUDE + "\n\n".join(_function(k, rng) for k in range(n_functions)) + "\n"


def large_module_text(workdir: str, n_functions: int = 400, opt: str = "-O1") -> str:
    """Compile the generated program to textual IR (cached in `workdir`)."""
    out = os.path.join(workdir, f"large_{n_functions}{opt}.ll")
    if not os.path.exists(out):
        src = os.path.join(workdir, f"large_{n_functions}.c")
        with open(src, "w") as f:
            f.write(large_c_source(n_functions))
        subprocess.run(["clang-22", "-S", "-emit-llvm", opt, "-fno-unroll-loops", src, "-o", out + ".tmp"],
                       check=True, capture_output=True)
        os.replace(out + ".tmp", out)
    with open(out) as f:
        return f.read()
