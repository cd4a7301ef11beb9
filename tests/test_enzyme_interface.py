"""Enzyme's interface as adcc implements it (README "Enzyme interface", adcc/ad/enzyme_names.py):
every name adcc does not implement is a located compile error; each malformed call is one; the
README table matches the names table; errors show the source line and a caret; Enzyme's
attribute spellings reach the IR; <enzyme/enzyme> is found without flags.

End-to-end derivatives through every marker are tests/e2e/api/ (run by test_e2e.py).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adcc.ad import enzyme_names as names
from adcc.diagnostics import Diagnostic, SourceLocation
from adcc.driver import console, toolchain

BIN = Path(sys.executable).parent
ADCC, ADCXX = str(BIN / "adcc"), str(BIN / "adcc++")
ROOT = Path(__file__).resolve().parent.parent

PRELUDE = """
extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
static double f(double x) { return x * x; }
"""


def compile_c(tmp_path, name: str, src: str, *flags: str, cxx: bool = False):
    path = tmp_path / (name + (".cpp" if cxx else ".c"))
    path.write_text(src)
    out = tmp_path / (name + ".out")
    r = subprocess.run([ADCXX if cxx else ADCC, *flags, path.name, "-o", out.name, "-lm"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    return r, out


def assert_rejected(r, out, name: str, *hints: str, line: int | None = None) -> None:
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "Stack dump" not in r.stderr, r.stderr
    assert not out.exists()
    where = f"{name}.c:{line}:" if line else f"{name}.c:"
    assert where in r.stderr and "error:" in r.stderr, r.stderr
    for hint in hints:
        assert hint in r.stderr, r.stderr


# --- every name adcc does not implement ----------------------------------------------------

def _program_using(n: names.Name) -> str:
    if n.kind is names.Kind.FUNCTION:
        return PRELUDE + f"extern double {n.name}(void *, ...);\n" \
                         f"int main(void) {{ return (int){n.name}((void *)f, 1.0); }}\n"
    if n.kind is names.Kind.GLOBAL:
        return PRELUDE + f"void *{n.name}f[1] = {{(void *)f}};\n" \
                         "int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }\n"
    if n.kind is names.Kind.MARKER:
        values = "0, " * n.values
        return PRELUDE + f"int {n.name};\n" \
                         f"int main(void) {{ return (int)__enzyme_autodiff((void *)f, {n.name}, {values}1.0); }}\n"
    if n.kind is names.Kind.HOOK:
        return PRELUDE + f"void {n.name}(double v, const char *id) {{ (void)v, (void)id; }}\n" \
                         "int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }\n"
    annotation = n.name + ("=log1p" if n.name == "enzyme_function_like" else "")
    return PRELUDE + f'__attribute__((noinline, annotate("{annotation}"))) double g(double x) {{ return x; }}\n' \
                     "static double h(double x) { return g(x) * x; }\n" \
                     "int main(void) { return (int)__enzyme_autodiff((void *)h, 1.0); }\n"


REFUSED = [n for n in names.ALL if n.status is not names.Status.IMPLEMENTED]
UNKNOWN = [names.Name("__enzyme_fancy", names.Kind.FUNCTION, "", names.Status.UNSUPPORTED),
           names.Name("__enzyme_fancyreg", names.Kind.GLOBAL, "", names.Status.UNSUPPORTED),
           names.Name("enzyme_fancy", names.Kind.MARKER, "", names.Status.UNSUPPORTED),
           names.Name("enzyme_fancy", names.Kind.ATTRIBUTE, "", names.Status.UNSUPPORTED)]


@pytest.mark.parametrize("n", REFUSED, ids=lambda n: f"{n.kind.value}-{n.name}")
def test_unimplemented_name_is_a_located_error(tmp_path, n):
    r, out = compile_c(tmp_path, "use", _program_using(n), "-O0", "-c")
    hint = "not supported yet" if n.status is names.Status.PLANNED else "not supported by adcc"
    assert_rejected(r, out, "use", n.name, hint)


@pytest.mark.parametrize("n", UNKNOWN, ids=lambda n: f"{n.kind.value}-{n.name}")
def test_unknown_name_is_a_located_error(tmp_path, n):
    r, out = compile_c(tmp_path, "use", _program_using(n), "-O2", "-c")
    assert_rejected(r, out, "use", "unknown Enzyme", n.name)


# --- malformed calls --------------------------------------------------------------------------

BAD_CALLS = {
    # shadow contexts (adcc/ad/contexts.py): what adcc cannot resolve at compile time
    "context_width": ("""extern void *__enzyme_context(int);
int main(void) { void *c = __enzyme_context(0); return c != 0; }""",
                      ["__enzyme_context(0): a context's width is the number of lanes"],
    ),
    "context_vector_reverse": ("""extern void *__enzyme_context(int);
int enzyme_context;
int main(void) { void *c = __enzyme_context(2);
  return (int)__enzyme_autodiff((void *)f, enzyme_context, c, 1.0); }""",
                               ["enzyme_context with a context of width 2 in reverse mode is not supported yet"],
    ),
    "context_from_a_caller": ("""extern void *__enzyme_context(int);
extern void *__enzyme_shadow(void *, void *, int);
double gl;
__attribute__((noinline)) static double *get(void *c);
int main(void) { return (int)*get(__enzyme_context(1)); }
__attribute__((noinline)) static double *get(void *c) { return (double *)__enzyme_shadow(c, &gl, 0); }""",
                              ["the context given to __enzyme_shadow must be the result of an __enzyme_context call "
                               "in the same function"],
    ),
    "context_shadow_of_a_local": ("""extern void *__enzyme_context(int);
extern void *__enzyme_shadow(void *, void *, int);
int main(void) { void *c = __enzyme_context(1); double x = 1;
  return (int)*(double *)__enzyme_shadow(c, &x, 0); }""",
                                  ["the second argument of __enzyme_shadow must be the address of a global"],
    ),
    "context_lane": ("""extern void *__enzyme_context(int);
extern void *__enzyme_shadow(void *, void *, int);
double gl;
int main(void) { void *c = __enzyme_context(1);
  return (int)*(double *)__enzyme_shadow(c, &gl, 1); }""",
                     ["the lane given to __enzyme_shadow must be an integer constant from 0 to 0"],
    ),
    "context_in_split_mode": ("""extern void *__enzyme_context(int);
extern void *__enzyme_augmentfwd(void *, ...);
int enzyme_context;
int main(void) { void *c = __enzyme_context(1);
  return __enzyme_augmentfwd((void *)f, enzyme_context, c, 1.0) != 0; }""",
                              ["enzyme_context with __enzyme_augmentfwd is not supported yet"],
    ),
    # issue #16 item 11: an integer where a shadow pointer is expected
    "int_shadow": ("""int enzyme_dup;
static double g(double *x) { return x[0] * x[0]; }
int main(void) { double x = 1; int dx = 0;
  return (int)__enzyme_autodiff((void *)g, enzyme_dup, &x, dx); }""",
                   ["argument 1 of 'g' expects a pointer as its shadow", "an integer"],
    ),
    "int_for_pointer": ("""static double g(double *x) { return x[0]; }
int main(void) { return (int)__enzyme_autodiff((void *)g, 5); }""", ["expects a pointer as its primal"],
    ),
    "double_for_int": ("""int enzyme_const;
static double g(double x, int n) { return x * n; }
int main(void) { return (int)__enzyme_autodiff((void *)g, 1.0, enzyme_const, 2.5); }""",
                       ["argument 2 of 'g' expects an integer"],
    ),
    "primal_return_void": ("""int enzyme_primal_return, enzyme_dup;
static void g(double *x) { x[0] *= x[0]; }
int main(void) { double x = 1, dx = 1; __enzyme_autodiff((void *)g, enzyme_primal_return, enzyme_dup, &x, &dx);
  return 0; }""", ["enzyme_primal_return given, but 'g' returns void"],
    ),
    "width_not_constant": ("""int enzyme_width, enzyme_dup;
int main(int argc, char **argv) { (void)argv;
  return (int)__enzyme_fwddiff((void *)f, enzyme_width, argc, enzyme_dup, 1.0, 1.0); }""",
                           ["enzyme_width must be followed by an integer constant"],
    ),
    "width_in_reverse_mode_scalar": ("""int enzyme_width, enzyme_dup, enzyme_out;
static double g(double x, double y) { return x * y; }
int main(void) { return (int)__enzyme_autodiff((void *)g, enzyme_width, 2, enzyme_out, 1.0, enzyme_out, 2.0); }""",
                                     ["enzyme_width 2 in reverse mode needs every active argument of 'g' passed "
                                      "by pointer"],
    ),
    "width_in_reverse_mode_heap": ("""#include <stdlib.h>
int enzyme_width, enzyme_dup;
static void g(const double *x, double *y, int n) {
  double *t = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) t[i] = x[i] * x[i];
  for (int i = 0; i < n; i++) y[i] = t[n - 1 - i] * x[i];
  free(t); }
int main(int argc, char **argv) { double x[4] = {1, 2, 3, 4}, dx0[4] = {0}, dx1[4] = {0}, y[4], dy0[4] = {1}, dy1[4] = {0, 1};
  __enzyme_autodiff((void *)g, enzyme_width, 2, enzyme_dup, x, dx0, dx1, enzyme_dup, y, dy0, dy1, argc);
  return (int)dx0[0]; }""", ["enzyme_width 2 in reverse mode is not supported for 'g' yet"],
    ),
    "width_twice": ("""int enzyme_width;
int main(void) { return (int)__enzyme_fwddiff((void *)f, enzyme_width, 1, enzyme_width, 1, 1.0, 1.0); }""",
                    ["enzyme_width is given more than once"],
    ),
    "dupv_stride_not_integer": ("""int enzyme_width, enzyme_dupv;
static double g(double *x) { return x[0]; }
int main(void) { double x = 1, dx[2] = {1, 0};
  return (int)__enzyme_fwddiff((void *)g, enzyme_width, 2, enzyme_dupv, dx, &x, dx); }""",
                                ["enzyme_dupv must be followed by an integer byte stride"],
    ),
    "dupv_on_scalar": ("""int enzyme_width, enzyme_dupv;
int main(void) { double dx[2] = {1, 0};
  return (int)__enzyme_fwddiff((void *)f, enzyme_width, 2, enzyme_dupv, 8, 1.0, dx); }""",
                       ["strided shadow (enzyme_dupv) but is not a pointer"],
    ),
    "active_return_of_int": ("""int enzyme_active_return, enzyme_dup;
static int g(double *x) { return x[0] > 0; }
int main(void) { double x = 1, dx = 0; return (int)__enzyme_autodiff((void *)g, enzyme_active_return, &x, &dx); }""",
                             ["enzyme_active_return given, but 'g' does not return a floating-point value"],
    ),
    "dup_return_in_reverse": ("""int enzyme_dup_return;
int main(void) { return (int)__enzyme_autodiff((void *)f, enzyme_dup_return, 1.0); }""",
                              ["enzyme_dup_return is not valid for 'f' in reverse mode"],
    ),
    "result_too_small": ("""typedef struct { double a, b; } Two;
extern Two __enzyme_autodiff2(void *, ...);
static double g(double x, double y, double z) { return x * y * z; }
int main(void) { return (int)__enzyme_autodiff2((void *)g, 1.0, 2.0, 3.0).a; }""",
                         ["has room for 2 value(s); the call returns 3"],
    ),
    "result_is_a_pointer": ("""extern void *__enzyme_autodiff2(void *, ...);
int main(void) { return __enzyme_autodiff2((void *)f, 1.0) != 0; }""", ["declared as 'ptr'"],
    ),
    "pointer_result_as_double": ("""int enzyme_dup, enzyme_const;
static double *pick(double *a, int i) { return a + i; }
int main(void) { double a[2] = {1, 2}, da[2] = {0};
  return (int)__enzyme_fwddiff((void *)pick, enzyme_dup, a, da, enzyme_const, 1); }""",
                                 ["declared as 'double', which cannot hold the derivative (ptr)"],
    ),
    "sret_target_without_seed": ("""typedef struct { double a, b, c; } V3;
static V3 g(double x) { V3 r = {x, x * x, 3 * x}; return r; }
int main(void) { return (int)__enzyme_autodiff((void *)g, 1.0); }""",
                                 ["returns a struct through memory", "seed"],
    ),
    "runtime_activity_with_width": ("""int enzyme_runtime_activity, enzyme_width, enzyme_dup;
static double g(double *x) { return x[0] * x[0]; }
int main(void) { double x = 1, d0 = 1, d1 = 0;
  return (int)__enzyme_fwddiff((void *)g, enzyme_runtime_activity, enzyme_width, 2, enzyme_dup, &x, &d0, &d1); }""",
                                    ["enzyme_runtime_activity together with enzyme_width"],
    ),
    "interleave_missing_shadow": ("""int enzyme_interleave, enzyme_dup;
static double g(double *x) { return x[0]; }
int main(void) { double x = 1; return (int)__enzyme_autodiff((void *)g, &x, enzyme_interleave); }""",
                                  ["is duplicated but has no shadow"],
    ),
    "iter_mixed_types": ("""long __enzyme_iter(int, long);
static double g(double x) { return x * (double)__enzyme_iter(3, 1); }
int main(void) { return (int)g(1.0); }""",
                         ["__enzyme_iter takes two integers of one type", "(i32, i64)"],
    ),
    "call_inactive_argument_type": ("""extern double __enzyme_call_inactive(void *, ...);
static double sq(float x) { return x * x; }
static double g(double x) { return x * __enzyme_call_inactive((void *)sq, x); }
int main(void) { return (int)g(1.0); }""",
                                    ["__enzyme_call_inactive: 'sq' takes (float) but the call passes (double)"],
    ),
    "call_inactive_result_type": ("""extern double __enzyme_call_inactive(void *, ...);
static void note(double x) { (void)x; }
int main(void) { return (int)__enzyme_call_inactive((void *)note, 1.0); }""",
                                  ["'note' returns void but the call's result is used as double"],
    ),
    "call_inactive_no_function": ("""extern double __enzyme_call_inactive();
int main(void) { return (int)__enzyme_call_inactive(); }""",
                                  ["__enzyme_call_inactive takes the function to call first"],
    ),
    "truncate_width_not_constant": ("""typedef double (*unary)(double);
extern unary __enzyme_truncate_op_func(void *, int, int);
int main(int argc, char **argv) { (void)argv; return (int)__enzyme_truncate_op_func((void *)f, 64, argc)(1.0); }""",
                                    ["__enzyme_truncate_op_func: the widths must be integer constants"],
    ),
    "truncate_not_ieee_width": ("""typedef double (*unary)(double);
extern unary __enzyme_truncate_op_func(void *, int, int);
int main(void) { return (int)__enzyme_truncate_op_func((void *)f, 64, 24)(1.0); }""",
                                ["target width 24 is not an IEEE width (16, 32, 64) no wider than the source's 64"],
    ),
    "truncate_format_too_wide": ("""typedef float (*unary)(float);
extern unary __enzyme_truncate_mem_func(void *, int, int, int);
static float g(float x) { return x * x; }
int main(void) { return (int)__enzyme_truncate_mem_func((void *)g, 32, 11, 23)(1.0f); }""",
                                 ["11 exponent and 23 mantissa bits does not fit the 32-bit source"],
    ),
    "truncate_external_function": ("""typedef double (*unary)(double);
extern double ext(double);
extern unary __enzyme_truncate_op_func(void *, int, int);
int main(void) { return (int)__enzyme_truncate_op_func((void *)ext, 64, 32)(1.0); }""",
                                   ["needs a function defined in this translation unit"],
    ),
    "truncate_value_not_float": ("""extern double __enzyme_truncate_mem_value(int, int, int);
int main(void) { return (int)__enzyme_truncate_mem_value(1, 64, 32); }""",
                                 ["__enzyme_truncate_mem_value takes a floating-point value first"],
    ),
    "error_estimate_log_hook": ("""extern double __enzyme_error_estimate(void *, ...);
void enzymeLogError(const char *id, double err) { (void)id, (void)err; }
int main(void) { return (int)__enzyme_error_estimate((void *)f, 1e-7, 0.0); }""",
                                ["the logging hook 'enzymeLogError' the program defines is not supported"],
    ),
    "reverse_log_hook": ("""void enzymeLogGrad(double grad, const char *op) { (void)grad, (void)op; }
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }""",
                         ["defines Enzyme's logging hook 'enzymeLogGrad' with a signature adcc does not call it "
                          "with", "void enzymeLogGrad(double grad, const char *opcode"],
    ),
    "reverse_log_hook_split": ("""void enzymeLogValue(const char *id, double v, unsigned n, double *ops) { (void)id, (void)v, (void)n, (void)ops; }
extern void *__enzyme_augmentfwd(void *, ...);
int main(void) { return __enzyme_augmentfwd((void *)f, 1.0) != 0; }""",
                               ["__enzyme_augmentfwd: the program defines Enzyme's logging hook 'enzymeLogValue'"],
    ),
    "error_estimate_custom_rule": ("""extern double __enzyme_error_estimate(void *, ...);
extern double mystery(double);
static double dmystery(double x, double dx) { return dx; }
void *__enzyme_register_derivative_mystery[2] = {(void *)mystery, (void *)dmystery};
static double g(double x) { return mystery(x) * x; } int main(void) { return (int)__enzyme_error_estimate((void *)g, 1e-7, 0.0); }""",
                                   ["no error-estimation rule for the call to 'mystery'"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_malformed_call_is_a_located_error(tmp_path, case):
    src, hints = BAD_CALLS[case]
    program = PRELUDE + src
    line = max(k for k, text in enumerate(program.splitlines(), 1) if "__enzyme_" in text)  # the call
    r, out = compile_c(tmp_path, case, program, "-O2")
    assert_rejected(r, out, case, *hints, line=line)


def test_cpp_log_hook_is_refused(tmp_path):
    """Enzyme's logging hook defined as a C++ function (a mangled name) is found too."""
    src = ("extern double __enzyme_autodiff(void *, ...);\n"
           "void enzymeLogGrad(double grad, const char *op) { (void)grad, (void)op; }\n"
           "static double f(double x) { return x * x; }\n"
           "int main() { return (int)__enzyme_autodiff((void *)f, 1.0); }\n")
    r, out = compile_c(tmp_path, "hook", src, "-O1", cxx=True)
    assert r.returncode == 1 and not out.exists(), r.stderr
    assert "hook.cpp:4:" in r.stderr and "logging hook 'enzymeLogGrad'" in r.stderr, r.stderr


# --- __enzyme_emptyfnconst ----------------------------------------------------------------------

EMPTYFN_MAIN = """
#include <stdio.h>
extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
extern double scale_of(double);   /* defined in an object adcc never sees */
extern void record(double *);
FLAG
static double f(double x) { double s = scale_of(x); record(&x); return s * x * x + x; }
int main(void) {
  printf("%.17g %.17g\\n", __enzyme_autodiff((void *)f, 3.0), __enzyme_fwddiff((void *)f, 3.0, 1.0));
  return 0;
}
"""
EMPTYFN_LIB = "double scale_of(double x) { return 2.0 * x + 1.0; }\nvoid record(double *p) { *p += 0.0; }\n"


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_emptyfnconst_makes_undefined_functions_inactive(tmp_path, opt):
    """With `__enzyme_emptyfnconst` (Enzyme's -enzyme-emptyfn-inactive) a call of a function no
    object of the link defines, with no rule, has no derivative: scale_of(x) is held constant
    (d/dx = 2 s x + 1 with s = 2x + 1 = 7 at x = 3, i.e. 43). Without it, the same call is an error."""
    lib = tmp_path / "lib.o"
    (tmp_path / "lib.c").write_text(EMPTYFN_LIB)
    subprocess.run([toolchain.clang(), "-O2", "-c", "lib.c", "-o", lib.name], cwd=tmp_path, check=True)
    r, out = compile_c(tmp_path, "efn", EMPTYFN_MAIN.replace("FLAG", "void *__enzyme_emptyfnconst;"), opt,
                       str(lib))
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(out)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    grad, tangent = map(float, run.stdout.split())
    assert grad == pytest.approx(43.0, rel=1e-12) and tangent == pytest.approx(43.0, rel=1e-12)
    r, out = compile_c(tmp_path, "plain", EMPTYFN_MAIN.replace("FLAG", ""), opt, str(lib))
    assert_rejected(r, out, "plain", "cannot differentiate call to external function 'scale_of'")


# --- shadow contexts across units ---------------------------------------------------------------

CONTEXT_MAIN = r"""#include <stdio.h>
#include <stdlib.h>
extern void *__enzyme_context(int);
extern void *__enzyme_shadow(void *, void *, int);
extern void __enzyme_zero_shadows(void *);
extern double __enzyme_autodiff(void *, ...);
extern int enzyme_context;
extern double scale, hidden;
extern double *heap;
double f(double x);
void init(void);
int main() {
  init();
  void *ctx = __enzyme_context(1);
  double *ds = __enzyme_shadow(ctx, &scale, 0);
  double **dh = __enzyme_shadow(ctx, &heap, 0);
  int bad = 0;
  for (int i = 1; i <= 2; i++) {
    __enzyme_zero_shadows(ctx);
    double dx = __enzyme_autodiff((void *)f, enzyme_context, ctx, (double)i);
    /* f = scale*x^2 + hidden*x + x*heap[0]^2 */
    bad |= dx != 2*scale*i + hidden + 4.0;
    bad |= *ds != (double)i * i;
    bad |= (*dh)[0] != 2 * 2.0 * i;
  }
  printf(bad ? "FAIL\n" : "ok\n");
  return bad;
}
"""
CONTEXT_OTHER = r"""#include <stdlib.h>
double scale = 2.0, hidden = 7.0;
double *heap;
void init(void) { heap = malloc(2 * sizeof(double)); heap[0] = 2.0; heap[1] = 3.0; }
double f(double x) { return scale * x * x + hidden * x + x * heap[0] * heap[0]; }
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_context_whose_call_the_link_step_differentiates(tmp_path, opt):
    """A context in one unit, the function and its globals (one pointing to heap memory) in
    another: the compile step lowers the context, the link step differentiates the call with it
    and then zeroes every shadow the derivative made in it (a shadow created at link time was
    missed if the compile step had lowered __enzyme_zero_shadows already)."""
    (tmp_path / "main.c").write_text(CONTEXT_MAIN)
    (tmp_path / "other.c").write_text(CONTEXT_OTHER)
    for unit in ("main", "other"):
        r = subprocess.run([ADCC, opt, "-c", f"{unit}.c", "-o", f"{unit}.o"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([ADCC, opt, "main.o", "other.o", "-o", "t"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr


# --- how errors look ------------------------------------------------------------------------

def test_error_shows_source_line_caret_and_notes(tmp_path):
    src = ("extern double mystery(double);\n"
           "extern double __enzyme_autodiff(void *, ...);\n"
           "static double f(double x) {\n"
           "\treturn mystery(x) * x;\n"
           "}\n"
           "int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }\n")
    r, out = compile_c(tmp_path, "ext", src, "-O1")
    assert_rejected(r, out, "ext", "mystery", line=4)
    lines = r.stderr.splitlines()
    assert lines[0].startswith("ext.c:4:9: error: cannot differentiate call to external function 'mystery'")
    assert lines[1] == "    4 |         return mystery(x) * x;"  # tabs expanded, as clang shows them
    assert lines[2] == "      | " + " " * 15 + "^"  # under the m of mystery
    notes = [ln for ln in lines if ": note: " in ln]
    # the fixes, (found at the link step) that nothing defines the function, and the request
    assert len(notes) == 4 and all(ln.startswith("ext.c:4:9: note: ") for ln in notes[:3])
    assert notes[3].startswith("ext.c:6:") and "while differentiating 'f', requested here" in notes[3]
    assert "__enzyme_register_gradient_mystery" in r.stderr and "enzyme_inactive" in r.stderr
    assert "\033[" not in r.stderr  # no colour when stderr is not a terminal


def test_render_colours_only_when_asked(tmp_path):
    src = tmp_path / "x.c"
    src.write_text("int a;\nint b = a + c;\n")
    diag = Diagnostic("error", "use of 'c'", SourceLocation("x.c", 2, 13, str(tmp_path)))
    plain = console.render(diag)
    assert plain == "x.c:2:13: error: use of 'c'\n    2 | int b = a + c;\n      |             ^\n"
    coloured = console.render(diag, color=True)
    assert "\033[0;1;31merror: " in coloured and "\033[0;1;32m^" in coloured
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain
    missing = Diagnostic("error", "m", SourceLocation("gone.c", 3, 1, str(tmp_path)))
    assert console.render(missing) == "gone.c:3:1: error: m\n"  # no source to show: no snippet


# --- the README table is the names table -------------------------------------------------------

def _readme_rows() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Enzyme interface", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[(cells[0].strip("`"), cells[1])] = (cells[2], cells[3])
    return rows


def test_readme_lists_every_name_with_its_status():
    rows = _readme_rows()
    want = {(n.name, n.kind.value): n.status_text for n in names.ALL}
    assert {k: v[1] for k, v in rows.items()} == want


# --- headers and attributes ---------------------------------------------------------------------

def test_attribute_spellings_reach_the_ir(tmp_path):
    src = ("__attribute__((noinline, enzyme_inactive)) double a(double x) { return x; }\n"
           "__attribute__((enzyme_function_like(\"log1p\"))) double b(double x) { return x; }\n"
           "__attribute__((enzyme_shouldrecompute)) double c(double x) { return x; }\n"
           "double use(double x) { return a(x) + b(x) + c(x); }\n")
    (tmp_path / "attr.c").write_text(src)
    r = subprocess.run([ADCC, "-O1", "-S", "-emit-llvm", "attr.c", "-o", "attr.ll"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    ir = (tmp_path / "attr.ll").read_text()
    assert "@llvm.global.annotations" in ir
    for s in ("enzyme_inactive", "enzyme_function_like", "log1p", "enzyme_shouldrecompute"):
        assert f'c"{s}\\00"' in ir


def test_launcher_passes_the_same_macros():
    source = (ROOT / "launcher" / "adcc_launcher.c").read_text()
    block = source.split("ATTRIBUTE_MACROS[] = {", 1)[1].split("NULL", 1)[0]
    in_c = [bytes(s, "utf-8").decode("unicode_escape") for s in re.findall(r'"((?:[^"\\]|\\.)*)"', block)]
    assert in_c == list(toolchain.ATTRIBUTE_MACROS)


@pytest.mark.parametrize("header", ["enzyme/enzyme", "enzyme/utils", "enzyme/tuple"])
def test_enzyme_headers_are_found_without_flags(tmp_path, header):
    (tmp_path / "h.cpp").write_text(f"#include <{header}>\nint main() {{ enzyme::tuple<int, double> t{{1, 2.0}};"
                                    " return enzyme::get<0>(t) - 1; }\n")
    for argv in (["-c", "h.cpp", "-o", "h.o"], ["-E", "h.cpp", "-o", "h.i"], ["h.cpp", "-o", "h"]):
        r = subprocess.run([ADCXX, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (argv, r.stderr)
    assert subprocess.run([str(tmp_path / "h")]).returncode == 0


def test_tuple_lays_members_out_in_order(tmp_path):
    (tmp_path / "t.cpp").write_text("""#include <enzyme/tuple>
#include <cstddef>
struct Flat { float a; float b; double c; char d; };
using Tup = enzyme::tuple<float, float, double, char>;
static_assert(sizeof(Tup) == sizeof(Flat) && alignof(Tup) == alignof(Flat));
int main() {
  Tup t{1.0f, 2.0f, 3.0, 'x'};
  auto u = enzyme::tuple_cat(t, enzyme::tuple<int>{7});
  const char *p = reinterpret_cast<const char *>(&t);
  bool ok = &enzyme::get<2>(t) == reinterpret_cast<const double *>(p + offsetof(Flat, c))
            && enzyme::get<4>(u) == 7 && enzyme::tuple_size_v<decltype(u)> == 5;
  return ok ? 0 : 1;
}
""")
    r = subprocess.run([ADCXX, "-O1", "t.cpp", "-o", "t"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert subprocess.run([str(tmp_path / "t")]).returncode == 0


def test_include_dir_is_package_data():
    include = Path(toolchain.enzyme_include_dir())
    assert {"enzyme", "utils", "tuple", "type_traits"} <= {p.name for p in (include / "enzyme").iterdir()}
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "include/enzyme/*" in pyproject
    assert os.path.isdir(include)
