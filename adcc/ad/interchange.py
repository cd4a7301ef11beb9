"""Interchanged reverse of a two-level loop nest: the inner loop's reverse runs outermost.

The reverse of `for j { head; for k { body }; tail }` runs, for j going down, tail's reverse and
then body's reverse for k going down. In C = A*B (body: `s += A[i][k] * B[k][j]`) that reverse adds
into dB[k][j] for k going down at fixed j: a strided read-modify-write per iteration, which no
cache likes and no vectorizer accepts. When the nest qualifies (`interchanged_nests`) the reverse
runs in three phases instead:

  1. for j going down: tail's reverse (and that of the inner loop's exit block, if it has one);
     the adjoints that body's reverse will consume (of the values body defines and uses after
     the loop, or its phis carry to the next iteration) are saved in a scratch array indexed by
     j, reserved above the tape's top;
  2. for k going down, for j going down: body's reverse for (j, k), its adjoint state loaded from
     and saved back to the scratch array (dB[k][j] for consecutive j: contiguous memory);
  3. for j going down: the reverse of the inner loop's preheader and of head, whose values'
     adjoints (gathered in all three phases) wait in the scratch array too; then on as before.

What this reorders: the reverses of body, head and the preheader only add into the shadows of what
they load (additions, which commute) and read primal memory and values they recompute from the loop
counters (they record nothing on the tape; tail's and exit's records are popped in phase 1, in the
order the plain reverse pops them); tail's reverse reads and clears the shadows of what tail stores.
Values carried from one j to the next (varied phis of head) are refused. So the order changes
nothing but rounding when tail's store shadows are other objects than the load shadows of body,
head and the preheader, and no shadow is primal memory that the nest reads: the call site proves both (the
spec's `apart`; otherwise the nest keeps the plain order). The additions into one shadow element
come in another order when it receives from several (j, k) with different j and different k (in
C = A*B none does: dA[i][k] still receives j going down for each k, dB[k][j] once): the result may
differ from the plain order's by rounding (docs/reverse-mode.md).
"""
from __future__ import annotations

from dataclasses import dataclass

from adcc.ad.common import zero_of
from adcc.ad.tape import RecordLayout, key_type, tape_scope
from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.memory import underlying_objects
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Argument, Block, Instruction, Value

# what the nest's blocks may not hold (but stores in exit and tail, whose reverse phase 1 runs in order)
_FORBIDDEN = frozenset({"store", "atomicrmw", "cmpxchg", "fence", "alloca", "va_arg", "invoke", "landingpad",
                        "callbr"})


@dataclass(frozen=True)
class Nest:
    """A loop `outer` = {head, [pre,] body, [exit,] tail} whose only child `inner` = {body} runs its
    reverse interchanged; `pre`: the inner loop's preheader when it is not head; `guard`: the condition
    (invariant in the nest) of head's branch to the inner loop, and whether it enters on true,
    when head may skip it (`for (k = 0; k < nk; k++)` with nk unknown); `state`: values of body
    whose adjoints cross from one (j, k) to the next."""
    outer: object   # adcc.ad.tape.CountedLoop
    inner: object
    head: Block
    pre: Block | None
    body: Block
    exit: Block | None  # the inner loop's exit block when it is not tail (it runs only after body)
    tail: Block
    guard: tuple[Value, bool] | None
    state: tuple[Instruction, ...]


def interchanged_nests(synth) -> dict[int, Nest]:
    """id(tail) -> Nest for the nests whose reverse runs interchanged (see the module)."""
    spec = synth.spec
    if not spec.top_level or not spec.apart or spec.parallel or spec.width != 1:
        return {}
    out: dict[int, Nest] = {}
    plan = synth.plan
    for inner in plan.counted.values():
        nest = _nest(synth, inner)
        if nest is not None:
            out[id(nest.tail)] = nest
    return out


def _nest(synth, inner) -> Nest | None:
    plan, act = synth.plan, synth.act
    lp = inner.loop
    body = inner.header
    if lp.children or lp.blocks != [body] or inner.latch is not body or lp.parent is None:
        return None
    outer = plan.counted_header(lp.parent.header)
    if outer is None or outer.loop.children != [lp]:
        return None
    head, tail = outer.header, outer.latch
    pre = inner.outside if inner.outside is not head else None
    out = [x for x in body.successors if x is not body]
    if len(out) != 1 or len(body.successors) != 2:
        return None
    exit_ = out[0] if out[0] is not tail else None
    blocks = tuple(b for b in (head, pre, body, exit_, tail) if b is not None)
    if len(set(blocks)) != len(blocks) or len(outer.loop.blocks) != len(blocks) or \
            any(b not in outer.loop for b in blocks):
        return None
    if pre is not None and (pre.successors != [body] or synth.preds(pre) != [head]):
        return None
    if exit_ is not None and (exit_.successors != [tail] or synth.preds(exit_) != [body]):
        return None
    entry = pre or body
    guard = None
    if head.successors != [entry]:
        term = head.terminator
        if term.opcode != "br" or len(head.successors) != 2 or set(head.successors) != {entry, tail}:
            return None
        cond = term.operands[0]
        if not outer.loop.is_invariant(cond) or plan.source("p", cond, tail) == "tape":
            return None
        guard = (cond, head.successors[0] is entry)
    if set(synth.preds(tail)) != ({exit_ or body, head} if guard else {exit_ or body}):
        return None
    if id(body) in synth.deferred or any(id(cl) in synth.fast for cl in (inner, outer)):
        return None
    # nothing read from the tape in head and body: their reverse recomputes every value it needs
    # (exit's and tail's records are read in the order they were written: j going down)
    if any(synth.record_types(b) for b in (head, pre, body) if b is not None):
        return None
    if id(inner) not in plan.count_from or plan.edge_record(body, exit_ or tail) or plan.hoisted.get(id(inner)):
        return None
    ec = plan.count_from[id(inner)]
    if any(isinstance(v, Instruction) and v.block in outer.loop for v in (ec.bound, ec.start) if v is not None):
        return None  # the inner count must be the same for every j
    if any(v is not None and plan.source("p", v, tail) == "tape" for v in (ec.bound, ec.start)):
        return None  # (phase 1 computes it in tail's reverse)
    if any(id(i) in synth.words for b in blocks for i in b.instructions):
        return None
    before = (head, pre) if pre is not None else (head,)
    if any(act.is_varied(p) for b in before for p in b.phis()):
        return None  # carried from one j to the next: its adjoint would cross the phases
    after = (exit_, tail) if exit_ is not None else (tail,)
    for inst in [i for b in before + (body,) + after for i in b.instructions]:
        op = inst.opcode
        if op in _FORBIDDEN and not (op == "store" and inst.block in after):
            return None
        if op == "load" and (inst.info.get("volatile") or inst.info.get("atomic")):
            return None
        if op == "call" and not _pure_call(synth.module, inst):
            return None
    for phi in body.phis():
        if act.is_varied(phi) and not isinstance(act.adjoint_type(phi), T.FloatType):
            return None
    for inst in (i for b in after for i in b.instructions):
        if act.is_varied(inst) and any(u.block in blocks and u.block not in after for u in inst.users):
            return None
    if not _apart(synth, before + (body,), after):
        return None
    state = _state(synth, before, body)
    if state is None:
        return None
    return Nest(outer, inner, head, pre, body, exit_, tail, guard, state)


def _pure_call(module, inst: Instruction) -> bool:
    """A math function (sin, llvm.fmuladd) or an inactive intrinsic, given no pointer."""
    if any(isinstance(a.type, T.PointerType) for a in inst.args):
        return False
    kind = classify_call(module, inst)
    return kind is CallKind.MATH or (kind is CallKind.INACTIVE and (inst.callee_name or "").startswith("llvm."))


def _state(synth, before: tuple[Block, ...], body: Block) -> tuple[Instruction, ...] | None:
    """The values whose adjoints wait from one phase or (j, k) to the next: body's values used
    after body or carried by its phis, and every varied value of head and the preheader (their
    adjoints gather in all three phases)."""
    act = synth.act
    out: list[Instruction] = []
    latch_values = {id(v) for phi in body.phis() if act.is_varied(phi)
                    for v, src in phi.incoming() if src is body}
    for inst in [i for b in before for i in b.instructions] + body.instructions:
        if not act.is_varied(inst) or inst.is_terminator:
            continue
        if inst.block is not body or id(inst) in latch_values or any(u.block is not body for u in inst.users):
            ty = act.adjoint_type(inst)
            if not isinstance(ty, T.FloatType):
                return None
            out.append(inst)
    return tuple(out)


def _argument(synth, ptr) -> int | None:
    """The parameter index `ptr` points into, when it is based on one argument only."""
    objs = underlying_objects(ptr, synth.module)
    if len(objs) == 1 and isinstance(objs[0], Argument):
        return objs[0].index
    return None


def _apart(synth, adding: tuple[Block, ...], after: tuple[Block, ...]) -> bool:
    """Do tail's store shadows lie in other objects than body's load shadows, and every shadow the
    nest's reverse touches in other objects than the primal memory it reads (the call site's
    proof)? Additions into shadows (the reverses of loads) may meet: they commute."""
    act, apart = synth.act, synth.spec.apart

    def proved(a, b) -> bool:
        return a != b and (min(a, b), max(a, b)) in apart

    read, added, cleared, added_tail = set(), set(), set(), set()
    for blk, adds in [(b, added) for b in adding] + [(b, added_tail) for b in after]:
        for inst in blk.instructions:
            if inst.opcode not in ("load", "store"):
                continue
            ptr = inst.operands[0] if inst.opcode == "load" else inst.operands[1]
            k = _argument(synth, ptr)
            if k is None:
                return False
            if inst.opcode == "load":
                read.add(("p", k))
                if act.has_shadow(ptr) and act.is_varied(inst):
                    adds.add(("s", k))
            elif act.has_shadow(ptr):
                cleared.add(("s", k))
    shadows = added | cleared | added_tail
    return all(proved(c, a) for c in cleared for a in added) and \
        all(proved(s, p) for s in shadows for p in read)


# --- the reverse of a nest, interchanged (run by adcc.ad.adjoint.ReverseBuilder) ---------------

def emit_interchanged(rb, nest: Nest) -> None:
    """Emit the nest's reverse at the reverse block of its tail (entered with the outer counter
    at the last j) in the three phases of the module; it leaves through head's edge to outside
    (head's reverse for j = 0 is the last of phase 3).
    The scratch array lies above the tape's top (reserved, not pushed): phase 1 pops the records
    of tail and exit below it, and nothing pushes until the nest's reverse is done."""
    s, b, fn, act = rb.s, rb.b, rb.fn, rb.act
    ctr_j, ctr_k = rb.ctr[id(nest.outer)], rb.ctr[id(nest.inner)]
    one, zero = Builder.iconst(T.i64, 1), Builder.iconst(T.i64, 0)
    layout = RecordLayout([act.adjoint_type(v) for v in nest.state])
    stride = Builder.iconst(T.i64, layout.packed)
    first_new = len(fn.blocks)
    b.position_at_end(rb.rmap[id(nest.tail)])
    last_j = b.load(T.i64, ctr_j)
    buf = None
    if nest.state:
        nbytes = b.mul(b.add(last_j, one), stride)
        top = b.load(T.i64, b.byte_gep(rb.tape, 8), align=8)
        base = b.call("adcc.tape.reserve", T.ptr, [rb.tape, nbytes], declare=False)
        buf = b.byte_gep(base, top)

    def state_at() -> Value:
        return b.byte_gep(buf, b.mul(b.load(T.i64, ctr_j), stride))

    def count_down(ctr: Value, again: Block, done: Block) -> None:
        c = b.load(T.i64, ctr)
        nxt = fn.add_block(None)
        b.cond_br(b.icmp("eq", c, zero), done, nxt)
        b.position_at_end(nxt)
        b.store(b.sub(c, one), ctr)
        b.br(again)

    # 1. tail's (and exit's) reverse for every j; the adjoints body's reverse consumes wait in
    #    the scratch array
    phase1, phase2, outer_k, inner_j, latch_k, phase3 = (fn.add_block(None) for _ in range(6))
    b.br(phase1)
    b.position_at_end(phase1)
    _start(rb, nest.tail)
    _visit_reversed(rb, nest.tail)
    entered = None  # (with a guard: whether the inner loop ran; the same for every j)
    if nest.guard is not None:
        cond, on_true = nest.guard
        entered = rb.value("p", cond)
        if not on_true:
            entered = b.xor(entered, Builder.iconst(T.i1, 1))
    _flow_phis(rb, nest.tail, nest.exit or nest.body, entered, nest.head)
    if nest.exit is not None:
        _reverse_when_entered(rb, fn, nest.exit, entered, nest.tail, flow_to=nest.body)
    b.store(rb._last_iteration(s.plan.count_from[id(nest.inner)]), ctr_k)
    if buf is not None:
        layout.store_at(b, state_at(), [rb.take_adj(v) for v in nest.state])
    count_down(ctr_j, phase1, phase2)
    # 2. body's reverse, k going down outside, j going down inside
    b.position_at_end(phase2)
    if entered is not None:
        b.cond_br(entered, outer_k, phase3)
    else:
        b.br(outer_k)
    b.position_at_end(outer_k)
    b.store(last_j, ctr_j)
    b.br(inner_j)
    b.position_at_end(inner_j)
    _start(rb, nest.body)
    if buf is not None:
        at = state_at()
        for v, x in zip(nest.state, layout.load_at(b, at)):
            b.store(x, rb.slot(v))
    _visit_reversed(rb, nest.body)
    more = b.icmp("ne", b.load(T.i64, ctr_k), zero)  # else the phis' adjoints go to their starts
    _flow_phis(rb, nest.body, nest.body, more, nest.pre or nest.head)
    if buf is not None:
        layout.store_at(b, at, [rb.take_adj(v) for v in nest.state])
    count_down(ctr_j, inner_j, latch_k)
    b.position_at_end(latch_k)
    count_down(ctr_k, outer_k, phase3)
    # 3. the preheader's and head's reverse for every j (their values' adjoints in the scratch
    #    array), then out of the nest as before
    b.position_at_end(phase3)
    b.store(last_j, ctr_j)
    phase3_j, leave = fn.add_block(None), fn.add_block(None)
    b.br(phase3_j)
    b.position_at_end(phase3_j)
    _start(rb, nest.head)
    if buf is not None:
        at = state_at()
        for v, x in zip(nest.state, layout.load_at(b, at)):
            b.store(x, rb.slot(v))
    if nest.pre is not None:
        _reverse_when_entered(rb, fn, nest.pre, entered, nest.head)
    _visit_reversed(rb, nest.head)
    for v in nest.state:  # (all consumed: the slots start the next j at zero)
        rb.take_adj(v)
    count_down(ctr_j, phase3_j, leave)
    b.position_at_end(leave)
    _start(rb, nest.head)
    rb._edge(nest.head, nest.outer.outside, [])
    _scope_accesses(rb, [rb.rmap[id(nest.tail)]] + fn.blocks[first_new:])
    for blk in (nest.head, nest.pre, nest.body, nest.exit):
        if blk is None:
            continue
        b.position_at_end(rb.rmap[id(blk)])
        b.unreachable()  # the plain reverse blocks of head and body: never entered


def _flow_phis(rb, blk: Block, pred: Block, entered, skipped_from: Block | None = None) -> None:
    """The adjoints of blk's phis to their values from `pred` when the inner loop ran (`entered`,
    None: always), else to those from `skipped_from`."""
    b = rb.b
    for phi in (p for p in blk.phis() if rb.act.is_varied(p)):
        d = rb.take_adj(phi)
        zero = zero_of(d.type)
        for v, src in phi.incoming():
            if src is pred:
                rb.add_adj(v, d if entered is None else b.select(entered, d, zero))
            elif src is skipped_from and entered is not None:
                rb.add_adj(v, b.select(entered, zero, d))


def _scope_accesses(rb, blocks: list[Block]) -> None:
    """Tell the optimizer what the call site proved: the nest's reverse accesses of different
    objects (an argument's memory or its shadow, `spec.apart`) do not alias. One alias scope per
    object; an access gets its object's scope and `!noalias` the scopes of the objects proved apart
    from it, and the tape's (which the other accesses of the function get from mark_tape_noalias).
    Then the loop over j keeps A[i][k] and the sum for dA[i][k] in registers, and vectorizes."""
    module, apart = rb.module, rb.s.spec.apart
    objects = {}
    for a in rb.s.primal.args:
        for kind in ("p", "s"):
            got = rb.func_vals.get((kind, id(a)))
            if got is not None:
                objects[id(got)] = (kind, a.index)
    accesses = []
    for blk in blocks:
        for inst in blk.instructions:
            if inst.opcode not in ("load", "store") or inst.get_metadata("alias.scope") or inst.get_metadata("noalias"):
                continue
            objs = underlying_objects(inst.operands[0] if inst.opcode == "load" else inst.operands[1], module)
            if len(objs) == 1 and id(objs[0]) in objects:
                accesses.append((inst, objects[id(objs[0])]))
    keys = sorted({k for _, k in accesses})
    if not keys:
        return
    tape_scope(module)
    domain = module._free_metadata_id()
    lines = [f'!{domain} = distinct !{{!{domain}, !"adcc.interchange"}}']
    scope = {}
    for k in keys:
        n = module._free_metadata_id()
        lines.append(f'!{n} = distinct !{{!{n}, !{domain}, !"adcc.interchange.{k[0]}{k[1]}"}}')
        scope[k] = f"!{n}"
    module.add_text("\n".join(lines))
    lists: dict[tuple, str] = {}

    def node(members: list[str]) -> str:
        key = tuple(members)
        if key not in lists:
            n = module._free_metadata_id()
            module.add_text(f"!{n} = !{{{', '.join(members)}}}")
            lists[key] = f"!{n}"
        return lists[key]

    for inst, k in accesses:
        others = [scope[o] for o in keys if o != k and (min(o, k), max(o, k)) in apart]
        inst.metadata.append(("alias.scope", node([scope[k]])))
        inst.metadata.append(("noalias", node([module._adcc_tape_scope_node] + others)))


def _start(rb, blk: Block) -> None:
    """What _emit_block does on entering a block's reverse: pop its record (a block index, if
    any, is not needed: the nest's shape says where the reverse goes)."""
    s = rb.s
    rb.blk = blk
    rb.deferring = None
    rb.waiting = {}
    types, keys = [], []
    if len(s.preds(blk)) > 1 and s.plan.counted_header(blk) is None and id(blk) not in s.plan.choice:
        types.append(T.i32)
        keys.append(("idx", None))
    for kind, v in s.plan.taped[id(blk)]:
        types.append(key_type(kind, v))
        keys.append((kind, v))
    rb.cur = {}
    for (kind, v), x in zip(keys, RecordLayout(types).pop(rb.b, rb.tape)):
        if kind != "idx":
            rb.cur[(kind, id(v))] = rb._passive(kind, v, x)
    for kind, v in s.needs[id(blk)]:
        rb.value(kind, v)


def _visit_reversed(rb, blk: Block) -> None:
    for inst in reversed(blk.instructions):
        if inst.opcode not in ("phi", "#dbg") and not inst.is_terminator:
            rb.visit(inst)


def _reverse_when_entered(rb, fn, blk, entered, resume, flow_to=None) -> None:
    """The reverse of `blk` in blocks of its own, run only when the nest was entered (`entered`,
    or always when None); afterwards the builder goes on as `resume`'s reverse, with the values it
    had before (what `blk`'s reverse materializes does not dominate what follows)."""
    b = rb.b
    values = rb.cur
    run, done = fn.add_block(None), fn.add_block(None)
    if entered is not None:
        b.cond_br(entered, run, done)
    else:
        b.br(run)
    b.position_at_end(run)
    _start(rb, blk)
    _visit_reversed(rb, blk)
    if flow_to is not None:
        _flow_phis(rb, blk, flow_to, None)
    b.br(done)
    b.position_at_end(done)
    rb.blk, rb.cur = resume, values
