"""The shape of what reverse mode emits, beyond its values: small constant loops are unrolled
before AD (adcc/ad/unroll.py), a gradient whose tape size is known at compile time keeps the
tape on its stack (adcc/ad/tape.py: static_tape_bytes), and a partial reuses a math call the
primal made already (rules.sibling_calls). Values are checked by the e2e and rules tests."""
import re
import subprocess

from adcc.ad.api import ADOptions, differentiate_text
from adcc.ad.unroll import mark_small_loops
from adcc.driver import stages
from adcc.ir import parse_module

HEADER = ("#include <math.h>\nextern void __enzyme_autodiff(void *, ...);\nextern double __enzyme_fwddiff(void *, ...);\n"
          "extern double __enzyme_autodiff_scalar(void *, ...);\nint enzyme_dup, enzyme_const;\n")


def pre_ad(tmp_path, source: str) -> str:
    src = tmp_path / "k.c"
    src.write_text(HEADER + source)
    bc = tmp_path / "k.bc"
    subprocess.run(["clang-22", "-O2", "-Xclang", "-disable-llvm-passes", "-emit-llvm", "-c", str(src), "-o", str(bc)],
                   check=True)
    text = stages.read_bitcode(bc.read_bytes())
    return stages.pre_ad_optimize(stages.separate_call_sites(text), stages.target_machine(cpu=None, opt=2))


def function_text(module_text: str, prefix: str) -> str:
    m = re.search(r"^define [^\n]*@" + re.escape(prefix) + r"[^\n]*\{\n.*?^\}", module_text, re.M | re.S)
    assert m, f"no function @{prefix}... in the module"
    return m.group(0)


ROTATE = """
__attribute__((noinline)) static void rotate(const double *r, const double *x, double *out) {
  double t[3];
  for (int i = 0; i < 3; i++) t[i] = x[i] * r[i];
  for (int i = 0; i < 3; i++) out[i] = t[i] * t[(i + 1) % 3] + sin(r[i]);
}
void g(double *r, double *dr, double *x, double *o, double *d) {
  __enzyme_autodiff((void *)rotate, enzyme_dup, r, dr, enzyme_const, x, enzyme_dup, o, d);
}
"""


def test_small_constant_loops_are_unrolled_before_ad(tmp_path):
    text = pre_ad(tmp_path, ROTATE)
    body = function_text(text, "rotate")
    assert "alloca" not in body and "phi" not in body  # the loops and the stack array are gone
    out = differentiate_text(text, ADOptions()).text
    assert "call ptr @adcc_shadow_stack_alloc" not in out  # no stack object left to shadow


def test_large_or_unknown_loops_stay(tmp_path):
    text = pre_ad(tmp_path, """
double f(const double *x, int n) { double s = 0; for (int i = 0; i < n; i++) s += x[i] * x[i]; return s; }
double h(const double *x) { double s = 0; for (int i = 0; i < 1000; i++) s += sin(x[i]); return s; }
""")
    for name in ("f", "h"):
        assert "phi" in function_text(text, name)


def test_unroll_mark_keeps_existing_loop_properties():
    text = """
define void @k(ptr %p) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %n, %loop ]
  %q = getelementptr double, ptr %p, i64 %i
  store double 0.0, ptr %q
  %n = add i64 %i, 1
  %c = icmp eq i64 %n, 4
  br i1 %c, label %exit, label %loop, !llvm.loop !7
exit:
  ret void
}
!7 = distinct !{!7, !8}
!8 = !{!"llvm.loop.mustprogress"}
"""
    m = parse_module(text)
    assert mark_small_loops(m) == 1
    out = str(m)
    ref = re.search(r"br i1 %\S+, label %\S+, label %\S+, !llvm.loop (!\d+)", out).group(1)
    node = re.search("^" + re.escape(ref) + r" = distinct !\{(.*)\}$", out, re.M).group(1)
    ops = [o.strip() for o in node.split(",")]
    assert ops[0] == ref and "!8" in ops
    full = [o for o in ops[1:] if o != "!8"][0]
    assert re.search("^" + re.escape(full) + r' = !\{!"llvm.loop.unroll.full"\}$', out, re.M)


def test_loop_free_gradient_keeps_its_tape_on_the_stack(tmp_path):
    text = pre_ad(tmp_path, """
__attribute__((noinline)) static double f(double x, double y) { return sin(x * y) / (1 + x * x) + exp(y) * x; }
double g(double x, double y) { return __enzyme_autodiff_scalar((void *)f, x, enzyme_const, y); }
""")
    grad = function_text(differentiate_text(text, ADOptions()).text, "adcc.grad.f")
    assert re.search(r"alloca \[\d+ x i8\], align 16", grad)
    assert "adcc_tape_free" not in grad
    assert "call void @adcc_tape_note(i64" in grad


def test_gradient_with_a_loop_uses_the_runtime_tape(tmp_path):
    text = pre_ad(tmp_path, """
__attribute__((noinline)) static double f(double *x, int n) { double s = 1; for (int i = 0; i < n; i++) s *= sin(x[i]); return s; }
void g(double *x, double *dx, int n) { __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n); }
""")
    grad = function_text(differentiate_text(text, ADOptions()).text, "adcc.grad.f")
    assert "x i8]" not in grad and "adcc_tape_free" in grad


def test_sin_and_cos_of_one_operand_are_not_called_again(tmp_path):
    src = """
__attribute__((noinline)) static double f(double x) { return sin(x) * x + cos(x) * x * x; }
double g(double x) { return __enzyme_autodiff_scalar((void *)f, x); }
double t(double x) { return __enzyme_fwddiff((void *)f, x, 1.0); }
"""
    out = differentiate_text(pre_ad(tmp_path, src), ADOptions()).text
    rev = function_text(out, "adcc.rev.f")
    assert not re.search(r"call double @(llvm\.)?(sin|cos)", rev)  # read from the primal's calls
    fwd = function_text(out, "adcc.fwd.f")
    # forward mode reuses a call made earlier in the block: d cos(x) reads the sin(x) before it,
    # d sin(x) still calls cos once (the primal's cos comes later)
    assert len(re.findall(r"call double @(llvm\.)?(sin|cos)(\.f64)?\(", fwd)) == 3


def test_stack_tape_bound_covers_callees_and_not_recursion(tmp_path):
    text = pre_ad(tmp_path, """
__attribute__((noinline)) static double h(double x) { return sin(x) * exp(x); }
__attribute__((noinline)) static double f(double x) { return h(x) * h(x * x); }
__attribute__((noinline)) static double r(double x, int n) { return n == 0 ? sin(x) : x * r(cos(x), n - 1); }
double g(double x) { return __enzyme_autodiff_scalar((void *)f, x); }
double k(double x, int n) { return __enzyme_autodiff_scalar((void *)r, x, enzyme_const, n); }
""")
    out = differentiate_text(text, ADOptions()).text
    assert re.search(r"alloca \[\d+ x i8\]", function_text(out, "adcc.grad.f"))
    assert "adcc_tape_free" in function_text(out, "adcc.grad.r")


def test_derivatives_are_compiled_for_the_primals_target(tmp_path):
    text = pre_ad(tmp_path, """
__attribute__((noinline)) static double f(double *x, int n) { double s = 0; for (int i = 0; i < n; i++) s += x[i] * x[i]; return s; }
void g(double *x, double *dx, int n) { __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n); }
double t(double *x, double *dx, int n) { return __enzyme_fwddiff((void *)f, enzyme_dup, x, dx, enzyme_const, n); }
""")
    out = differentiate_text(text, ADOptions()).text
    for prefix in ("adcc.aug.f", "adcc.rev.f", "adcc.grad.f", "adcc.fwd.f"):
        header = function_text(out, prefix).split("\n", 1)[0]
        assert '"target-cpu"="x86-64"' in header and '"target-features"=' in header, header


def test_default_target_is_generic_like_clang(tmp_path):
    import os
    import sys
    adcc = os.path.join(os.path.dirname(sys.executable), "adcc")
    src = tmp_path / "k.c"
    src.write_text(HEADER + """
__attribute__((noinline)) static double f(double *x, int n) { double s = 0; for (int i = 0; i < n; i++) s += x[i] * x[i]; return s; }
void g(double *x, double *dx, int n) { __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n); }
""")
    for flags, avx in (([], False), (["-march=x86-64-v3"], True)):
        asm = tmp_path / "k.s"
        subprocess.run([adcc, "-O2", "-S", *flags, str(src), "-o", str(asm)], check=True)
        assert ("%ymm" in asm.read_text()) == avx, flags  # AVX registers only when asked for


def test_copy_into_fresh_memory_does_not_zero_its_shadow_in_reverse(tmp_path):
    text = pre_ad(tmp_path, """
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) static double f(const double *x, int n) {
  double *t = malloc(sizeof(double) * n), s = 0;
  memcpy(t, x, sizeof(double) * n);          /* first write into t: its shadow is not zeroed */
  for (int k = 0; k < 3; k++)
    for (int i = 1; i < n; i++) t[i] = t[i] * t[i - 1] * 0.5 + sin(t[i]);
  memset(t + 1, 0, sizeof(double) * (n - 2)); /* not the first access: zeroed in reverse */
  for (int i = 0; i < n; i++) s += t[i];
  free(t);
  return s;
}
void g(double *x, double *dx, int n) { __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n); }
""")
    rev = function_text(differentiate_text(text, ADOptions()).text, "adcc.rev.f")
    assert "@adcc.adjoint.add.f64" in rev and "@adcc.adjoint.copy.f64" not in rev
    assert "llvm.memset" in rev


def test_derivatives_of_noinline_callees_stay_calls(tmp_path):
    # #17 item 5: inlined, the derivatives of a unit's many noinline functions made one huge
    # function whose optimization and code generation grew faster than linearly
    text = pre_ad(tmp_path, """
__attribute__((noinline)) static double h(double x) { return sin(x) * exp(x); }
__attribute__((noinline)) static double f(double x) { return h(x) * h(x * x); }
double g(double x) { return __enzyme_autodiff_scalar((void *)f, x); }
double t(double x) { return __enzyme_fwddiff((void *)f, x, 1.0); }
""")
    out = differentiate_text(text, ADOptions()).text
    for prefix in ("adcc.aug.h", "adcc.rev.h", "adcc.fwd.h"):  # called from differentiated code
        assert " noinline" in function_text(out, prefix).split("\n", 1)[0], prefix
    for prefix in ("adcc.aug.f", "adcc.rev.f", "adcc.fwd.f"):  # what the request reaches itself
        assert "noinline" not in function_text(out, prefix).split("\n", 1)[0], prefix
    mod = stages.verify(out)
    stages.optimize(mod, stages.target_machine(opt=2), 2)
    optimized = str(mod)
    for prefix in ("adcc.aug.h", "adcc.rev.h", "adcc.fwd.h"):  # kept out of line, and called
        function_text(optimized, prefix)
        assert re.search(r"call [^\n]*@" + re.escape(prefix), optimized), prefix
