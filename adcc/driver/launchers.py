"""Launchers for adcc, adcc++ and adflang.

Two layers (`adcc-tool install-launchers` writes both; `make setup` runs it):

* `adcc-py`, `adcc++-py`, `adflang-py`: lean Python launchers. pip's generated wrappers run
  `site` and `import re` before adcc starts (~8 ms per compile); these start Python with -IS
  (isolated, no site), put the package and its site-packages on sys.path directly and call the
  same entry points (adcc.driver.main:main_c/main_cxx/main_fortran).
* `adcc`, `adcc++`, `adflang`: copies of one native program (launcher/adcc_launcher.c, mode
  from argv[0]) that does the driver's fast path for a plain `-c` of one C/C++ source without
  starting Python at all (~15-20 ms saved per compile) and execs `<name>-py` for everything
  else. Without a C compiler the front names get the Python launcher itself.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

ENTRY_POINTS = {"adcc": "main_c", "adcc++": "main_cxx", "adflang": "main_fortran"}
PY_SUFFIX = "-py"  # the native launcher execs <dir of itself>/<name>-py

TEMPLATE = """#!{python} -IS
# adcc fast launcher (written by `adcc-tool install-launchers`; pip's wrapper works too).
import sys
sys.path[:0] = {paths!r}
from adcc.driver.main import {func}
sys.exit({func}())
"""

C_COMPILERS = ("cc", "gcc", "clang-22", "clang")


def package_root() -> str:
    import adcc
    return os.path.dirname(os.path.dirname(os.path.abspath(adcc.__file__)))


def native_source() -> str | None:
    """launcher/adcc_launcher.c of this checkout (editable installs), or None."""
    path = os.path.join(package_root(), "launcher", "adcc_launcher.c")
    return path if os.path.isfile(path) else None


def include_define() -> str:
    """The native launcher's -D for adcc/include (toolchain.enzyme_header_args)."""
    return f'-DADCC_INCLUDE_DIR="{os.path.join(package_root(), "adcc", "include")}"'


def launcher_text(func: str, python: str | None = None) -> str:
    purelib = sysconfig.get_paths()["purelib"]
    platlib = sysconfig.get_paths()["platlib"]
    paths = list(dict.fromkeys([package_root(), purelib, platlib]))
    return TEMPLATE.format(python=python or sys.executable, paths=paths, func=func)


def build_native(out: str, source: str | None = None) -> str | None:
    """Compile the native launcher into `out` with the first C compiler found (`cc -O2`).
    Returns None on success, else why it was not built."""
    source = source or native_source()
    if source is None:
        return "launcher/adcc_launcher.c not found (not an editable install)"
    for cc in C_COMPILERS:
        path = shutil.which(cc)
        if path is None:
            continue
        # with zlib the launcher compresses the embedded bitcode (as objfile.py does); without, not
        proc = subprocess.run([path, "-O2", "-DADCC_ZLIB", include_define(), "-o", out, source, "-lz"],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            return None
        proc = subprocess.run([path, "-O2", include_define(), "-o", out, source], capture_output=True, text=True)
        if proc.returncode == 0:
            return None
        return f"{cc} failed on {source}:\n{proc.stderr.strip()}"
    return "no C compiler found (tried " + ", ".join(C_COMPILERS) + ")"


def _replace(path: str, write) -> None:
    tmp = path + ".adcc-tmp"
    try:
        write(tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_text(text: str):
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write(text)
    return write


def install(bin_dir: str | None = None, native: str | bool = True, report=None) -> list[str]:
    """Write the launchers into `bin_dir` (default: this interpreter's), each atomically.

    native: True builds the native launcher from launcher/adcc_launcher.c (falling back to the
    Python launchers when that fails), a path installs that prebuilt binary, False installs
    the Python launchers under the front names too. `report(message)` hears about fallbacks.
    Returns the front paths (adcc, adcc++, adflang)."""
    bin_dir = bin_dir or os.path.dirname(sys.executable)
    for name, func in ENTRY_POINTS.items():
        _replace(os.path.join(bin_dir, name + PY_SUFFIX), _write_text(launcher_text(func)))
    binary = None
    built = None
    if isinstance(native, str):
        binary = native
    elif native:
        built = os.path.join(bin_dir, f".adcc-launcher-{os.getpid()}.tmp")
        why = build_native(built)
        if why is None:
            binary = built
        elif report is not None:
            report(f"native launcher not built ({why}); using the Python launchers")
    written = []
    try:
        for name, func in ENTRY_POINTS.items():
            path = os.path.join(bin_dir, name)
            if binary is not None:
                _replace(path, lambda tmp: shutil.copyfile(binary, tmp))
            else:
                _replace(path, _write_text(launcher_text(func)))
            written.append(path)
    finally:
        if built is not None and os.path.exists(built):
            os.unlink(built)
    return written


def is_native(path: str) -> bool:
    """Whether `path` is the native launcher (an ELF binary) rather than a script."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False
