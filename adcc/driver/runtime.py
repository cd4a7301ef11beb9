"""Builds the C runtime (runtime/) on first use into the per-user cache.

Cache key: hash of the runtime sources and of the clang binary's identity. Concurrent
builders (make -j) each build in a private temp dir and rename it into place; the losers
of the rename discard theirs. A finished directory is never modified.
"""
from __future__ import annotations

import os

from adcc.diagnostics import CompileError
from adcc.driver import toolchain

SOURCES = ("adcc_runtime.h", "adcc_runtime.c", "adcc_check.h", "adcc_check.c", "adcc_checkpoint.h",
           "adcc_checkpoint.c", "adcc_revolve.c")
# the Fortran part: its own archive members, pulled in only by Fortran programs (they call flang's runtime)
FORTRAN_SOURCES = ("adcc_fortran.h", "adcc_fortran_internal.h", "adcc_fortran_desc.c", "adcc_fortran_memory.c",
                   "adcc_fortran_intrinsics.c", "adcc_fortran_markers.c")
# headers of adcc/include the runtime shares with the programs it serves (-I that directory)
INCLUDED_HEADERS = ("enzyme/checkpoint_schedule.h",)
LIB_NAME = "libadcc_rt.a"
BITCODE_NAME = "adcc_rt.bc"


class RuntimePaths:
    __slots__ = ("lib_dir", "lib_a", "bitcode")

    def __init__(self, lib_dir: str):
        self.lib_dir = lib_dir
        self.lib_a = os.path.join(lib_dir, LIB_NAME)
        self.bitcode = os.path.join(lib_dir, BITCODE_NAME)

    def __repr__(self) -> str:
        return f"RuntimePaths({self.lib_dir!r})"


def source_dir() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "..", "..", "runtime"), os.path.join(here, "..", "runtime_src")):
        if os.path.exists(os.path.join(candidate, SOURCES[1])):
            return os.path.normpath(candidate)
    raise CompileError("cannot find the adcc runtime sources (runtime/adcc_runtime.c)")


def cache_key(src: str, clang: str) -> str:
    import hashlib
    h = hashlib.sha256()
    for name in SOURCES + FORTRAN_SOURCES:
        with open(os.path.join(src, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    for name in INCLUDED_HEADERS:
        with open(os.path.join(toolchain.enzyme_include_dir(), name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    h.update(toolchain.tool_identity(clang).encode())
    return h.hexdigest()[:24]


def ensure_runtime() -> RuntimePaths:
    clang = toolchain.clang()
    src = source_dir()
    final = os.path.join(toolchain.cache_dir(), "runtime", cache_key(src, clang))
    if os.path.exists(os.path.join(final, LIB_NAME)):
        return RuntimePaths(final)
    return _build(src, final, clang)


def _build(src: str, final: str, clang: str) -> RuntimePaths:
    import shutil

    def steps(tmp: str) -> list[list[str]]:
        c_file = os.path.join(src, "adcc_runtime.c")
        objects = [os.path.join(tmp, name[:-2] + ".o") for name in SOURCES + FORTRAN_SOURCES if name.endswith(".c")]
        inc = "-I" + toolchain.enzyme_include_dir()
        compiles = [[clang, "-O2", "-fPIC", inc, "-c", os.path.join(src, os.path.basename(o)[:-2] + ".c"), "-o", o]
                    for o in objects]
        return [
            *compiles,
            [clang, "-O2", "-fPIC", inc, "-emit-llvm", "-c", c_file, "-o", os.path.join(tmp, BITCODE_NAME)],
            [toolchain.llvm_tool("llvm-ar"), "rcs", os.path.join(tmp, LIB_NAME), *objects],
        ]

    def keep_sources(tmp: str) -> None:
        for name in SOURCES + FORTRAN_SOURCES:
            shutil.copy(os.path.join(src, name), tmp)

    build_into(final, LIB_NAME, steps, "the adcc runtime", keep_sources)
    return RuntimePaths(final)


def build_into(final: str, lib_name: str, steps, what: str, finish=None) -> None:
    """Run `steps(tmp)` (argument lists) in a private temp dir next to `final`, then rename it into
    place; a concurrent builder that won the rename keeps its directory (it holds `lib_name`)."""
    import shutil
    import tempfile

    from adcc.driver.files import run_capture
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".build-", dir=parent)
    try:
        for argv in steps(tmp):
            rc, _, err = run_capture(argv)
            if rc != 0:
                raise CompileError(f"building {what} failed: {' '.join(argv)}\n{err.decode(errors='replace')}")
        if finish is not None:
            finish(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.exists(os.path.join(final, lib_name)):
                raise
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
