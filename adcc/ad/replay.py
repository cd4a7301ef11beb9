"""Split forward mode (`__enzyme_fwdsplit`): a tangent pass that replays a recorded run.

`__enzyme_augmentfwd` of a function the module also passes to `__enzyme_fwdsplit` runs the
*record* flavour of f: the primal itself, which logs into the tape (runtime/adcc_runtime.h,
`adcc_replay_*`) every value its call tree loads (atomics included) and the result of every call
it does not enter (malloc, printf, external functions; see `replayed_call`). `__enzyme_fwdsplit` runs the *replay*
flavour: f's forward derivative in which each of those values is read back from the log instead
of being loaded or called. Stores, memcpy, memset and free act on shadows only, so the tangent
pass neither reads nor writes the primal's memory (Enzyme lets the caller pass NULL primals) and
has no side effect of the primal's. Pure arithmetic and libm calls are recomputed from the
replayed values, so both flavours meet the log's entries in the same order: they are the same
prepared function, with the same classification of every call.

Both are `ForwardSynthesizer`s with a `FunctionSpec.replay` flavour (cached like any forward
function; callees inherit the flavour through `callee_spec`).
"""
from __future__ import annotations

from adcc.ad.common import INDIRECT_MISS, check_atomic, convert, indirect_candidates, message_constant, unsupported
from adcc.ad.forward import ForwardSynthesizer
from adcc.ad.rules.custom_split import split_rule
from adcc.ad.srcloc import location_of
from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import GlobalRef, Instruction, Value

NOT_LOGGED = (CallKind.DEFINED, CallKind.MATH, CallKind.MEMCPY, CallKind.MEMSET, CallKind.FREE)


def replayed_call(module, inst: Instruction) -> bool:
    """Whether the record pass logs this call's result and the replay reads it back (rather than
    entering the callee, recomputing a math function, or acting on shadows only)."""
    return not isinstance(inst.type, T.VoidType) and classify_call(module, inst) not in NOT_LOGGED


def _word(ty: T.Type) -> bool:
    """Values logged as one 64-bit word (others go through memory)."""
    return isinstance(ty, T.PointerType) or isinstance(ty, (T.IntType, T.FloatType)) and ty.bits <= 64


CURSOR = "adcc_replay_at"  # runtime/adcc_runtime.h: this thread's {next, end} in the current log
CURSOR_TYPE = T.StructType((T.ptr, T.ptr))


def _cursor(b: Builder) -> tuple[Value, Value, Value]:
    """(the cursor's address, next, end)."""
    module = b.module
    if CURSOR not in module.globals:
        module.add_global(CURSOR, f"@{CURSOR} = external thread_local global {CURSOR_TYPE}, align 8", CURSOR_TYPE,
                          False, "external")
    at = b.call("llvm.threadlocal.address.p0", T.ptr, [GlobalRef(CURSOR)])
    return at, b.load(T.ptr, at, align=8), b.load(T.ptr, b.byte_gep(at, 8), align=8)


def _fast_path(b: Builder, fast, slow) -> Value | None:
    """Inline: while the word fits (`next + 8 <= end`) `fast(b, next)` and advance; else `slow(b)`
    (the runtime grows the log or reports its end). Returns the value they give, if any."""
    at, nxt, end = _cursor(b)
    after = b.byte_gep(nxt, 8)
    fn = b.block.function
    yes = fn.add_block(None, after=b.block)
    no = fn.add_block(None, after=yes)
    done = fn.add_block(None, after=no)
    b.cond_br(b.icmp("ule", after, end), yes, no)
    b.position_at_end(yes)
    quick = fast(b, nxt)
    b.store(after, at, align=8)
    b.br(done)
    b.position_at_end(no)
    called = slow(b)
    b.br(done)
    b.position_at_end(done)
    return None if quick is None else b.phi(quick.type, [(quick, yes), (called, no)])


def log_value(b: Builder, v: Value) -> None:
    ty = v.type
    if not _word(ty):
        slot = b.alloca_in_entry(ty, align=16)
        b.store(v, slot)
        b.call("adcc_replay_put_bytes", T.void, [slot, Builder.iconst(T.i64, layout.alloc_size(b.module, ty))])
        return
    if isinstance(ty, T.PointerType):
        bits = b.cast("ptrtoint", v, T.i64)
    else:
        bits = b.cast("bitcast", v, T.IntType(ty.bits)) if isinstance(ty, T.FloatType) else v
        if ty.bits < 64:
            bits = b.cast("zext", bits, T.i64)
    def store(fb: Builder, at: Value) -> None:
        fb.store(bits, at, align=1)

    _fast_path(b, store, lambda sb: sb.call("adcc_replay_put", T.void, [bits]))


def read_value(b: Builder, ty: T.Type) -> Value:
    if not _word(ty):
        slot = b.alloca_in_entry(ty, align=16)
        b.call("adcc_replay_get_bytes", T.void, [slot, Builder.iconst(T.i64, layout.alloc_size(b.module, ty))])
        return b.load(ty, slot)
    bits = _fast_path(b, lambda fb, at: fb.load(T.i64, at, align=1), lambda sb: sb.call("adcc_replay_get", T.i64, []))
    if isinstance(ty, T.PointerType):
        return b.cast("inttoptr", bits, ty)
    if ty.bits < 64:
        bits = b.cast("trunc", bits, T.IntType(ty.bits))
    return b.cast("bitcast", bits, ty) if isinstance(ty, T.FloatType) else bits


def record_spec(name: str, nargs: int) -> FunctionSpec:
    return FunctionSpec(name, (Activity.CONST,) * nargs, False, False, Mode.FORWARD, replay="record")


class RecordSynthesizer(ForwardSynthesizer):
    """The primal, logging every load and every `replayed_call` result; callees record too. A
    plain copy of the primal: no activity is consulted (it carries no derivative)."""

    def visit(self, inst: Instruction) -> None:
        op = inst.opcode
        if op == "#dbg":
            return
        if op == "phi":
            new = self.b.phi(inst.type, name=inst.name)
            self.vmap[id(inst)] = new
            self.pending_phis.append((inst, new, "p", 0))
        elif op == "call":
            self._call(inst)
        elif op == "ret":
            self.b.ret(self.p(inst.operands[0]) if inst.operands else None)
        else:
            new = self._clone(inst)
            if op in ("load", "atomicrmw", "cmpxchg"):
                log_value(self.b, new)

    def _call(self, inst: Instruction) -> None:
        rule = _split_rule(self.module, inst)
        if rule is not None:  # the program's split forward rule: its tape and f's result are logged
            tape, primal = rule.augment(self.b, [self.p(a) for a in inst.args])
            if primal is None:
                primal = self._clone_primal(inst)
            self.vmap[id(inst)] = primal
            log_value(self.b, tape)
            log_value(self.b, primal)
            return
        kind = classify_call(self.module, inst)
        if kind is CallKind.DEFINED:
            self._record_defined(inst, inst.callee_name)
        elif kind is CallKind.INDIRECT:
            self._record_indirect(inst)
        else:
            self._primal_call(inst)

    def _record_defined(self, inst: Instruction, name: str) -> Value | None:
        callee = self.module.function(name)
        fn = self.ctx.forward_function(record_spec(name, len(callee.args)))
        args = [convert(self.b, self.p(a), p.type) for a, p in zip(inst.args, callee.args)]
        r = self.b.call(fn, callee.ret_type, args)
        if isinstance(callee.ret_type, T.VoidType):
            return None
        self.vmap[id(inst)] = r
        return r

    def _record_indirect(self, inst: Instruction) -> None:
        """Dispatched over the same candidates as the tangent pass (ForwardSynthesizer._call_indirect):
        a defined callee records, a memory function's result is logged."""
        cands = indirect_candidates(self.module, inst.info["fn_type"])
        if not cands:
            raise unsupported(self.module, inst, "__enzyme_fwdsplit: an indirect call that reaches no function of "
                                                 "this module whose address is taken")
        fp, b = self.p(inst.callee), self.b
        cont = self.fn.add_block(None, after=b.block)
        arms: list[tuple[Value | None, object]] = []
        for name, kind in cands:
            hit = self.fn.add_block(None, after=b.block)
            miss = self.fn.add_block(None, after=hit)
            b.cond_br(b.icmp("eq", fp, GlobalRef(name)), hit, miss)
            b.position_at_end(hit)
            r = self._record_defined(inst, name) if kind is CallKind.DEFINED else self._primal_call(inst)
            arms.append((r, b.block))
            b.br(cont)
            b.position_at_end(miss)
        b.call("adcc_fatal", T.void, [message_constant(self.module, INDIRECT_MISS)])
        b.unreachable()
        b.position_at_end(cont)
        if not isinstance(inst.type, T.VoidType):
            self.vmap[id(inst)] = b.phi(inst.type, [(r, blk) for r, blk in arms])

    def _primal_call(self, inst: Instruction) -> Value | None:
        new = self._clone_primal(inst)
        if replayed_call(self.module, inst):
            log_value(self.b, new)
        return new


class ReplaySynthesizer(ForwardSynthesizer):
    """f's forward derivative over the log: loads and `replayed_call` results are read back,
    the primal's memory is neither read nor written."""

    def visit(self, inst: Instruction) -> None:
        op = inst.opcode
        if op == "load":
            new = read_value(self.b, inst.type)
            self.vmap[id(inst)] = new
            return self._load(inst, new)
        if op == "store":
            return self._store(inst)
        if op in ("atomicrmw", "cmpxchg"):  # the value it read is logged; the shadow gets the same update
            check_atomic(self.module, self.act, inst)
            self.vmap[id(inst)] = read_value(self.b, inst.type)
            return self._atomic_shadow(inst)
        return super().visit(inst)

    def _call(self, inst: Instruction) -> None:
        rule = _split_rule(self.module, inst)
        if rule is not None:
            return self._split_rule(inst, rule)
        kind = classify_call(self.module, inst)
        name = (inst.callee_name or "").strip('"')
        if kind is CallKind.DEFINED:
            self._call_defined(inst, inst.callee_name)  # entered even when inactive: its loads are logged
            return
        if kind is CallKind.ENZYME:
            raise unsupported(self.module, inst, f"__enzyme_fwdsplit: a nested '{name}' is not supported in split "
                                                 f"forward mode yet")
        pointers = any(isinstance(a.type, T.PointerType) for a in inst.args)
        if kind is CallKind.MATH and pointers:
            raise unsupported(self.module, inst, f"__enzyme_fwdsplit: '{name}' writes through a pointer, which split "
                                                 f"forward mode does not support yet")
        if kind is CallKind.RULE and self._call_is_active(inst):
            from adcc.ad.rules.calls import call_rule_for
            if pointers or not call_rule_for(self.module, inst.callee_name).supports(reverse=False):
                raise unsupported(self.module, inst, f"__enzyme_fwdsplit: the call to '{name}' has a rule that split "
                                                     f"forward mode cannot replay (only forward rules on values are "
                                                     f"supported)")
            if not isinstance(inst.type, T.VoidType):
                read_value(self.b, inst.type)  # the rule recomputes its primal: skip the logged result
        super()._call(inst)

    def _split_rule(self, inst: Instruction, rule) -> None:
        """The program's split forward rule: the recorded tape and result, the tangent from `split`."""
        if self.W != 1:
            raise unsupported(self.module, inst, f"__enzyme_fwdsplit: enzyme_width with the split forward rule of "
                                                 f"'{inst.callee_name.strip(chr(34))}' is not supported yet")
        tape = read_value(self.b, T.ptr)
        self.vmap[id(inst)] = read_value(self.b, rule.result)
        t = rule.tangent(self.b, [self.p(a) for a in inst.args], [self.tz(a, 0) for a in inst.args], tape)
        if self.act.is_varied(inst):
            self.tmap[id(inst)] = [t]

    def _primal_call(self, inst: Instruction) -> Value | None:
        kind = classify_call(self.module, inst)
        if kind is CallKind.MATH:
            return self._clone_primal(inst)
        if replayed_call(self.module, inst):
            new = read_value(self.b, inst.type)
        elif kind in (CallKind.MEMCPY, CallKind.MEMSET) and not isinstance(inst.type, T.VoidType):
            new = self.p(inst.args[0])  # (memcpy returns its destination)
        else:
            return None  # memcpy, memset, free, void calls: no primal effect
        self.vmap[id(inst)] = new
        return new


def _split_rule(module, inst: Instruction):
    name = inst.callee_name
    return split_rule(module, name, location_of(module, inst)) if name else None


REPLAY_SYNTHESIZERS = {"record": RecordSynthesizer, "replay": ReplaySynthesizer}
