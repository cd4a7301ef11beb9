"""-fveclib=libmvec on the AD path (adcc.ir.veclib): math calls get LLVM's vector variants, so
that the post-AD vectorizer (primal and derivative alike) calls glibc's vector math."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adcc.ir.veclib import LIBMVEC_FUNCTIONS, inject_vector_variants

E2E = Path(__file__).resolve().parent / "e2e"
ADCC = Path(sys.executable).parent / "adcc"
FLAGS = ["-O3", "-march=x86-64-v3", "-fno-math-errno", "-fveclib=libmvec"]

MODULE = """define double @f(double %x, float %y) #0 {
  %a = tail call double @llvm.exp.f64(double %x) #1
  %b = call double @pow(double %a, double %x), !dbg !3
  %c = call float @logf(float %y)
  %d = call double @tan(double %b)
  %e = call double @erf(double %d)
  ret double %e
}
define double @g(double %x) #2 {
  %s = call double @sin(double %x)
  ret double %s
}
@llvm.compiler.used = appending global [1 x ptr] [ptr @f], section "llvm.metadata"
attributes #0 = { "target-features"="+avx,+avx2,+fma" }
attributes #2 = { "target-features"="+sse2" }
"""


def _variants(line: str) -> list[str]:
    m = re.search(r'"vector-function-abi-variant"="([^"]*)"', line)
    return re.findall(r"\((\w+)\)", m.group(1)) if m else []


def test_annotates_mapped_calls_per_target():
    out = inject_vector_variants(MODULE, "libmvec")
    lines = {ln.split("=")[0].strip(): ln for ln in out.splitlines() if " call " in ln}
    assert _variants(lines["%a"]) == ["_ZGVbN2v_exp", "_ZGVdN4v_exp"]
    assert lines["%a"].endswith(" #1")  # the attribute goes after the arguments, before the group
    assert _variants(lines["%b"]) == ["_ZGVbN2vv_pow", "_ZGVdN4vv_pow"] and lines["%b"].endswith("!dbg !3")
    assert _variants(lines["%c"]) == ["_ZGVbN4v_logf", "_ZGVdN8v_logf"]
    assert _variants(lines["%d"]) == ["_ZGVbN2v_tan", "_ZGVdN4v_tan"]
    assert _variants(lines["%e"]) == []  # erf: not in LLVM's libmvec table
    assert _variants(lines["%s"]) == ["_ZGVbN2v_sin"]  # no AVX2 in @g: no 4-lane variant
    assert "declare <4 x double> @_ZGVdN4vv_pow(<4 x double>, <4 x double>)" in out
    used = next(ln for ln in out.splitlines() if ln.startswith("@llvm.compiler.used"))
    assert used.startswith("@llvm.compiler.used = appending global [10 x ptr] [ptr @f, ptr @_ZGV")
    assert inject_vector_variants(out, "libmvec").count("declare") == out.count("declare")  # idempotent
    assert inject_vector_variants(MODULE, "none") == MODULE


def test_table_is_llvms():
    """The same calls get the same variants as LLVM's own InjectTLIMappings with LIBMVEC."""
    opt = shutil.which("opt-22")
    if opt is None:
        pytest.skip("opt-22 not installed")
    lines = ['target triple = "x86_64-pc-linux-gnu"']
    for k, (base, arity) in enumerate(sorted({**LIBMVEC_FUNCTIONS, "erf": 1, "atan2": 2, "cbrt": 1}.items())):
        for ty, name in (("double", base), ("float", base + "f"), ("double", f"llvm.{base}.f64")):
            args = ", ".join([f"{ty} %x"] * arity)
            lines.append(f'define {ty} @t{k}{name.replace(".", "_")}({ty} %x) #0 {{\n'
                         f"  %r = call {ty} @{name}({args})\n  ret {ty} %r\n}}")
            lines.append(f"declare {ty} @{name}({', '.join([ty] * arity)})")
    lines.append('attributes #0 = { "target-features"="+avx2" }')
    text = "\n".join(lines) + "\n"
    ours = [_variants(ln) for ln in inject_vector_variants(text, "libmvec").splitlines() if " call " in ln]
    proc = subprocess.run([opt, "-vector-library=LIBMVEC", "-passes=inject-tli-mappings", "-S", "-o", "-"],
                          input=text, capture_output=True, text=True, check=True)
    groups = dict(re.findall(r"^attributes (#\d+) = \{([^\n]*)\}", proc.stdout, re.M))
    theirs = []
    for ln in proc.stdout.splitlines():
        if " call " in ln:
            ref = re.search(r"\) (#\d+)", ln)
            theirs.append(_variants(groups.get(ref.group(1), "") if ref else ""))
    assert ours == theirs


def _has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def test_gradient_through_vector_math(tmp_path):
    """The e2e program, built the way a performance-minded user builds: right, and the derivative
    code calls libmvec's AVX2 variants."""
    exe = tmp_path / "t"
    src = E2E / "reverse" / "vector_math.c"
    subprocess.run([str(ADCC), *FLAGS, "-c", str(src), "-o", str(tmp_path / "t.o")], check=True)
    syms = subprocess.run(["nm", str(tmp_path / "t.o")], capture_output=True, text=True).stdout
    assert {"_ZGVdN4v_exp", "_ZGVdN4v_sin", "_ZGVdN4vv_pow", "_ZGVdN8v_expf"} <= set(re.findall(r"\b_ZGV\w+", syms))
    subprocess.run([str(ADCC), *FLAGS, str(tmp_path / "t.o"), "-o", str(exe), "-lm"], check=True)
    if not _has_avx2():
        pytest.skip("this CPU has no AVX2: built, not run")
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "PASS reverse/vector_math" in r.stdout, r.stdout
