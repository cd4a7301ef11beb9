"""TBAA access types of memory instructions (`!tbaa`, `!tbaa.struct`), by scalar type name."""
from __future__ import annotations

import re

from adcc.ad.srcloc import _metadata_index

_NODE_REFS = re.compile(r"!\d+")
_NAME = re.compile(r'^!\{!"([^"]*)"')


def _type_name(idx: dict[str, str], ref: str) -> str | None:
    m = _NAME.match(idx.get(ref, ""))
    return m.group(1) if m else None


def access_type_names(module, inst) -> list[str]:
    """Scalar type names ("double", "any pointer", "int", ...) the instruction accesses."""
    idx = _metadata_index(module)
    out: list[str] = []
    tag = inst.get_metadata("tbaa")
    if tag:
        refs = _NODE_REFS.findall(idx.get(tag, ""))
        if len(refs) >= 2:
            n = _type_name(idx, refs[1])
            if n:
                out.append(n)
    st = inst.get_metadata("tbaa.struct")
    if st:
        for t in _NODE_REFS.findall(idx.get(st, "")):
            refs = _NODE_REFS.findall(idx.get(t, ""))
            if len(refs) >= 2:
                n = _type_name(idx, refs[1])
                if n:
                    out.append(n)
    return out
