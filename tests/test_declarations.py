"""Enzyme declarations beyond single-file programs (those are tests/e2e/declarations/):
malformed registrations are located compile errors, and rules work across translation units.

Each malformed registration must give `file:line: error:` naming the registration (its own
line with -g; without -g adcc finds one: the registration's or the call's), exit 1, no output
file and no traceback.
"""
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ADCC = str(BIN / "adcc")
XUNIT = Path(__file__).resolve().parent / "e2e" / "declarations" / "units"

PRELUDE = """
#include <stddef.h>
extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
double f(double x, double y) { return x * y; }
double g(double x) { return f(x, 2.0 * x) + 1.0; }
int main(void) { return (int)__enzyme_autodiff((void *)g, 1.5) + (int)__enzyme_fwddiff((void *)g, 1.5, 1.0); }
"""

# name -> (registration code, words the message must contain, the line the error points at:
# "reg" = the registration's line, "reg|call" = the registration's or f's call in g)
CASES = {
    "gradient_too_short": ("""
double f_aug(double x, double y) { return x * y; }
void *__enzyme_register_gradient_f[2] = {(void *)f, (void *)f_aug};
""", ["__enzyme_register_gradient_f", "found 2 element(s)"], "reg"),
    "derivative_too_long": ("""
double f_fwd(double x, double dx, double y, double dy) { return dx * y + x * dy; }
void *__enzyme_register_derivative_f[3] = {(void *)f, (void *)f_fwd, (void *)f_fwd};
""", ["__enzyme_register_derivative_f", "found 3 element(s)"], "reg"),
    "gradient_not_a_function": ("""
double table[4];
double f_rev(double x, double y, double d) { return d; }
void *__enzyme_register_gradient_f[3] = {(void *)f, (void *)table, (void *)f_rev};
""", ["__enzyme_register_gradient_f", "element 2", "must be a function"], "reg"),
    "byref_not_a_string": ("""
double f_aug(double x, double y) { return x * y; }
typedef struct { double dx, dy; } G;
G f_rev(double x, double y, double d) { G g = {d * y, d * x}; return g; }
void *__enzyme_register_gradient_f[4] = {(void *)f, (void *)f_aug, (void *)f_rev, "byval_2"};
""", ["__enzyme_register_gradient_f", "byref_N"], "reg"),
    "function_like_no_name": ("""
double other(double x, double y) { return x + y; }
void *__enzyme_function_like[2] = {(void *)f, (void *)other};
""", ["__enzyme_function_like", "element 2"], "reg"),
    "allocation_like_short": ("""
void *my_alloc(size_t n);
void *__enzyme_allocation_like[3] = {(void *)my_alloc, (void *)0, "-1"};
""", ["__enzyme_allocation_like", "found 3 element(s)"], "reg"),
    "inactivefn_of_a_global": ("""
double weights[3];
void *__enzyme_inactivefn[1] = {(void *)weights};
""", ["__enzyme_inactivefn", "must be functions"], "reg"),
    "inactive_global_of_a_function": ("""
void *__enzyme_inactive_global[1] = {(void *)f};
""", ["__enzyme_inactive_global", "must be global variables"], "reg"),
    "splitderivative_too_short": ("""
void *f_aug(double x, double y) { return (void *)0; }
void *__enzyme_register_splitderivative_f[2] = {(void *)f, (void *)f_aug};
""", ["__enzyme_register_splitderivative_f", "expected {function, augmented forward pass, split derivative}"],
        "reg"),
    "reverse_parameter_count": ("""
double f_aug(double x, double y) { return x * y; }
typedef struct { double dx, dy; } G;
G f_rev(double x, double y) { G g = {y, x}; return g; }
void *__enzyme_register_gradient_f[3] = {(void *)f, (void *)f_aug, (void *)f_rev};
""", ["__enzyme_register_gradient_f", "reverse pass 'f_rev'", "takes 2 parameter(s)", "passes 3"], "reg|call"),
    "augment_parameter_count": ("""
double f_aug(double x) { return x; }
typedef struct { double dx, dy; } G;
G f_rev(double x, double y, double d) { G g = {d * y, d * x}; return g; }
void *__enzyme_register_gradient_f[3] = {(void *)f, (void *)f_aug, (void *)f_rev};
""", ["__enzyme_register_gradient_f", "augmented forward pass 'f_aug'", "takes 1 parameter(s)"], "reg|call"),
    "reverse_return_type": ("""
double f_aug(double x, double y) { return x * y; }
double f_rev(double x, double y, double d) { return d * y; }
void *__enzyme_register_gradient_f[3] = {(void *)f, (void *)f_aug, (void *)f_rev};
""", ["__enzyme_register_gradient_f", "reverse pass 'f_rev'", "returns 'double'", "2 floating-point"], "reg|call"),
    "derivative_parameter_count": ("""
double f_fwd(double x, double y) { return x * y; }
void *__enzyme_register_derivative_f[2] = {(void *)f, (void *)f_fwd};
""", ["__enzyme_register_derivative_f", "forward derivative 'f_fwd'", "takes 2 parameter(s)", "passes 4"],
        "reg|call"),
    "derivative_return_type": ("""
int f_fwd(double x, double dx, double y, double dy) { return 0; }
void *__enzyme_register_derivative_f[2] = {(void *)f, (void *)f_fwd};
""", ["__enzyme_register_derivative_f", "forward derivative 'f_fwd'", "{primal, tangent}"], "reg|call"),
    "unknown_attribute": ("""
__attribute__((annotate("enzyme_bogus_thing"))) double h(double x) { return x; }
""", ["unknown Enzyme attribute", "enzyme_bogus_thing"], "reg"),
}


def _line_of(src: str, needle: str) -> int:
    return next(k for k, line in enumerate(src.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("opt", ["-O0", "-O2", "-O2 -g"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_registration(tmp_path, name, opt):
    code, words, where = CASES[name]
    src = PRELUDE + code
    c = tmp_path / f"{name}.c"
    c.write_text(src)
    out = tmp_path / "prog"
    r = subprocess.run([ADCC, *opt.split(), str(c), "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "Stack dump" not in r.stderr, r.stderr
    assert "error:" in r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    lines = {_line_of(src, "void *__enzyme_" if "void *__enzyme_" in code else "annotate(")}
    if where == "reg|call" and "-g" not in opt:
        lines.add(_line_of(src, "double g(double x)"))
    assert any(f"{name}.c:{line}" in r.stderr for line in lines), (lines, r.stderr)
    assert not out.exists()
    assert not list(tmp_path.glob("*.o")) and not list(tmp_path.glob("*.tmp*"))


def _build_and_run(tmp_path, units, opt):
    objs = []
    for u in units:
        o = tmp_path / (Path(u).stem + ".o")
        r = subprocess.run([ADCC, *opt.split(), "-c", str(XUNIT / u), "-o", str(o)], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        objs.append(str(o))
    exe = tmp_path / "prog"
    r = subprocess.run([ADCC, opt, *objs, "-o", str(exe), "-lm"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout + run.stderr


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_rules_in_their_own_unit(tmp_path, opt):
    """Rules registered in rules.c, the function they stand for in lib.c (wrong body), the
    differentiated function in g.c, the call in main.c: the link step brings them together."""
    _build_and_run(tmp_path, ["lib.c", "rules.c", "g.c", "main.c"], opt)


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_rules_next_to_their_use(tmp_path, opt):
    """Rules registered next to the differentiated code, for functions of another unit."""
    _build_and_run(tmp_path, ["lib.c", "main_with_rules.c"], opt)


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_rules_of_another_unit_for_local_code(tmp_path, opt):
    # #10 item 6: the callee is defined in another unit, so the -c step defers to the link
    # step (adcc.analysis.linking), where rules.c's registration is seen
    """The differentiated code and the call in main_local.c, the rules in rules.c."""
    _build_and_run(tmp_path, ["lib.c", "rules.c", "main_local.c"], opt)


GLOBAL_SHADOW_C = r"""
#include <stdio.h>
extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
double g = 2.0;        /* active: its shadow is dg (!enzyme_shadow added to the IR below) */
double dg = 0.0;
double scale[2] = {1.5, 0.5};
double dscale[2];
__attribute__((noinline)) static void bump(double x) { g += x; }
static double f(double x) { bump(x); return g * x * x + scale[1] * x; }
int main(void) {
  int ok = 1;
  double x = 3.0;
  dg = 0.0, dscale[1] = 0.0, g = 2.0;
  double dx = __enzyme_autodiff((void *)f, x);       /* g = 2 + x after bump */
  ok &= dx == (x * x + 2 * (2.0 + x) * x + 0.5) && dg == x * x && dscale[1] == x;
  printf("reverse dx=%g dg=%g dscale=%g\n", dx, dg, dscale[1]);
  dg = 1.0, dscale[1] = 0.0, g = 2.0;                 /* seed g's tangent */
  double t = __enzyme_fwddiff((void *)f, x, 0.0);
  ok &= t == x * x;
  printf("forward t=%g\n", t);
  puts(ok ? "PASS" : "FAIL");
  return !ok;
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_user_provided_global_shadows(tmp_path, opt):
    """Enzyme's convention for a global's shadow, `@g = global ..., !enzyme_shadow !{ptr @dg}`
    (LLVM IR inputs): derivatives accumulate into (reverse) and are read from (forward) the
    program's own shadow globals."""
    import re
    import shutil
    clang = shutil.which("clang-22")
    if clang is None:
        pytest.skip("clang-22 not found")
    c = tmp_path / "glob.c"
    c.write_text(GLOBAL_SHADOW_C)
    ll = tmp_path / "glob.ll"
    subprocess.run([clang, "-O0", "-Xclang", "-disable-O0-optnone", "-S", "-emit-llvm", str(c), "-o", str(ll)],
                   check=True)
    text = ll.read_text()
    text = re.sub(r"^(@g = .*)$", r"\1, !enzyme_shadow !9000", text, flags=re.M)
    text = re.sub(r"^(@scale = .*)$", r"\1, !enzyme_shadow !9001", text, flags=re.M)
    text += "\n!9000 = !{ptr @dg}\n!9001 = !{ptr @dscale}\n"
    ll.write_text(text)
    exe = tmp_path / "prog"
    r = subprocess.run([ADCC, opt, str(ll), "-o", str(exe)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "PASS" in run.stdout, run.stdout + run.stderr


DECL_PROGRAMS = sorted(p.name for p in (XUNIT.parent).glob("*.c*") if p.suffix in (".c", ".cpp"))


@pytest.mark.parametrize("name", DECL_PROGRAMS)
def test_with_debug_info(tmp_path, name):
    """The declarations programs with -g: rule functions inlined into derivatives keep valid
    debug locations (LLVM's code generator aborts on locations of the wrong function)."""
    src = XUNIT.parent / name
    cc = str(BIN / ("adcc++" if name.endswith(".cpp") else "adcc"))
    exe = tmp_path / "prog"
    r = subprocess.run([cc, "-O2", "-g", str(src), "-o", str(exe), "-lm"], capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout + run.stderr
