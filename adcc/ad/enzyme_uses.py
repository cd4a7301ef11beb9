"""Every use of an Enzyme name in a module is one adcc implements, or a located error.

Checked before any call site is rewritten: entry points the program calls (`__enzyme_*`
functions, matched as Enzyme matches them), registration globals (`__enzyme_register_*`,
`__enzyme_inactivefn`, ...) and `enzyme_*` annotation strings (the attribute spellings,
`llvm.global.annotations`). Markers are checked where a call site is decoded (callsite.py).
Type hints (`__enzyme_double(p, n)`, ...) are removed here: adcc's type analysis needs none.
"""
from __future__ import annotations

import re

from adcc.ad import enzyme_names as names
from adcc.ad.srcloc import location_of
from adcc.diagnostics import CompileError, SourceLocation
from adcc.ir.values import Instruction

_ENZYME_ID = re.compile(r"(\d*)(__enzyme_\w*)")
_ANNOTATION = re.compile(r"\{\s*ptr\s+@(\"[^\"]*\"|[\w.$-]+),\s*ptr\s+@([\w.$-]+),\s*ptr\s+@([\w.$-]+),\s*i32\s+(\d+)")
_CSTRING = re.compile(r'c"((?:[^"\\]|\\[0-9A-Fa-f]{2})*)"')
TYPE_HINTS = ("__enzyme_float", "__enzyme_double", "__enzyme_integer", "__enzyme_pointer")


def check_names(module, source_file: str | None = None) -> None:
    """Raise a located CompileError for the first Enzyme name adcc does not implement."""
    source_file = source_file or _source_file(module)
    for name, entry in module.functions.items():
        plain = name.strip('"')
        if "__enzyme_" not in plain or entry.is_definition:
            continue  # a body of the program's own is not an Enzyme name
        if plain.startswith("__enzyme_fortran_"):
            continue  # the adcc_ad Fortran module's entry points (adcc.ad.fortran_api)
        info = names.entry_point(plain) or names.registration(plain)
        if info is None or info.status is not names.Status.IMPLEMENTED:
            raise CompileError(_message(info, "Enzyme entry point", _identifier(plain)), _first_call(module, name))
    for name in module.globals:
        plain = name.strip('"')
        if not plain.startswith("__enzyme_"):
            continue
        info = names.registration(plain)
        if info is None or info.status is not names.Status.IMPLEMENTED:
            from adcc.analysis.declarations import global_location
            where = global_location(module, module.globals[name]) or SourceLocation(source_file)
            raise CompileError(_message(info, "Enzyme registration", plain), where)
    for text, location in annotations(module):
        if not text.startswith("enzyme_"):
            continue
        info = names.attribute(text)
        if info is None or info.status is not names.Status.IMPLEMENTED:
            raise CompileError(_message(info, "Enzyme attribute", text), location)
    from adcc.ad.utility_calls import check_utility_calls
    check_utility_calls(module)


def _source_file(module) -> str:
    for item in module.items:
        if isinstance(item, str) and "source_filename" in item:
            m = re.search(r'^source_filename = "((?:[^"\\]|\\.)*)"', item, re.M)
            if m:
                return m.group(1)
    return "<input>"


def _message(info, what: str, name: str) -> str:
    return names.refusal(info, name) if info is not None else f"unknown {what} '{name}'"


def _identifier(symbol: str) -> str:
    """The source name in a (possibly C++-mangled) symbol: _Z15__enzyme_foobarv -> __enzyme_foobar."""
    m = _ENZYME_ID.search(symbol)
    if m is None:
        return symbol
    if m.group(1):
        return m.group(2)[:int(m.group(1))]
    return m.group(2)


def _first_call(module, callee: str) -> SourceLocation | None:
    for inst in _calls_to(module, (callee,)):
        loc = location_of(module, inst)
        if loc is not None:
            return loc
    return None


def _calls_to(module, callees: tuple[str, ...]):
    for fname in module.defined_function_names():
        text = module.functions[fname].text
        if not any(c.strip('"') in text for c in callees):
            continue
        for inst in list(module.function(fname).instructions()):
            if isinstance(inst, Instruction) and inst.opcode in ("call", "invoke") and inst.callee_name in callees:
                yield inst


def annotations(module) -> list[tuple[str, SourceLocation]]:
    """(string, where) of each `__attribute__((annotate("...")))` in llvm.global.annotations."""
    g = module.globals.get("llvm.global.annotations")
    if g is None:
        return []
    out = []
    for m in _ANNOTATION.finditer(g.initializer):
        text, file = _cstring(module, m.group(2)), _cstring(module, m.group(3))
        if text is not None:
            out.append((text, SourceLocation(file or "<input>", int(m.group(4)))))
    return out


def _cstring(module, name: str) -> str | None:
    g = module.globals.get(name)
    m = _CSTRING.search(g.initializer) if g is not None else None
    if m is None:
        return None
    raw = re.sub(r"\\([0-9A-Fa-f]{2})", lambda h: chr(int(h.group(1), 16)), m.group(1))
    return raw.rstrip("\0")
