"""Reverse mode: an augmented forward function and a reverse function per spec.

aug(tape, args..., shadows...) runs the primal, maintains shadow memory and
pushes one tape record per executed block (the values its reverse needs and the
predecessor it came from). rev(tape, dret) pops the records in LIFO order,
running each block's adjoint code, and returns the adjoints of the active scalar
arguments. Callees push into the same tape, so calls, loops and recursion
compose. The top-level gradient function runs both with a fresh tape.
"""
from __future__ import annotations

from adcc.ad import naming
from adcc.ad.calls import CallKind, classify_call
from adcc.ad.common import (Packing, address_taken_functions, callee_spec, convert, emit_shadow_allocation,
                            no_derivative, reverse_post_order, size_of_const, unsupported, zero_of)
from adcc.ad.prepare import prepared_function
from adcc.ad.rules import emit_reverse, lookup_call, lookup_opcode
from adcc.ad.spec import Activity, FunctionSpec, Mode
from adcc.ad.tape import TAPE_TYPE, FastLoop, RecordLayout, TapePlan, ensure_tape_helpers, key_type
from adcc.analysis.activity import ActivityAnalysis, is_floatish
from adcc.ir import types as T
from adcc.ir.builder import Builder, add_incoming
from adcc.ir.values import Block, Constant, Function, GlobalRef, Instruction, Value


def signatures(module, fn: Function, spec: FunctionSpec):
    aug_params = [T.ptr]
    for a, act in zip(fn.args, spec.args):
        aug_params.append(a.type)
        if act.has_shadow:
            aug_params.append(a.type)
    aug_fields = []
    if not isinstance(fn.ret_type, T.VoidType):
        aug_fields.append(fn.ret_type)
        if spec.ret_shadow:
            aug_fields.append(fn.ret_type)
    rev_params = [T.ptr] + ([fn.ret_type] if spec.ret_active else [])
    rev_fields = [a.type for a, act in zip(fn.args, spec.args) if act is Activity.OUT]
    return aug_params, Packing(aug_fields), rev_params, Packing(rev_fields)


def gradient_function(ctx, spec: FunctionSpec) -> tuple[Function, Packing]:
    """grad(args..., shadows...) = { tape; aug; rev(1.0); free tape; return adjoints }."""
    module = ctx.module
    key = ("grad", spec)
    cache = getattr(ctx, "gradient_cache", None)
    if cache is None:
        cache = ctx.gradient_cache = {}
    if key in cache:
        return cache[key]
    fn = module.function(spec.name)
    aug, rev = ctx.reverse_functions(spec)
    aug_params, aug_pack, rev_params, rev_pack = signatures(module, fn, spec)
    params = aug_params[1:]
    g = Function(module.unique_name(naming.gradient(spec)), rev_pack.type, params, linkage="internal")
    module.add_function(g)
    b = Builder(module, g).position_at_end(g.add_block("entry"))
    tape = b.alloca(TAPE_TYPE, align=8)
    b.store(Constant(TAPE_TYPE, "zeroinitializer"), tape, align=8)
    b.call(aug, aug_pack.type, [tape, *g.args])
    b.call("adcc_tape_note", T.void, [tape])  # tape bytes of this gradient (adcc_tape_last_bytes)
    rargs: list[Value] = [tape]
    if spec.ret_active:
        rargs.append(Builder.fconst(fn.ret_type, 1.0) if fn.ret_type.is_float_or_float_vector()
                     else zero_of(fn.ret_type))
    r = b.call(rev, rev_pack.type, rargs)
    b.call("adcc_tape_free", T.void, [tape])
    b.ret(r if rev_pack.fields else None)
    cache[key] = (g, rev_pack)
    return g, rev_pack


class ReverseSynthesizer:
    def __init__(self, ctx, spec: FunctionSpec):
        self.ctx = ctx
        self.module = ctx.module
        self.spec = spec
        self.primal = prepared_function(self.module, spec.name)
        self.act = ActivityAnalysis(self.module, self.primal, spec)
        ensure_tape_helpers(self.module)

    def declare(self) -> tuple[Function, Function]:
        aug_params, self.aug_pack, rev_params, self.rev_pack = signatures(self.module, self.primal, self.spec)
        m = self.module
        self.aug = Function(m.unique_name(naming.augmented(self.spec)), self.aug_pack.type, aug_params)
        self.rev = Function(m.unique_name(naming.reverse(self.spec)), self.rev_pack.type, rev_params)
        m.add_function(self.aug)
        m.add_function(self.rev)
        return self.aug, self.rev

    def build(self) -> None:
        self.order = reverse_post_order(self.primal)
        self.reached = {id(b) for b in self.order}
        self.ids = {id(b): k for k, b in enumerate(self.order)}
        self.needs = {id(b): self._needs(b) for b in self.order}
        self.returns = [b for b in self.order if b.terminator is not None and b.terminator.opcode == "ret"]
        self.plan = TapePlan(self)
        self.fast = self._fast_loops()
        AugmentedBuilder(self).build()
        ReverseBuilder(self).build()

    def record_types(self, blk: Block) -> list[T.Type]:
        s = self
        multi = len(s.preds(blk)) > 1 and s.plan.counted_header(blk) is None and id(blk) not in s.plan.choice
        return ([T.i32] if multi else []) + [key_type(k, v) for k, v in s.plan.taped[id(blk)]]

    def _fast_loops(self) -> dict[int, FastLoop]:
        from adcc.analysis.cfg import trip_count
        s, plan = self, self.plan
        out: dict[int, FastLoop] = {}
        for cl in plan.counted.values():
            lp = cl.loop
            if lp.children or lp.exiting != [cl.latch]:
                continue
            if any(i.opcode == "call" and classify_call(self.module, i) in (CallKind.DEFINED, CallKind.INDIRECT)
                   and s.is_active_call(i) for b in lp.blocks for i in b.instructions):
                continue  # callees push onto the tape too
            trip = trip_count(lp, plan.dt)
            if trip is None or (trip.bound is not None and not isinstance(trip.bound.type, T.IntType)):
                continue
            offsets, off, ok = {}, 0, True
            for blk in s.order:
                if blk not in lp:
                    continue
                types = self.record_types(blk)
                if not types:
                    continue
                if not plan.dt.dominates(blk, cl.latch):
                    ok = False  # executed on some iterations only: the stride would vary
                    break
                offsets[id(blk)] = off
                off += RecordLayout(types).size
            if ok and offsets:
                out[id(cl)] = FastLoop(cl, trip, off, offsets)
        # a reservation may move the tape buffer: none may happen inside another fast loop,
        # whose cursor holds the buffer's address
        for key, fl in list(out.items()):
            if any(other is not fl and fl.cl.outside in other.cl.loop for other in out.values()):
                del out[key]
        return out

    def fast_loop_of(self, blk: Block) -> FastLoop | None:
        return next((f for f in self.fast.values() if blk in f.cl.loop), None)

    def preds(self, blk: Block) -> list[Block]:
        return [p for p in blk.predecessors if id(p) in self.reached]

    # --- what each block's reverse reads from the tape ----------------------------------
    def _needs(self, blk: Block) -> list[tuple[str, Value]]:
        keys: list[tuple[str, Value]] = []
        seen: set[tuple[str, int]] = set()

        def need(kind: str, v: Value) -> None:
            if isinstance(v, (Constant, Block)):
                return
            k = (kind, id(v))
            if k not in seen:
                seen.add(k)
                keys.append((kind, v))

        act, module = self.act, self.module
        for inst in blk.instructions:
            op = inst.opcode
            if op == "load" and act.is_varied(inst):
                need("s", inst.operands[0])
            elif op == "store":
                val, ptr = inst.operands
                if act.has_shadow(ptr) and act.carries_float(val):
                    need("s", ptr)
            elif op == "alloca" and act.has_shadow(inst):
                need("s", inst)
            elif op == "call":
                self._call_needs(inst, need)
            elif op in ("select",) and act.is_varied(inst):
                need("p", inst.operands[0])
            elif op in ("extractelement",) and act.is_varied(inst):
                need("p", inst.operands[1])
            elif op in ("insertelement",) and act.is_varied(inst):
                need("p", inst.operands[2])
            elif act.is_varied(inst):
                rule = lookup_opcode(op)
                if rule is not None and rule.kind == "pointwise":
                    self._rule_needs(rule, inst, inst.operands, need)
        return keys

    def _rule_needs(self, rule, inst: Instruction, operands: list[Value], need) -> None:
        """Only the primal values the partials of the active operands read."""
        from adcc.ad.rules.expr import Arg, Result, walk
        for i, o in enumerate(operands):
            if i >= len(rule.partial_exprs) or rule.partial_exprs[i] is None or not self.act.is_varied(o):
                continue
            for node in walk(rule.partial_exprs[i]):
                if isinstance(node, Arg):
                    need("p", operands[node.index])
                elif isinstance(node, Result):
                    need("p", inst)

    def _call_needs(self, inst: Instruction, need) -> None:
        act = self.act
        kind = classify_call(self.module, inst)
        if kind is CallKind.MATH and act.is_varied(inst):
            self._rule_needs(lookup_call(inst.callee_name), inst, inst.args, need)
        elif kind is CallKind.ALLOC:
            need("s", inst)
        elif kind is CallKind.REALLOC:
            need("s", inst)
            if act.has_shadow(inst.args[0]):
                need("s", inst.args[0])
        elif kind is CallKind.FREE:
            need("p", inst.args[0])
        elif kind is CallKind.MEMCPY and act.has_shadow(inst.args[0]):
            need("s", inst.args[0])
            if act.has_shadow(inst.args[1]):
                need("s", inst.args[1])
            need("p", inst.args[2])
        elif kind is CallKind.MEMSET and act.has_shadow(inst.args[0]):
            need("s", inst.args[0])
            need("p", inst.args[2])
        elif kind is CallKind.INDIRECT and self.is_active_call(inst):
            need("i", inst)

    def is_active_call(self, inst: Instruction) -> bool:
        return self.act.is_active_call(inst) or self.act.is_varied(inst) or \
            (isinstance(inst.type, T.PointerType) and self.act.has_shadow(inst))

    def candidates(self, inst: Instruction) -> list[str]:
        fnty: T.FunctionType = inst.info["fn_type"]
        cands = [n for n in address_taken_functions(self.module) if self.module.function(n).function_type == fnty]
        if not cands:
            raise unsupported(self.module, inst, "cannot differentiate an indirect call: no function of this "
                                                 "type has its address taken in this module")
        return cands


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
        self.extra: dict[int, Value] = {}  # ("i" keys): candidate index of indirect calls
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
        self.cursor: dict[int, tuple[Value, Value]] = {}  # fast loop -> (base, top) at entry
        self.tcur: dict[int, Value] = {}
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
                if id(cl) in self.fast:
                    t = self.b.phi(T.i64, name="tape.top")
                    self.tcur[id(cl)] = t
                    self.pending.append((blk, t, ("tcur", self.fast[id(cl)])))
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
            base, _ = self.cursor[id(fl.cl)]
            tcur = self.tcur[id(fl.cl)]
            if types:
                off = b.add(tcur, Builder.iconst(T.i64, fl.offsets[id(blk)]))
                RecordLayout(types).store_at(b, b.byte_gep(base, off), vals)
            if blk is fl.cl.latch:
                nxt = b.add(tcur, Builder.iconst(T.i64, fl.stride), name="tape.next")
                self.tnext[id(fl.cl)] = nxt
                b.store(nxt, b.byte_gep(self.tape, 8), align=8)
        else:
            RecordLayout(types).push(self.b, self.tape, vals)


    def _reserve(self, fl: FastLoop) -> None:
        """Before a fast loop: capacity for all its records, and the cursor's start."""
        b = self.b
        if fl.trip.bound is None:
            n: Value = Builder.iconst(T.i64, max(fl.trip.offset, 0))
        else:
            bound = convert(b, self.p(fl.trip.bound), T.i64) if fl.trip.bound.type != T.i64 else self.p(fl.trip.bound)
            n = b.add(bound, Builder.iconst(T.i64, fl.trip.offset))
            n = b.select(b.icmp("sgt", n, Builder.iconst(T.i64, 0)), n, Builder.iconst(T.i64, 0))
        nbytes = b.mul(n, Builder.iconst(T.i64, fl.stride))
        base = b.call("adcc.tape.reserve", T.ptr, [self.tape, nbytes], declare=False)
        top = b.load(T.i64, b.byte_gep(self.tape, 8), align=8)
        self.cursor[id(fl.cl)] = (base, top)

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

    def sh(self, v: Value) -> Value:
        got = self.smap.get(id(v))
        if got is not None:
            return got
        if isinstance(v, Constant):
            if self.act.has_shadow(v):
                from adcc.ad.globals import shadow_constant
                return shadow_constant(self.module, v)
            return v if not isinstance(v.type, T.PointerType) else Constant(T.ptr, "null") \
                if v.text in ("null", "poison", "undef") else v
        return self.p(v)  # inactive pointer: its shadow is itself (Enzyme's convention)

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
                    vals.append(self.sh(v))
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
        new = self.clone(inst)
        self.vmap[id(inst)] = new
        if op == "load":
            ptr = inst.operands[0]
            if (act.has_shadow(inst) or act.has_int_shadow(inst)) and act.has_shadow(ptr):
                self.smap[id(inst)] = self.clone(inst, [self.sh(ptr)], name="")
        elif op == "store":
            val, ptr = inst.operands
            if act.has_shadow(ptr) and not act.carries_float(val):
                if isinstance(val.type, T.PointerType) or act.has_int_shadow(val):
                    self.clone(inst, [self.sh(val), self.sh(ptr)])
        elif op == "alloca" and act.has_shadow(inst):
            size: Value = size_of_const(inst.info["alloc_type"])
            if inst.operands:  # variable-length: on the heap (its size is not at hand in reverse)
                size = self.b.mul(size, convert(self.b, self.p(inst.operands[0]), T.i64))
                self.smap[id(inst)] = self.b.call("adcc_shadow_alloc", T.ptr, [size])
            else:  # fixed size: on the runtime's LIFO shadow stack, released by its reverse
                self.smap[id(inst)] = self.b.call("adcc_shadow_stack_alloc", T.ptr, [size])
        elif isinstance(inst.type, T.PointerType) and act.has_shadow(inst) and op in \
                ("getelementptr", "select", "bitcast", "addrspacecast", "freeze"):
            ops = [self.sh(o) if isinstance(o.type, T.PointerType) else self.p(o) for o in inst.operands]
            self.smap[id(inst)] = self.clone(inst, ops, name="")
        elif op in ("select", "freeze") and act.has_int_shadow(inst):
            ops = [self.sh(o) if act.has_int_shadow(o) else self.p(o) for o in inst.operands]
            self.smap[id(inst)] = self.clone(inst, ops, name="")

    def _terminator(self, inst: Instruction) -> None:
        """Branches; edges that leave counted loops get a block that records the loops' final
        counters and hoisted values (once per loop execution, not per visit of the target)."""
        e = inst.block
        edges: dict[int, Block] = {}
        for x in inst.successors:
            if id(x) not in edges and (self.s.plan.edge_record(e, x) or self._fast_entry(e, x)):
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

    def incoming_block(self, pred: Block, blk: Block) -> Block:
        """The augmented block that branches into `blk` on the primal edge pred -> blk."""
        return self.edge_block.get((id(pred), id(blk))) or self.exit_block[id(pred)]

    def _call(self, inst: Instruction) -> None:
        kind = classify_call(self.module, inst)
        act, b = self.act, self.b
        if kind is CallKind.FREE:
            return  # deferred: the reverse of this free releases the primal
        if kind is CallKind.ALLOC:
            self.vmap[id(inst)] = self.clone(inst)
            self.smap[id(inst)] = emit_shadow_allocation(b, inst, [self.p(a) for a in inst.args])
            return
        if kind is CallKind.REALLOC:
            self.vmap[id(inst)] = self.clone(inst)
            old = inst.args[0]
            olds = self.sh(old) if act.has_shadow(old) else Constant(T.ptr, "null")
            self.smap[id(inst)] = b.call("adcc_shadow_realloc_fwd", T.ptr,
                                         [olds, convert(b, self.p(inst.args[1]), T.i64)])
            return
        if kind in (CallKind.MATH, CallKind.INACTIVE, CallKind.MEMCPY, CallKind.MEMSET) or \
                not self.s.is_active_call(inst):
            if kind in (CallKind.UNKNOWN,) and self._touches_shadowed_memory(inst):
                raise unsupported(self.module, inst, f"cannot differentiate call to external function "
                                                     f"'{(inst.callee_name or '?').strip(chr(34))}' with active "
                                                     f"memory arguments")
            self.vmap[id(inst)] = self.clone(inst)
            if kind is CallKind.MEMCPY and act.has_shadow(inst.args[0]):
                self._forward_copy_shadow(inst)
            return
        if kind is CallKind.DEFINED:
            self._call_defined(inst, inst.callee_name)
            return
        if kind is CallKind.INDIRECT:
            return self._call_indirect(inst)
        raise no_derivative(self.module, inst, kind)

    def _touches_shadowed_memory(self, inst: Instruction) -> bool:
        return any(isinstance(a.type, T.PointerType) and self.act.has_shadow(a) for a in inst.args)

    def _forward_copy_shadow(self, inst: Instruction) -> None:
        """Pointers and integers in copied memory: their shadows move with the copy."""
        lay = copy_layout(self.module, self.act, inst)
        dst, src = inst.args[0], inst.args[1]
        if lay.kind == "bits":
            ops = [self.sh(o) if k in (1, 2) else self.p(o) for k, o in enumerate(inst.operands)]
            self.clone(inst, ops)
        elif lay.kind == "mixed" and self.act.has_shadow(src):
            b = self.b
            for off, _ in lay.bits:
                v = b.load(T.ptr, b.byte_gep(self.sh(src), off) if off else self.sh(src), align=1)
                b.store(v, b.byte_gep(self.sh(dst), off) if off else self.sh(dst), align=1)

    def _call_defined(self, inst: Instruction, name: str) -> Value | None:
        spec = callee_spec(self.act, inst, Mode.REVERSE, 1, name)
        aug, _ = self.s.ctx.reverse_functions(spec)
        callee = self.module.function(name)
        a_params, a_pack, _, _ = signatures(self.module, callee, spec)
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
        for k, name in enumerate(cands):
            hit = self.fn.add_block(None, after=self.b.block)
            miss = self.fn.add_block(None, after=hit)
            self.b.cond_br(self.b.icmp("eq", fp, GlobalRef(name)), hit, miss)
            self.b.position_at_end(hit)
            self._call_defined(inst, name)
            pv = self.vmap.get(id(inst))
            sv = self.smap.get(id(inst))
            arms.append((self.b.block, k, pv, sv))
            self.b.br(cont)
            self.b.position_at_end(miss)
        self.b.call("adcc_fatal", T.void, [Constant(T.ptr, "null")])
        self.b.unreachable()
        self.b.position_at_end(cont)
        self.extra[id(inst)] = self.b.phi(T.i32, [(Builder.iconst(T.i32, k), blk) for blk, k, _, _ in arms])
        if arms[0][2] is not None:
            self.vmap[id(inst)] = self.b.phi(inst.type, [(pv, blk) for blk, _, pv, _ in arms])
        if arms[0][3] is not None:
            self.smap[id(inst)] = self.b.phi(inst.type, [(sv, blk) for blk, _, _, sv in arms])

    def _fill_phis(self) -> None:
        s = self.s
        for old, new, kind in self.pending:
            if isinstance(kind, tuple) and kind[0] == "tcur":
                fl = kind[1]
                add_incoming(new, self.cursor[id(fl.cl)][1], self.incoming_block(fl.cl.outside, fl.cl.header))
                add_incoming(new, self.tnext[id(fl.cl)], self.incoming_block(fl.cl.latch, fl.cl.header))
                continue
            if kind == "idx":
                for k, pred in enumerate(s.preds(old)):
                    add_incoming(new, Builder.iconst(T.i32, k), self.incoming_block(pred, old))
                continue
            if kind == "ctr":
                cl = s.plan.counted_header(old)
                hb = self.bmap[id(old)]
                b = Builder(self.module, self.fn).position_after_phis(hb)
                nxt = b.add(new, Builder.iconst(T.i64, 1), name="iter.next", flags="nuw nsw")
                add_incoming(new, Builder.iconst(T.i64, 0), self.incoming_block(cl.outside, old))
                add_incoming(new, nxt, self.incoming_block(cl.latch, old))
                continue
            for v, blk in old.incoming():
                if id(blk) not in s.reached:
                    continue
                val = self.p(v) if kind == "p" else self.sh(v)
                add_incoming(new, val, self.incoming_block(blk, old.block))


class CopyLayout:
    """What a memcpy/memmove moves, for its shadow: floats (adjoints flow back in the reverse
    pass), bits (pointers/integers: the shadow is copied forward), or a fixed mix of both."""

    def __init__(self, kind: str, elem: T.Type | None = None, floats=(), bits=()):
        self.kind = kind          # "float" | "bits" | "mixed"
        self.elem = elem          # element type when kind == "float"
        self.floats = list(floats)  # mixed: (offset, FloatType)
        self.bits = list(bits)      # mixed: (offset, size) copied forward


def copy_layout(module, act, inst: Instruction) -> CopyLayout:
    from adcc.analysis.types import Float, Integer, Pointer
    from adcc.ir import layout as L
    k = act.types.copy_element(inst)
    if isinstance(k, Float):
        return CopyLayout("float", T.FloatType(k.kind))
    if k is Pointer or k is Integer:
        return CopyLayout("bits")
    n = L.constant_int(inst.args[2])
    if k == "mixed" and n is not None:
        floats, bits = [], []
        trees = [act.types.value_tree(v) for v in (inst.args[0], inst.args[1])]
        off = 0
        while off < n:
            kinds = [t.paths.get((off,), t.paths.get((-1,))) for t in trees]
            fk = next((x for x in kinds if isinstance(x, Float)), None)
            size = (T.FloatType(fk.kind).bits + 7) // 8 if fk is not None else 0
            if fk is not None and off % min(size, 8) == 0:  # fields are naturally aligned; padding is not
                floats.append((off, T.FloatType(fk.kind)))
                off += size
            elif any(x is Pointer for x in kinds) and off % 8 == 0:
                bits.append((off, 8))
                off += 8
            else:
                off += 1
        return CopyLayout("mixed", floats=floats, bits=bits)
    # no type information: fall back to the TBAA names clang attached to the copy
    from adcc.ad.tbaa import access_type_names
    names = access_type_names(module, inst)
    if any(nm == "any pointer" or nm.startswith(("p1 ", "p2 ")) for nm in names) and \
            not any(nm in ("double", "float") for nm in names):
        return CopyLayout("bits")
    if names and all(nm == "float" for nm in names):
        return CopyLayout("float", T.f32)
    return CopyLayout("float", T.f64)


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
                self.fast_start[id(cl)] = self.b.alloca(T.i64, name="tape.start")
            for hk, hv in plan.hoisted.get(id(cl), []):
                self.hslot[(id(cl), hk, id(hv))] = self.b.alloca(hv.type, name="hoist")
        k = RecordLayout([T.i32]).pop(self.b, self.tape)[0] if len(rets) > 1 else None
        fvals = RecordLayout([key_type(kd, v) for kd, v in plan.func_keys]).pop(self.b, self.tape)
        self.func_vals = {(kd, id(v)): x for (kd, v), x in zip(plan.func_keys, fvals)}
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
                outs.append(self.read_adj(a) if self.act.is_varied(a) else zero_of(a.type))
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
            else:
                x = v
        elif src == "func":
            x = self.func_vals[key]
        elif src == "hoist":
            cl = self.s.plan.hoist_loop(v, self.blk)
            x = self.b.load(v.type, self.hslot[(id(cl), kind, id(v))])
        elif src == "affine":
            cl, start, (how, step), nxt = self.s.plan.affine(v, self.blk)
            st = self.value("p", start)
            c = self.b.load(T.i64, self.ctr[id(cl)])
            if how == "add":
                k = c if v.type == T.i64 else self.b.cast("trunc" if v.type.bits < 64 else "zext", c, v.type)
                x = self.b.add(st, self.b.mul(k, Builder.iconst(v.type, step)))
            else:
                x = self.b.gep(nxt.info["source_type"], st, [self.b.mul(c, Builder.iconst(T.i64, step))])
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

    def _reverse_block(self, blk: Block) -> None:
        s, b = self.s, self.b
        plan = s.plan
        self.blk = blk
        b.position_at_end(self.rmap[id(blk)])
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
            # records of a fast loop sit at start + iteration * stride + this block's offset
            it = b.load(T.i64, self.ctr[id(fl.cl)])
            at = b.add(b.load(T.i64, self.fast_start[id(fl.cl)]), b.mul(it, Builder.iconst(T.i64, fl.stride)))
            at = b.add(at, Builder.iconst(T.i64, fl.offsets[id(blk)]))
            vals = RecordLayout(types).load_at(b, b.byte_gep(b.load(T.ptr, self.tape, align=8), at))
        else:
            vals = RecordLayout(types).pop(b, self.tape)
        self.cur = {}
        idx = None
        for (kind, v), x in zip(keys, vals):
            if kind == "idx":
                idx = x
            else:
                self.cur[(kind, id(v))] = x
        for kind, v in s.needs[id(blk)]:
            self.value(kind, v)
        term = blk.terminator
        if term is not None and term.opcode == "ret" and term.operands and s.spec.ret_active:
            self.add_adj(term.operands[0], self.dret)
        for inst in reversed(blk.instructions):
            if inst.opcode not in ("phi", "#dbg") and not inst.is_terminator:
                self.visit(inst)
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
            self._edge(blk, counted.latch, phis)
            b.position_at_end(e_out)
            self._edge(blk, counted.outside, phis)
            return
        if len(preds) == 1:
            self._edge(blk, preds[0], phis)
            return
        if choice is not None:
            cond, p_true, p_false = choice
            e_true, e_false = self.fn.add_block(None), self.fn.add_block(None)
            b.cond_br(self.value("p", cond), e_true, e_false)
            for e, pred in ((e_true, p_true), (e_false, p_false)):
                b.position_at_end(e)
                self._edge(blk, pred, phis)
            return
        edges = []
        for k, pred in enumerate(preds):
            e = self.fn.add_block(None)
            edges.append((k, e))
        b.switch(idx, edges[0][1], [(k, e) for k, e in edges])
        for (k, e), pred in zip(edges, preds):
            b.position_at_end(e)
            self._edge(blk, pred, phis)

    def _edge(self, blk: Block, pred: Block, phis: list[Instruction]) -> None:
        b = self.b
        ds = [self.take_adj(p) for p in phis]
        for p, d in zip(phis, ds):
            for v, src in p.incoming():
                if src is pred:
                    self.add_adj(v, d)
                    break
        # entering counted loops backwards through their exit: restart their iteration counters
        keys = self.s.plan.edge_record(pred, blk)
        if keys:
            vals = RecordLayout([key_type(k, v) for k, v in keys]).pop(b, self.tape)
            for (kind, v), x in zip(keys, vals):
                if kind == "h":
                    cl, (hk, hv) = v
                    b.store(x, self.hslot[(id(cl), hk, id(hv))])
                    continue
                cl = v
                b.store(x, self.ctr[id(cl)])
                fl = self.s.fast.get(id(cl))
                if fl is not None:  # release all the loop's records at once
                    topp = b.byte_gep(self.tape, 8)
                    n = b.add(x, Builder.iconst(T.i64, 1))
                    start = b.sub(b.load(T.i64, topp, align=8), b.mul(n, Builder.iconst(T.i64, fl.stride)))
                    b.store(start, self.fast_start[id(cl)])
                    b.store(start, topp, align=8)
        b.br(self.rmap[id(pred)])

    # --- per-instruction adjoints ----------------------------------------------------------
    def visit(self, inst: Instruction) -> None:
        op, act, b = inst.opcode, self.act, self.b
        if op == "store":
            val, ptr = inst.operands
            if act.has_shadow(ptr) and act.carries_float(val):
                ty = act.adjoint_type(val)
                sp = self.rs(ptr)
                d = b.load(ty, sp)
                b.store(zero_of(ty), sp)
                self.add_adj(val, d)
            return
        if op == "call":
            return self._call(inst)
        if op == "alloca":
            if act.has_shadow(inst) and inst.operands:
                b.call("adcc_shadow_free", T.void, [self.rs(inst)])
            elif act.has_shadow(inst):
                b.call("adcc_shadow_stack_free", T.void, [self.rs(inst), size_of_const(inst.info["alloc_type"])])
            return
        if not act.is_varied(inst):
            return
        d = self.take_adj(inst)
        if op == "load":
            sp = self.rs(inst.operands[0])
            old = b.load(d.type, sp)
            b.store(add_values(b, old, d), sp)
            return
        rule = lookup_opcode(op)
        if rule is not None and rule.kind in ("pointwise", "cast", "select"):
            if rule.kind == "pointwise":
                args, result = self._rule_inputs(rule, inst, inst.operands)
            else:
                args = [self.rp(a) if (rule.kind == "select" and k == 0) else a for k, a in enumerate(inst.operands)]
                result = None
            mask = [act.is_varied(a) for a in inst.operands]
            contribs = emit_reverse(b, rule, args, result, d, mask)
            for a, c in zip(inst.operands, contribs):
                if c is not None:
                    self.add_adj(a, c)
            return
        if rule is not None and rule.kind == "zero":
            return
        if op == "freeze" or op == "bitcast":
            src = inst.operands[0]
            want = act.adjoint_type(src)
            self.add_adj(src, d if d.type == want else b.cast("bitcast", d, want))
            return
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
                z = zero_of(vec.type)
                self.add_adj(vec, b.insertelement(z, d, ixv))
            return
        if op == "insertelement":
            vec, elt, ix = inst.operands
            ixv = self.rp(ix)
            if act.is_varied(elt):
                self.add_adj(elt, b.extractelement(d, ixv))
            if act.is_varied(vec):
                self.add_adj(vec, b.insertelement(d, zero_of(elt.type), ixv))
            return
        if op == "shufflevector":
            return self._shuffle(inst, d)
        raise unsupported(self.module, inst, f"cannot differentiate instruction '{op}' in reverse mode")

    def _rule_inputs(self, rule, inst: Instruction, operands: list[Value]):
        """The primal inputs the active partials read (others are placeholders never emitted)."""
        wanted: dict[int, Value] = {}
        s = self.s
        s._rule_needs(rule, inst, operands, lambda kind, v: wanted.setdefault(id(v), v))
        args = [self.rp(o) if id(o) in wanted else Constant(o.type, "poison") for o in operands]
        result = self.rp(inst) if id(inst) in wanted else None
        return args, result

    def _shuffle(self, inst: Instruction, d: Value) -> None:
        v1, v2, mask = inst.operands
        lanes = parse_mask(mask, inst.type.count)
        n = v1.type.count
        b = self.b
        acc1: Value = zero_of(v1.type)
        acc2: Value = zero_of(v2.type)
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
            rule = lookup_call(inst.callee_name)
            args, result = self._rule_inputs(rule, inst, inst.args)
            mask = [act.is_varied(a) for a in inst.args]
            for a, c in zip(inst.args, emit_reverse(b, rule, args, result, d, mask)):
                if c is not None:
                    self.add_adj(a, c)
            return
        if kind is CallKind.FREE:
            b.call(inst.callee_name, T.void, [self.rp(inst.args[0])], fnty=inst.info["fn_type"])
            return
        if kind is CallKind.ALLOC:
            b.call("adcc_shadow_free", T.void, [self.rs(inst)])
            return
        if kind is CallKind.REALLOC:
            old = inst.args[0]
            olds = self.rs(old) if act.has_shadow(old) else Constant(T.ptr, "null")
            b.call("adcc_shadow_realloc_rev", T.void, [olds, self.rs(inst)])
            return
        if kind is CallKind.MEMCPY:
            dst, src, n = inst.args[0], inst.args[1], inst.args[2]
            if not act.has_shadow(dst):
                return
            lay = copy_layout(self.module, act, inst)
            if lay.kind == "bits":
                return
            nb = convert(b, self.rp(n), T.i64)
            if not act.has_shadow(src):
                b.memset(self.rs(dst), 0, nb)
            elif lay.kind == "float":
                helper = "adcc.adjoint.copy.f32" if lay.elem == T.f32 else "adcc.adjoint.copy.f64"
                b.call(helper, T.void, [self.rs(dst), self.rs(src), nb], declare=False)
            else:
                for off, fty in lay.floats:
                    pd = b.byte_gep(self.rs(dst), off) if off else self.rs(dst)
                    ps = b.byte_gep(self.rs(src), off) if off else self.rs(src)
                    d = b.load(fty, pd, align=1)
                    b.store(zero_of(fty), pd, align=1)
                    b.store(b.fadd(b.load(fty, ps, align=1), d), ps, align=1)
            return
        if kind is CallKind.MEMSET:
            if act.has_shadow(inst.args[0]):
                b.memset(self.rs(inst.args[0]), 0, convert(b, self.rp(inst.args[2]), T.i64))
            return
        if not self.s.is_active_call(inst):
            return
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
            for (i, blk), name in zip(arms, cands):
                b.position_at_end(blk)
                self.cur = dict(saved_cur)
                self._call_rev(inst, name)
                b.br(cont)
            b.position_at_end(cont)
            self.cur = saved_cur
            return

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


def parse_mask(mask: Value, count: int) -> list[int | None]:
    text = mask.text if isinstance(mask, Constant) else ""
    if text in ("zeroinitializer",):
        return [0] * count
    if text in ("poison", "undef"):
        return [None] * count
    if text.startswith("splat"):
        import re
        m = re.search(r"i32 (-?\d+)", text)
        return [int(m.group(1))] * count if m else [None] * count
    out: list[int | None] = []
    for part in text.strip("<>").split(","):
        part = part.strip()
        val = part.split()[-1]
        out.append(None if val in ("poison", "undef") else int(val))
    return out
