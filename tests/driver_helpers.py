"""Shared helpers of the driver tests: where the console scripts are, how to run them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ADCC = str(BIN / "adcc")
ADCXX = str(BIN / "adcc++")
ADFLANG = str(BIN / "adflang")


def run(argv, cwd=None, env=None, **kw) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=full_env, capture_output=True, text=True, **kw)


def assert_clean_error(proc: subprocess.CompletedProcess) -> None:
    """A user error: non-zero exit, a clang-style diagnostic, no Python traceback."""
    assert proc.returncode != 0, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "error:" in proc.stderr, proc.stderr


PLAIN_C = "#include <stdio.h>\nint twice(int x) { return 2 * x; }\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n"
# prints 42 too; has a float type, so its fast-path object keeps its bitcode (PLAIN_C's leaves it out)
FLOAT_C = '#include <stdio.h>\ndouble twice(double x) { return 2 * x; }\nint main(void) { printf("%g\\n", twice(21)); return 0; }\n'
ENZYME_C = ("extern double __enzyme_autodiff(void *, ...);\n"
            "double sq(double x) { return x * x; }\n"
            "int main(void) { return (int)__enzyme_autodiff((void *)sq, 3.0); }\n")
