"""adcc.driver.bitstream: whether a bitcode module has a floating-point type, read without LLVM,
checked against LLVM's own disassembly of the same module."""
import re
import subprocess

import pytest

from adcc.driver.bitstream import has_float

FLOAT_WORDS = re.compile(r"\b(half|bfloat|float|double|x86_fp80|fp128|ppc_fp128)\b")
UNITS = {
    "integer": ("int twice(int x) { return 2 * x; }\n", False),
    "no code": ("struct s { int a; };\n", False),
    "double argument": ("double sq(double x) { return x * x; }\n", True),
    "float global": ("float g = 1;\nint get(void) { return (int)g; }\n", True),
    "long double": ("int big(long double x) { return x > 1; }\n", True),
    "_Float16": ("int h(_Float16 x) { return x > 1; }\n", True),
    "float vector": ("typedef float v4 __attribute__((vector_size(16)));\n"
                     "void add(v4 *a, v4 *b) { *a += *b; }\n", True),
    "double inside a struct": ("struct p { double x; int n; };\nint n(struct p *q) { return q->n; }\n"
                               "struct p make(void) { struct p q = {1.5, 2}; return q; }\n", True),
    "integers, arrays, calls": ("#include <string.h>\nstatic int t[64];\n"
                                "int f(const char *s) { for (int i = 0; i < 64; i++) t[i] = i * i;\n"
                                "  return (int)strlen(s) + t[s[0] & 63]; }\n", False),
}


def _bitcode(tmp_path, source: str, opt: str) -> bytes:
    c = tmp_path / "u.c"
    c.write_text(source)
    bc = tmp_path / "u.bc"
    subprocess.run(["clang-22", opt, "-flto", "-c", "-emit-llvm", str(c), "-o", str(bc)], check=True)
    return bc.read_bytes()


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
@pytest.mark.parametrize("name", list(UNITS))
def test_matches_llvm_disassembly(tmp_path, name, opt):
    source, expected = UNITS[name]
    data = _bitcode(tmp_path, source, opt)
    text = subprocess.run(["llvm-dis-22", "-o", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    code = "\n".join(re.sub(r'"[^"]*"', "", ln) for ln in text.splitlines() if not ln.startswith(";"))
    assert has_float(data) is expected
    assert bool(FLOAT_WORDS.search(code)) is expected


def test_unreadable_input_cannot_tell(tmp_path):
    data = _bitcode(tmp_path, UNITS["double argument"][0], "-O2")
    assert has_float(b"") is None and has_float(b"not bitcode") is None
    for cut in (5, 40, 200):  # truncated before the type table ends
        assert has_float(data[:cut]) is None
    assert has_float(data[:4] + bytes(len(data) - 4)) is None
