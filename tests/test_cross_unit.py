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
