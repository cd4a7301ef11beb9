"""Lean console-script launchers for adcc, adcc++ and adflang.

pip's generated wrappers run `site` and `import re` before adcc starts (~8 ms per compile,
a third of a small clang compile). These launchers start Python with -IS (isolated, no site) and put the
package and its site-packages on sys.path directly; they call the same entry points
(adcc.driver.main:main_c/main_cxx/main_fortran). `adcc-tool install-launchers` writes them.
"""
from __future__ import annotations

import os
import sys
import sysconfig

ENTRY_POINTS = {"adcc": "main_c", "adcc++": "main_cxx", "adflang": "main_fortran"}

TEMPLATE = """#!{python} -IS
# adcc fast launcher (written by `adcc-tool install-launchers`; pip's wrapper works too).
import sys
sys.path[:0] = {paths!r}
from adcc.driver.main import {func}
sys.exit({func}())
"""


def launcher_text(func: str, python: str | None = None) -> str:
    import adcc
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(adcc.__file__)))
    purelib = sysconfig.get_paths()["purelib"]
    platlib = sysconfig.get_paths()["platlib"]
    paths = list(dict.fromkeys([package_root, purelib, platlib]))
    return TEMPLATE.format(python=python or sys.executable, paths=paths, func=func)


def install(bin_dir: str | None = None) -> list[str]:
    """Overwrite the console scripts in `bin_dir` (default: this interpreter's) atomically."""
    bin_dir = bin_dir or os.path.dirname(sys.executable)
    written = []
    for name, func in ENTRY_POINTS.items():
        path = os.path.join(bin_dir, name)
        tmp = path + ".adcc-tmp"
        with open(tmp, "w") as f:
            f.write(launcher_text(func))
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
        written.append(path)
    return written
