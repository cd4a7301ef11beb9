"""The reverse function of reverse mode: pops block records in LIFO order and runs each
block's adjoint code, instructions in reverse, from the shared rule table."""
from __future__ import annotations

from typing import TYPE_CHECKING

from adcc.ad.calling import signatures
from adcc.analysis.calls import IN_ORDER_FREES, CallKind, classify_call
from adcc.ad.common import (bit_operation_error, MEMORY_KINDS, callee_spec, convert, float_lane_mask, float_lanes_differ,
                            lane_change_error, math_rule, shadow_alignment, sign_change_operand, size_of_const,
                            unsupported, zero_of)
from adcc.ad.copies import copy_layout, has_narrow_floats, untyped_copy_error
from adcc.ad.interchange import emit_interchanged
from adcc.ad.words import add_adjoints, changed_word, give_adjoint, take_adjoint
from adcc.ad.rules import emit_reverse, lookup_opcode, sibling_calls
from adcc.ad.rules.calls import ReverseSite
from adcc.analysis.spec import Activity, Mode
from adcc.ad.tape import COPY_SUFFIX, RecordLayout, key_type
from adcc.analysis.activity import is_floatish
from adcc.ir import layout
from adcc.analysis.signbits import INT_OPS
from adcc.analysis.words import clears_float, tainted_store
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Block, Constant, GlobalRef, Instruction, Value

if TYPE_CHECKING:
    from adcc.ad.reverse import ReverseSynthesizer


class ReverseBuilder:
    """Pops block records and runs each block's adjoint code in reverse order."""

    def __init__(self, s: ReverseSynthesizer):
        self.s = s
        self.module = s.module
        self.act = s.act
        self.fn = s.rev
        self.adj: dict[int, Value] = {}  # value -> adjoint alloca
        self.rmap: dict[int, Block] = {}
        self.cur: dict[tuple[str, int], Value] = {}
        self.deferring = None  # the Deferral whose additions the block being emitted holds back
        self.waiting: dict[tuple[int, int], Value] = {}

    def build(self) -> None:
        s, fn = self.s, self.fn
        self.tape = fn.args[0]
        self.entry = fn.add_block("entry")
        self.b = Builder(self.module, fn)
        for blk in s.order:
            self.rmap[id(blk)] = fn.add_block(None)
        self.done = fn.add_block("done")
        # adjoint accumulators for OUT arguments first (returned at the end)
        self.b.position_at_end(self.entry)
        if s.spec.ret_active:
            self.dret = fn.args[1]
        rets = s.returns
        plan = s.plan
        self.ctr = {}
        self.hslot: dict[tuple, Value] = {}
        self.fast_start: dict[int, Value] = {}
        for cl in plan.counted.values():
            self.ctr[id(cl)] = self.b.alloca(T.i64, name="iter")
            if id(cl) in s.fast:
                self.fast_start[id(cl)] = self.b.alloca(T.ptr, name="tape.records")
            for hk, hv in plan.hoisted.get(id(cl), []):
                self.hslot[(id(cl), hk, id(hv))] = self.b.alloca(hv.type, name="hoist")
        k = RecordLayout([T.i32]).pop(self.b, self.tape)[0] if len(rets) > 1 else None
        fvals = RecordLayout([key_type(kd, v) for kd, v in plan.func_keys]).pop(self.b, self.tape)
        self.func_vals = {(kd, id(v)): self._passive(kd, v, x) for (kd, v), x in zip(plan.func_keys, fvals)}
        if not rets:
            self.b.unreachable()
        elif len(rets) == 1:
            self.b.br(self.rmap[id(rets[0])])
        else:
            self.b.switch(k, self.rmap[id(rets[0])], [(i, self.rmap[id(r)]) for i, r in enumerate(rets)])
        for blk in s.order:
            self._reverse_block(blk)
        self.b.position_at_end(self.done)
        outs = []
        for a, act in zip(s.primal.args, s.spec.args):
            if act is Activity.OUT:
                d = self.read_adj(a) if self.act.is_varied(a) else zero_of(a.type)
                outs.append(d if d.type == a.type else self.b.cast("bitcast", d, a.type))  # a float's bits
        self.b.ret(s.rev_pack.pack(self.b, outs))

    # --- adjoint accumulators ------------------------------------------------------------
    def slot(self, v: Value) -> Value:
        a = self.adj.get(id(v))
        if a is None:
            saved = (self.b.block, self.b.index)
            self.b.position_at_end(self.entry)
            self.b.index = 0
            ty = self.act.adjoint_type(v)
            a = self.b.alloca(ty)
            self.b.store(zero_of(ty), a)
            self.b.block, self.b.index = saved
            if self.b.block is self.entry and self.b.index is not None:
                self.b.index += 2
            self.adj[id(v)] = a
        return a

    def read_adj(self, v: Value) -> Value:
        return self.b.load(self.act.adjoint_type(v), self.slot(v))

    def take_adj(self, v: Value) -> Value:
        """Read the adjoint and reset it (each definition's adjoint is consumed once)."""
        a = self.slot(v)
        ty = self.act.adjoint_type(v)
        x = self.b.load(ty, a)
        self.b.store(zero_of(ty), a)
        return x

    def add_adj(self, v: Value, d: Value | None) -> None:
        if d is None or isinstance(v, Constant) or not self.act.is_varied(v):
            return
        a = self.slot(v)
        ty = self.act.adjoint_type(v)
        if d.type != ty:
            d = self.b.cast("bitcast", d, ty)
        old = self.b.load(ty, a)
        self.b.store(add_values(self.b, old, d), a)

    def add_word(self, v: Value, d: Value) -> None:
        """Adjoints of words that may hold floats (#9) are the bits of floats, summed as floats."""
        if id(v) not in self.s.words:
            return
        a = self.slot(v)
        self.b.store(add_adjoints(self.b, self.b.load(v.type, a), d), a)

    def _word(self, inst: Instruction) -> None:
        d = self.take_adj(inst)
        if inst.opcode == "load":
            give_adjoint(self.b, d, self.rs(inst.operands[0]), shadow_alignment(self.module, inst))
        elif inst.opcode == "freeze":
            self.add_word(inst.operands[0], d)
        elif inst.opcode == "select":
            c, zero = self.rp(inst.operands[0]), Builder.iconst(d.type, 0)
            self.add_word(inst.operands[1], self.b.select(c, d, zero))
            self.add_word(inst.operands[2], self.b.select(c, zero, d))

    # --- record values ------------------------------------------------------------------

    def rp(self, v: Value) -> Value:
        return self.value("p", v)

    def rs(self, v: Value) -> Value:
        return self.value("s", v)

    def value(self, kind: str, v) -> Value:
        """Materialize a primal value or shadow in the current block's reverse (memoized)."""
        key = (kind, id(v))
        got = self.cur.get(key)
        if got is not None:
            return got
        src = self.s.plan.source(kind, v, self.blk) if kind in ("p", "s") else "tape"
        if src == "const":
            if kind == "s" and self.act.has_shadow(v):
                from adcc.ad.globals import shadow_constant
                x = shadow_constant(self.module, v)
            elif kind == "s" and isinstance(v.type, T.PointerType):
                from adcc.ad.globals import inactive_constant_shadow
                x = inactive_constant_shadow(self.module, v, writable=True)
            else:
                x = v
        elif src == "func":
            x = self.func_vals[key]
        elif src == "hoist":
            cl = self.s.plan.hoist_loop(v, self.blk)
            x = self._passive(kind, v, self.b.load(v.type, self.hslot[(id(cl), kind, id(v))]))
        elif src == "affine":
            cl, start, (how, step), nxt = self.s.plan.affine(v, self.blk)
            st = self.value("p", start)
            c = self.b.load(T.i64, self.ctr[id(cl)])
            if how == "add":
                k = c if v.type == T.i64 else self.b.cast("trunc" if v.type.bits < 64 else "zext", c, v.type)
                sv = Builder.iconst(v.type, step) if isinstance(step, int) else self.value("p", step)
                x = self.b.add(st, self.b.mul(k, sv))
            else:
                if isinstance(step, int):
                    sv = Builder.iconst(T.i64, step)
                else:
                    sv = self.value("p", step)
                    if sv.type != T.i64:
                        sv = self.b.cast("sext", sv, T.i64)
                x = self.b.gep(nxt.info["source_type"], st, [self.b.mul(c, sv)])
        elif src == "iv":
            cl = self.s.plan.iv_loop(v, self.blk)
            c = self.b.load(T.i64, self.ctr[id(cl)])
            x = c if v.type == T.i64 else self.b.cast("trunc" if v.type.bits < 64 else "zext", c, v.type)
        elif src == "re":
            if kind == "p":
                ops = [self.value("p", o) for o in v.operands]
            else:
                ops = [self.value("s", v.operands[0])] + [self.value("p", o) for o in v.operands[1:]]
            x = self.b.clone(v, ops, name="")
        else:
            raise AssertionError(f"internal error: {kind} {v!r} not on the tape")
        self.cur[key] = x
        return x

    def _passive(self, kind: str, v, x: Value) -> Value:
        """A pointer without a shadow, read back from the tape, passes through `adcc.passive` (an
        inactive identity, removed once all derivatives are built): a derivative of this code
        (higher order) then knows it carries no derivative. The tape is active memory to it, and
        its shadow of such a pointer would be the pointer itself, so the values loaded through it
        would count as derivatives."""
        if kind == "p" and isinstance(v.type, T.PointerType) and not self.act.has_shadow(v):
            self.module.ensure_declaration(PASSIVE, T.FunctionType(T.ptr, (T.ptr,)),
                                           "nounwind willreturn memory(none)")
            return self.b.call(PASSIVE, T.ptr, [x], declare=False)
        return x

    def _reverse_block(self, blk: Block) -> None:
        nest = self.s.nests.get(id(blk))
        if nest is not None:  # (its head and body are emitted with it)
            emit_interchanged(self, nest)
            return
        if any(blk in (n.head, n.pre, n.body, n.exit) for n in self.s.nests.values()):
            return
        dfr = self.s.deferred.get(id(blk))
        if dfr is None:
            self._emit_block(blk, self.rmap[id(blk)])
            return
        # the loop's first reverse iteration adds plainly and tests the distances; the rest run
        # in a second copy of the block whose additions wait in registers (adcc.ad.deferral)
        again = self.fn.add_block(None)
        self.pending_slots = [[self._entry_alloca(self.act.adjoint_type(g.last), "pending") for _ in range(g.depth)]
                              for g in dfr.groups]
        self._emit_block(blk, self.rmap[id(blk)], dfr, deferred=False, again=again)
        self._emit_block(blk, again, dfr, deferred=True, again=again)

    def _entry_alloca(self, ty: T.Type, name: str) -> Value:
        saved = (self.b.block, self.b.index)
        self.b.position_at_end(self.entry)
        self.b.index = 0
        a = self.b.alloca(ty, name=name)
        self.b.block, self.b.index = saved
        if self.b.block is self.entry and self.b.index is not None:
            self.b.index += 1
        return a

    def _emit_block(self, blk: Block, start: Block, dfr=None, deferred: bool = False, again=None) -> None:
        s, b = self.s, self.b
        plan = s.plan
        self.blk = blk
        self.deferring = dfr if deferred else None
        self.waiting: dict[tuple[int, int], Value] = {}
        b.position_at_end(start)
        preds = s.preds(blk)
        counted = plan.counted_header(blk)
        types, keys = [], []
        choice = plan.choice.get(id(blk))
        if len(preds) > 1 and counted is None and choice is None:
            types.append(T.i32); keys.append(("idx", None))
        for kind, v in plan.taped[id(blk)]:
            types.append(key_type(kind, v))
            keys.append((kind, v))
        fl = s.fast_loop_of(blk)
        if fl is not None and types:
            # records of a fast loop sit at its first record + iteration * stride + this block's
            # offset (the address of the first one is kept in a slot: the buffer cannot move
            # while the loop runs backwards, and a load of the tape's base per iteration would
            # keep the loop from vectorizing)
            it = b.load(T.i64, self.ctr[id(fl.cl)])
            at = b.add(b.mul(it, Builder.iconst(T.i64, fl.stride)), Builder.iconst(T.i64, fl.offsets[id(blk)]))
            vals = RecordLayout(types).load_at(b, b.byte_gep(b.load(T.ptr, self.fast_start[id(fl.cl)]), at))
        else:
            vals = RecordLayout(types).pop(b, self.tape)
        self.cur = {}
        idx = None
        for (kind, v), x in zip(keys, vals):
            if kind == "idx":
                idx = x
            else:
                self.cur[(kind, id(v))] = self._passive(kind, v, x)
        for kind, v in s.needs[id(blk)]:
            self.value(kind, v)
        term = blk.terminator
        if term is not None and term.opcode == "ret" and term.operands and s.spec.ret_active:
            self.add_adj(term.operands[0], self.dret)
        for inst in reversed(blk.instructions):
            if inst.opcode not in ("phi", "#dbg") and not inst.is_terminator:
                self.visit(inst)
        apart = None
        if dfr is not None and deferred:
            self._finish_element(dfr)
        elif dfr is not None:
            apart = self._apart(dfr)
        # leave the block: phi adjoints flow to the taken predecessor's incoming values
        phis = [p for p in blk.phis() if self.act.is_varied(p)]
        if not preds:
            b.br(self.done)
            return
        if counted is not None:
            ctr = self.ctr[id(counted)]
            c = b.load(T.i64, ctr)
            first = b.icmp("eq", c, Builder.iconst(T.i64, 0))
            e_out, e_back = self.fn.add_block(None), self.fn.add_block(None)
            b.cond_br(first, e_out, e_back)
            b.position_at_end(e_back)
            b.store(b.sub(c, Builder.iconst(T.i64, 1)), ctr)
            if dfr is None:
                self._edge(blk, counted.latch, phis)
            elif deferred:
                self._edge(blk, counted.latch, phis, to=again)
            else:
                choose = self.fn.add_block(None)
                self._edge(blk, counted.latch, phis, to=choose)
                b.position_at_end(choose)
                for g, slots in zip(dfr.groups, self.pending_slots):
                    for slot in slots:
                        b.store(zero_of(self.act.adjoint_type(g.last)), slot)
                b.cond_br(apart, again, self.rmap[id(blk)])
            b.position_at_end(e_out)
            if dfr is not None and deferred:
                self._flush_pending(dfr)
            self._edge(blk, counted.outside, phis)
            return
        if len(preds) == 1:
            self._edge(blk, preds[0], phis)
            return
        if choice is not None:
            self._replay(blk, choice, phis)
            return
        edges = []
        for k, pred in enumerate(preds):
            e = self.fn.add_block(None)
            edges.append((k, e))
        b.switch(idx, edges[0][1], [(k, e) for k, e in edges])
        for (k, e), pred in zip(edges, preds):
            b.position_at_end(e)
            self._edge(blk, pred, phis)

    def _replay(self, blk: Block, replay, phis: list[Instruction]) -> None:
        """Follow the forward branches from blk's dominator (conditions recomputed) to the
        predecessor that was taken; each predecessor gets one edge block."""
        b = self.b
        if replay.direct is not None:
            cond, p_true, p_false = replay.direct
            e_true, e_false = self.fn.add_block(None), self.fn.add_block(None)
            b.cond_br(self.value("p", cond), e_true, e_false)
            for e, pred in ((e_true, p_true), (e_false, p_false)):
                b.position_at_end(e)
                self._edge(blk, pred, phis)
            return
        sim = {id(r): self.fn.add_block(None) for r in replay.order}
        edge: dict[int, Block] = {}

        nowhere = None

        def goto(x: Block, frm: Block) -> Block:
            nonlocal nowhere
            if x is not blk and id(x) in sim:
                return sim[id(x)]
            if x is not blk:  # leaves the region: the forward pass did not go there
                if nowhere is None:
                    nowhere = self.fn.add_block(None)
                return nowhere
            if id(frm) not in edge:
                edge[id(frm)] = self.fn.add_block(None)
            return edge[id(frm)]

        b.br(sim[id(replay.order[0])])
        conds = {id(r): self.value("p", c) for r in replay.order
                 for c in [replay.branches[id(r)][0]] if c is not None}  # (materialized at block start)
        for r in replay.order:
            c, t, f = replay.branches[id(r)]
            b.position_at_end(sim[id(r)])
            if c is None:
                b.br(goto(t, r))
            else:
                b.cond_br(conds[id(r)], goto(t, r), goto(f, r))
        if nowhere is not None:
            b.position_at_end(nowhere)
            b.unreachable()
        by_id = {id(p): p for p in self.s.preds(blk)}
        for pid, e in edge.items():
            b.position_at_end(e)
            self._edge(blk, by_id[pid], phis)

    def _edge(self, blk: Block, pred: Block, phis: list[Instruction], to: Block | None = None) -> None:
        b = self.b
        ds = [self.take_adj(p) for p in phis]
        for p, d in zip(phis, ds):
            for v, src in p.incoming():
                if src is pred:
                    self.add_adj(v, d)
                    break
        words = [p for p in blk.phis() if id(p) in self.s.words]
        for p, d in zip(words, [self.take_adj(p) for p in words]):
            for v, src in p.incoming():
                if src is pred:
                    self.add_word(v, d)
                    break
        # entering counted loops backwards through their exit: restart their iteration counters
        plan = self.s.plan
        keys = plan.edge_record(pred, blk)
        last: dict[int, Value] = {}  # counted loop -> index of its last iteration
        if keys:
            vals = RecordLayout([key_type(k, v) for k, v in keys]).pop(b, self.tape)
            for (kind, v), x in zip(keys, vals):
                if kind == "h":
                    cl, (hk, hv) = v
                    b.store(x, self.hslot[(id(cl), hk, id(hv))])
                else:
                    last[id(v)] = x
        for cl in plan.exit_edges.get((id(pred), id(blk)), []):
            ec = plan.count_from.get(id(cl))
            x = last.get(id(cl)) if ec is None else self._last_iteration(ec)
            b.store(x, self.ctr[id(cl)])
            fl = self.s.fast.get(id(cl))
            if fl is not None:  # release all the loop's records at once
                topp = b.byte_gep(self.tape, 8)
                n = b.add(x, Builder.iconst(T.i64, 1))
                start = b.sub(b.load(T.i64, topp, align=8), fl.block_bytes(b, n))
                b.store(start, topp, align=8)
                b.store(b.byte_gep(b.load(T.ptr, self.tape, align=8), start), self.fast_start[id(cl)])
        b.br(self.rmap[id(pred)] if to is None else to)

    # --- deferred additions (adcc.ad.deferral) ----------------------------------------------
    def _apart(self, dfr) -> Value:
        """Can no store's reverse in the loop meet an element whose additions wait (its shadow
        at a distance from each group's first load outside [-size, cmax - cmin + e))?"""
        b = self.b
        ok: Value = Builder.iconst(T.i1, 1)
        for g in dfr.groups:
            at = b.cast("ptrtoint", self.rs(g.first.operands[0]), T.i64)
            reach = g.cmax - g.cmin + g.size
            for st, size in dfr.stores:
                dist = b.sub(b.cast("ptrtoint", self.rs(st.operands[1]), T.i64), at)
                clear = b.or_(b.icmp("sle", dist, Builder.iconst(T.i64, -size)),
                              b.icmp("sge", dist, Builder.iconst(T.i64, reach)))
                ok = b.and_(ok, clear)
            ex = g.exclusive
            if ex is not None:  # the next iteration's finished element is this chunk's alone
                stride = Builder.iconst(T.i64, ex.stride)
                nxt = b.mul(b.sub(self._wide(self.rp(ex.iv), None), Builder.iconst(T.i64, 1)), stride)
                high = b.add(b.mul(self._wide(self.rp(ex.ub), ex.extend), stride), Builder.iconst(T.i64, ex.high))
                ok = b.and_(ok, b.icmp("sle", nxt, high))
        return ok

    def _finish_element(self, dfr) -> None:
        """Per group: shadow[i + cmax] += R_0 + x_cmax; R_d <- R_{d+1} + x_{cmax-(d+1)e}; R_{D-1} <- x_cmin."""
        b = self.b
        self.finished_at = []
        for k, (g, slots) in enumerate(zip(dfr.groups, self.pending_slots)):
            ty = self.act.adjoint_type(g.last)
            held = [b.load(ty, slot) for slot in slots]
            x = {c: self.waiting.get((k, c)) for c in range(g.cmin, g.cmax + 1, g.size)}
            for d, slot in enumerate(slots):
                nxt = held[d + 1] if d + 1 < len(held) else zero_of(ty)
                add = x.get(g.cmax - (d + 1) * g.size)
                b.store(nxt if add is None else add_values(b, nxt, add), slot)
            sp, align = self.rs(g.last.operands[0]), shadow_alignment(self.module, g.last)
            self.finished_at.append(sp)
            if not held:  # one element per iteration: nothing waits (adcc.ad.deferral)
                if x.get(g.cmax) is not None:
                    b.store(add_values(b, b.load(ty, sp, align=align), x[g.cmax]), sp, align=align)
                continue
            total = held[0] if x.get(g.cmax) is None else add_values(b, held[0], x[g.cmax])
            b.store(add_values(b, b.load(ty, sp, align=align), total), sp, align=align)

    def _flush_pending(self, dfr) -> None:
        """Leaving the loop: the elements below the last one finished get what waits for them."""
        b = self.b
        for g, slots, at in zip(dfr.groups, self.pending_slots, self.finished_at):
            ty, align = self.act.adjoint_type(g.last), shadow_alignment(self.module, g.last)
            for d, slot in enumerate(slots):
                sp = b.byte_gep(at, Builder.iconst(T.i64, -(d + 1) * g.size))
                if g.exclusive is not None:  # next to the chunk's first iteration: shared
                    atomic_add(b, sp, b.load(ty, slot))
                else:
                    b.store(add_values(b, b.load(ty, sp, align=align), b.load(ty, slot)), sp, align=align)

    def _last_iteration(self, ec) -> Value:
        """bound - start + offset - 1 (the header's executions minus one) as i64."""
        b = self.b
        bound = self.value("p", ec.bound)
        n = bound if ec.start is None else b.sub(bound, self.value("p", ec.start))
        n = b.add(n, Builder.iconst(n.type, ec.offset - 1))
        if ec.clamp:
            zero = Builder.iconst(n.type, 0)
            n = b.select(b.icmp("sgt", n, zero), n, zero)
        if n.type != T.i64:
            n = b.cast("zext", n, T.i64)
        return n

    # --- per-instruction adjoints ----------------------------------------------------------
    def visit(self, inst: Instruction) -> None:
        op, act, b = inst.opcode, self.act, self.b
        if op == "store":
            val, ptr = inst.operands
            if act.has_shadow(ptr) and act.has_int_shadow(val):
                if _piecewise_bytes(act, val):
                    raise unsupported(self.module, inst, "cannot differentiate a copy of memory in pieces narrower "
                                                         "than a float (bytes) in reverse mode: the adjoints of the "
                                                         "floats it may hold cannot follow them (#9); copy with memcpy")
                if _piece_of_float(act, val):
                    raise unsupported(self.module, inst, "cannot differentiate a copy of part of a floating-point "
                                                         "value's bytes in reverse mode: the float's adjoint cannot "
                                                         "be split into pieces; copy the whole value")
                if _untyped_word(self.module, act, inst, val) and has_narrow_floats(self.s.ctx):
                    raise untyped_copy_error(self.module, inst)
            if act.has_shadow(ptr) and act.carries_float(val):
                ty = act.adjoint_type(val)
                sp, align = self.rs(ptr), shadow_alignment(self.module, inst)
                d = b.load(ty, sp, align=align)
                b.store(zero_of(ty), sp, align=align)
                self.add_adj(val, d)
            elif id(val) in self.s.words and act.has_shadow(ptr):  # a word that may hold a float (#9)
                self.add_word(val, take_adjoint(b, val.type, self.rs(ptr), shadow_alignment(self.module, inst)))
            elif tainted_store(act, inst) is not None:
                raise changed_word(self.module, inst)
            elif clears_float(act, inst):  # the overwritten float's adjoint ends here
                b.store(zero_of(val.type), self.rs(ptr), align=shadow_alignment(self.module, inst))
            return
        if op == "call":
            return self._call(inst)
        if op == "atomicrmw":
            return self._atomic(inst)
        if op == "alloca":
            heap = self.s.heap_stack_shadows
            if id(inst) in self.s.kept_alive:
                size = size_of_const(inst.info["alloc_type"])
                for v in ([self.rs(inst)] if act.has_shadow(inst) else []) + [self.rp(inst)]:
                    if heap:
                        b.call("adcc_shadow_free", T.void, [v])
                    else:
                        b.call("adcc_shadow_stack_free", T.void, [v, size])
                return
            if act.has_shadow(inst) and (inst.operands or heap):
                b.call("adcc_shadow_free", T.void, [self.rs(inst)])
            elif act.has_shadow(inst):
                b.call("adcc_shadow_stack_free", T.void, [self.rs(inst), size_of_const(inst.info["alloc_type"])])
            return
        if id(inst) in self.s.words:
            return self._word(inst)
        if not act.is_varied(inst):
            return
        d = self.take_adj(inst)
        if op == "load":
            self.accumulate(inst, d)
            return
        if op in INT_OPS:
            x = sign_change_operand(self.module, act, inst)
            flipped = b.icmp("slt", b.xor(self.rp(inst), self.rp(x)), Builder.iconst(inst.type, 0))
            self.add_adj(x, b.select(flipped, b.fneg(d), d))
            return
        if op == "select" and d.type != inst.type:  # integers holding floats: adjoints are floats
            c, zero = self.rp(inst.operands[0]), zero_of(d.type)
            self.add_adj(inst.operands[1], b.select(c, d, zero))
            self.add_adj(inst.operands[2], b.select(c, zero, d))
            return
        rule = lookup_opcode(op)
        if rule is not None and rule.kind in ("pointwise", "cast", "select"):
            if rule.kind == "pointwise":
                args, result, known = self._rule_inputs(rule, inst, inst.operands)
            else:
                args = [self.rp(a) if (rule.kind == "select" and k == 0) else a for k, a in enumerate(inst.operands)]
                result, known = None, None
            if rule.kind == "pointwise" and self.s.grad_logger is not None:
                self.s.grad_logger.log(b, inst, d)
            mask = [act.is_varied(a) for a in inst.operands]
            contribs = emit_reverse(b, rule, args, result, d, mask, known, self.s.spec.strong_zero)
            for a, c in zip(inst.operands, contribs):
                if c is not None:
                    self.add_adj(a, c)
            return
        if rule is not None and rule.kind == "zero":
            return
        if op == "freeze" or op == "bitcast":
            src = inst.operands[0]
            want = act.adjoint_type(src)
            if op == "bitcast" and float_lanes_differ(want, d.type):
                raise lane_change_error(self.module, inst, want, d.type)
            self.add_adj(src, d if d.type == want else b.cast("bitcast", d, want))
            return
        if op in ("extractelement", "insertelement", "shufflevector"):
            floats = float_lane_mask(self.module, act, inst)  # (integer lanes: whole floats or an error)
            if floats is not None:
                return self._shuffle(inst, d, floats)
        if op == "extractvalue":
            agg = inst.operands[0]
            if act.is_varied(agg):
                cur = self.take_adj(agg)
                idx = inst.info["indices"]
                upd = b.insertvalue(cur, add_values(b, b.extractvalue(cur, idx), d), idx)
                self.add_adj(agg, upd)
            return
        if op == "insertvalue":
            agg, elt = inst.operands
            idx = inst.info["indices"]
            if act.is_varied(elt):
                self.add_adj(elt, b.extractvalue(d, idx))
            if act.is_varied(agg):
                self.add_adj(agg, b.insertvalue(d, zero_of(elt.type), idx))
            return
        if op == "extractelement":
            vec, ix = inst.operands
            ixv = self.rp(ix)
            if act.is_varied(vec):
                z = zero_of(act.adjoint_type(vec))
                self.add_adj(vec, b.insertelement(z, d, ixv))
            return
        if op == "insertelement":
            vec, elt, ix = inst.operands
            ixv = self.rp(ix)
            if act.is_varied(elt):
                self.add_adj(elt, b.extractelement(d, ixv))
            if act.is_varied(vec):
                self.add_adj(vec, b.insertelement(d, zero_of(d.type.elem), ixv))
            return
        if op == "shufflevector":
            return self._shuffle(inst, d)
        if op in ("trunc", "zext", "sext"):  # float bits moved within integers (analysis.signbits.moves_words)
            raise bit_operation_error(self.module, inst)
        raise unsupported(self.module, inst, f"cannot differentiate instruction '{op}' in reverse mode")

    def accumulate(self, load: Instruction, d: Value) -> None:
        """The reverse of `load`: shadow[ptr] += d, atomically where other threads may accumulate
        into the same memory (in a parallel region reads may be concurrent, so are their reverses)."""
        ptr = load.operands[0]
        dfr = self.deferring
        at = dfr.group_of(load) if dfr is not None else None
        if at is not None:  # waits in a register (adcc.ad.deferral)
            self.waiting[at] = d if at not in self.waiting else add_values(self.b, self.waiting[at], d)
            return
        sp, b, align = self.rs(ptr), self.b, shadow_alignment(self.module, load)
        if not self.s.shared_memory(ptr):
            b.store(add_values(b, b.load(d.type, sp, align=align), d), sp, align=align)
            return
        ex = self.s.exclusive.get(id(load))
        if ex is None:
            atomic_add(b, sp, d)
            return
        # an iteration whose accesses no other thread's chunk reaches: plain additions (adcc.ad.parallel)
        alone = self.cur.get(("alone", id(ex)))
        if alone is None:
            stride = Builder.iconst(T.i64, ex.stride)
            at = b.mul(self._wide(self.rp(ex.iv), None), stride)
            low = b.add(b.mul(self._wide(self.rp(ex.lb), ex.extend), stride), Builder.iconst(T.i64, ex.low))
            high = b.add(b.mul(self._wide(self.rp(ex.ub), ex.extend), stride), Builder.iconst(T.i64, ex.high))
            alone = self.cur[("alone", id(ex))] = b.and_(b.icmp("sle", low, at), b.icmp("sle", at, high))
        plain, shared, join = self.fn.add_block(None), self.fn.add_block(None), self.fn.add_block(None)
        b.cond_br(alone, plain, shared)
        b.position_at_end(plain)
        b.store(add_values(b, b.load(d.type, sp, align=align), d), sp, align=align)
        b.br(join)
        b.position_at_end(shared)
        atomic_add(b, sp, d)
        b.br(join)
        b.position_at_end(join)

    def _wide(self, v: Value, extend: str | None) -> Value:
        """An integer as i64 (sign-extended unless `extend` says zext)."""
        if v.type == T.i64:
            return v
        return self.b.cast("zext" if extend == "zext" else "sext", v, T.i64)

    def _atomic(self, inst: Instruction) -> None:
        """`atomicrmw fadd/fsub p, v` (its old value unused): v's adjoint is p's (read once more for
        each update; nothing else writes that adjoint while the updates run)."""
        ptr, val = inst.operands[0], inst.operands[1]
        if not (self.act.has_shadow(ptr) and self.act.is_varied(val)):
            return
        ty = self.act.adjoint_type(val)
        d = self.b.atomic_load(ty, self.rs(ptr), layout.align_of(self.module, ty))
        self.add_adj(val, self.b.fneg(d) if inst.info["operation"] == "fsub" else d)

    def _rule_inputs(self, rule, inst: Instruction, operands: list[Value]):
        """The primal inputs the active partials read (others are placeholders never emitted)."""
        wanted: dict[int, Value] = {}
        s = self.s
        s._rule_needs(rule, inst, operands, lambda kind, v: wanted.setdefault(id(v), v))
        args = [self.rp(o) if id(o) in wanted else Constant(o.type, "poison") for o in operands]
        result = self.rp(inst) if id(inst) in wanted else None
        known = {node: self.rp(v) for node, v in sibling_calls(rule, inst, operands).items() if id(v) in wanted}
        return args, result, known

    def _shuffle(self, inst: Instruction, d: Value, floats: list[int | None] | None = None) -> None:
        """`floats`: the mask over the floats that integer lanes hold (adcc.ad.common.float_lane_mask)."""
        v1, v2, mask = inst.operands
        lanes = layout.shuffle_mask(mask, inst.type.count) if floats is None else floats
        n = v1.type.count if floats is None else self.act.float_view(v1).count
        b = self.b
        acc1: Value = zero_of(self.act.adjoint_type(v1))  # (integers holding floats: adjoints are floats)
        acc2: Value = zero_of(self.act.adjoint_type(v2))
        for j, m in enumerate(lanes):
            if m is None:
                continue
            x = b.extractelement(d, j)
            if m < n:
                acc1 = b.insertelement(acc1, b.fadd(b.extractelement(acc1, m), x), m)
            else:
                acc2 = b.insertelement(acc2, b.fadd(b.extractelement(acc2, m - n), x), m - n)
        self.add_adj(v1, acc1)
        self.add_adj(v2, acc2)

    def _call(self, inst: Instruction) -> None:
        kind = classify_call(self.module, inst)
        act, b = self.act, self.b
        if kind is CallKind.MATH:
            if not act.is_varied(inst):
                return
            d = self.take_adj(inst)
            if self.s.grad_logger is not None:
                self.s.grad_logger.log(b, inst, d)
            rule = math_rule(self.module, inst)
            args, result, known = self._rule_inputs(rule, inst, inst.args)
            mask = [act.is_varied(a) for a in inst.args]
            for a, c in zip(inst.args, emit_reverse(b, rule, args, result, d, mask, known, self.s.spec.strong_zero)):
                if c is not None:
                    self.add_adj(a, c)
            return
        if kind in MEMORY_KINDS:
            return self._call_memory(inst, kind, inst.callee_name)
        if kind is CallKind.MEMCPY:
            dst, src, n = inst.args[0], inst.args[1], inst.args[2]
            if not act.has_shadow(dst):
                return
            lay = copy_layout(self.module, act, inst)
            if lay.kind == "bits":
                return
            if lay.kind == "unknown" and has_narrow_floats(self.s.ctx):
                raise untyped_copy_error(self.module, inst)
            if lay.kind == "float" and lay.elem.kind not in COPY_SUFFIX:
                raise unsupported(self.module, inst, f"cannot differentiate a copy of {lay.elem} values in reverse "
                                                     f"mode (#9)")
            nb = convert(b, self.rp(n), T.i64)
            fresh = self.s.writes_fresh_object(inst, dst)  # then ddst is never read again: no zeroing
            if not act.has_shadow(src):
                if fresh:
                    pass
                elif lay.kind == "unknown":  # (its pointer words keep their shadows)
                    b.call("adcc.adjoint.clear.any", T.void, [self.rs(dst), self.rs(dst), nb], declare=False)
                else:
                    b.memset(self.rs(dst), 0, nb)
            elif lay.kind in ("float", "unknown"):
                # a memmove's source and destination may overlap (a fresh destination cannot)
                shared = self.s.shared_memory(src)
                if shared and _is_memmove(inst) and not fresh:
                    raise unsupported(self.module, inst, "cannot differentiate a memmove of memory other threads "
                                                         "share (in a parallel region)")
                op = ("add" if fresh else "move" if _is_memmove(inst) else "copy") + (".shared" if shared else "")
                elem = "any" if lay.kind == "unknown" else COPY_SUFFIX[lay.elem.kind]
                if shared and elem not in ("any", "f32", "f64"):
                    raise unsupported(self.module, inst, f"cannot differentiate a copy of {lay.elem} values in "
                                                         f"memory other threads share (in a parallel region)")
                helper = f"adcc.adjoint.{op}.{elem}"
                b.call(helper, T.void, [self.rs(dst), self.rs(src), nb], declare=False)
            else:
                shared = self.s.shared_memory(src)
                # every destination adjoint is read before any lands on the source (overlap)
                fields = []
                for off, fty in lay.floats:
                    pd = b.byte_gep(self.rs(dst), off) if off else self.rs(dst)
                    fields.append((off, fty, b.load(fty, pd, align=1)))
                    if not fresh:
                        b.store(zero_of(fty), pd, align=1)
                for off, fty, d in fields:
                    ps = b.byte_gep(self.rs(src), off) if off else self.rs(src)
                    if shared:
                        atomic_add(b, ps, d)
                    else:
                        b.store(b.fadd(b.load(fty, ps, align=1), d), ps, align=1)
            return
        if kind is CallKind.MEMSET:
            # the values it overwrote get no adjoint: zero their shadow, unless nothing reads it
            # again (the first write into memory this function allocated)
            if act.has_shadow(inst.args[0]) and not self.s.writes_fresh_object(inst, inst.args[0]):
                b.memset(self.rs(inst.args[0]), 0, convert(b, self.rp(inst.args[2]), T.i64))
            return
        if not self.s.is_active_call(inst):
            return
        if kind is CallKind.RULE:
            rule = self.s.call_rule(inst)
            if rule is not None:
                rule.reverse(ReverseSite(self, inst, self.s.rule_saves(inst, rule)))
                return
            kind = CallKind.DEFINED
        if kind is CallKind.DEFINED:
            self._call_rev(inst, inst.callee_name)
            return
        if kind is CallKind.INDIRECT:
            cands = self.s.candidates(inst)
            k = self.cur[("i", id(inst))]
            cont = self.fn.add_block(None)
            arms = []
            for i, name in enumerate(cands):
                arms.append((i, self.fn.add_block(None)))
            bad = self.fn.add_block(None)
            b.switch(k, bad, [(i, blk) for i, blk in arms])
            b.position_at_end(bad)
            b.unreachable()
            saved_cur = dict(self.cur)
            for (i, blk), (name, target) in zip(arms, cands):
                b.position_at_end(blk)
                self.cur = dict(saved_cur)
                if target is CallKind.DEFINED:
                    self._call_rev(inst, name)
                else:
                    self._call_memory(inst, target, name)
                b.br(cont)
            b.position_at_end(cont)
            self.cur = saved_cur
            return

    def _call_memory(self, inst: Instruction, kind: CallKind, name: str) -> None:
        """Reverse of malloc/free/realloc and their kin (`name`: the function called)."""
        act, b = self.act, self.b
        if kind is CallKind.FREE:  # the primal's free, deferred to here
            if name in IN_ORDER_FREES:  # those ran in the augmented pass
                return
            if not self.s.freed_at_allocation(inst):  # (else released at the allocation's reverse)
                self._free_primal(inst, name, [self.rp(a) for a in inst.args])
        elif kind is CallKind.ALLOC:
            free = self.s.heap_free.get(id(inst))
            if free is not None:  # the reverse pass may have read it until here
                self._free_primal(free, free.callee_name, [self.rp(inst)])
            if act.has_shadow(inst) and name != "adcc_split_tape_new":  # a shadow tape goes with its tape
                b.call("adcc_shadow_free", T.void, [self.rs(inst)])
        elif act.has_shadow(inst):
            old = inst.args[0]
            olds = self.rs(old) if act.has_shadow(old) else Constant(T.ptr, "null")
            b.call("adcc_shadow_realloc_rev", T.void, [olds, self.rs(inst)])

    def _free_primal(self, free: Instruction, name: str, args: list[Value]) -> None:
        b = self.b
        if self.s.rules_read_memory and len(args) == 1 and free.info["fn_type"].ret == T.void:
            # a call rule's reverse (run later in this reverse pass) may read the memory: release
            # it when the whole reverse pass is done (adcc_free_flush in the gradient)
            b.call("adcc_free_later", T.void, [args[0], GlobalRef(name)])
            self.s.ctx.frees_deferred = True
        else:
            b.call(name, T.void, args, fnty=free.info["fn_type"])

    def _call_rev(self, inst: Instruction, name: str) -> None:
        spec = callee_spec(self.act, inst, Mode.REVERSE, 1, name)
        _, rev = self.s.ctx.reverse_functions(spec)
        callee = self.module.function(name)
        _, _, _, r_pack = signatures(self.module, callee, spec)
        args: list[Value] = [self.tape]
        if spec.ret_active:
            d = self.read_adj(inst)
            b = self.b
            b.store(zero_of(inst.type), self.slot(inst))
            args.append(convert(self.b, d, callee.ret_type))
        r = self.b.call(rev, r_pack.type, args)
        outs = r_pack.unpack(self.b, r)
        k = 0
        for a, act in zip(inst.args, spec.args):
            if act is Activity.OUT:
                c = outs[k]
                k += 1
                if c.type != a.type:
                    c = convert(self.b, c, a.type)
                self.add_adj(a, c)


PASSIVE = "adcc.passive"


def _piecewise_bytes(act, val: Value) -> bool:
    """An integer narrower than any float, loaded from memory with a shadow, that type analysis
    does not know to be an integer: a piece of a byte-wise copy of what may be floats."""
    from adcc.analysis.types import Integer, Pointer
    from adcc.analysis.signbits import lane_bits
    bits = lane_bits(val.type)
    return bits is not None and bits < 16 and act.types.scalar_kind(val) not in (Integer, Pointer)


def _piece_of_float(act, val: Value) -> bool:
    """An integer that type analysis places in part of a wider float: the high or low word of a
    double (`memcpy(&hi, (char *)&d + 4, 4)`), half of a float. Handled as a float word of its own
    width, its adjoint would be bits of the wider float's adjoint read as a narrower float."""
    from adcc.analysis.types import Float
    from adcc.analysis.signbits import lane_bits
    bits = lane_bits(val.type)
    kind = act.types.scalar_kind(val)
    return bits is not None and not isinstance(val.type, T.VectorType) and isinstance(kind, Float) and \
        T.FLOAT_BITS.get(kind.kind, 0) > bits


def _untyped_word(module, act, store: Instruction, val: Value) -> bool:
    """An integer moved from memory with a shadow to memory with a shadow that nothing types: type
    analysis cannot place it, and neither the store nor the load that produced it has a TBAA type
    other than raw bytes (a float beside an int moved as an i64): it carries no adjoint."""
    from adcc.ir.metadata import metadata_index
    from adcc.analysis.types import Unknown
    if act.types.scalar_kind(val) is not Unknown:
        return False
    index = metadata_index(module)
    for access in (store, val):
        if isinstance(access, Instruction) and \
                any(nm != "omnipotent char" for nm in index.tbaa_type_names(access)):
            return False  # (typed by the front end: an integer field, a Fortran descriptor's bounds)
    return True


def _is_memmove(inst: Instruction) -> bool:
    name = (inst.callee_name or "").strip('"')
    return name == "memmove" or name.startswith("llvm.memmove.")


# Adjoint accumulation: the order in which contributions are summed is ours to choose (the
# program does not define it), so the optimizer may reassociate it, which lets it vectorize
# reductions such as x̄ += ȳᵢ·aᵢ over a loop.
ACCUMULATE_FLAGS = "reassoc nsz contract"


def add_values(b: Builder, x: Value, y: Value) -> Value:
    """x + y for float scalars/vectors and aggregates of them (element-wise)."""
    ty = x.type
    if ty.is_float_or_float_vector():
        if isinstance(x, Constant) and x.is_zero():
            return y
        return b.fadd(x, y, flags=ACCUMULATE_FLAGS)
    ty_r = b.module.resolve(ty)
    if isinstance(ty_r, (T.StructType, T.ArrayType)):
        elems = ty_r.elems if isinstance(ty_r, T.StructType) else [ty_r.elem] * ty_r.count
        out = x
        for k, et in enumerate(elems):
            if is_floatish(b.module, et):
                out = b.insertvalue(out, add_values(b, b.extractvalue(x, k), b.extractvalue(y, k)), k)
        return out
    return x


def atomic_add(b: Builder, p: Value, d: Value) -> None:
    """*p += d atomically, one float at a time (vectors lane by lane, aggregates member by member)."""
    module = b.module
    ty = module.resolve(d.type) if isinstance(d.type, T.NamedStructType) else d.type
    if isinstance(ty, T.FloatType):
        b.atomic_rmw("fadd", p, d, layout.align_of(module, ty))
    elif isinstance(ty, T.VectorType):
        size = layout.alloc_size(module, ty.elem)
        for k in range(ty.count):
            atomic_add(b, b.byte_gep(p, k * size) if k else p, b.extractelement(d, k))
    elif isinstance(ty, (T.StructType, T.ArrayType)):
        elems = ty.elems if isinstance(ty, T.StructType) else [ty.elem] * ty.count
        offsets = layout.struct_offsets(module, ty) if isinstance(ty, T.StructType) else \
            [k * layout.alloc_size(module, ty.elem) for k in range(ty.count)]
        for k, (et, off) in enumerate(zip(elems, offsets)):
            if is_floatish(module, et):
                atomic_add(b, b.byte_gep(p, off) if off else p, b.extractvalue(d, k))
