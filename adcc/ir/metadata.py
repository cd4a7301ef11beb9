"""Index of a module's numbered metadata lines (`!N = !{...}`), parsed from the verbatim
top-level text, and the TBAA queries type analysis needs. Read-only."""
from __future__ import annotations

import re
import weakref

_MD_LINE = re.compile(r"^!(\d+)\s*=\s*(distinct\s+)?!\{(.*)\}\s*$")
_ANY_LINE = re.compile(r"^!(\d+)\s*=\s*(?:distinct\s+)?(.*)$")
_OPERAND = re.compile(r'\s*(?:!"((?:[^"\\]|\\.)*)"|(![0-9]+)|i64\s+(-?\d+)|([^,]+))\s*(?:,|$)')

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class MetadataIndex:
    """`!N` -> list of operands: str (a `!"string"`), ('ref', '!M'), int (`i64 k`), or None."""

    def __init__(self, module):
        self.nodes: dict[str, list] = {}
        self.text: dict[str, str] = {}  # every numbered node as written (DILocation, DIFile, ...)
        for it in module.items:
            if isinstance(it, str) and "!" in it:
                for line in it.split("\n"):
                    a = _ANY_LINE.match(line)
                    if a is None:
                        continue
                    self.text["!" + a.group(1)] = a.group(2)
                    m = _MD_LINE.match(line)
                    if m:
                        self.nodes["!" + m.group(1)] = _operands(m.group(3))

    def node(self, ref: str | None) -> list | None:
        return self.nodes.get(ref) if ref else None

    def tbaa_access_type(self, tag: str | None) -> tuple[str, int] | None:
        """(scalar type name, offset) of a struct-path access tag `!{!base, !access, i64 off}`,
        or of an old-style scalar tag `!{!"name", !parent}`."""
        ops = self.node(tag)
        if not ops:
            return None
        if isinstance(ops[0], str):
            return ops[0], 0
        if len(ops) >= 3 and isinstance(ops[1], tuple) and isinstance(ops[2], int):
            access = self.node(ops[1][1])
            if access and isinstance(access[0], str):
                return access[0], ops[2]
        return None

    def tbaa_struct(self, ref: str | None) -> list[tuple[int, int, str]]:
        """`!tbaa.struct` of a memcpy: [(offset, size, access tag)]."""
        ops = self.node(ref) or []
        out = []
        for k in range(0, len(ops) - 2, 3):
            off, size, tag = ops[k:k + 3]
            if isinstance(off, int) and isinstance(size, int) and isinstance(tag, tuple):
                out.append((off, size, tag[1]))
        return out


    def tbaa_type_names(self, inst) -> list[str]:
        """Scalar type names ("double", "any pointer", ...) of an access's `!tbaa` tag and of
        the fields of a copy's `!tbaa.struct`."""
        tags = [inst.get_metadata("tbaa")] + [t for _, _, t in self.tbaa_struct(inst.get_metadata("tbaa.struct"))]
        out = []
        for tag in tags:
            acc = self.tbaa_access_type(tag) if tag else None
            if acc is not None:
                out.append(acc[0])
        return out


def _operands(body: str) -> list:
    out: list = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        m = _OPERAND.match(body, pos)
        if m is None or m.end() == pos:
            break
        if m.group(1) is not None:
            out.append(m.group(1))
        elif m.group(2) is not None:
            out.append(("ref", m.group(2)))
        elif m.group(3) is not None:
            out.append(int(m.group(3)))
        else:
            out.append(None)
        pos = m.end()
    return out


def metadata_index(module) -> MetadataIndex:
    """The module's index, built once (metadata lines are never edited by adcc)."""
    idx = _CACHE.get(module)
    if idx is None:
        idx = _CACHE[module] = MetadataIndex(module)
    return idx
