"""Source locations of instructions, from their `!dbg` DILocation, and the names the program
gives functions and their arguments, from their DISubprogram and DILocalVariable (when present)."""
from __future__ import annotations

import re

from adcc.ir.metadata import metadata_index
from adcc.diagnostics import SourceLocation

_FIELD = re.compile(r"\b(line|column|scope|file|filename|directory|inlinedAt): (\"(?:[^\"\\]|\\.)*\"|![0-9]+|\d+)")


def _fields(text: str) -> dict[str, str]:
    return {k: v for k, v in _FIELD.findall(text)}


def location_of(module, inst) -> SourceLocation | None:
    """Where `inst` comes from: its own `!dbg` location; for an instruction the optimizer made
    without one (SROA's shifts and truncations), the nearest located instruction of its block;
    else the line of its function."""
    dbg = _nearest_dbg(module, inst) if inst is not None else None
    if not dbg:
        return None
    idx = metadata_index(module).text
    loc = idx.get(dbg, dbg if dbg.startswith("!DILocation") else "")
    f = _fields(loc)
    line = int(f.get("line", "0") or 0)
    col = int(f.get("column", "0") or 0)
    scope = f.get("scope")
    filename, directory = None, ""
    if "DISubprogram(" in loc and "file" in f:  # the function's own line
        ft = _fields(idx.get(f["file"], ""))
        if "filename" in ft:
            return SourceLocation(ft["filename"].strip('"'), line, 0, ft.get("directory", '""').strip('"'))
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



_SUBPROGRAM = re.compile(r"!dbg (![0-9]+)")


def _nearest_dbg(module, inst) -> str | None:
    dbg = inst.get_metadata("dbg")
    if dbg:
        return dbg
    block = getattr(inst, "block", None)
    if block is None:
        return None
    insts = block.instructions
    k = next((j for j, x in enumerate(insts) if x is inst), None)
    if k is not None:
        for x in (*reversed(insts[:k]), *insts[k + 1:]):
            d = x.get_metadata("dbg")
            if d:
                return d
    fn = block.function
    return _subprogram(module, fn.fname.strip('"')) if fn is not None else None
_NAME = re.compile(r'\bname: "([^"]+)"')


def _subprogram(module, name: str) -> str | None:
    """The DISubprogram of a defined function (`define ... !dbg !N`)."""
    entry = module.functions.get(name) or module.functions.get(f'"{name}"')
    if entry is None or not entry.is_definition:
        return None
    header = module.function(entry.name).header or ""
    m = _SUBPROGRAM.search(header[header.rfind(")"):])
    return m.group(1) if m else None


def _program_function(name: str) -> str:
    name = name.strip('"')
    # a function with a custom rule is differentiated through a wrapper that calls it
    return name[len("adcc.wrap."):] if name.startswith("adcc.wrap.") else name


def source_name(module, name: str) -> str:
    """The name the program gives a function: its debug-info name, else its symbol."""
    name = _program_function(name)
    sp = _subprogram(module, name)
    found = _NAME.search(metadata_index(module).text.get(sp, "")) if sp else None
    return found.group(1) if found else name


def argument_name(module, name: str, index: int) -> str | None:
    """The source name of argument `index` of a function, from debug information."""
    sp = _subprogram(module, _program_function(name))
    if sp is None:
        return None
    arg = f"arg: {index + 1},"
    for text in metadata_index(module).text.values():
        if text.startswith("!DILocalVariable(") and arg in text and f"scope: {sp}," in text:
            found = _NAME.search(text)
            if found:
                return found.group(1)
    return None


_FIELD_REF = {k: re.compile(rf"\b{k}: (![0-9]+)") for k in ("var", "scope", "declaration")}


def global_name(module, name: str) -> str | None:
    """The source name of a global variable (qualified by its class or namespace), from its
    DIGlobalVariable."""
    g = module.globals.get(name)
    m = _SUBPROGRAM.search(g.text) if g is not None else None
    if m is None:
        return None
    text = metadata_index(module).text
    expr = text.get(m.group(1), "")
    var = _FIELD_REF["var"].search(expr)
    node = text.get(var.group(1), "") if var else ""
    found = _NAME.search(node)
    if not found:
        return None
    member = _FIELD_REF["declaration"].search(node)  # a static data member: its class
    scope = _FIELD_REF["scope"].search(text.get(member.group(1), "") if member else node)
    owner = _NAME.search(text.get(scope.group(1), "")) if scope else None
    scoped = owner and not text.get(scope.group(1), "").startswith(("!DICompileUnit", "!DIFile"))
    return f"{owner.group(1)}::{found.group(1)}" if scoped else found.group(1)
