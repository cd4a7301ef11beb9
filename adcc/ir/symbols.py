"""References to globals (`@name`) inside LLVM text that adcc keeps verbatim: constant
expressions, global initializers and unparsed function bodies."""
from __future__ import annotations

import re
from typing import Callable

_GLOBAL_REF = re.compile(r'@("(?:[^"\\]|\\.)*"|[-a-zA-Z$._0-9]+)(\(?)')


def global_refs(text: str, calls: bool = True) -> list[str]:
    """Names of the globals `text` mentions; with calls=False, not those in callee position."""
    return [m.group(1) for m in _GLOBAL_REF.finditer(text) if calls or not m.group(2)]


def substitute_globals(text: str, rename: Callable[[str], str | None]) -> str:
    """`text` with each `@name` for which rename(name) gives a new name replaced by it."""
    def swap(m: re.Match) -> str:
        new = rename(m.group(1))
        return m.group(0) if new is None else "@" + new + m.group(2)
    return _GLOBAL_REF.sub(swap, text)
