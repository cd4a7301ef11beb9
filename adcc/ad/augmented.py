"""The augmented forward function of reverse mode: the primal, plus shadow memory, plus the
tape records the reverse pass reads (what goes in them is decided by adcc.ad.tape)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from adcc.ad.calling import signatures
from adcc.analysis.calls import IN_ORDER_FREES, CallKind, classify_call
from adcc.analysis.cfg import EqualityCount
from adcc.ad.common import (INDIRECT_MISS, MEMORY_KINDS, message_constant, callee_description, callee_spec, check_atomic,
                            candidate_address, clone_on_shadow, convert, emit_shadow_allocation, inactive_pointer_shadow,
                            int_offset_shadow, int_pointer_shadow, no_derivative, refuse_lost_store, shadow_alignment,
                            size_of_const, unsupported)
from adcc.ad.copies import copy_layout
from adcc.ad.words import shadow_store
from adcc.analysis.words import stored_word
from adcc.analysis.demand import OFFSET_OPS
from adcc.analysis.spec import Mode
from adcc.ad.rules.calls import AugmentSite
from adcc.ad.tape import FastLoop, RecordLayout
from adcc.ir import types as T
from adcc.analysis.activity import is_pointer, pointer_aggregate
from adcc.ir.builder import Builder, add_incoming
from adcc.ir.values import Block, Constant, GlobalRef, Instruction, Value

if TYPE_CHECKING:
    from adcc.ad.reverse import ReverseSynthesizer


class AugmentedBuilder:
    """The primal with shadow memory, pushing each block's record at its end."""

    def __init__(self, s: ReverseSynthesizer):
        self.s = s
        self.module = s.module
        self.act = s.act
        self.fn = s.aug
        self.vmap: dict[int, Value] = {}
        self.smap: dict[int, Value] = {}
        self.bmap: dict[int, Block] = {}
        self.exit_block: dict[int, Block] = {}
        self.extra: dict[int, Value] = {}  # "i" keys: candidate index of indirect calls; "x": rule saves
        self.edge_block: dict[tuple[int, int], Block] = {}  # loop-exit edges -> their record block
        self.pending: list[tuple[Instruction, Instruction, str]] = []

    def build(self) -> None:
        s, fn = self.s, self.fn
        self.tape = fn.args[0]
        k = 1
        for a, act in zip(s.primal.args, s.spec.args):
            self.vmap[id(a)] = fn.args[k]
            k += 1
            if act.has_shadow:
                self.smap[id(a)] = fn.args[k]
                k += 1
        for blk in s.primal.blocks:
            if id(blk) in s.reached:
                self.bmap[id(blk)] = fn.add_block(blk.name)
        self.b = Builder(self.module, fn)
        self.counters: dict[int, Value] = {}
        self.fast = s.fast
        self.cursor: dict[int, tuple[Value, Value]] = {}  # fast loop -> (first record, top) at entry
        self.tnext: dict[int, Value] = {}
        for blk in s.order:
            self.b.position_at_end(self.bmap[id(blk)])
            preds = s.preds(blk)
            idx = None
            cl = s.plan.counted_header(blk)
            if cl is not None:
                c = self.b.phi(T.i64, name="iter")
                self.counters[id(cl)] = c
                self.pending.append((blk, c, "ctr"))
            elif len(preds) > 1 and id(blk) not in s.plan.choice:
                idx = self.b.phi(T.i32)
                self.pending.append((blk, idx, "idx"))
            for inst in blk.instructions:
                if inst.is_terminator:
                    self._push_record(blk, idx)
                self.visit(inst)
            self.exit_block[id(blk)] = self.b.block
        self._fill_phis()

    def _push_record(self, blk: Block, idx: Value | None) -> None:
        vals, types = [], []
        if idx is not None:
            vals.append(idx); types.append(T.i32)
        for kind, v in self.s.plan.taped[id(blk)]:
            x = self.key_value(kind, v)
            vals.append(x); types.append(x.type)
        fl = self.s.fast_loop_of(blk)
        if fl is not None:
            b = self.b
            first, top = self.cursor[id(fl.cl)]
            k = self.counters[id(fl.cl)]
            if types:
                # iteration k's records at first + k * stride: an address the vectorizer sees as
                # affine in the loop's counter (no second induction variable for a cursor)
                off = b.add(b.mul(k, Builder.iconst(T.i64, fl.stride)), Builder.iconst(T.i64, fl.offsets[id(blk)]))
                RecordLayout(types).store_at(b, b.byte_gep(first, off), vals)
            if blk is fl.cl.latch:
                # the tape's top is written once, on the exit edge (a store per iteration would
                # keep the loop from vectorizing)
                done = b.add(k, Builder.iconst(T.i64, 1))
                self.tnext[id(fl.cl)] = b.add(top, b.mul(done, Builder.iconst(T.i64, fl.stride)), name="tape.next")
        else:
            RecordLayout(types).push(self.b, self.tape, vals)


    def _reserve(self, fl: FastLoop) -> None:
        """Before a fast loop: capacity for all its records, and the cursor's start."""
        b = self.b
        if isinstance(fl.trip, EqualityCount):  # ((bound - start - offset) mod 2^bits) + 1
            ty = fl.trip.bound.type
            start = self.p(fl.trip.start)  # the iv's type: as wide as the test, or wider
            start = start if start.type == ty else b.cast("trunc", start, ty)
            k = b.sub(b.sub(self.p(fl.trip.bound), start), Builder.iconst(ty, fl.trip.offset))
            n: Value = b.add(k if ty == T.i64 else b.cast("zext", k, T.i64), Builder.iconst(T.i64, 1))
        elif fl.trip.bound is None:
            n = Builder.iconst(T.i64, max(fl.trip.offset, 0))
        else:
            bound = convert(b, self.p(fl.trip.bound), T.i64) if fl.trip.bound.type != T.i64 else self.p(fl.trip.bound)
            n = b.add(bound, Builder.iconst(T.i64, fl.trip.offset))
            if fl.trip.start is not None:  # a loop from a variable start (flang's `do j = i + 1, n`)
                n = b.sub(n, convert(b, self.p(fl.trip.start), T.i64))
            n = b.select(b.icmp("sgt", n, Builder.iconst(T.i64, 0)), n, Builder.iconst(T.i64, 0))
        nbytes = fl.block_bytes(b, n)
        base = b.call("adcc.tape.reserve", T.ptr, [self.tape, nbytes], declare=False)
        top = b.load(T.i64, b.byte_gep(self.tape, 8), align=8)
        self.cursor[id(fl.cl)] = (b.byte_gep(base, top), top)

    def key_value(self, kind: str, v) -> Value:
        if kind == "p":
            return self.p(v)
        if kind == "s":
            return self.sh(v)
        if kind == "c":
            return self.counters[id(v)]
        if kind == "h":
            _, (hk, hv) = v
            return self.key_value(hk, hv)
        return self.extra[id(v)]

    def p(self, v: Value) -> Value:
        if isinstance(v, Block):
            return self.bmap[id(v)]
        if isinstance(v, Constant):
            return v
        return self.vmap[id(v)]

    def sh(self, v: Value, user: Instruction | None = None, refuse: bool = False) -> Value:
        """The shadow of `v`; for an integer without one, the integer itself (Enzyme's convention);
        for a pointer without one, see `inactive_pointer_shadow` (`refuse` where it meets active
        memory here)."""
        got = self.smap.get(id(v))
        if got is not None:
            return got
        if isinstance(v, Constant) and self.act.has_shadow(v):
            from adcc.ad.globals import shadow_constant
            return shadow_constant(self.module, v)
        if isinstance(v.type, T.PointerType) or (pointer_aggregate(self.module, v.type) and not isinstance(v, Constant)):
            return inactive_pointer_shadow(self.module, self.act, v, user, True, refuse, self.p)
        return v if isinstance(v, Constant) else self.p(v)

    def clone(self, inst: Instruction, ops: list[Value] | None = None, name=None) -> Instruction:
        new = self.b.clone(inst, ops if ops is not None else [self.p(o) for o in inst.operands], name=name)
        return new

    def visit(self, inst: Instruction) -> None:
        op, act = inst.opcode, self.act
        if op == "#dbg":
            return
        if op == "phi":
            new = self.b.phi(inst.type, name=inst.name)
            self.vmap[id(inst)] = new
            self.pending.append((inst, new, "p"))
            if act.has_shadow(inst) or act.has_int_shadow(inst):
                sp = self.b.phi(inst.type)
                self.smap[id(inst)] = sp
                self.pending.append((inst, sp, "s"))
            return
        if op == "ret":
            vals = []
            if inst.operands:
                v = inst.operands[0]
                vals.append(self.p(v))
                if self.s.spec.ret_shadow:
                    vals.append(self.sh(v, inst, refuse=True))
            fvals = [self.key_value(k, v) for k, v in self.s.plan.func_keys]
            RecordLayout([x.type for x in fvals]).push(self.b, self.tape, fvals)
            if len(self.s.returns) > 1:
                RecordLayout([T.i32]).push(self.b, self.tape,
                                           [Builder.iconst(T.i32, self.s.returns.index(inst.block))])
            self.b.ret(self.s.aug_pack.pack(self.b, vals))
            return
        if op == "call":
            return self._call(inst)
        if inst.is_terminator and op in ("br", "switch"):
            return self._terminator(inst)
        if op == "alloca" and id(inst) in self.s.kept_alive:
            # read by a call rule's reverse pass, after this frame is gone: on the runtime's stack
            alloc = "adcc_shadow_alloc" if self.s.heap_stack_shadows else "adcc_shadow_stack_alloc"
            self.vmap[id(inst)] = self.b.call(alloc, T.ptr, [size_of_const(inst.info["alloc_type"])])
            if act.has_shadow(inst):
                self.smap[id(inst)] = self.b.call(alloc, T.ptr, [size_of_const(inst.info["alloc_type"])])
            return
        if op in ("atomicrmw", "cmpxchg"):
            check_atomic(self.module, act, inst)  # its reverse reads the shadow (adjoint.py)
        new = self.clone(inst)
        self.vmap[id(inst)] = new
        if op == "load":
            ptr = inst.operands[0]
            if (act.has_shadow(inst) or act.has_int_shadow(inst)) and act.has_shadow(ptr):
                self.smap[id(inst)] = clone_on_shadow(self.b, inst, [self.sh(ptr)], name="")
        elif op == "store":
            val, ptr = inst.operands
            if not act.has_shadow(ptr) and act.is_varied(val):
                refuse_lost_store(self.module, act, inst, ptr)
            if act.has_shadow(ptr) and not act.carries_float(val):
                if stored_word(act, inst):  # a pointer's bits or a float's (#9)
                    shadow_store(self.b, self.p(val), self.sh(val), self.sh(ptr),
                                 shadow_alignment(self.module, inst))
                elif isinstance(val.type, T.PointerType) or act.has_int_shadow(val):
                    clone_on_shadow(self.b, inst, [self.sh(val), self.sh(ptr)])
        elif op == "alloca" and act.has_shadow(inst):
            size: Value = size_of_const(inst.info["alloc_type"])
            if inst.operands or self.s.heap_stack_shadows:  # variable-length (its size is not at hand in
                if inst.operands:                                # reverse) or nested levels: on the heap
                    size = self.b.mul(size, convert(self.b, self.p(inst.operands[0]), T.i64))
                self.smap[id(inst)] = self.b.call("adcc_shadow_alloc", T.ptr, [size])
            else:  # fixed size: on the runtime's LIFO shadow stack, released by its reverse
                self.smap[id(inst)] = self.b.call("adcc_shadow_stack_alloc", T.ptr, [size])
        elif isinstance(inst.type, T.PointerType) and act.has_shadow(inst) and op in \
                ("getelementptr", "select", "bitcast", "addrspacecast", "freeze"):
            ops = [self.sh(o, inst, refuse=True) if isinstance(o.type, T.PointerType) else self.p(o)
                   for o in inst.operands]
            self.smap[id(inst)] = self.clone(inst, ops, name="")
        elif op == "inttoptr" and act.has_shadow(inst):
            if act.has_int_shadow(inst.operands[0]):  # a pointer's bits carried through an integer
                self.smap[id(inst)] = self.clone(inst, [self.sh(inst.operands[0])], name="")
            else:
                self.smap[id(inst)] = int_pointer_shadow(self.b, act, inst, self.p, self.sh)
        elif op in OFFSET_OPS and act.has_int_shadow(inst):
            self.smap[id(inst)] = int_offset_shadow(self.b, inst, self.p, self.sh)
        elif op in ("select", "freeze", "ptrtoint") and act.has_int_shadow(inst):
            ops = [self.sh(o) if act.has_int_shadow(o) or (isinstance(o.type, T.PointerType) and act.has_shadow(o))
                   else self.p(o) for o in inst.operands]
            self.smap[id(inst)] = self.clone(inst, ops, name="")
        elif op == "extractvalue" and act.has_shadow(inst):  # a pointer out of a shadowed aggregate
            self.smap[id(inst)] = self.clone(inst, [self.sh(inst.operands[0])], name="")
        elif op in ("insertvalue", "select") and act.has_shadow(inst):  # aggregates of pointers
            ops = [self.sh(o, inst, refuse=True) if is_pointer(o.type) or pointer_aggregate(self.module, o.type)
                   else self.p(o) for o in inst.operands]
            self.smap[id(inst)] = self.clone(inst, ops, name="")

    def _terminator(self, inst: Instruction) -> None:
        """Branches; edges that leave counted loops get a block that records the loops' final
        counters and hoisted values (once per loop execution, not per visit of the target)."""
        e = inst.block
        edges: dict[int, Block] = {}
        for x in inst.successors:
            if id(x) not in edges and (self.s.plan.edge_record(e, x) or self._fast_entry(e, x)
                                       or self._fast_exit(e, x)):
                edges[id(x)] = self.fn.add_block(None, after=self.b.block)
        ops = [edges.get(id(o), self.p(o)) if isinstance(o, Block) else self.p(o) for o in inst.operands]
        here = self.b.block
        self.clone(inst, ops)
        for x in inst.successors:
            eb = edges.get(id(x))
            if eb is None or (id(e), id(x)) in self.edge_block:
                continue
            self.edge_block[(id(e), id(x))] = eb
            self.b.position_at_end(eb)
            done = self._fast_exit(e, x)
            if done is not None:  # before any push on this edge; the block rounded up to 16
                top = done.aligned(self.b, self.tnext[id(done.cl)])  # the loop starts 16-aligned
                self.b.store(top, self.b.byte_gep(self.tape, 8), align=8)
            keys = self.s.plan.edge_record(e, x)
            vals = [self.key_value(k, v) for k, v in keys]
            RecordLayout([v.type for v in vals]).push(self.b, self.tape, vals)
            fl = self._fast_entry(e, x)
            if fl is not None:
                # right before the loop: nothing can push (and move the buffer) in between
                self._reserve(fl)
            self.b.br(self.bmap[id(x)])
        self.b.position_at_end(here)

    def _fast_entry(self, e: Block, x: Block) -> FastLoop | None:
        fl = self.fast.get(id(self.s.plan.counted_header(x))) if self.s.plan.counted_header(x) else None
        return fl if fl is not None and fl.cl.outside is e else None

    def _fast_exit(self, e: Block, x: Block) -> FastLoop | None:
        fl = self.s.fast_loop_of(e)
        return fl if fl is not None and e is fl.cl.latch and x not in fl.cl.loop else None

    def incoming_block(self, pred: Block, blk: Block) -> Block:
        """The augmented block that branches into `blk` on the primal edge pred -> blk."""
        return self.edge_block.get((id(pred), id(blk))) or self.exit_block[id(pred)]

    def _call(self, inst: Instruction) -> None:
        kind = classify_call(self.module, inst)
        act, b = self.act, self.b
        if kind in MEMORY_KINDS:
            return self._call_memory(inst, kind)
        if (inst.callee_name or "").startswith("llvm.lifetime.") and \
                any(id(a) in self.s.kept_alive for a in inst.args):
            return  # the object is not an alloca any more
        if kind in (CallKind.MATH, CallKind.INACTIVE, CallKind.MEMCPY, CallKind.MEMSET) or \
                not self.s.is_active_call(inst):
            if kind in (CallKind.UNKNOWN,) and self._touches_shadowed_memory(inst):
                raise unsupported(self.module, inst, f"cannot differentiate {callee_description(inst)} with "
                                                     f"active memory arguments")
            self.vmap[id(inst)] = self.clone(inst)
            if kind is CallKind.MEMCPY and act.has_shadow(inst.args[0]):
                self._forward_copy_shadow(inst)
            elif kind is CallKind.MEMCPY and act.has_shadow(inst.args[1]):
                refuse_lost_store(self.module, act, inst, inst.args[0])
            return
        if kind is CallKind.RULE:
            rule = self.s.call_rule(inst)
            if rule is not None:
                return rule.augment(AugmentSite(self, inst, self.s.rule_saves(inst, rule)))
            kind = CallKind.DEFINED
        if kind is CallKind.DEFINED:
            self._call_defined(inst, inst.callee_name)
            return
        if kind is CallKind.INDIRECT:
            return self._call_indirect(inst)
        raise no_derivative(self.module, inst, kind)

    def _call_memory(self, inst: Instruction, kind: CallKind) -> None:
        """malloc/free/realloc and their kin (called directly or through a pointer)."""
        act, b = self.act, self.b
        if kind is CallKind.FREE:
            if inst.callee_name in IN_ORDER_FREES:
                self.vmap[id(inst)] = self.clone(inst)
            return  # else deferred: the reverse of this free releases the primal
        self.vmap[id(inst)] = self.clone(inst)
        if kind is CallKind.ALLOC:
            if act.allocation_has_shadow(inst):  # (a private scratch buffer without active data has none)
                self.smap[id(inst)] = emit_shadow_allocation(b, inst, [self.p(a) for a in inst.args])
        else:
            old = inst.args[0]
            olds = self.sh(old) if act.has_shadow(old) else Constant(T.ptr, "null")
            self.smap[id(inst)] = b.call("adcc_shadow_realloc_fwd", T.ptr,
                                         [olds, convert(b, self.p(inst.args[1]), T.i64)])

    def _touches_shadowed_memory(self, inst: Instruction) -> bool:
        return any(isinstance(a.type, T.PointerType) and self.act.has_shadow(a) for a in inst.args)

    def _forward_copy_shadow(self, inst: Instruction) -> None:
        """Pointers and integers in copied memory: their shadows move with the copy."""
        lay = copy_layout(self.module, self.act, inst)
        dst, src = inst.args[0], inst.args[1]
        if lay.kind == "bits":
            # from memory without a shadow: its integers are their own shadows
            ops = [(self.sh(o) if self.act.has_shadow(o) else self.p(o)) if k in (1, 2) else self.p(o)
                   for k, o in enumerate(inst.operands)]
            self.clone(inst, ops)
        elif lay.kind == "unknown":
            # pointer words take their shadows along (from memory without a shadow: themselves)
            ssh = self.sh(src) if self.act.has_shadow(src) else self.p(dst)
            self.b.call("adcc.shadow.copy.any", T.void,
                        [self.p(dst), self.sh(dst), ssh, convert(self.b, self.p(inst.args[2]), T.i64)], declare=False)
        elif lay.kind == "mixed" and self.act.has_shadow(src):
            b = self.b
            for off, _ in lay.bits:
                v = b.load(T.ptr, b.byte_gep(self.sh(src), off) if off else self.sh(src), align=1)
                b.store(v, b.byte_gep(self.sh(dst), off) if off else self.sh(dst), align=1)

    def _call_defined(self, inst: Instruction, name: str) -> Value | None:
        spec = callee_spec(self.act, inst, Mode.REVERSE, 1, name)
        aug, _ = self.s.ctx.reverse_functions(spec)
        callee = self.module.function(name)
        _, a_pack, _, _ = signatures(self.module, callee, spec)
        args: list[Value] = [self.tape]
        for a, p, act in zip(inst.args, callee.args, spec.args):
            args.append(convert(self.b, self.p(a), p.type))
            if act.has_shadow:
                args.append(self.sh(a))
        r = self.b.call(aug, a_pack.type, args)
        parts = a_pack.unpack(self.b, r)
        if not isinstance(callee.ret_type, T.VoidType):
            self.vmap[id(inst)] = parts[0]
            if spec.ret_shadow:
                self.smap[id(inst)] = parts[1]
        return r

    def _call_indirect(self, inst: Instruction) -> None:
        cands = self.s.candidates(inst)
        fp = self.p(inst.callee)
        cont = self.fn.add_block(None, after=self.b.block)
        arms: list[tuple[Block, int, Value | None, Value | None]] = []
        for k, (name, kind) in enumerate(cands):
            hit = self.fn.add_block(None, after=self.b.block)
            miss = self.fn.add_block(None, after=hit)
            self.b.cond_br(self.b.icmp("eq", fp, candidate_address(self.module, name)), hit, miss)
            self.b.position_at_end(hit)
            self.vmap.pop(id(inst), None)
            self.smap.pop(id(inst), None)
            if kind is CallKind.DEFINED:
                self._call_defined(inst, name)
            else:
                self._call_memory(inst, kind)
            pv = self.vmap.get(id(inst))
            sv = self.smap.get(id(inst)) if self.act.has_shadow(inst) else None
            arms.append((self.b.block, k, pv, sv))
            self.b.br(cont)
            self.b.position_at_end(miss)
        self.b.call("adcc_fatal", T.void, [message_constant(self.module, INDIRECT_MISS)])
        self.b.unreachable()
        self.b.position_at_end(cont)
        self.extra[id(inst)] = self.b.phi(T.i32, [(Builder.iconst(T.i32, k), blk) for blk, k, _, _ in arms])
        if arms[0][2] is not None:
            self.vmap[id(inst)] = self.b.phi(inst.type, [(pv, blk) for blk, _, pv, _ in arms])
        if arms[0][3] is not None:
            self.smap[id(inst)] = self.b.phi(inst.type, [(sv, blk) for blk, _, _, sv in arms])

    def _edges(self, pred: Block, blk: Block) -> int:
        """How many CFG edges the augmented code has from `pred`'s side into `blk` (a switch can
        branch to one block from several cases; a phi needs an entry per edge)."""
        if (id(pred), id(blk)) in self.edge_block:
            return 1
        term = self.exit_block[id(pred)].terminator
        return sum(1 for o in term.operands if o is self.bmap[id(blk)]) if term is not None else 1

    def _incoming(self, phi: Instruction, value: Value, pred: Block, blk: Block) -> None:
        for _ in range(self._edges(pred, blk)):
            add_incoming(phi, value, self.incoming_block(pred, blk))

    def _fill_phis(self) -> None:
        s = self.s
        for old, new, kind in self.pending:
            if kind == "idx":
                for k, pred in enumerate(s.preds(old)):
                    self._incoming(new, Builder.iconst(T.i32, k), pred, old)
                continue
            if kind == "ctr":
                cl = s.plan.counted_header(old)
                hb = self.bmap[id(old)]
                b = Builder(self.module, self.fn).position_after_phis(hb)
                nxt = b.add(new, Builder.iconst(T.i64, 1), name="iter.next", flags="nuw nsw")
                self._incoming(new, Builder.iconst(T.i64, 0), cl.outside, old)
                self._incoming(new, nxt, cl.latch, old)
                continue
            done: set[int] = set()
            for v, blk in old.incoming():  # the primal phi lists each edge once; so do we
                if id(blk) not in s.reached or id(blk) in done:
                    continue
                done.add(id(blk))
                val = self.p(v) if kind == "p" else self.sh(v, old, refuse=True)
                self._incoming(new, val, blk, old.block)
