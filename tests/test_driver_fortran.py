"""adflang with the flags and build systems Fortran projects use (#15 point 4): gfortran's
spellings accepted, translated or ignored with one warning (each checked against flang-new-22,
so the tables cannot go stale), module directories, dependency files, and real builds with
CMake (FC=adflang identifies as LLVMFlang) and meson."""
from __future__ import annotations

import shutil

import pytest
from driver_helpers import ADFLANG, REPO, run

from adcc.driver import fortran_flags

FLANG = "flang-new-22"
PROJECT = REPO / "tests" / "projects" / "fortran"
MODULE = ("module m\n  implicit none\n  real(8) :: g = 1\ncontains\n  subroutine s(x)\n"
          "    real(8), intent(inout) :: x\n    x = 2*x\n  end subroutine\nend module\n")
SAMPLE_VALUES = {"-fcheck=": "-fcheck=bounds", "-fmax-errors=": "-fmax-errors=5", "-finit-": "-finit-real=zero",
                 "-ffpe-trap=": "-ffpe-trap=invalid,zero", "-ffpe-summary=": "-ffpe-summary=none",
                 "-fcoarray=": "-fcoarray=single", "-fblas-matmul-limit=": "-fblas-matmul-limit=30",
                 "-fmax-stack-var-size=": "-fmax-stack-var-size=100",
                 "-fmax-identifier-length=": "-fmax-identifier-length=63"}
IGNORED = sorted(SAMPLE_VALUES.get(p, p) for p in fortran_flags.IGNORED_PREFIXES)
ACCEPTED_AS_IS = ["-ffree-form", "-fdefault-real-8", "-fdefault-integer-8", "-fimplicit-none", "-cpp", "-nocpp",
                  "-std=f2018", "-ffixed-line-length-132", "-fopenmp", "-fno-automatic", "-fbackslash",
                  "-fconvert=big-endian", "-fno-underscoring", "-fstack-arrays", "-Wall", "-Werror", "-pedantic",
                  "-fd-lines-as-comments", "-fd-lines-as-code"]


@pytest.fixture
def work(tmp_path):
    (tmp_path / "m.f90").write_text(MODULE)
    return tmp_path


def flang_accepts(work, words) -> bool:
    return run([FLANG, "-c", "m.f90", "-o", "/dev/null", *words], cwd=work).returncode == 0


TRANSLATED = sorted(fortran_flags.TRANSLATED) + ["-ffree-line-length-132"]
LACKING = IGNORED + sorted(fortran_flags.REJECTED_WARNINGS) + ["-Werror=conversion", "-Wno-error=unused", "-std=f2008",
                                                               "-std=gnu", "-std=legacy"]
# `make test` checks a few of each table; `make test-slow` every entry against flang-new-22
QUICK = {"-fpp", "-ffree-line-length-none", "-module", "-fcheck=bounds", "-fbacktrace", "-std=f2008", "-Wpedantic",
         "-Wno-unused", "-Werror=conversion", "-ffree-form", "-fdefault-real-8", "-cpp", "-fimplicit-none"}


def every(words):
    return [pytest.param(w, marks=() if w in QUICK else pytest.mark.slow) for w in words]


@pytest.mark.parametrize("word", every(TRANSLATED))
def test_translated_flags(work, word):
    replacement, warning = fortran_flags.translate(word)
    assert warning is None
    if word not in ("-lflang", "-lpgmath", "-module"):
        assert not flang_accepts(work, [word]), f"flang-new-22 accepts {word} now: pass it unchanged"
    extra = ["mods"] if word == "-module" else []
    (work / "mods").mkdir()
    r = run([ADFLANG, "-c", "m.f90", "-o", "m.o", word, *extra], cwd=work)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    if word == "-module":
        assert (work / "mods" / "m.mod").exists()


@pytest.mark.parametrize("word", every(LACKING))
def test_flags_flang_lacks_are_ignored_with_one_warning(work, word):
    assert not flang_accepts(work, [word]), f"flang-new-22 accepts {word} now: drop it from adcc/driver/fortran_flags.py"
    r = run([ADFLANG, "-c", "m.f90", "-o", "m.o", word], cwd=work)
    assert r.returncode == 0, r.stderr
    assert r.stderr == f"adflang: warning: {fortran_flags.translate(word)[1]}\n"
    assert word in r.stderr


@pytest.mark.parametrize("word", every(ACCEPTED_AS_IS))
def test_flags_flang_knows_pass_unchanged(work, word):
    assert fortran_flags.translate(word) == ([word], None)
    assert flang_accepts(work, [word])


def test_gfortran_style_command_line(work):
    argv = ["-c", "-O2", "-ffree-form", "-ffree-line-length-none", "-fdefault-real-8", "-fimplicit-none",
            "-cpp", "-std=f2008", "-fcheck=all", "-fbacktrace", "-Wall", "-Wextra", "-J", "mods", "m.f90"]
    (work / "mods").mkdir()
    r = run([ADFLANG, *argv], cwd=work)
    assert r.returncode == 0, r.stderr
    assert (work / "m.o").exists() and (work / "mods" / "m.mod").exists()
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("adflang: warning:")]
    assert len(warnings) == 3 and all("ignoring" in w for w in warnings), r.stderr


def test_dependency_files_list_includes(work):
    (work / "inc").mkdir()
    (work / "inc" / "consts.inc").write_text("      real(8), parameter :: c = 3\n")
    (work / "inc" / "n.h").write_text("#define N 4\n")
    (work / "u.F90").write_text('subroutine u(x)\n  implicit none\n  include "consts.inc"\n#include "n.h"\n'
                                "  real(8) :: x\n  x = c * N\nend subroutine\n")
    r = run([ADFLANG, "-c", "u.F90", "-Iinc", "-MD", "-MP", "-MQ", "out/$u.o", "-MF", "u.d", "-o", "u.o"], cwd=work)
    assert r.returncode == 0, r.stderr
    assert (work / "u.d").read_text() == ("out/$$u.o: u.F90 \\\n  inc/consts.inc \\\n  inc/n.h\n"
                                          "\ninc/consts.inc:\n\ninc/n.h:\n")
    r = run([ADFLANG, "-c", "u.F90", "-Iinc", "-MMD"], cwd=work)
    assert r.returncode == 0 and (work / "u.d").read_text().startswith("u.o: u.F90 \\\n  inc/consts.inc")


FIXED_FORM = """\
      module fm
      contains
      function sq(x) result(r)
C     a comment in column 1: fixed form only
      real(8), intent(in) :: x
      real(8) :: r
      r = x*x
     &  + x
      end function
      end module
      program p
      use adcc_ad
      use fm
      real(8) :: x, dx
      x = 3
      dx = 0
      call autodiff(sq, enzyme_dup, x, dx)
      print '(f6.2)', dx
      end program
"""


def test_fixed_form(work):
    """-ffixed-form reaches flang (a .f90 name is free form without it) and the program is
    differentiated; a .f name is fixed form by itself."""
    (work / "p.f90").write_text(FIXED_FORM)
    (work / "p.f").write_text(FIXED_FORM)
    r = run([ADFLANG, "-O1", "p.f90", "-o", "free"], cwd=work)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "p.f90:4:" in r.stderr, r.stderr
    for args in (["-ffixed-form", "p.f90"], ["p.f"]):
        r = run([ADFLANG, "-O1", *args, "-o", "t"], cwd=work)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert run([work / "t"]).stdout.split() == ["7.00"]  # d(x*x + x)/dx at 3


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed (make test installs it)")
def test_cmake_identifies_llvm_flang_and_builds_modules(tmp_path):
    build = tmp_path / "build"
    r = run(["cmake", "-S", PROJECT, "-B", build, "-DCMAKE_BUILD_TYPE=Release"], env={"FC": ADFLANG})
    assert r.returncode == 0, r.stdout + r.stderr
    assert (build / "compiler-id.txt").read_text().startswith("LLVMFlang 22.")
    r = run(["cmake", "--build", build, "-j2"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert run([build / "energy"]).stdout.split() == ["energy", "7.00"]
    assert (build / "modules" / "model.mod").exists()


@pytest.mark.skipif(shutil.which("meson") is None or shutil.which("ninja") is None,
                    reason="meson not installed (make test installs it)")
def test_meson_builds_modules(tmp_path):
    build = tmp_path / "build"
    r = run(["meson", "setup", build, PROJECT], env={"FC": ADFLANG})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "compiler-id: flang 22." in r.stdout
    r = run(["meson", "compile", "-C", build])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning" not in r.stdout.lower(), r.stdout
    assert run([build / "energy"]).stdout.split() == ["energy", "7.00"]
    r = run(["ninja", "-C", build, "-n", "-d", "explain"])
    assert "no work to do" in r.stdout, r.stdout + r.stderr  # dependency files were read
