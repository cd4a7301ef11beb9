"""Adjoint accumulation in functions that run in several threads at once (`FunctionSpec.parallel`:
an OpenMP region in reverse mode and the functions it calls).

The reverse of a load adds the load's adjoint into the shadow of the memory it read. Threads may
read the same memory at once, so these additions are atomic (`adcc.ad.adjoint.accumulate`), except
into memory the function allocated for itself, and except where they are *exclusive*:

A worksharing loop gives each thread chunks [lb, ub] of its iteration space, disjoint between the
threads (a call whose rule has `CallRule.chunk` writes a chunk's bounds). In a loop whose
induction variable iv starts at such an lb and steps by 1, a load at `base + s*iv + c` (s > 0, the
same base in every thread) touches bytes that other threads' iterations of the loop touch only
near the ends of the chunk. When every load whose adjoint the function adds into memory other
threads can see is such a load, from one base and one loop, with offsets c in [cmin, cmax] and e
bytes wide, the bytes [A, A+e) of an access at A = s*iv + c belong to this chunk alone when

    s*(lb - 1) + cmax + e <= A   and   A + e <= s*(ub + 1) + cmin,

so its adjoint is added with a plain load and store; the other accesses (iterations near the ends
of the chunk) stay atomic. The reverse tests all of an iteration's accesses at once (the test of
c = cmin and of c = cmax), so that its branches share one condition. Loads through parameters
that no other pointer reaches (`noalias`: the private read-only captures of a region;
`"adcc.separate"`: a caller's variable the region only reads and writes through, such as a shared
reduction variable; adcc.ad.rules.openmp.mark_private_captures) touch memory distinct from the
base, unless the base is that parameter, and do not prevent this (their additions stay atomic).
Anything else that may add adjoints into shared memory (another base, a call that differentiates
into unknown memory, a copy) keeps every addition atomic.
"""
from __future__ import annotations

from dataclasses import dataclass

from adcc.analysis.calls import CallKind, classify_call
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.values import Argument, GlobalRef, Instruction, Value


@dataclass(frozen=True)
class Exclusive:
    """How the reverse of the loads of a chunked loop tell whether their additions are exclusive:
    all of an iteration's at once (see the module), when s*lb + low <= s*iv <= s*ub + high."""
    iv: Instruction      # the loop's induction variable
    extend: str | None   # how iv's start extends lb ("sext", "zext", None)
    lb: Instruction      # the chunk's bounds, as loaded after the worksharing call
    ub: Instruction
    stride: int          # s
    low: int             # cmax - cmin + e - s
    high: int            # cmin - cmax - e + s


def exclusive_accesses(synth) -> dict[int, Exclusive]:
    """id(load) -> Exclusive, for the loads of a parallel spec whose additions may be exclusive."""
    if not synth.spec.parallel:
        return {}
    module, fn, act = synth.module, synth.primal, synth.act
    loops = _partitioned_loops(synth)
    if not loops:
        return {}
    found: list[_Access] = []
    separate: set[int] = set()  # the parameters of the loads left atomic as touching other memory
    for inst in fn.instructions():
        if inst.opcode == "call":
            if _may_accumulate_elsewhere(synth, inst):
                return {}
            continue
        if inst.opcode != "load" or not act.is_varied(inst) or not synth.shared_memory(inst.operands[0]):
            continue
        objects = _separate_objects(inst.operands[0], module)
        if objects is not None:
            separate.update(id(o) for o in objects)
            continue
        access = _match(inst, loops, module)
        if access is None:
            return {}  # an addition into shared memory that is not exclusive: it could meet the others
        found.append(access)
    first = found[0] if found else None
    if first is None or any(a.chunks is not first.chunks or a.base is not first.base or a.stride != first.stride
                            or a.size != first.size for a in found):
        return {}  # one loop, one base, one stride, one width
    if id(first.base) in separate:
        return {}  # the loop's array is the memory of another load: their additions could meet
    offsets = [a.offset for a in found]
    spread, s, e = max(offsets) - min(offsets), first.stride, first.size
    cl = first.chunks
    ex = Exclusive(cl.iv_phi, cl.extend, cl.lb, cl.ub, s, spread + e - s, s - e - spread)
    return {id(a.load): ex for a in found}


# --- the loops whose iterations are chunks -----------------------------------------------------

@dataclass(frozen=True)
class _ChunkLoop:
    loop: object             # cfg.Loop
    iv_phi: Instruction
    extend: str | None
    lb: Instruction
    ub: Instruction


def _partitioned_loops(synth) -> list[_ChunkLoop]:
    """Loops whose induction variable starts at the first index of a worksharing chunk (a load of
    what the chunk's call wrote) and steps by 1."""
    from adcc.ad.rules.calls import chunk_arguments
    from adcc.analysis.cfg import LoopInfo
    module, fn = synth.module, synth.primal
    calls = [(inst, chunk_arguments(module, inst)) for inst in fn.instructions() if inst.opcode == "call"]
    calls = [(inst, pos) for inst, pos in calls if pos is not None]
    if not calls:
        return []
    lower = {id(inst.args[pos[0]]): (inst.args[pos[0]], inst.args[pos[1]]) for inst, pos in calls}
    out = []
    for lp in LoopInfo(fn).loops:
        for phi in lp.header.phis():
            start, step = _start_and_step(phi, lp)
            if start is None or step != 1:
                continue
            extend, lb = _strip_extension(start)
            if not (isinstance(lb, Instruction) and lb.opcode == "load" and id(lb.operands[0]) in lower):
                continue
            upper = lower[id(lb.operands[0])][1]
            ub = next((i for i in lb.block.instructions if i.opcode == "load" and i.operands[0] is upper
                       and _chunk_value(i, calls)), None)
            if ub is not None and _chunk_value(lb, calls):
                out.append(_ChunkLoop(lp, phi, extend, lb, ub))
    return out


def _start_and_step(phi: Instruction, loop) -> tuple[Value | None, int | None]:
    starts = [v for v, b in phi.incoming() if b not in loop]
    steps = [v for v, b in phi.incoming() if b in loop]
    if len(starts) != 1 or len(steps) != 1 or not isinstance(phi.type, T.IntType):
        return None, None
    inc = steps[0]
    if not (isinstance(inc, Instruction) and inc.opcode == "add" and phi in inc.operands):
        return None, None
    other = inc.operands[1] if inc.operands[0] is phi else inc.operands[0]
    return starts[0], layout.constant_int(other)


def _strip_extension(v: Value) -> tuple[str | None, Value]:
    if isinstance(v, Instruction) and v.opcode in ("sext", "zext"):
        return v.opcode, v.operands[0]
    return None, v


def _chunk_value(load: Instruction, calls) -> bool:
    """Does `load` read the bound the most recent worksharing call wrote (no other write of that
    memory in between, on every path from such a call)?"""
    ptr = load.operands[0]
    writers = {id(inst) for inst, pos in calls if inst.args[pos[0]] is ptr or inst.args[pos[1]] is ptr}

    def back(instructions) -> bool | None:
        for inst in reversed(instructions):
            if id(inst) in writers:
                return True
            if _writes(inst, ptr):
                return False
        return None

    def from_predecessors(blk, seen: set[int]) -> bool:
        preds = blk.predecessors
        if not preds or id(blk) in seen or len(seen) > 16:
            return False
        seen.add(id(blk))
        for p in preds:
            found = back(p.instructions)
            if found is False or (found is None and not from_predecessors(p, seen)):
                return False
        return True

    blk = load.block
    here = back(blk.instructions[:blk.instructions.index(load)])
    return here if here is not None else from_predecessors(blk, set())


def _writes(inst: Instruction, ptr: Value) -> bool:
    if inst.opcode == "store":
        return inst.operands[1] is ptr
    if inst.opcode in ("call", "atomicrmw", "cmpxchg"):
        return any(o is ptr for o in inst.operands) and not (inst.callee_name or "").startswith("llvm.lifetime.")
    return False


# --- the accesses ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Access:
    """A load of `base + stride*iv + offset`, `size` bytes, in a chunked loop."""
    load: Instruction
    chunks: _ChunkLoop
    base: Value
    stride: int
    offset: int
    size: int


def _match(load: Instruction, loops: list[_ChunkLoop], module) -> _Access | None:
    """The load as an access `base + stride*iv + offset` of a chunked loop whose induction variable
    is iv, with a base every thread shares; None when it is none."""
    for cl in loops:
        if load.block not in cl.loop:
            continue
        split = _affine_address(load.operands[0], cl.iv_phi, module)
        if split is None:
            continue
        base, stride, offset = split
        if stride > 0 and _uniform(base, cl.loop):
            return _Access(load, cl, base, stride, offset, layout.store_size(module, load.type))
    return None


def _affine_address(ptr: Value, iv: Instruction, module) -> tuple[Value, int, int] | None:
    """ptr = base + stride*iv + offset (bytes), through GEPs whose variable indices are affine in iv."""
    stride = offset = 0
    while isinstance(ptr, Instruction) and ptr.opcode in ("getelementptr", "bitcast", "addrspacecast"):
        if ptr.opcode == "getelementptr":
            split = layout.gep_strides(module, ptr.info["source_type"], ptr.operands[1:])
            if split is None:
                return None
            const, terms = split
            offset += const
            for value, scale in terms:
                affine = _affine_index(value, iv)
                if affine is None:
                    return None
                stride += affine[0] * scale
                offset += affine[1] * scale
        ptr = ptr.operands[0]
    return ptr, stride, offset


def _affine_index(v: Value, iv: Instruction, depth: int = 0) -> tuple[int, int] | None:
    """(a, b) with v = a*iv + b, through adds of constants (no signed wrap) and sign extension."""
    if v is iv:
        return 1, 0
    k = layout.constant_int(v)
    if k is not None:
        return 0, k
    if not isinstance(v, Instruction) or depth > 8:
        return None
    if v.opcode == "sext":
        return _affine_index(v.operands[0], iv, depth + 1)
    if v.opcode in ("add", "sub") and "nsw" in "".join(p for p in v.template if isinstance(p, str)):
        x, y = (_affine_index(o, iv, depth + 1) for o in v.operands)
        if x is None or y is None or (v.opcode == "sub" and y[0] != 0):
            return None
        return (x[0] + y[0], x[1] + y[1]) if v.opcode == "add" else (x[0], x[1] - y[1])
    return None


def _uniform(base: Value, loop) -> bool:
    """The same pointer in every thread: an argument, a global, or a pointer loaded outside the
    loop from one of them (a shared variable)."""
    if isinstance(base, (Argument, GlobalRef)):
        return True
    return (isinstance(base, Instruction) and base.opcode == "load" and base.block not in loop
            and isinstance(base.operands[0], (Argument, GlobalRef)))


def _separate_objects(ptr: Value, module) -> list[Value] | None:
    """The parameters `ptr` may point into when each is one whose memory no other pointer of the
    region reaches (`noalias`, SEPARATE); else None."""
    from adcc.ad.rules.openmp import SEPARATE
    from adcc.analysis.memory import underlying_objects
    objs = underlying_objects(ptr, module)
    for o in objs:
        words = (o.function.param_attrs[o.index] or "").split() if isinstance(o, Argument) else ()
        if "noalias" not in words and SEPARATE not in words:
            return None
    return objs


def _may_accumulate_elsewhere(synth, inst: Instruction) -> bool:
    """Can the reverse of this call add adjoints into memory other threads see (a callee, a copy,
    a rule), where an exclusive addition could meet it?"""
    if not synth.is_active_call(inst):
        return False
    kind = classify_call(synth.module, inst)
    if kind in (CallKind.MATH, CallKind.INACTIVE, CallKind.ALLOC, CallKind.FREE, CallKind.MEMSET):
        return False
    if kind is CallKind.MEMCPY:
        return synth.shared_memory(inst.args[1])
    if kind is CallKind.RULE:
        from adcc.ad.rules.calls import call_rule_for
        rule = call_rule_for(synth.module, inst.callee_name)
        return rule is None or rule.family != "openmp"
    return True
