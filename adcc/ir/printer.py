"""Print adcc IR functions back to LLVM text.

Unnamed values are numbered in order of appearance (arguments, then each block's
label and its non-void instructions), as LLVM requires; named values keep their
names, made unique with a numeric suffix when two collide.
"""
from __future__ import annotations

import re

from adcc.ir import types as T
from adcc.ir.values import Constant, Function, Instruction, Value

_PLAIN_NAME = re.compile(r"^[-a-zA-Z$._][-a-zA-Z$._0-9]*$")


class Namer:
    def __init__(self, fn: Function):
        self.names: dict[int, str] = {}
        used: set[str] = set()
        counter = 0

        def assign(v: Value) -> None:
            nonlocal counter
            if v.name is None:
                self.names[id(v)] = str(counter)
                counter += 1
                return
            base = v.name
            if base.startswith('"'):
                nm = base
            else:
                nm = base if _PLAIN_NAME.match(base) and not base[0].isdigit() else _quote(base)
            if nm in used:
                k = 1
                while f"{base}.{k}" in used:
                    k += 1
                nm = f"{base}.{k}"
            used.add(nm)
            self.names[id(v)] = nm

        # named values first would change nothing for numbering; LLVM numbers unnamed only
        for a in fn.args:
            assign(a)
        for b in fn.blocks:
            assign(b)
            for i in b.instructions:
                if not isinstance(i.type, T.VoidType) and i.opcode != "#dbg":
                    assign(i)

    def ref(self, v: Value) -> str:
        if isinstance(v, Constant):
            return v.text
        nm = self.names.get(id(v))
        if nm is None:
            raise ValueError(f"value {v!r} is not defined in this function")
        return "%" + nm


def _quote(name: str) -> str:
    return '"' + name.replace('"', "\\22") + '"'


def print_instruction(inst: Instruction, namer: Namer, with_debug: bool = True) -> str:
    parts = []
    for p in inst.template:
        parts.append(p if isinstance(p, str) else namer.ref(inst.operands[p]))
    body = "".join(parts)
    if inst.metadata:
        md = [f"!{k} {v}" for k, v in inst.metadata if with_debug or k != "dbg"]
        if md:
            body += ", " + ", ".join(md)
    if inst.opcode == "#dbg":
        return "    " + body
    if not isinstance(inst.type, T.VoidType):
        return f"  {namer.ref(inst)} = {body}"
    return "  " + body


def print_function(fn: Function, with_debug: bool = True) -> str:
    """`fn` as LLVM text; with_debug=False: without its debug info (`!dbg` attachments, debug
    records), for a copy of it under another name (a DISubprogram describes one function)."""
    namer = Namer(fn)
    header = fn.header if fn.header is not None else _new_header(fn, namer)
    if not with_debug:
        header = _HEADER_DBG.sub("", header)
    lines = [header]
    keep_debug = fn.header is not None and with_debug
    for bi, b in enumerate(fn.blocks):
        if bi > 0:
            lines.append("")
        lines.append(f"{namer.names[id(b)]}:")
        for i in b.instructions:
            if i.opcode == "#dbg" and not keep_debug:
                continue
            lines.append(print_instruction(i, namer, keep_debug))
    lines.append("}")
    return "\n".join(lines)


_HEADER_DBG = re.compile(r"\s!dbg\s+![0-9]+")


def _new_header(fn: Function, namer: Namer) -> str:
    params = []
    for a, attrs in zip(fn.args, fn.param_attrs):
        params.append(f"{a.type}{(' ' + attrs) if attrs else ''} {namer.ref(a)}")
    if fn.vararg:
        params.append("...")
    attrs = f" {fn.attributes}" if fn.attributes else ""
    name = fn.fname if _PLAIN_NAME.match(fn.fname) else _quote(fn.fname)
    return f"define {fn.linkage} {fn.ret_type} @{name}({', '.join(params)}){attrs} {{"
