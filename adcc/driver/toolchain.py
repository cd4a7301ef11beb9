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
    '-Denzyme_inactive_noblock=annotate("enzyme_inactive_noblock")',
    '-Denzyme_shouldrecompute=annotate("enzyme_shouldrecompute")',
    '-Denzyme_sparse_accumulate=annotate("enzyme_sparse_accumulate")',
    '-Denzyme_function_like(name)=annotate("enzyme_function_like", name)',
    '-Denzyme_shadow(name)=annotate("enzyme_shadow", &(name))',
    '-Denzyme_elementwise_read=annotate("enzyme_elementwise_read")',
    '-Denzyme_notypeanalysis=annotate("enzyme_notypeanalysis")',
    '-Denzyme_no_escaping_allocation=annotate("enzyme_no_escaping_allocation")',
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


_cache_dirs: dict[str, str] = {}  # the wanted directory -> the one in use (checked once)


def cache_dir() -> str:
    """The per-user cache ($XDG_CACHE_HOME/adcc, else ~/.cache/adcc). When it cannot be
    created or written (XDG_CACHE_HOME names a file, a read-only directory, ...), a private
    directory under $TMPDIR serves instead, with a one-line warning."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    wanted = os.path.join(base, "adcc")
    if wanted not in _cache_dirs:
        problem = _unusable(wanted)
        _cache_dirs[wanted] = wanted if problem is None else _private_cache()
        if problem is not None:
            from adcc.driver import console
            console.warning(f"cannot use the cache directory '{wanted}' ({problem}); using '{_cache_dirs[wanted]}'")
    return _cache_dirs[wanted]


def _unusable(path: str) -> str | None:
    """Why `path` cannot serve as a writable directory (created if missing), or None."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        return e.strerror or str(e)
    if not os.access(path, os.W_OK | os.X_OK):
        return "not writable"
    return None


def _private_cache() -> str:
    """$TMPDIR/adcc-cache-UID: created mode 0700 and used only when it is ours and private."""
    import stat
    root = os.environ.get("TMPDIR") or "/tmp"
    path = os.path.join(root, f"adcc-cache-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        import tempfile
        return tempfile.mkdtemp(prefix="adcc-cache-")
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077 or _unusable(path):
        import tempfile
        return tempfile.mkdtemp(prefix="adcc-cache-", dir=root if os.path.isdir(root) else None)
    return path


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
