"""Dependency files (-MD/-MMD/-MF/-MT/-MQ/-MP) for Fortran sources, which flang-new-22 does
not write itself: the source and the files it includes (Fortran `include` lines and
preprocessor `#include`s, found as the front end finds them: next to the including file,
then in the -I directories), in the make syntax clang writes. Module files are not listed:
the build systems order module users themselves (CMake's and meson's Fortran scanners)."""
from __future__ import annotations

import os
import re

_INCLUDE = re.compile(r"""^\s*(?:#\s*include\s*[<"]([^>"]+)[>"]|include\s*['"]([^'"]+)['"])""", re.I | re.M)


def included_files(source: str, include_dirs: list[str]) -> list[str]:
    """Files `source` includes, directly or not, in first-seen order."""
    found: list[str] = []
    seen = {os.path.normpath(source)}
    work = [source]
    while work:
        path = work.pop(0)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for m in _INCLUDE.finditer(text):
            name = m.group(1) or m.group(2)
            for d in [os.path.dirname(path), *include_dirs]:
                candidate = os.path.join(d, name) if d else name
                if os.path.isfile(candidate):
                    key = os.path.normpath(candidate)
                    if key not in seen:
                        seen.add(key)
                        found.append(candidate)
                        work.append(candidate)
                    break
    return found


def quote_target(name: str) -> str:
    """-MQ's quoting: make's `$` and blanks escaped."""
    return name.replace("$", "$$").replace(" ", "\\ ").replace("#", "\\#")


def write(depfile: str, targets: list[str], source: str, include_dirs: list[str], phony: bool) -> None:
    """Write `depfile`: `targets: source includes...` (targets already quoted as make wants)."""
    from adcc.driver.files import write_atomic
    deps = [source, *included_files(source, include_dirs)]
    text = " ".join(targets) + ": " + " \\\n  ".join(quote_target(d) for d in deps) + "\n"
    if phony:
        text += "".join(f"\n{quote_target(d)}:\n" for d in deps[1:])
    write_atomic(depfile, text.encode())
