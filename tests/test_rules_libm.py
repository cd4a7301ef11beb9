"""Every <math.h> function has a derivative rule or a documented reason, and the multi-output ones
(frexp, modf, remquo, lgamma_r, sincos and the llvm.frexp/modf/sincos intrinsics) are right.

- coverage: the functions glibc's <math.h> declares (every type suffix, read from the preprocessed
  header) are each a pointwise rule (`adcc.ad.rules.table`), a call rule (`libm_calls`), inactive, or
  listed in `libm_calls.WITHOUT_RULE` with the reason;
- partials: each output's partials against finite differences of its reference, as
  tests/test_rules.py does for the pointwise table;
- end to end: tests/e2e/reverse/libm_outputs.c (both modes, run at -O0..-O3 by test_e2e.py) again
  in the intrinsic forms clang emits under -fno-math-errno (llvm.sincos, llvm.modf) and with
  llvm.frexp written into its IR;
- a function without a rule, called with an active operand, is a located error.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adcc.ad.rules import lookup_call
from adcc.ad.rules.calls import is_family_callee
from adcc.ad.rules.expr import evaluate
from adcc.ad.rules.libm_calls import BY_CALLEE, CALLS, WITHOUT_RULE
from adcc.analysis.calls import INACTIVE_FUNCTIONS

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ADCC = str(BIN / "adcc")
PROGRAMS = HERE / "e2e" / "reverse"  # libm_outputs.c (run at -O0..-O3 by test_e2e.py)
_SUFFIX = re.compile(r"(f128|f32x|f64x|f32|f64|f|l)$")


def _math_h_functions() -> list[str]:
    clang = shutil.which("clang-22")
    if clang is None:
        pytest.skip("clang-22 not installed")
    text = subprocess.run([clang, "-E", "-x", "c", "-"], input="#define _GNU_SOURCE\n#include <math.h>\n",
                          capture_output=True, text=True, check=True).stdout
    decls = re.findall(r"extern [^;]*;", text.replace("\n", " "))
    names = {m for d in decls for m in re.findall(r"\b([A-Za-z_][A-Za-z_0-9]*) \(", d)}
    return sorted(n for n in names if not n.startswith("_"))  # __sin etc. are glibc's internal aliases


def _covered(name: str) -> str | None:
    if lookup_call(name) is not None:
        return "pointwise rule"
    if is_family_callee(name):
        return "call rule"
    if name in INACTIVE_FUNCTIONS:
        return "inactive"
    for base in (name, _SUFFIX.sub("", name), name.replace("_r", "")):
        if base in WITHOUT_RULE:
            return "documented"
    return None


def test_every_math_h_function_has_a_rule_or_a_reason():
    names = _math_h_functions()
    assert len(names) > 500, "the preprocessed <math.h> declared too few functions: the scan is broken"
    missing = [n for n in names if _covered(n) is None]
    assert not missing, f"no rule and no documented reason for: {missing}"
    kinds = {n: _covered(n) for n in names}
    for required in ("frexp", "ldexp", "modf", "remquo", "fma", "fdim", "fmax", "fmin", "hypot", "cbrt", "expm1",
                     "log1p", "erf", "erfc", "tgamma", "lgamma", "atan2", "copysign", "nextafter", "remainder",
                     "trunc", "round", "nearbyint", "scalbn", "logb", "ilogb", "sincos", "lgamma_r"):
        base, _, post = required.partition("_")
        for spelling in (f"{base}{suffix}{'_' + post if post else ''}" for suffix in ("", "f", "l")):
            assert kinds.get(spelling) in ("pointwise rule", "call rule"), (spelling, kinds.get(spelling))


def test_the_documented_reasons_name_real_functions():
    names = set(_math_h_functions())
    stale = [b for b in WITHOUT_RULE if not any(n == b or _SUFFIX.sub("", n) == b for n in names)]
    assert not stale, stale


@pytest.mark.parametrize("fn", CALLS, ids=[c.name for c in CALLS])
def test_output_partials_match_finite_differences(fn):
    checks = 0
    for out in fn.outputs:
        rule = out.rule
        if rule is None:
            continue
        for point in rule.domain:
            result = rule.reference(*point)
            for i, partial in enumerate(rule.partial_exprs):
                if point[i] is None:
                    assert partial is None
                    continue
                h = 1e-4 * max(1.0, abs(point[i]))

                def at(dx):
                    p = list(point)
                    p[i] += dx
                    return rule.reference(*p)
                want = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
                got = evaluate(partial, point, result)
                assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-6), (rule.name, point, i, got, want)
                checks += 1
    assert checks


def test_every_spelling_resolves_to_its_function():
    for fn in CALLS:
        for name in fn.callees:
            assert BY_CALLEE[name] is fn and is_family_callee(name)
            assert lookup_call(name) is None, f"{name} is both a pointwise and a call rule"


# ---------------------------------------------------------------- end to end

def _run(src: Path, opts: list[str], tmp_path: Path) -> str:
    exe = tmp_path / "t"
    c = subprocess.run([ADCC, *opts, str(src), "-o", str(exe), "-lm"], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert c.returncode == 0 and "Traceback" not in c.stderr, c.stderr[-4000:]
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout[-4000:] + r.stderr[-2000:]
    return r.stdout


@pytest.mark.parametrize("opt", ("-O0", "-O2"))
def test_intrinsic_forms(opt, tmp_path):
    """-fno-math-errno turns sincos into llvm.sincos (modf is llvm.modf already)."""
    src = PROGRAMS / "libm_outputs.c"
    ir = subprocess.run([shutil.which("clang-22") or "clang-22", "-S", "-emit-llvm", "-O1", "-fno-math-errno",
                         "-I", str(HERE / "e2e"), str(src), "-o", "-"], capture_output=True, text=True).stdout
    assert "@llvm.sincos.f64" in ir and "@llvm.modf.f64" in ir, "clang no longer emits the intrinsic forms"
    _run(src, [opt, "-fno-math-errno", "-I", str(HERE / "e2e")], tmp_path)


def test_llvm_frexp(tmp_path):
    """llvm.frexp (which other front ends emit for frexp): the program's frexp calls rewritten into it."""
    clang = shutil.which("clang-22")
    if clang is None:
        pytest.skip("clang-22 not installed")
    ir = subprocess.run([clang, "-S", "-emit-llvm", "-O0", "-I", str(HERE / "e2e"), str(PROGRAMS / "libm_outputs.c"),
                         "-o", "-"], capture_output=True, text=True, check=True).stdout
    pattern = re.compile(r"(%[\w.]+) = call (double|float) @(frexpf?)\((?:double|float) noundef (%[\w.]+), "
                         r"ptr noundef (%[\w.]+)\)[^\n]*")
    k = 0

    def rewrite(m):
        nonlocal k
        k += 1
        res, ty, _, x, p = m.groups()
        suffix = "f64" if ty == "double" else "f32"
        pair = f"%frexp.pair.{k}"
        return (f"{pair} = call {{ {ty}, i32 }} @llvm.frexp.{suffix}.i32({ty} {x})\n"
                f"  %frexp.exp.{k} = extractvalue {{ {ty}, i32 }} {pair}, 1\n"
                f"  store i32 %frexp.exp.{k}, ptr {p}, align 4\n"
                f"  {res} = extractvalue {{ {ty}, i32 }} {pair}, 0")
    ir = pattern.sub(rewrite, ir)
    assert k >= 2 and "@llvm.frexp.f64.i32" in ir, "the program's frexp calls were not found"
    src = tmp_path / "frexp.ll"
    src.write_text(ir)
    _run(src, ["-O2"], tmp_path)


def test_a_function_without_a_rule_is_a_located_error(tmp_path):
    src = tmp_path / "jn.c"
    src.write_text("#include <math.h>\nextern double __enzyme_autodiff(void *, ...);\n"
                   "static double f(double x) {\n  return jn(3, x) * x;\n}\n"
                   "int main(void) { return (int)__enzyme_autodiff((void *)f, 1.5); }\n")
    c = subprocess.run([ADCC, "-O2", str(src), "-o", str(tmp_path / "t"), "-lm"], capture_output=True, text=True,
                       cwd=tmp_path)
    assert c.returncode != 0 and "Traceback" not in c.stderr
    assert re.search(r"jn\.c:4:\d+: error: .*'jn'", c.stderr), c.stderr
    assert not (tmp_path / "t").exists()
