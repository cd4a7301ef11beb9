"""Toolchain discovery: which front end runs for which language, the per-user cache dir,
and the (cached) check that the front end's LLVM matches llvmlite's.

Environment overrides: ADCC_CLANG, ADCC_CLANGXX, ADCC_FLANG, ADCC_LLVM_SUFFIX (default "-22").
"""
from __future__ import annotations

import os


LLVM_MAJOR = 22
_SUFFIX = os.environ.get("ADCC_LLVM_SUFFIX", f"-{LLVM_MAJOR}")


def clang() -> str:
    return os.environ.get("ADCC_CLANG") or "clang" + _SUFFIX


def clangxx() -> str:
    return os.environ.get("ADCC_CLANGXX") or "clang++" + _SUFFIX


def flang() -> str:
    return os.environ.get("ADCC_FLANG") or "flang-new" + _SUFFIX


def llvm_tool(name: str) -> str:
    return name + _SUFFIX


def driver_for(mode: str) -> str:
    """The front-end driver for a console script: 'c' -> clang, 'c++' -> clang++, 'fortran' -> flang."""
    return {"c": clang, "c++": clangxx, "fortran": flang}[mode]()


def front_end_for(kind: str, mode: str) -> str:
    """The compiler for one input of `kind` under the console script's `mode`."""
    if kind == "fortran":
        return flang()
    if mode == "fortran":
        return clang() if kind != "c++" else clangxx()
    return driver_for(mode)


# Enzyme's attribute spellings (its clang plugin's) as annotate("...") strings, which clang lowers
# to llvm.global.annotations entries {ptr @f, "enzyme_inactive", file, line, args} that adcc reads
# (adcc/analysis/declarations.py; enzyme_function_like's name is the annotation's argument).
# Command-line macros, so that dependency files stay as clang writes them. Only the GNU spelling
# `__attribute__((enzyme_inactive))` maps: `[[enzyme::inactive]]` cannot be a macro, and
# `enzyme_nofree` is also a marker's name. launcher/adcc_launcher.c has the same list.
ATTRIBUTE_MACROS = (
    '-Denzyme_inactive=annotate("enzyme_inactive")',
    '-Denzyme_shouldrecompute=annotate("enzyme_shouldrecompute")',
    '-Denzyme_sparse_accumulate=annotate("enzyme_sparse_accumulate")',
    '-Denzyme_function_like(name)=annotate("enzyme_function_like", name)',
)


def enzyme_include_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "include")


def enzyme_header_args(kind: str) -> list[str]:
    """What every C/C++ compile gets: Enzyme's headers (<enzyme/enzyme>, <enzyme/utils>) after the
    user's include directories, and Enzyme's attribute spellings."""
    if kind not in ("c", "c++"):
        return []
    return ["-idirafter", enzyme_include_dir(), *ATTRIBUTE_MACROS]


def resolve(tool: str) -> str:
    import shutil
    path = shutil.which(tool)
    if path is None:
        raise _error(f"cannot find '{tool}'; install LLVM {LLVM_MAJOR} "
                           f"(apt-get install clang-{LLVM_MAJOR} lld-{LLVM_MAJOR} flang-{LLVM_MAJOR} llvm-{LLVM_MAJOR})")
    return path


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "adcc")


def tool_identity(tool: str) -> str:
    """A cheap identity of an installed binary: resolved path, size and mtime."""
    path = os.path.realpath(resolve(tool))
    st = os.stat(path)
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def check_llvm_versions(tool: str) -> None:
    """Raise CompileError unless `tool`'s LLVM major version equals llvmlite's.

    Runs `tool -dumpversion` once per (binary, llvmlite) pair; the answer is cached as a file.
    """
    import hashlib

    import llvmlite.binding as llvm
    lite_major = llvm.llvm_version_info[0]
    key = hashlib.sha256(f"{tool_identity(tool)}|{lite_major}".encode()).hexdigest()[:20]
    stamp = os.path.join(cache_dir(), "llvm-check", key)
    if os.path.exists(stamp):
        return
    import subprocess
    proc = subprocess.run([resolve(tool), "-dumpversion"], capture_output=True, text=True)
    version = proc.stdout.strip()
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise _error(f"cannot determine the LLVM version of '{tool}' (got '{version}')") from None
    if major != lite_major:
        raise _error(
            f"'{tool}' is LLVM {major} but llvmlite is built on LLVM {lite_major}; "
            f"install clang-{lite_major} (apt-get install clang-{lite_major} lld-{lite_major} llvm-{lite_major}) "
            f"or llvmlite for LLVM {major}")
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    with open(stamp, "w") as f:
        f.write(version + "\n")


def _error(message: str):
    from adcc.diagnostics import CompileError  # lazy: the dataclasses import is not free
    return CompileError(message)
