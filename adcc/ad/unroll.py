"""Before AD, loops with a small constant trip count are marked for LLVM's full unroller.

The pre-AD pipeline runs without unrolling, so that loops reach the AD engine whole (no
runtime-unrolled remainders to reverse). A loop like `for (i = 0; i < 3; i++) out[i] = ...`
is different: unrolled, its stack arrays become registers (SROA) and the loop, its tape
counters and its shadow stack frame disappear. Such loops get `llvm.loop.unroll.full`, which
the full-unroll pass honours even when unrolling is otherwise off; the pipeline then runs again
to clean up what unrolling exposed. The budget is LLVM's own full-unroll threshold at O3, counting instructions that unrolling
does not fold away."""
from __future__ import annotations

from adcc.analysis.cfg import Loop, LoopInfo, trip_count
from adcc.ir.loopmd import LoopMetadata, may_have_small_constant_loop
from adcc.ir.module import Module

UNROLLED_SIZE = 300   # instructions of the unrolled loop (LLVM's O3 full-unroll threshold)
FREE = frozenset({"phi", "getelementptr", "br", "switch"})  # folded into addressing or control flow
MAX_TRIPS = 32
FULL_UNROLL = "llvm.loop.unroll.full"


def mark_small_loops(module: Module) -> int:
    """Mark every loop whose fully unrolled body fits the budget; returns how many."""
    marker = LoopMetadata(module)
    marked = 0
    for name in module.defined_function_names():
        if not may_have_small_constant_loop(module.functions[name].text or "", MAX_TRIPS):
            continue
        info = LoopInfo(module.function(name))
        sizes: dict[int, int | None] = {}
        for loop in sorted(info.loops, key=lambda l: -l.depth):  # innermost first
            size = _unrolled_size(loop, info, sizes)
            sizes[id(loop)] = size
        for loop in info.loops:  # outermost first: mark the largest nest that fits
            if sizes[id(loop)] is not None and not _marked_ancestor(loop, sizes):
                marker.add_property([b.terminator for b in loop.latches], FULL_UNROLL)
                marked += 1
    marker.finish()
    return marked


def _marked_ancestor(loop: Loop, sizes: dict) -> bool:
    p = loop.parent
    while p is not None:
        if sizes.get(id(p)) is not None:
            return True
        p = p.parent
    return False


def _unrolled_size(loop: Loop, info: LoopInfo, sizes: dict) -> int | None:
    """Instructions after fully unrolling `loop` and its sub-loops, or None when that is not
    possible (no constant trip count) or over budget."""
    tc = trip_count(loop, info.dt)
    trips = tc.constant() if tc is not None else None
    if trips is None or trips > MAX_TRIPS or len(loop.latches) != 1:
        return None
    inner = set()
    body = 0
    for child in loop.children:
        s = sizes.get(id(child))
        if s is None:
            return None
        inner.update(child.blocks)
        body += s
    body += sum(1 for b in loop.blocks if b not in inner for i in b.instructions if i.opcode not in FREE)
    total = body * trips
    return total if total <= UNROLLED_SIZE else None
