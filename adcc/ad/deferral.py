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

from adcc.ad.parallel import _affine_address, _start_and_step
from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.words import clears_float
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.values import Block, Instruction


@dataclass(frozen=True)
class Deferral:
    """A single-block counted loop whose loads of `base + e*iv + c` (c in offsets) add deferred."""
    block: Block
    loads: dict[int, int]               # id(load) -> c (bytes)
    first: Instruction                  # a load at cmin (the distances are taken to its shadow)
    last: Instruction                   # a load at cmax (its shadow gets the finished elements)
    cmin: int
    cmax: int
    size: int                           # e
    stores: tuple[tuple[Instruction, int], ...]  # stores whose reverse touches shadow memory, bytes
    exclusive: object = None            # adcc.ad.parallel.Exclusive of the loads (a worksharing loop)

    @property
    def depth(self) -> int:
        return (self.cmax - self.cmin) // self.size


def deferred_loops(synth) -> dict[int, Deferral]:
    """id(block) -> Deferral for the single-block counted loops of the primal whose reverse can
    defer the additions of one stencil of loads (see the module)."""
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
    groups: dict[tuple[int, int], list[tuple[Instruction, int]]] = {}
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
            for iv in ivs:
                split = _affine_address(inst.operands[0], iv, module)
                size = layout.store_size(module, inst.type)
                if split is not None and split[1] == size and _invariant(split[0], lp):
                    groups.setdefault((id(split[0]), size), []).append((inst, split[2], split[0], iv))
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
    best = None
    for (_, size), members in groups.items():
        offsets = [c for _, c, _, _ in members]
        if any((c - min(offsets)) % size for c in offsets):
            continue
        if max(offsets) == min(offsets) and not all(id(m[0]) in synth.exclusive for m in members):
            continue  # nothing would wait: the plain reverse loop is the same
        if best is None or len(members) > len(best[1]):
            best = (size, members)
    if best is None:
        return None
    size, members = best
    base, iv = members[0][2], members[0][3]
    if any(m[3] is not iv for m in members):
        return None
    taken = []
    for st, ptr in stores:
        split = _affine_address(ptr, iv, module)
        if split is None or split[1] != size or not _invariant(split[0], lp) or split[0] is base:
            return None  # a shadow read at a varying distance from the pending elements
        taken.append((st, layout.store_size(module, st.operands[0].type)))
    cmin = min(c for _, c, _, _ in members)
    cmax = max(c for _, c, _, _ in members)
    first = next(m[0] for m in members if m[1] == cmin)
    last = next(m[0] for m in members if m[1] == cmax)
    shared = [synth.exclusive.get(id(m[0])) for m in members if synth.shared_memory(m[0].operands[0])]
    ex = shared[0] if shared else None
    if shared and (len(shared) != len(members) or any(x is not ex for x in shared) or ex.iv is not iv
                   or ex.stride != size):
        return None
    return Deferral(blk, {id(m[0]): m[1] for m in members}, first, last, cmin, cmax, size, tuple(taken), ex)


def _invariant(base, lp) -> bool:
    return not (isinstance(base, Instruction) and base.block in lp)
