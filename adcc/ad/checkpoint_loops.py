"""Long loops in bounded memory, before reverse-mode synthesis: a loop whose tape could grow without
bound is outlined so that its reverse can checkpoint it (adcc.ad.rules.checkpoint).

A candidate is an outermost loop of the function being differentiated in reverse mode with a
preheader, one latch that is also its only exiting block, active state, and a body that touches
no memory: pure arithmetic and math calls on values that are either carried from the previous
iteration (the header's phis) or invariant (defined before the loop). Its whole state is then the
phis, so that one iteration is a function of a small buffer of known size: the body is cloned into
`i1 body(ptr state, captured...)`, which loads the phis from the state buffer,
runs one iteration, stores the next values of the phis and the values the code after the loop
uses into the buffer, and answers whether the loop goes on. The checkpointed version of the loop is

    store the phis' entry values into %state (an alloca of the caller)
    call void (ptr, ptr, ...) @adcc.checkpointed_loop(ptr @body, ptr %state, captured...)
    load the values used after the loop from %state

The loop stays too: at its entry, `adcc.checkpoint_wanted(@body, trip count)` chooses between it
(taped in full, as before: a loop under the limit loses nothing) and the marker call, and both
paths meet at the exit. Loops that read or write memory, or call anything but math functions, stay
as they are. The body runs an iteration as a do-while, as LLVM's rotated loops do; the markers have
no definition: only the reverse-mode synthesizer sees this copy of the function.
"""
from __future__ import annotations

from adcc.analysis.activity import ActivityAnalysis, is_floatish
from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.cfg import LoopInfo
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder, add_incoming
from adcc.ir.values import Argument, Block, Function, GlobalRef, Instruction, Value

MARKER = "adcc.checkpointed_loop"
WANTED = "adcc.checkpoint_wanted"
BODY_PREFIX = "adcc.ckpt.body."
MIN_BODY = 24  # instructions below which a loop's tape stays small next to the cost of its driver
MEMORY_OPS = frozenset({"load", "store", "alloca", "atomicrmw", "cmpxchg", "fence", "va_arg", "invoke",
                        "callbr", "landingpad", "resume", "indirectbr", "ret", "unreachable", "catchswitch",
                        "catchret", "cleanupret", "catchpad", "cleanuppad"})
PURE_INTRINSICS = ("llvm.assume", "llvm.expect.", "llvm.smax.", "llvm.smin.", "llvm.umax.", "llvm.umin.",
                   "llvm.abs.")


def reverse_primal(ctx, spec) -> Function:
    """The private copy of `spec`'s function that reverse mode differentiates: the prepared one,
    or, when it has candidate loops and checkpointing is on, a copy with those loops outlined."""
    from adcc.ad.prepare import fresh_prepared_function, prepared_function
    module = ctx.module
    plain = prepared_function(module, spec.name)
    limit = getattr(ctx.options, "tape_limit", 0)
    if limit is None or limit < 0 or spec.width != 1 or spec.parallel or spec.replay or spec.error or \
            getattr(ctx, "nested", False) or spec.name.startswith(BODY_PREFIX):
        return plain
    cache = getattr(module, "_adcc_checkpointed", None)
    if cache is None:
        cache = module._adcc_checkpointed = {}
    if spec not in cache:
        if not any(_shape_ok(module, lp) for lp in LoopInfo(plain).top_level):
            cache[spec] = plain  # (no copy to make)
            return plain
        copy = fresh_prepared_function(module, spec.name)
        cache[spec] = copy if outline_checkpointed_loops(module, copy, spec) else plain
    return cache[spec]


def outline_checkpointed_loops(module, fn: Function, spec) -> int:
    """Outline every candidate loop of `fn` (a private, prepared copy; see the module); the count."""
    if fn.fname.startswith(BODY_PREFIX):
        return 0
    act = ActivityAnalysis(module, fn, spec)
    found = 0
    for lp in LoopInfo(fn).top_level:
        if _candidate(module, act, lp):
            _outline(module, fn, lp)
            found += 1
    return found


def _state_sizes(module) -> dict[str, int]:
    sizes = getattr(module, "_adcc_checkpoint_states", None)
    if sizes is None:
        sizes = module._adcc_checkpoint_states = {}
    return sizes


def _loops(module) -> dict[str, list[Block]]:
    loops = getattr(module, "_adcc_checkpoint_loops", None)
    if loops is None:
        loops = module._adcc_checkpoint_loops = {}
    return loops


def loop_blocks(module, body: str) -> list[Block]:
    """The blocks of the loop (in the caller's private copy) that outlined body `body` runs."""
    return _loops(module)[body]


def state_bytes(module, body: str) -> int:
    """The size of the state buffer of outlined body `body`."""
    return _state_sizes(module)[body]


def _value_type_ok(module, v: Value) -> bool:
    ty = v.type
    if isinstance(ty, T.VectorType):
        ty = ty.elem
    return isinstance(ty, T.IntType) or is_floatish(module, ty)


def _shape_ok(module, lp) -> bool:
    """Everything a candidate needs but activity: a rotated loop with one exit, no memory, big enough."""
    if lp.preheader is None or len(lp.latches) != 1 or lp.exiting != lp.latches:
        return False
    latch = lp.latches[0]
    term = latch.terminator
    if term is None or term.opcode != "br" or len(term.operands) != 3 or lp.header not in term.successors:
        return False
    if lp.preheader.terminator is None or lp.preheader.terminator.successors != [lp.header]:
        return False
    size, floats = 0, False
    for blk in lp.blocks:
        for inst in blk.instructions:
            if inst.opcode in MEMORY_OPS or (inst.opcode == "call" and not _pure_call(module, inst)):
                return False
            if inst.opcode == "#dbg":
                continue
            size += inst.opcode != "phi"
            floats = floats or is_floatish(module, inst.type)
            if any(u.block is not None and u.block not in lp for u in inst.users) and not _value_type_ok(module, inst):
                return False
    exit_block = next(s for s in term.successors if s is not lp.header)
    if len(exit_block.predecessors) > 1 and any(
            u.block is not None and u.block not in lp and not (u.opcode == "phi" and u.block is exit_block)
            for blk in lp.blocks for inst in blk.instructions for u in inst.users):
        return False  # (a value used past an exit that other paths reach too: not in LCSSA form)
    return size >= MIN_BODY and floats and all(_value_type_ok(module, p) for p in lp.header.phis())


def _candidate(module, act: ActivityAnalysis, lp) -> bool:
    if not _shape_ok(module, lp):
        return False
    for blk in lp.blocks:
        for inst in blk.instructions:
            for op in inst.operands:
                if lp.is_invariant(op) and isinstance(op, (Instruction, Argument)) and not _captured_ok(module, act, op):
                    return False
            if _active_integer(act, inst) and any(u.block is not None and u.block not in lp for u in inst.users):
                return False
    phis = lp.header.phis()
    return not any(_active_integer(act, p) for p in phis) and any(act.is_varied(p) for p in phis)


def _active_integer(act, v: Value) -> bool:
    return act.is_varied(v) and not is_floatish(act.module, v.type)


def _captured_ok(module, act, v: Value) -> bool:
    if isinstance(v.type, T.PointerType):
        return True
    return _value_type_ok(module, v) and not _active_integer(act, v)


def _pure_call(module, inst: Instruction) -> bool:
    if any(isinstance(a.type, T.PointerType) for a in inst.args):
        return False  # (frexp, sincos and the like write through their pointers)
    name = (inst.callee_name or "").strip('"')
    if name.startswith(PURE_INTRINSICS):
        return True
    return classify_call(module, inst) is CallKind.MATH


def _outline(module, fn: Function, lp) -> None:
    header, latch, pre = lp.header, lp.latches[0], lp.preheader
    phis = header.phis()
    in_loop = set(lp.blocks)
    # values defined outside the loop that it uses: arguments of the body
    captured: list[Value] = []
    seen: set[int] = set()
    for blk in lp.blocks:
        for inst in blk.instructions:
            ops = [v for v, b in inst.incoming() if b is not pre] if inst.block is header and inst.opcode == "phi" \
                else inst.operands  # (an entry value of a phi goes into the state, not into the body)
            for op in ops:
                if isinstance(op, (Instruction, Argument)) and lp.is_invariant(op) and id(op) not in seen:
                    seen.add(id(op))
                    captured.append(op)
    outputs = [inst for blk in lp.blocks for inst in blk.instructions
               if any(u.block is not None and u.block not in in_loop for u in inst.users)]
    # the state buffer: the phis (their values at an iteration's start), then the outputs (values
    # of the last iteration the code after the loop uses)
    phi_at: dict[int, int] = {}
    out_at: dict[int, int] = {}
    off, align = 0, 8
    for v, slots in [*((p, phi_at) for p in phis), *((v, out_at) for v in outputs)]:
        a = layout.align_of(module, v.type)
        off = (off + a - 1) // a * a
        slots[id(v)] = off
        off += layout.alloc_size(module, v.type)
        align = max(align, a)
    state_bytes = max((off + 7) // 8 * 8, 8)
    body = _clone_body(module, fn, lp, captured, outputs, phi_at, out_at)
    _state_sizes(module)[body.fname] = state_bytes
    _loops(module)[body.fname] = lp.blocks
    _version(module, fn, lp, body, captured, outputs, phi_at, out_at, state_bytes, align)


def _clone_body(module, fn: Function, lp, captured: list[Value], outputs: list[Instruction],
                phi_at: dict[int, int], out_at: dict[int, int]) -> Function:
    """`i1 body(ptr state, captured...)`: one iteration of the loop, from and into the state."""
    header, latch = lp.header, lp.latches[0]
    body = Function(module.unique_name(BODY_PREFIX + fn.fname.strip('"')), T.i1,
                    [T.ptr, *(v.type for v in captured)], linkage="internal",
                    attributes=module.target_attributes(fn.fname))
    module.add_function(body)
    state = body.args[0]
    vmap: dict[int, Value] = {id(c): a for c, a in zip(captured, body.args[1:])}
    b = Builder(module, body).position_at_end(body.add_block("entry"))
    for p in header.phis():
        vmap[id(p)] = b.load(p.type, b.byte_gep(state, phi_at[id(p)]), align=layout.align_of(module, p.type))
    bmap = {id(blk): body.add_block(blk.name) for blk in lp.blocks}
    b.br(bmap[id(header)])
    clones: list[Instruction] = []
    for blk in lp.blocks:
        b.position_at_end(bmap[id(blk)])
        for inst in blk.instructions:
            if inst.opcode == "#dbg" or (blk is header and inst.opcode == "phi") or inst is latch.terminator:
                continue
            new = b.clone(inst, list(inst.operands))
            vmap[id(inst)] = new
            clones.append(new)
    for new in clones:
        for k, op in enumerate(new.operands):
            mapped = vmap.get(id(op)) or bmap.get(id(op))
            if mapped is not None:
                new.set_operand(k, mapped)
    # the latch: the next state and the outputs, and whether the loop goes on
    b.position_at_end(bmap[id(latch)])
    stores = [(vmap.get(id(v), v), phi_at[id(p)]) for p in header.phis()
              for v, blk in p.incoming() if blk is latch]
    stores += [(vmap[id(v)], out_at[id(v)]) for v in outputs]
    for v, at in stores:
        b.store(v, b.byte_gep(state, at), align=layout.align_of(module, v.type))
    cond, on_true, _ = latch.terminator.operands
    go_on = vmap.get(id(cond), cond)
    if on_true is not header:
        go_on = b.xor(go_on, Builder.iconst(T.i1, 1))
    b.ret(go_on)
    return body


def _version(module, fn: Function, lp, body: Function, captured: list[Value], outputs: list[Instruction],
             phi_at: dict[int, int], out_at: dict[int, int], state_bytes: int, align: int) -> None:
    """The caller: at the loop's entry, `adcc.checkpoint_wanted(@body, trip count)` chooses between
    the loop itself (taped in full) and the marker call; both reach the exit with the same values."""
    header, latch, pre = lp.header, lp.latches[0], lp.preheader
    exit_block = next(s for s in latch.terminator.successors if s is not header)
    tag = body.fname[len(BODY_PREFIX):]
    taped = fn.add_block(f"ckpt.taped.{tag}", after=pre)
    run = fn.add_block(f"ckpt.run.{tag}", after=pre)
    b = Builder(module, fn).position_before(pre.terminator)
    want = b.call(WANTED, T.i1, [GlobalRef(body.fname), _trip_count(b, lp)],
                  fnty=T.FunctionType(T.i1, (T.ptr, T.i64), False))
    entry_values = [(p, next(v for v, blk in p.incoming() if blk is pre)) for p in header.phis()]
    pre.terminator.erase()
    b.position_at_end(pre).cond_br(want, run, taped)
    b.position_at_end(taped).br(header)
    for p in header.phis():
        for k, op in enumerate(p.operands):
            if op is pre:
                p.set_operand(k, taped)
    b.position_at_end(run)
    state = Builder(module, fn).alloca_in_entry(T.ArrayType(state_bytes // 8, T.i64), align=align)
    for p, v in entry_values:
        b.store(v, b.byte_gep(state, phi_at[id(p)]), align=layout.align_of(module, p.type))
    b.call(MARKER, T.void, [GlobalRef(body.fname), state, *captured], fnty=T.FunctionType(T.void, (T.ptr, T.ptr), True))
    reloaded = {id(v): b.load(v.type, b.byte_gep(state, out_at[id(v)]), align=layout.align_of(module, v.type))
                for v in outputs}
    b.br(exit_block)
    exit_phis = exit_block.phis()
    for phi in exit_phis:
        v = next(v for v, blk in phi.incoming() if blk is latch)
        add_incoming(phi, reloaded.get(id(v), v), run)
    in_loop = set(lp.blocks)
    for v in outputs:
        uses = [(u, k) for u, k in v.uses if u.block is not None and u.block not in in_loop and u not in exit_phis]
        if not uses:
            continue
        merge = Builder(module, fn).position_before(exit_block.instructions[0]).phi(v.type, [(v, latch), (reloaded[id(v)], run)])
        for u, k in uses:
            u.set_operand(k, merge)


def _trip_count(b: Builder, lp) -> Value:
    """The loop's header executions as an i64 at its entry, or -1 when unknown (then the
    checkpointed version runs, measuring its steps' records itself)."""
    from adcc.ad.support import convert
    from adcc.analysis.cfg import trip_count
    trip = trip_count(lp)
    if trip is None or trip.start is not None:
        return Builder.iconst(T.i64, -1)
    if trip.bound is None:
        return Builder.iconst(T.i64, max(trip.offset, 1))
    bound = trip.bound if trip.bound.type == T.i64 else convert(b, trip.bound, T.i64)
    return b.add(bound, Builder.iconst(T.i64, trip.offset))
