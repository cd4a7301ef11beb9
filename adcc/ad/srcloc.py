"""Source locations of instructions, from their `!dbg` DILocation (when present)."""
from __future__ import annotations

import re

from adcc.analysis.metadata import metadata_index
from adcc.diagnostics import SourceLocation

_FIELD = re.compile(r"\b(line|column|scope|file|filename|directory|inlinedAt): (\"(?:[^\"\\]|\\.)*\"|![0-9]+|\d+)")


def _fields(text: str) -> dict[str, str]:
    return {k: v for k, v in _FIELD.findall(text)}


def location_of(module, inst) -> SourceLocation | None:
    dbg = inst.get_metadata("dbg") if inst is not None else None
    if not dbg:
        return None
    idx = metadata_index(module).text
    loc = idx.get(dbg, dbg if dbg.startswith("!DILocation") else "")
    f = _fields(loc)
    line = int(f.get("line", "0") or 0)
    col = int(f.get("column", "0") or 0)
    scope = f.get("scope")
    filename, directory = None, ""
    for _ in range(20):
        if scope is None:
            break
        st = idx.get(scope, "")
        sf = _fields(st)
        if "file" in sf:
            ft = _fields(idx.get(sf["file"], ""))
            if "filename" in ft:
                filename = ft["filename"].strip('"')
                directory = ft.get("directory", '""').strip('"')
                break
        scope = sf.get("scope")
    if filename is None:
        return None
    return SourceLocation(filename, line, col, directory)

