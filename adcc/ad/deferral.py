"""Deferred additions: the reverse of a stencil loop as a loop the vectorizer accepts.

The reverse of a load adds its adjoint into the shadow of the memory it read. In a loop that reads
`base[i + c]` for several constant offsets c (a stencil: `w[i] = u[i-1] - 2*u[i] + u[i+1]`), each
reverse iteration adds into several neighbouring elements of the shadow, which the next reverse
iteration adds into again: a dependence through memory at distance 1 that LLVM's loop vectorizer
refuses (and that keeps the loop scalar).

Running backwards (i decreasing), element j of the shadow receives its additions from iterations
j - cmin, ..., j - cmax, the last from iteration j - cmax (offset cmax). So iteration i can *finish*
element i + cmax: it adds into memory once, at offset cmax, the sum of its own contribution and the
contributions earlier reverse iterations made for that element, which wait in registers. With
D = (cmax - cmin) / e elements of e bytes still pending after an iteration, registers R_0..R_{D-1}
(R_d: element i + cmax - (d+1)*e of the iteration that just ran) rotate:

    shadow[i + cmax] += R_0 + x_cmax(i)
    R_d  <- R_{d+1} + x_{cmax-(d+1)e}(i)      (d < D-1),     R_{D-1} <- x_cmin(i)

and the loop's exit adds the pending registers into memory. The registers are fixed-order
recurrences, which the vectorizer handles; the only store into the shadow per iteration is at
consecutive addresses.

This reorders the additions into `base`'s shadow relative to everything else the reverse
iteration does to shadow memory. Additions commute with additions; the only other accesses of
shadow memory in an accepted loop are the reverses of its stores (which read and clear the shadow
of what they wrote), at addresses with the same stride as the loads. The distance between such a
store's shadow and the loads' shadows is the same in every iteration; where it could make the store
meet an element whose additions are pending (the shadows overlap: the primal's buffers overlap),
the deferral is wrong. So the reverse runs its first iteration (the primal's last) as before,
tests the distances there, and only when no store can meet a pending element runs the remaining
iterations deferred; otherwise it stays on the plain loop.

A loop may hold several such stencils (a 2-D stencil's row of u and row of v): a group is the
loads of one base plus the same loop-invariant terms (`u[row + j + c]`, `row` computed before the
loop), with offsets close together; each group has its own pending registers. Additions from
different groups (even into overlapping memory) commute, so only the stores' reverses are tested,
against every group; a group whose base a store writes, or that a store reaches at another
stride, keeps its plain additions.

In a worksharing loop (adcc.ad.parallel: exclusive additions), the elements near the ends of a
chunk are shared with the neighbouring chunks' threads. Running backwards from the chunk's last
iteration ub, the element finished at iteration i, i + cmax, belongs to this chunk alone once the
iteration's accesses all do (i <= ub + high, the exclusive test's upper half), and stays so down to
lb (i + cmax >= lb - 1 + cmax + e). So the plain loop (atomic near ub) runs until the next
iteration passes that test, the deferred copy finishes elements with plain additions, and the
pending elements at the exit (next to lb, shared) are added atomically. A worksharing loop that
reads one element per iteration (cmin = cmax: a reduction's `u[i] * u[i]`) is deferred too, with
nothing waiting: its deferred copy is the loop without the per-iteration test of the chunk's ends
(which compares with a trip count read from the tape, so LLVM cannot fold it, and keeps the loop
scalar).
"""
from __future__ import annotations

from dataclasses import dataclass

from adcc.ad.parallel import _start_and_step
from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.words import clears_float
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.values import Block, Instruction, Value


MAX_GAP = 4      # elements between neighbouring offsets of one group
MAX_DEPTH = 16   # elements pending at once (registers) per group


@dataclass(frozen=True)
class Group:
    """Loads of `base + terms + e*iv + c` (c in offsets; terms loop-invariant) whose additions wait."""
    loads: dict[int, int]               # id(load) -> c (bytes)
    first: Instruction                  # a load at cmin (the distances are taken to its shadow)
    last: Instruction                   # a load at cmax (its shadow gets the finished elements)
    cmin: int
    cmax: int
    size: int                           # e
    exclusive: object = None            # adcc.ad.parallel.Exclusive of the loads (a worksharing loop)

    @property
    def depth(self) -> int:
        return (self.cmax - self.cmin) // self.size


@dataclass(frozen=True)
class Deferral:
    """A single-block counted loop whose stencil groups of loads add deferred."""
    block: Block
    groups: tuple[Group, ...]
    stores: tuple[tuple[Instruction, int], ...]  # stores whose reverse touches shadow memory, bytes

    def group_of(self, load: Instruction) -> tuple[int, int] | None:
        """(group index, c) of a deferred load, else None."""
        for k, g in enumerate(self.groups):
            c = g.loads.get(id(load))
            if c is not None:
                return k, c
        return None


def deferred_loops(synth) -> dict[int, Deferral]:
    """id(block) -> Deferral for the single-block counted loops of the primal whose reverse can
    defer the additions of its stencils of loads (see the module)."""
    from adcc.analysis.cfg import LoopInfo
    plan, act, module = synth.plan, synth.act, synth.module
    out: dict[int, Deferral] = {}
    for lp in LoopInfo(synth.primal).loops:
        blk = lp.header
        cl = plan.counted_header(blk)
        if cl is None or lp.children or len(lp.blocks) != 1 or cl.latch is not blk:
            continue
        d = _deferral(synth, blk, lp, act, module)
        if d is not None:
            out[id(blk)] = d
    return out


def _deferral(synth, blk: Block, lp, act, module) -> Deferral | None:
    ivs = [phi for phi in blk.phis() if _start_and_step(phi, lp)[1] == 1]
    groups: dict[tuple, list[tuple[Instruction, int, Value, Instruction]]] = {}
    stores: list[tuple[Instruction, object]] = []
    for inst in blk.instructions:
        op = inst.opcode
        if op in ("phi", "#dbg") or inst.is_terminator:
            continue
        if op == "load":
            if isinstance(inst.type, T.PointerType) and act.has_shadow(inst):
                return None  # its shadow would be read from shadow memory
            if not (act.is_varied(inst) and inst.type.is_float_or_float_vector()
                    and not isinstance(inst.type, T.VectorType)):
                continue
            if synth.shared_memory(inst.operands[0]) and id(inst) not in synth.exclusive:
                return None  # other threads may add into the same elements: atomic additions
            size = layout.store_size(module, inst.type)
            for iv in ivs:
                split = _address(inst.operands[0], iv, lp, module)
                if split is not None and split[1] == size:
                    base, _, c, terms = split
                    groups.setdefault((id(base), terms, size, id(iv)), []).append((inst, c, base, iv))
                    break
        elif op == "store":
            if act.has_shadow(inst.operands[1]) and act.carries_float(inst.operands[0]) \
                    or clears_float(act, inst):  # its reverse reads or clears shadow memory
                stores.append((inst, inst.operands[1]))
        elif op == "call":
            if synth.is_active_call(inst) and classify_call(module, inst) is not CallKind.MATH:
                return None
        elif op in ("atomicrmw", "cmpxchg", "alloca", "fence", "va_arg"):
            return None
    stencils = []  # (size, iv, members): runs of offsets close enough to wait in a few registers
    for (_, _, size, _), members in groups.items():
        for run in _runs(sorted(members, key=lambda m: m[1]), size):
            if run[-1][1] == run[0][1] and not all(id(m[0]) in synth.exclusive for m in run):
                continue  # nothing would wait: the plain reverse loop is the same
            stencils.append((size, run[0][3], run))
    if not stencils:
        return None
    iv = stencils[0][1]  # (the distances to the stores are constant in one counter's terms)
    stencils = [x for x in stencils if x[1] is iv]
    writes = []
    for st, ptr in stores:
        split = _address(ptr, iv, lp, module)
        if split is None:
            return None  # a shadow read at a varying distance from the pending elements
        writes.append((id(split[0]), split[1]))
    taken = tuple((st, layout.store_size(module, st.operands[0].type)) for st, _ in stores)
    out = []
    for size, _, members in stencils:
        if any(base == id(members[0][2]) or stride != size for base, stride in writes):
            continue  # written in place, or at a distance that varies: these additions stay plain
        g = _group(synth, size, iv, members)
        if g is not None:
            out.append(g)
    if not out:
        return None
    return Deferral(blk, tuple(out), taken)


def _runs(members, size: int):
    """Split loads sorted by offset into runs whose neighbouring offsets are at most MAX_GAP
    elements apart and that span at most MAX_DEPTH elements (each pending element is a register).
    A run of one offset has no dependence between iterations to remove: the caller keeps it only
    in a worksharing loop (its deferred copy drops the per-iteration test of the chunk's ends)."""
    run: list = []
    for m in members:
        c = m[1]
        if run and (c - run[-1][1] > MAX_GAP * size or c - run[0][1] > MAX_DEPTH * size
                    or (c - run[0][1]) % size):
            yield run
            run = []
        run.append(m)
    if run:
        yield run


def _group(synth, size: int, iv: Instruction, members) -> Group | None:
    cmin, cmax = members[0][1], members[-1][1]
    first = next(m[0] for m in members if m[1] == cmin)
    last = next(m[0] for m in members if m[1] == cmax)
    shared = [synth.exclusive.get(id(m[0])) for m in members if synth.shared_memory(m[0].operands[0])]
    ex = shared[0] if shared else None
    if shared and (len(shared) != len(members) or any(x is not ex for x in shared) or ex.iv is not iv
                   or ex.stride != size):
        return None
    return Group({id(m[0]): m[1] for m in members}, first, last, cmin, cmax, size, ex)


def _address(ptr: Value, iv: Instruction, lp, module):
    """ptr = base + terms + stride*iv + offset (bytes) with base and the terms (value, bytes per
    unit) invariant in the loop, through GEPs whose variable indices are such sums; else None."""
    stride = offset = 0
    terms: dict[int, list] = {}
    while isinstance(ptr, Instruction) and ptr.opcode in ("getelementptr", "bitcast", "addrspacecast"):
        if ptr.opcode == "getelementptr":
            split = layout.gep_strides(module, ptr.info["source_type"], ptr.operands[1:])
            if split is None:
                return None
            const, parts = split
            offset += const
            for value, scale in parts:
                affine = _index(value, iv, lp)
                if affine is None:
                    return None
                stride += affine[0] * scale
                offset += affine[1] * scale
                for t, k in affine[2]:
                    terms.setdefault(id(t), [t, 0])[1] += k * scale
        ptr = ptr.operands[0]
    if not _invariant(ptr, lp):
        return None
    key = tuple(sorted((i, k) for i, (_, k) in terms.items() if k))
    return ptr, stride, offset, key


def _flags(v: Instruction) -> str:
    return "".join(p for p in v.template if isinstance(p, str))


def _index(v: Value, iv: Instruction, lp, depth: int = 0):
    """(a, b, terms) with v = a*iv + b + sum(k*t for t, k in terms), the terms invariant in the loop,
    through adds without signed wrap (and `or disjoint`, which cannot carry), constants and sign
    extension (a term under one stands for its extension: a value has one type, so one term is
    extended the same way wherever it appears); else None."""
    if v is iv:
        return 1, 0, ()
    k = layout.constant_int(v)
    if k is not None:
        return 0, k, ()
    if not isinstance(v, Instruction) or v.block not in lp:
        return 0, 0, ((v, 1),)  # an argument, a global or a value computed before the loop
    if depth > 8:
        return None
    if v.opcode == "sext":  # the sums below have no signed wrap: sext distributes over them
        return _index(v.operands[0], iv, lp, depth + 1)
    add = v.opcode == "add" or (v.opcode == "or" and "disjoint" in _flags(v))
    if (add or v.opcode == "sub") and ("nsw" in _flags(v) or v.opcode == "or"):
        x, y = (_index(o, iv, lp, depth + 1) for o in v.operands)
        if x is None or y is None or (v.opcode == "sub" and (y[0] != 0 or y[2])):
            return None
        if v.opcode == "sub":
            return x[0], x[1] - y[1], x[2]
        return x[0] + y[0], x[1] + y[1], x[2] + y[2]
    return None


def _invariant(base, lp) -> bool:
    return not (isinstance(base, Instruction) and base.block in lp)
