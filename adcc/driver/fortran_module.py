"""The `adcc_ad` Fortran interface module (adcc/include/fortran/adcc_ad.f90), compiled on first use
into the per-user cache for the installed flang: adflang puts its directory on the module search
path of every Fortran compile (after the user's -I), and `adcc-tool fortran-module-dir` prints it
for plain flang. A finished directory is never modified; concurrent builders race by rename.
"""
from __future__ import annotations

import os

from adcc.diagnostics import CompileError
from adcc.driver import toolchain

MODULE = "adcc_ad"


def source_path() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "include", "fortran", MODULE + ".f90"))


def module_dir() -> str:
    """The directory holding adcc_ad.mod for the installed flang (built if missing)."""
    import hashlib
    flang = toolchain.flang()
    with open(source_path(), "rb") as f:
        key = hashlib.sha256(f.read() + toolchain.tool_identity(flang).encode()).hexdigest()[:24]
    final = os.path.join(toolchain.cache_dir(), "fortran", key)
    if not os.path.exists(os.path.join(final, MODULE + ".mod")):
        _build(flang, final)
    return final


def include_args() -> list[str]:
    return ["-I", module_dir()]


def _build(flang: str, final: str) -> None:
    import shutil
    import tempfile

    from adcc.driver.files import run_capture
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".build-", dir=parent)
    try:
        argv = [toolchain.resolve(flang), "-fsyntax-only", "-module-dir", tmp, source_path()]
        rc, _, err = run_capture(argv)
        if rc != 0 or not os.path.exists(os.path.join(tmp, MODULE + ".mod")):
            raise CompileError(f"building the Fortran module {MODULE} failed: {' '.join(argv)}\n"
                               f"{err.decode(errors='replace')}")
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.exists(os.path.join(final, MODULE + ".mod")):
                raise
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
