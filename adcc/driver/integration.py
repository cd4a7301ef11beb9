"""Build-system integration: a CMake toolchain file, an installed CMake package
(`find_package(adcc)` gives the imported target `adcc::enzyme`), and the environment that
makefiles and autotools read (CC, CXX, FC).

The CMake files go to <prefix>/share/adcc/cmake/, where <prefix> is the environment adcc is
installed in (its bin/ holds the launchers): CMake's find_package looks there for every
prefix whose bin/ is on PATH, and `adcc-tool cmake-toolchain` prints the toolchain file's
path. `adcc-tool install-launchers` (run by `make setup`) writes them; the commands that
print their paths write them again when they are missing or stale. Where that prefix is not
writable, the per-user cache holds them instead.
"""
from __future__ import annotations

import os
import sys

COMPILERS = {"C": "adcc", "CXX": "adcc++", "Fortran": "adflang"}
ENV_NAMES = {"CC": "adcc", "CXX": "adcc++", "FC": "adflang"}
TOOLCHAIN_FILE = "adcc-toolchain.cmake"
CONFIG_FILE = "adccConfig.cmake"
VERSION_FILE = "adccConfigVersion.cmake"

_TOOLCHAIN = """\
# CMake toolchain file of adcc (written by `adcc-tool`; do not edit): C, C++ and Fortran are
# compiled by adcc, adcc++ and adflang, and find_package(adcc) finds adcc's package.
#   cmake -DCMAKE_TOOLCHAIN_FILE="$(adcc-tool cmake-toolchain)" -S . -B build
set(CMAKE_C_COMPILER "{C}")
set(CMAKE_CXX_COMPILER "{CXX}")
set(CMAKE_Fortran_COMPILER "{Fortran}")
if(NOT "{prefix}" IN_LIST CMAKE_PREFIX_PATH)
  list(APPEND CMAKE_PREFIX_PATH "{prefix}")
endif()
"""

_CONFIG = """\
# adcc's CMake package (written by `adcc-tool`; do not edit).
#   find_package(adcc REQUIRED)
#   target_link_libraries(app PRIVATE adcc::enzyme)
# adcc::enzyme carries the include directory of the Enzyme headers adcc ships
# (<enzyme/enzyme>, <enzyme/utils>). The Enzyme calls are compiled by adcc's compilers:
# configure with -DCMAKE_TOOLCHAIN_FILE=${{ADCC_TOOLCHAIN_FILE}} (or CC=adcc CXX=adcc++).
set(adcc_VERSION "{version}")
set(ADCC_C_COMPILER "{C}")
set(ADCC_CXX_COMPILER "{CXX}")
set(ADCC_Fortran_COMPILER "{Fortran}")
set(ADCC_INCLUDE_DIR "{include}")
set(ADCC_TOOLCHAIN_FILE "${{CMAKE_CURRENT_LIST_DIR}}/{toolchain}")
if(NOT TARGET adcc::enzyme)
  add_library(adcc::enzyme INTERFACE IMPORTED)
  set_target_properties(adcc::enzyme PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${{ADCC_INCLUDE_DIR}}")
endif()
"""

_VERSION = """\
# Version of adcc's CMake package (written by `adcc-tool`; do not edit): any request up to
# this version with the same major version is compatible.
set(PACKAGE_VERSION "{version}")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "{major}")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
"""


def bin_dir() -> str:
    """Where the launchers are: next to this interpreter (the environment adcc runs in)."""
    return os.path.dirname(os.path.abspath(sys.executable))


def compilers(bindir: str | None = None) -> dict[str, str]:
    bindir = bindir or bin_dir()
    return {lang: os.path.join(bindir, name) for lang, name in COMPILERS.items()}


def include_dir() -> str:
    """The directory holding adcc's Enzyme headers (`#include <enzyme/enzyme>`)."""
    import adcc
    return os.path.join(os.path.dirname(os.path.abspath(adcc.__file__)), "include")


def env_text(bindir: str | None = None) -> str:
    """`export` lines for `eval "$(adcc-tool env)"` (POSIX shell quoting)."""
    bindir = bindir or bin_dir()
    return "".join(f"export {var}={_shell_quote(os.path.join(bindir, name))}\n" for var, name in ENV_NAMES.items())


def cmake_dir(bindir: str | None = None) -> str:
    """The package directory: <prefix>/share/adcc/cmake (or the cache's when not writable)."""
    prefix = os.path.dirname(bindir or bin_dir())
    path = os.path.join(prefix, "share", "adcc", "cmake")
    if _writable_dir(path):
        return path
    from adcc.driver import toolchain
    return os.path.join(toolchain.cache_dir(), "cmake")


def install_cmake_package(bindir: str | None = None) -> str:
    """Write (or refresh) the toolchain file and the package files; returns their directory."""
    from adcc import __version__
    bindir = bindir or bin_dir()
    target = cmake_dir(bindir)
    os.makedirs(target, exist_ok=True)
    paths = compilers(bindir)
    fields = {**paths, "prefix": os.path.dirname(bindir), "include": include_dir(), "version": __version__,
              "major": __version__.split(".")[0], "toolchain": TOOLCHAIN_FILE}
    for name, template in ((TOOLCHAIN_FILE, _TOOLCHAIN), (CONFIG_FILE, _CONFIG), (VERSION_FILE, _VERSION)):
        _write_if_changed(os.path.join(target, name), template.format(**{k: _cmake_quote(v) for k, v in fields.items()}))
    return target


def toolchain_file(bindir: str | None = None) -> str:
    return os.path.join(install_cmake_package(bindir), TOOLCHAIN_FILE)


def _write_if_changed(path: str, text: str) -> None:
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    from adcc.driver.files import write_atomic
    write_atomic(path, text.encode())


def _writable_dir(path: str) -> bool:
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
    return os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)


def _cmake_quote(value: str) -> str:
    """A value for a CMake quoted argument (backslash, quote and `$` escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


def _shell_quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"
