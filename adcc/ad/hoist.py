"""Loads that a loop cannot change, moved to its preheader in the copy being differentiated.

LLVM's LICM leaves a load in a loop when it cannot prove that the loop's stores miss it; C++
containers defeat it: `std::vector<double> a(d), b(d)` gives pointers that are each an
allocation or null (`d == 0`), and two nulls alias. The reverse pass then tapes the load every
iteration when its memory is the function's own (written again later), which is what made
GradBench's GMM (`out[j] += l[k] * x[i]` over two vectors) tape d(d-1)/2 values per point and
component instead of d. Here a load in a loop's header moves to the preheader when its address
is invariant and every write in the loop goes to other identified objects (allocas, allocation
calls, noalias arguments; a null base is no object: accessing it is undefined). The
header runs on every entry, so the load ran there before; nothing the loop does changes its value.
"""
from __future__ import annotations

from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.cfg import Loop, LoopInfo
from adcc.analysis.memory import underlying_objects, written_pointers
from adcc.ir.values import Argument, Constant, Function, Instruction, Value


def hoist_invariant_loads(module, fn: Function) -> int:
    """Move such loads out of their loops, innermost loops first (a load may move out of several);
    returns how many moves were made."""
    moved = 0
    for _ in range(4):  # a load hoisted out of an inner loop sits in the outer loop's body, not its header
        loops = sorted(LoopInfo(fn).loops, key=lambda lp: -lp.depth)
        step = sum(_hoist_from(module, fn, lp) for lp in loops)
        moved += step
        if step == 0:
            break
    return moved


def _hoist_from(module, fn: Function, lp: Loop) -> int:
    pre = lp.preheader
    if pre is None or pre.terminator is None:
        return 0
    written = _written_objects(module, lp)
    if written is None:
        return 0
    moved = 0
    for inst in list(lp.header.instructions):
        if inst.opcode in ("call", "invoke") and not (inst.callee_name or "").startswith("llvm."):
            break  # a call that may not return: the load must not run earlier than it did
        if inst.opcode != "load" or inst.info.get("volatile") or inst.info.get("atomic"):
            continue
        if not lp.is_invariant(inst.operands[0]):
            continue
        objs = _objects(module, inst.operands[0])
        if objs is None or not objs or any(not _disjoint(module, o, w) for o in objs for w in written):
            continue
        lp.header.instructions.remove(inst)
        pre.insert(pre.instructions.index(pre.terminator), inst)
        moved += 1
    return moved


def _written_objects(module, lp: Loop) -> list[Value] | None:
    """The identified objects the loop may write, or None when some write's target is unknown."""
    out: list[Value] = []
    for blk in lp.blocks:
        for inst in blk.instructions:
            ptrs = written_pointers(module, inst)
            if ptrs is None:
                return None
            for p in ptrs:
                objs = _objects(module, p)
                if objs is None:
                    return None
                out.extend(o for o in objs if all(o is not x for x in out))
    return out


def _objects(module, p: Value) -> list[Value] | None:
    """The identified objects `p` may point into (null dropped), or None when one is not identified."""
    objs = [o for o in underlying_objects(p, module) if not (isinstance(o, Constant) and o.text == "null")]
    return objs if all(_identified(module, o) for o in objs) else None


def _identified(module, o: Value) -> bool:
    # (globals are left out: two names may be aliases of one object)
    if isinstance(o, Argument):
        attrs = o.function.param_attrs[o.index] if o.function is not None else o.attrs
        return "noalias" in (attrs or "")
    if isinstance(o, Instruction):
        return o.opcode == "alloca" or (o.opcode == "call" and classify_call(module, o) is CallKind.ALLOC)
    return False


def _disjoint(module, a: Value, b: Value) -> bool:
    return a is not b
