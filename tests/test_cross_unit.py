"""Cross-unit AD: objects compiled separately with -c carry bitcode; the link step differentiates."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adcc.driver import objfile

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).parent / "projects" / "crossunit"


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_gradient_of_function_in_other_unit(tmp_path, opt):
    for f in ("main.c", "model.c", "Makefile"):
        shutil.copy(PROJECT / f, tmp_path / f)
    env = dict(os.environ, CC=str(BIN / "adcc"), CFLAGS=opt)
    r = subprocess.run(["make", "-s", "prog"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout


def test_missing_definition_is_a_link_time_error(tmp_path):
    shutil.copy(PROJECT / "main.c", tmp_path / "main.c")
    adcc = str(BIN / "adcc")
    assert subprocess.run([adcc, "-c", "main.c", "-o", "main.o"], cwd=tmp_path).returncode == 0
    r = subprocess.run([adcc, "main.o", "-o", "prog", "-lm"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "f" in r.stderr and not (tmp_path / "prog").exists()


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_cross_unit_with_cmake_and_a_static_library(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for f in ("main.c", "model.c", "CMakeLists.txt"):
        shutil.copy(PROJECT / f, src / f)
    build = tmp_path / "build"
    r = subprocess.run(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_C_COMPILER={BIN / 'adcc'}",
                        "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    run = subprocess.run([str(build / "prog")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout


# -- every multi-file shape of Enzyme's LTO flow (#10 point 6, #16 items 12 and 13) ----------

ADCC = str(BIN / "adcc")
CALLEE_MAIN = r"""
#include <math.h>
#include <stdio.h>
extern double __enzyme_autodiff(void *, ...);
double helper(double);               /* defined in helper.c */
static double model(double x) { return helper(x) * sin(x); }
int main(void) {
  double x = 0.7, h = 1e-6;
  double d = __enzyme_autodiff((void *)model, x);
  double exact = 3 * x * x * sin(x) + x * x * x * cos(x);
  double fd = (model(x + h) - model(x - h)) / (2 * h);
  int ok = fabs(d - exact) < 1e-12 && fabs(d - fd) < 1e-6;
  printf("%s %.15g\n", ok ? "PASS" : "FAIL", d);
  return !ok;
}
"""
HELPER = "double helper(double x) { return x * x * x; }\n"
GRADIENT_IN_LIBRARY = ("extern double __enzyme_autodiff(void *, ...);\ndouble f(double);\n"
                       "double gradient(double x) { return __enzyme_autodiff((void *)f, x); }\n")
MODEL = "#include <math.h>\ndouble f(double x) { return sin(x) * x; }\n"
LIBRARY_MAIN = r"""
#include <math.h>
#include <stdio.h>
double gradient(double);
int main(void) {
  double x = 0.7, d = gradient(x);
  int ok = fabs(d - (cos(x) * x + sin(x))) < 1e-12;
  printf("%s %.15g\n", ok ? "PASS" : "FAIL", d);
  return !ok;
}
"""


def adcc(argv, cwd):
    r = subprocess.run([ADCC, *argv], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def passes(exe) -> bool:
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    return r.returncode == 0 and r.stdout.startswith("PASS")


@pytest.mark.parametrize("opt", ["-O0", "-O1", "-O2", "-O3"])
def test_callee_defined_in_another_unit(tmp_path, opt):
    # the -c step of main.c cannot see helper's body: it defers to the link, which merges bitcode
    (tmp_path / "main.c").write_text(CALLEE_MAIN)
    (tmp_path / "helper.c").write_text(HELPER)
    for f in ("main", "helper"):
        r = adcc([opt, "-c", f"{f}.c", "-o", f"{f}.o"], tmp_path)
        assert r.returncode == 0 and r.stderr == "", r.stderr
    r = adcc([opt, "main.o", "helper.o", "-o", "prog", "-lm"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert passes(tmp_path / "prog")


def test_callee_with_no_definition_anywhere_names_the_request(tmp_path):
    (tmp_path / "main.c").write_text(CALLEE_MAIN)
    assert adcc(["-O2", "-c", "main.c", "-o", "main.o"], tmp_path).returncode == 0
    r = adcc(["main.o", "-o", "prog", "-lm"], tmp_path)
    assert r.returncode == 1 and not (tmp_path / "prog").exists()
    assert "cannot differentiate call to external function 'helper'" in r.stderr
    assert "main.c:9:14: note: while differentiating 'model', requested here" in r.stderr, r.stderr


def test_target_with_no_definition_is_located_at_the_call(tmp_path):
    # #16 item 12: no -g, yet the link-time error has the call's file:line (from the bitcode)
    shutil.copy(PROJECT / "main.c", tmp_path / "main.c")
    assert adcc(["-c", "main.c", "-o", "main.o"], tmp_path).returncode == 0
    r = adcc(["main.o", "-o", "prog", "-lm"], tmp_path)
    assert r.returncode == 1 and not (tmp_path / "prog").exists()
    first = r.stderr.splitlines()[0]
    assert first.startswith("main.c:8:9: error: cannot differentiate 'f'"), r.stderr
    assert "no object or static library of this link defines 'f'" in r.stderr


@pytest.fixture
def library(tmp_path):
    """libgrad.a: gradient() calls __enzyme_autodiff on f, both in archive members."""
    (tmp_path / "grad.c").write_text(GRADIENT_IN_LIBRARY)
    (tmp_path / "model.c").write_text(MODEL)
    (tmp_path / "main.c").write_text(LIBRARY_MAIN)
    for f in ("grad", "model", "main"):
        assert adcc(["-O2", "-c", f"{f}.c", "-o", f"{f}.o"], tmp_path).returncode == 0
    assert subprocess.run(["llvm-ar-22", "rcs", "libgrad.a", "grad.o", "model.o"], cwd=tmp_path).returncode == 0
    assert objfile.native_mentions_enzyme((tmp_path / "grad.o").read_bytes())
    return tmp_path


@pytest.mark.parametrize("how", [["libgrad.a"], ["-L.", "-lgrad"], ["-L", ".", "-l", "grad"], ["-L.", "-l:libgrad.a"]])
def test_enzyme_call_inside_a_static_library(library, how):
    r = adcc(["main.o", *how, "-lm", "-o", "prog"], library)
    assert r.returncode == 0, r.stderr
    assert passes(library / "prog")


def test_enzyme_call_inside_a_library_linked_with_a_plain_object(library):
    # main.o from plain clang (no bitcode): the merged members go before the library
    assert subprocess.run(["clang-22", "-O2", "-c", "main.c", "-o", "plain.o"], cwd=library).returncode == 0
    r = adcc(["plain.o", "-L.", "-lgrad", "-lm", "-o", "prog"], library)
    assert r.returncode == 0, r.stderr
    assert passes(library / "prog")


def test_shared_library_of_the_same_name_is_not_searched(library):
    # the linker takes libgrad.so over libgrad.a in the same directory: so does adcc
    r = adcc(["-shared", "-fPIC", "model.c", "-o", "libgrad.so"], library)
    assert r.returncode == 0, r.stderr
    r = adcc(["main.o", "-L.", "-lgrad", "-lm", "-o", "prog"], library)
    assert r.returncode != 0 and "gradient" in r.stderr  # undefined: the .so has no gradient()


# -- objects without floating point leave their bitcode out (#16: objects <= 1.5x clang's) ----

ALLOC_MAIN = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
extern double __enzyme_autodiff(void *, ...);
extern int enzyme_dup;
void *xmalloc(unsigned long n);     /* defined in alloc.c, which has no floating point */
int clampi(int i, int n);
static double f(double *x) {
  double *y = xmalloc(2 * sizeof(double));
  y[0] = x[0] * x[0];
  y[1] = x[1];
  double r = y[0] * y[1];
  free(y);
  return r;
}
int main(void) {
  double x[2] = {3, 5}, dx[2] = {0, 0};
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx);
  int ok = dx[0] == 2 * x[0] * x[1] && dx[1] == x[0] * x[0] && clampi(7, 3) == 2;
  printf("%s %g %g\n", ok ? "PASS" : "FAIL", dx[0], dx[1]);
  return !ok;
}
"""
ALLOC = ("#include <stdlib.h>\n"
         "void *xmalloc(unsigned long n) { void *p = malloc(n); if (!p) abort(); return p; }\n"
         "int clampi(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }\n"
         "int scale = 3;\n")
UNUSED_IN_DERIVATIVE = r"""
#include <stdio.h>
extern double __enzyme_autodiff(void *, ...);
int clampi(int i, int n);           /* defined in alloc.c, outside what is differentiated */
double cube(double x);              /* defined in cube.c */
int main(void) {
  double d = __enzyme_autodiff((void *)cube, 2.0);
  printf("%s %g\n", d == 12 && clampi(-1, 3) == 0 ? "PASS" : "FAIL", d);
  return 0;
}
"""


@pytest.fixture
def alloc_units(tmp_path):
    (tmp_path / "main.c").write_text(ALLOC_MAIN)
    (tmp_path / "alloc.c").write_text(ALLOC)
    for f in ("main", "alloc"):
        assert adcc(["-O2", "-c", f"{f}.c", "-o", f"{f}.o"], tmp_path).returncode == 0
    return tmp_path


def test_object_without_floating_point_has_no_bitcode(alloc_units):
    data = (alloc_units / "alloc.o").read_bytes()
    assert objfile.bitcode_omitted(data) and objfile.embedded_bitcode(data) is None
    assert objfile.embedded_bitcode((alloc_units / "main.o").read_bytes()) is not None
    assert len(data) < 1.2 * os.path.getsize(_clang_object(alloc_units, "alloc"))


def _clang_object(d: Path, stem: str) -> Path:
    out = d / f"{stem}.clang.o"
    assert subprocess.run(["clang-22", "-O2", "-c", f"{stem}.c", "-o", out.name], cwd=d).returncode == 0
    return out


@pytest.mark.parametrize("how", [["alloc.o"], ["liballoc.a"], ["-L.", "-lalloc"]])
def test_differentiating_through_an_object_without_bitcode_is_a_located_error(alloc_units, how):
    # no -g: the call's line comes from what the -c step of main.c recorded for the link
    assert subprocess.run(["llvm-ar-22", "rcs", "liballoc.a", "alloc.o"], cwd=alloc_units).returncode == 0
    r = adcc(["main.o", *how, "-o", "prog"], alloc_units)
    assert r.returncode == 1 and not (alloc_units / "prog").exists()
    obj = "alloc.o" if how == ["alloc.o"] else "liballoc.a(alloc.o)"
    first = r.stderr.splitlines()[0]
    assert first == f"main.c:10:15: error: cannot differentiate through 'xmalloc': its object '{obj}' " \
                    "carries no bitcode", r.stderr
    assert "compile it with -fadcc-embed-all-bitcode" in r.stderr
    assert "main.c:19:3: note: while differentiating 'f', requested here" in r.stderr, r.stderr


def test_embed_all_bitcode_keeps_it(alloc_units):
    r = adcc(["-O2", "-fadcc-embed-all-bitcode", "-c", "alloc.c", "-o", "alloc.o"], alloc_units)
    assert r.returncode == 0, r.stderr
    assert objfile.embedded_bitcode((alloc_units / "alloc.o").read_bytes()) is not None
    r = adcc(["main.o", "alloc.o", "-o", "prog"], alloc_units)
    assert r.returncode == 0, r.stderr
    assert passes(alloc_units / "prog")


@pytest.mark.parametrize("how", [["alloc.o"], ["-L.", "-lalloc"]])
def test_object_without_bitcode_outside_the_derivative_links(alloc_units, how):
    (alloc_units / "main.c").write_text(UNUSED_IN_DERIVATIVE)
    # cube reads a variable of alloc.o: variables are used as at -c, where no unit sees another's
    (alloc_units / "cube.c").write_text("extern int scale;\ndouble cube(double x) { return x * x * x * scale / 3; }\n")
    for f in ("main", "cube"):
        assert adcc(["-O2", "-c", f"{f}.c", "-o", f"{f}.o"], alloc_units).returncode == 0
    assert subprocess.run(["llvm-ar-22", "rcs", "liballoc.a", "alloc.o"], cwd=alloc_units).returncode == 0
    r = adcc(["main.o", "cube.o", *how, "-o", "prog"], alloc_units)
    assert r.returncode == 0, r.stderr
    assert passes(alloc_units / "prog")

