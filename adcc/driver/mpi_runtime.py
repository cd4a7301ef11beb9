"""The MPI part of the runtime (runtime/adcc_mpi.c): built, against the program's mpi.h, only for
links whose objects call it (differentiated MPI code), so that the base runtime and every other
program stay free of MPI. Cached like the base runtime (adcc.driver.runtime), keyed by the source,
the clang binary and the mpi.h it was built against.
"""
from __future__ import annotations

import os
import shutil

from adcc.diagnostics import CompileError
from adcc.driver import toolchain

SOURCE = "adcc_mpi.c"
LIB_NAME = "libadcc_mpi.a"
MARK = b"adcc_mpi_"  # the helpers' prefix, in the symbol table of an object that calls them
FALLBACK_DIRS = ("/usr/lib/x86_64-linux-gnu/openmpi/include", "/usr/include/x86_64-linux-gnu/openmpi",
                 "/usr/lib/aarch64-linux-gnu/openmpi/include", "/usr/include/openmpi", "/usr/local/include")


def needed(paths: list[str]) -> bool:
    """Does one of these objects or static libraries of the link call the MPI helpers?"""
    for path in paths:
        try:
            with open(path, "rb") as f:
                if MARK in f.read():
                    return True
        except OSError:
            continue
    return False


def include_dirs(line: list[str]) -> list[str]:
    """Where mpi.h may be: the link line's -I directories (Open MPI's mpicc passes them when it
    links), then what `mpicc --showme:incdirs` says, then the usual places."""
    found: list[str] = []
    for k, arg in enumerate(line):
        if arg == "-I" and k + 1 < len(line):
            found.append(line[k + 1])
        elif arg.startswith("-I") and len(arg) > 2:
            found.append(arg[2:])
    mpicc = shutil.which("mpicc")
    if mpicc is not None:
        from adcc.driver.files import run_capture
        try:
            rc, out, _ = run_capture([mpicc, "--showme:incdirs"])
        except OSError:
            rc, out = 1, b""
        if rc == 0:
            found.extend(out.decode(errors="replace").split())
    return [*found, *FALLBACK_DIRS]


def _header_dir(line: list[str]) -> str:
    for d in include_dirs(line):
        if os.path.isfile(os.path.join(d, "mpi.h")):
            return d
    raise CompileError("the program differentiates MPI calls, but adcc cannot find mpi.h to build its MPI runtime: "
                       "link with Open MPI's wrapper (OMPI_CC=adcc mpicc) or pass -I<dir of mpi.h>")


def ensure_mpi_runtime(line: list[str]) -> str:
    """The path of libadcc_mpi.a, built on first use."""
    import hashlib

    from adcc.driver.runtime import source_dir
    clang = toolchain.clang()
    src = os.path.join(source_dir(), SOURCE)
    incdir = _header_dir(line)
    h = hashlib.sha256()
    for path in (src, os.path.join(incdir, "mpi.h")):
        with open(path, "rb") as f:
            h.update(path.encode() + b"\0" + f.read() + b"\0")
    h.update(toolchain.tool_identity(clang).encode())
    final = os.path.join(toolchain.cache_dir(), "runtime", "mpi-" + h.hexdigest()[:24])
    lib = os.path.join(final, LIB_NAME)
    if os.path.exists(lib):
        return lib
    from adcc.driver.runtime import build_into

    def steps(tmp: str) -> list[list[str]]:
        obj = os.path.join(tmp, "adcc_mpi.o")
        extra = [f"-I{d}" for d in (os.path.join(incdir, "openmpi"),) if os.path.isdir(d)]
        return [[clang, "-O2", "-fPIC", "-I", incdir, *extra, "-c", src, "-o", obj],
                [toolchain.llvm_tool("llvm-ar"), "rcs", os.path.join(tmp, LIB_NAME), obj]]

    build_into(final, LIB_NAME, steps, "adcc's MPI runtime")
    return lib
