"""Loop metadata (`!llvm.loop`) that adcc adds to latch branches: fresh distinct loop ids that
keep the properties a loop already has. The only place adcc writes new metadata nodes."""
from __future__ import annotations

import re

from adcc.ir.metadata import metadata_index

_NODE_ID = re.compile(r"^!(\d+)\s*=", re.M)
# an integer compare against a small literal: the exit test of a loop that may be fully unrolled
_SMALL_BOUND = re.compile(r"icmp \w+ i\d+ %[-\w.]+, (\d{1,2})\b")


def may_have_small_constant_loop(function_text: str, limit: int) -> bool:
    """Cheap filter before parsing: some integer compare against a literal in [2, limit]."""
    return any(2 <= int(m.group(1)) <= limit for m in _SMALL_BOUND.finditer(function_text))


class LoopMetadata:
    """Adds loop properties to latch branches of one module, numbering new nodes after the
    module's highest `!N`."""

    def __init__(self, module):
        self.module = module
        ids = [int(m.group(1)) for it in module.items if isinstance(it, str) for m in _NODE_ID.finditer(it)]
        self.next_id = max(ids, default=-1) + 1
        self.property_nodes: dict[str, str] = {}
        self.lines: list[str] = []

    def _new_id(self) -> str:
        ref = f"!{self.next_id}"
        self.next_id += 1
        return ref

    def _property(self, name: str) -> str:
        ref = self.property_nodes.get(name)
        if ref is None:
            ref = self.property_nodes[name] = self._new_id()
            self.lines.append(f'{ref} = !{{!"{name}"}}')
        return ref

    def add_property(self, branches: list, prop: str) -> None:
        """Give the latch branches of one loop a new loop id with `prop` added to the old id's
        properties (all branches of a loop share one id)."""
        old = next((b.get_metadata("llvm.loop") for b in branches if b.get_metadata("llvm.loop")), None)
        kept = []
        if old is not None:
            body = metadata_index(self.module).text.get(old, "")
            inner = body[body.find("{") + 1:body.rfind("}")] if "{" in body else ""
            kept = [op for op in _split_operands(inner) if op != old]
        ref = self._new_id()
        self.lines.append(f"{ref} = distinct !{{{', '.join([ref, *kept, self._property(prop)])}}}")
        for b in branches:
            b.metadata = [(k, v) for k, v in b.metadata if k != "llvm.loop"] + [("llvm.loop", ref)]

    def finish(self) -> None:
        if self.lines:
            self.module.add_text("\n".join(self.lines))


def _split_operands(inner: str) -> list[str]:
    """Top-level operands of a node body, nested `!{...}` and strings kept whole."""
    out, depth, start, quoted = [], 0, 0, False
    for k, ch in enumerate(inner):
        if ch == '"' and (k == 0 or inner[k - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "{":
            depth += 1
        elif not quoted and ch == "}":
            depth -= 1
        elif not quoted and ch == "," and depth == 0:
            out.append(inner[start:k].strip())
            start = k + 1
    out.append(inner[start:].strip())
    return [op for op in out if op]
