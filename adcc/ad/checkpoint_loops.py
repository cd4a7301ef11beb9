"""Long loops in bounded memory, before reverse-mode synthesis: a loop whose tape could grow without
bound is outlined so that its reverse can checkpoint it (adcc.ad.rules.checkpoint).

A candidate is an outermost loop of the function being differentiated in reverse mode with a
preheader, one latch that is also its only exiting block, active state, and a body that touches
no memory: pure arithmetic and math calls on values that are either carried from the previous
iteration (the header's phis) or invariant (defined before the loop). Its whole state is then the
phis, so that one iteration is a function of a small buffer of known size: the body moves, block
for block, into `i1 body(ptr state, captured...)`, which loads the phis from the state buffer,
runs one iteration, stores the next values of the phis and the values the code after the loop
uses into the buffer, and answers whether the loop goes on. The loop itself becomes

    store the phis' entry values into %state (an alloca of the caller)
    call void (ptr, ptr, ...) @adcc.checkpointed_loop(ptr @body, ptr %state, captured...)
    load the values used after the loop from %state

Loops that read or write memory, or call anything but math functions, stay as they are (taped in
full). The loop's iterations run as a do-while, as LLVM's rotated loops do; the marker call has no
definition: only the reverse-mode synthesizer sees this copy of the function.
"""
from __future__ import annotations

from adcc.analysis.activity import ActivityAnalysis, is_floatish
from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.cfg import LoopInfo
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Argument, Block, Constant, Function, Instruction, Value

MARKER = "adcc.checkpointed_loop"
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


def state_bytes(module, body: str) -> int:
    """The size of the state buffer of outlined body `body`."""
    return _state_sizes(module)[body]


def _value_type_ok(module, v: Value) -> bool:
    ty = v.type
    if isinstance(ty, T.VectorType):
        ty = ty.elem
    return isinstance(ty, T.IntType) or is_floatish(module, ty)


def _candidate(module, act: ActivityAnalysis, lp) -> bool:
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
            if inst.opcode in MEMORY_OPS:
                return False
            if inst.opcode == "call" and not _pure_call(module, inst):
                return False
            if inst.opcode == "#dbg":
                continue
            size += inst.opcode != "phi"
            floats = floats or is_floatish(module, inst.type)
            for op in inst.operands:
                if lp.is_invariant(op) and isinstance(op, (Instruction, Argument)) and not _captured_ok(module, act, op):
                    return False
            if any(u.block is not None and u.block not in lp for u in inst.users) and \
                    (not _value_type_ok(module, inst) or _active_integer(act, inst)):
                return False
    phis = lp.header.phis()
    if any(not _value_type_ok(module, p) or _active_integer(act, p) for p in phis):
        return False
    return size >= MIN_BODY and floats and any(act.is_varied(p) for p in phis)


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
    # values used after the loop
    outputs: list[Instruction] = []
    for blk in lp.blocks:
        for inst in blk.instructions:
            if any(u.block is not None and u.block not in in_loop for u in inst.users):
                outputs.append(inst)
    # the state buffer: the phis, then the outputs
    offsets: dict[int, int] = {}
    off, align = 0, 8
    for v in [*phis, *outputs]:
        a = layout.align_of(module, v.type)
        off = (off + a - 1) // a * a
        offsets[id(v)] = off
        off += layout.alloc_size(module, v.type)
        align = max(align, a)
    state_bytes = max((off + 7) // 8 * 8, 8)

    body = Function(module.unique_name(BODY_PREFIX + fn.fname.strip('"')), T.i1,
                    [T.ptr, *(v.type for v in captured)], linkage="internal",
                    attributes=module.target_attributes(fn.fname))
    module.add_function(body)
    _state_sizes(module)[body.fname] = state_bytes
    state_arg, cap_args = body.args[0], body.args[1:]
    entry = body.add_block("entry")
    bb = Builder(module, body).position_at_end(entry)
    loaded = {id(p): bb.load(p.type, bb.byte_gep(state_arg, offsets[id(p)]), align=layout.align_of(module, p.type))
              for p in phis}
    bb.br(header)
    next_values = [(p, next(v for v, b in p.incoming() if b is latch)) for p in phis]
    entry_values = [(p, next(v for v, b in p.incoming() if b is pre)) for p in phis]
    cond, on_true = _latch_condition(latch, header)
    # move the loop's blocks
    for blk in lp.blocks:
        fn.blocks.remove(blk)
        blk.function = body
        body.blocks.append(blk)
        for inst in list(blk.instructions):
            if inst.opcode == "#dbg":
                inst.erase()
                continue
            inst.metadata = [(k, v) for k, v in inst.metadata if k != "dbg"]
    # uses after the loop read the state buffer after the marker call (the caller side, below)
    after: list[tuple[Instruction, int, Instruction]] = []
    for v in outputs:
        for u, k in list(v.uses):
            if u.block is not None and u.block.function is fn:
                after.append((u, k, v))
    for k, v in enumerate(captured):
        for u, slot in list(v.uses):
            if u.block is not None and u.block.function is body:
                u.set_operand(slot, cap_args[k])
    # the latch: store the next state and the outputs, answer whether the loop goes on
    term = latch.terminator
    exit_block = next(s for s in term.successors if s is not header)
    term.erase()
    bl = Builder(module, body).position_at_end(latch)
    for p, v in next_values:
        bl.store(_in_body(v, cap_args, captured), bl.byte_gep(state_arg, offsets[id(p)]),
                 align=layout.align_of(module, p.type))
    for v in outputs:
        bl.store(v, bl.byte_gep(state_arg, offsets[id(v)]), align=layout.align_of(module, v.type))
    go_on = _in_body(cond, cap_args, captured)
    if not on_true:
        go_on = bl.xor(go_on, Builder.iconst(T.i1, 1))
    bl.ret(go_on)
    for p in phis:
        p.replace_all_uses_with(loaded[id(p)])
        p.erase()

    # the caller: the marker call in the preheader, then on to the exit
    pterm = pre.terminator
    bp = Builder(module, fn).position_before(pterm)
    state = Builder(module, fn).alloca_in_entry(T.ArrayType(state_bytes // 8, T.i64), align=align)
    for p, v in entry_values:
        bp.store(v, bp.byte_gep(state, offsets[id(p)]), align=layout.align_of(module, p.type))
    fnty = T.FunctionType(T.void, (T.ptr, T.ptr), True)
    from adcc.ir.values import GlobalRef
    bp.call(MARKER, T.void, [GlobalRef(body.fname), state, *captured], fnty=fnty)
    reloaded = {id(v): bp.load(v.type, bp.byte_gep(state, offsets[id(v)]), align=layout.align_of(module, v.type))
                for v in outputs}
    for u, k, v in after:
        u.set_operand(k, reloaded[id(v)])
    for k, op in enumerate(pterm.operands):
        if op is header:
            pterm.set_operand(k, exit_block)
    for phi in exit_block.phis():
        for k, op in enumerate(phi.operands):
            if op is latch:
                phi.set_operand(k, pre)


def _latch_condition(latch: Block, header: Block) -> tuple[Value, bool]:
    """The latch's condition, and whether the loop goes on when it is true."""
    cond, on_true, _ = latch.terminator.operands
    return cond, on_true is header


def _in_body(v: Value, cap_args, captured) -> Value:
    for k, c in enumerate(captured):
        if c is v:
            return cap_args[k]
    return v
