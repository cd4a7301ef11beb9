"""Round trip of real clang-22/flang-22 output through adcc.ir: every function parsed, the
printed module verified by LLVM and semantically identical to the input (both are
re-printed by LLVM in fresh contexts and compared).

The corpus is every C, C++ and Fortran source of the repository (samples, benchmarks, e2e
programs, runtime, fuzz regressions, projects), the shared conformance suite, and
tests/data/ir_corpus/: programs written to reach what the front ends emit (long double and
the other float kinds, vectors, atomics, inline assembly, exceptions and Windows funclets,
OpenMP, sanitizers, Eigen 3, Boost.Odeint, the standard library, Fortran allocatables and
derived types). A corpus source lists extra configurations in `ir-corpus:` comment lines (each
one more compilation, e.g. another target), flags every configuration needs in `ir-corpus-flags:`
lines and, for big sources, the optimization levels to use in an `ir-corpus-levels:` line; sources
whose headers are missing are skipped with the reason.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

from adcc.ir import parse_module

llvm = pytest.importorskip("llvmlite.binding")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFORMANCE = os.path.abspath(os.environ.get("ADCC_CONFORMANCE_DIR", os.path.join(REPO, "..", "shared", "conformance")))
CORPUS = os.path.join(REPO, "tests", "data", "ir_corpus")
FUZZ = os.path.join(REPO, "tests", "fuzz")
EIGEN = "/usr/include/eigen3"
sys.path.insert(0, os.path.join(REPO, "tests", "data", "ir"))
from gen_large import large_module_text  # noqa: E402

COMPILERS = {".c": "clang-22", ".cpp": "clang++-22", ".f90": "flang-new-22"}
INCLUDES = ["-I", CONFORMANCE, "-I", os.path.join(REPO, "tests", "e2e"), "-I", os.path.join(REPO, "runtime"),
            "-I", os.path.join(REPO, "tests", "projects", "stats", "include"), "-I", EIGEN,
            "-I", os.path.join(REPO, "adcc", "include"),
            "-I", "/usr/lib/x86_64-linux-gnu/openmpi/include"]  # Open MPI (tests/mpi, runtime/adcc_mpi.c)
OPT_LEVELS = (("-O0",), ("-O2",), ("-O2", "-g"))
REPO_OPT_LEVELS = (("-O0",), ("-O2",))
# headers a source needs, by what it includes
NEEDS = {"<Eigen/": os.path.join(EIGEN, "Eigen", "Dense"),
         "<boost/": "/usr/include/boost/numeric/odeint.hpp",
         "<mpi.h>": "/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h",
         '"mpi_check.h"': "/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h"}
_DIRECTIVE = r"^\s*(?://|/\*|!)\s*{}:\s*(.+?)\s*(?:\*/)?\s*$"
_CONFIG_LINE = re.compile(_DIRECTIVE.format("ir-corpus"), re.M)       # one more configuration
_FLAGS_LINE = re.compile(_DIRECTIVE.format("ir-corpus-flags"), re.M)  # flags of every configuration
_LEVELS_LINE = re.compile(_DIRECTIVE.format("ir-corpus-levels"), re.M)  # instead of OPT_LEVELS (big sources)


@dataclass(frozen=True)
class Case:
    src: str
    opts: tuple[str, ...]

    @property
    def id(self) -> str:
        base = CONFORMANCE if self.src.startswith(CONFORMANCE) else REPO
        return os.path.relpath(self.src, base) + "".join(self.opts)


def _repo_sources() -> list[str]:
    found = []
    for ext in COMPILERS:
        found += glob.glob(os.path.join(REPO, "**", "*" + ext), recursive=True)
    skip = (os.path.join(REPO, ".venv"), os.path.join(REPO, "build"), CORPUS, os.path.join(REPO, "samples"))
    return sorted(p for p in found if not p.startswith(skip))


def _cases() -> list[Case]:
    cases = []
    for src in sorted(glob.glob(os.path.join(REPO, "samples", "*.c"))):
        cases += [Case(src, o) for o in OPT_LEVELS]
    for sub in ("reverse", "forward", "cpp", "bad"):
        for src in sorted(glob.glob(os.path.join(CONFORMANCE, sub, "*.c")) + glob.glob(os.path.join(CONFORMANCE, sub, "*.cpp"))):
            cases += [Case(src, o) for o in OPT_LEVELS]
    for src in _repo_sources():  # (-O0: `make test-slow`)
        cases += [Case(src, o) for o in REPO_OPT_LEVELS]
    for src in sorted(p for p in glob.glob(os.path.join(CORPUS, "*")) if os.path.splitext(p)[1] in COMPILERS):
        with open(src) as f:
            text = f.read()
        flags = tuple(" ".join(_FLAGS_LINE.findall(text)).split())
        extra = [tuple(m.split()) for m in _CONFIG_LINE.findall(text)]
        levels = _LEVELS_LINE.findall(text)
        base = [(level,) for level in levels[0].split()] if levels else OPT_LEVELS
        cases += [Case(src, (*o, *flags)) for o in (*base, *extra)]
    return cases


CASES = _cases()


def _fuzz_wrap(src: str, outdir: str) -> str:
    """A fuzz regression holds only its functions: the generator's driver makes it a program."""
    spec = importlib.util.spec_from_file_location("adcc_fuzz_gen", os.path.join(FUZZ, "gen.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = open(src).read()
    name, n = re.search(r"^// wrap: (\w+) (\d+)", text, re.M).groups()
    out = os.path.join(outdir, "wrapped_" + os.path.basename(src))
    with open(out, "w") as f:
        f.write(gen.wrap(text, name, int(n), wide=bool(re.search(r"^// wide", text, re.M))))
    return out


def _missing(src: str) -> str | None:
    """Why `src` cannot be compiled here (a front end or a library's headers missing), or None."""
    ext = os.path.splitext(src)[1]
    if shutil.which(COMPILERS[ext]) is None:
        return f"{COMPILERS[ext]} not installed"
    with open(src) as f:
        text = f.read()
    for marker, header in NEEDS.items():
        if f"#include {marker}" in text and not os.path.exists(header):
            return f"{header} not installed (make test installs libeigen3-dev and libboost-dev)"
    return None


def _compile(case: Case, outdir: str) -> str:
    """The .ll file of `case`, or 'error: ...' / 'skip: ...'."""
    why = _missing(case.src)
    if why:
        return "skip: " + why
    ext = os.path.splitext(case.src)[1]
    name = case.id.replace("/", "_").replace("=", "_")
    work = os.path.join(outdir, name + ".d")  # flang writes .mod files next to its output
    os.makedirs(work, exist_ok=True)
    src = _fuzz_wrap(case.src, work) if case.src.startswith(os.path.join(FUZZ, "regressions")) else case.src
    out = os.path.join(work, name + ".ll")
    includes = [] if ext == ".f90" else INCLUDES
    if case.src.endswith("adcc_launcher.c"):  # (make setup bakes in where adcc's headers are)
        includes = [*includes, '-DADCC_INCLUDE_DIR="' + os.path.join(REPO, "adcc", "include") + '"']
    proc = subprocess.run([COMPILERS[ext], "-S", "-emit-llvm", *includes, *case.opts, src, "-o", out],
                          capture_output=True, text=True, cwd=work)
    if proc.returncode != 0:
        return "error: " + proc.stderr
    return out


def _compiled(case: Case, tmp_path) -> str:
    """The case's .ll text; skips (tool or headers missing) and fails (compile error) the test."""
    out = _compile(case, str(tmp_path))
    if out.startswith("skip: "):
        pytest.skip(out[6:])
    if out.startswith("error: "):
        if "/bad/" in case.src:
            pytest.skip("clang rejects this bad/ program")
        if "Cannot parse module file" in out:  # (tests/test_fortran*.py build these with their modules)
            pytest.skip("uses Fortran modules of other units")
        pytest.fail(out)
    with open(out) as f:
        return f.read()


def _llvm_canonical(text: str) -> str:
    mod = llvm.parse_assembly(text, llvm.create_context())
    mod.verify()
    return str(mod)


def check_round_trip(text: str) -> int:
    """Parse every function, print, verify; return the number of instructions."""
    m = parse_module(text)
    n = 0
    for name in m.defined_function_names():
        n += sum(len(b.instructions) for b in m.function(name).blocks)
    printed = str(m)
    assert _llvm_canonical(printed) == _llvm_canonical(text)
    return n


def _case_param(case: Case):
    """The repository's own sources at -O0 (plain loads and stores, what the conformance programs
    at -O0 already reach) run with `make test-slow`: CI's 20-minute limit."""
    repo_own = not case.src.startswith((CONFORMANCE, CORPUS, os.path.join(REPO, "samples")))
    marks = [pytest.mark.slow] if repo_own and case.opts == ("-O0",) else []
    return pytest.param(case, marks=marks, id=case.id)


@pytest.mark.skipif(not CASES, reason="no sources found")
@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_corpus_round_trip(case, tmp_path):
    check_round_trip(_compiled(case, tmp_path))


# what the corpus sources were written to reach, and where
REACHED = {
    "x86_fp80 @llvm.fmuladd.f80": "long_double.c", "0xK": "long_double.c", "0xL": "small_floats.c",
    "0xM": "cross_long_double.c", "0xH": "small_floats.c", "0xR": "small_floats.c",
    'asm sideeffect "cpuid"': "inline_asm.c", "inteldialect": "inline_asm_intel.c", "callbr ": "inline_asm.c",
    "catchswitch ": "windows_eh.cpp", "landingpad ": "exceptions.cpp", "atomicrmw ": "atomics.c",
    "cmpxchg ": "atomics.c", "indirectbr ": "c_misc.c", "@__kmpc_fork_call": "openmp.c",
    '!"_ZTS': "cxx_misc.cpp", "@llvm.modf.": "c_misc.c",
}


@pytest.mark.parametrize("needle,source", sorted(REACHED.items()))
def test_corpus_reaches_what_the_front_ends_emit(needle, source, tmp_path):
    """The corpus is only worth its name if the constructs it was written for reach the IR."""
    src = os.path.join(CORPUS, source)
    texts = [_compiled(c, tmp_path) for c in CASES if c.src == src]
    assert any(needle in t for t in texts), f"no configuration of {source} produces {needle!r} any more"


@pytest.fixture(scope="session")
def large_text(tmp_path_factory) -> str:
    if shutil.which("clang-22") is None:
        pytest.skip("clang-22 not installed")
    return large_module_text(str(tmp_path_factory.mktemp("ir_large")), 600)


def test_large_module_round_trip(large_text):
    assert check_round_trip(large_text) >= 50_000
