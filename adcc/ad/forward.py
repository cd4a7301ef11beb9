"""Forward mode: a clone of the primal that carries tangents alongside active values.

For a spec of width W every active value has W tangents (a list; `None` is a
symbolic zero that emits no arithmetic) and every shadowed pointer W shadows.
The synthesized function takes each argument followed by its W shadows and
returns (primal result, W tangents / shadows), packed by `Packing`.
"""
from __future__ import annotations

from adcc.ad import naming
from adcc.analysis.calls import IN_ORDER_FREES, CallKind, classify_call, effective_callee
from adcc.ad.common import (bit_operation_error, INDIRECT_MISS, MEMORY_KINDS, message_constant, Packing, callee_spec, candidate_address,
                            check_atomic, clone_on_shadow, convert, emit_shadow_allocation, float_lane_mask,
                            inactive_pointer_shadow, indirect_candidates, int_offset_shadow, int_pointer_shadow,
                            math_rule, no_derivative, refuse_lost_store, reverse_post_order, rule_unavailable,
                            sign_change_operand, size_of_const, unsupported, zero_of)
from adcc.ad.rules.calls import ForwardSite, always_applies, call_rule_for
from adcc.ad.prepare import prepared_function
from adcc.ad.rules import emit_error, emit_forward, lookup_opcode, sibling_calls
from adcc.analysis.spec import FunctionSpec, Mode
from adcc.analysis.activity import ActivityAnalysis, is_floatish, is_pointer, pointer_aggregate
from adcc.analysis.demand import OFFSET_OPS
from adcc.analysis.signbits import INT_OPS, lane_bits, sign_mask
from adcc.analysis.words import clears_float, tainted_store
from adcc.ad.words import changed_word
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder, add_incoming
from adcc.ir.values import Block, Constant, Function, GlobalRef, Instruction, Value

PASS_THROUGH = frozenset({"extractvalue", "insertvalue", "extractelement", "insertelement",
                          "shufflevector", "freeze", "bitcast"})


def forward_signature(module, fn: Function, spec: FunctionSpec) -> tuple[list[T.Type], Packing]:
    params: list[T.Type] = []
    for a, act in zip(fn.args, spec.args):
        params.append(a.type)
        if act.has_shadow:
            params.extend([a.type] * spec.width)
    fields: list[T.Type] = []
    if not isinstance(fn.ret_type, T.VoidType):
        fields.append(fn.ret_type)
    if spec.ret_active or spec.ret_shadow:
        fields.extend([fn.ret_type] * spec.width)
    return params, Packing(fields)


class ForwardSynthesizer:
    def __init__(self, ctx, spec: FunctionSpec):
        self.ctx = ctx
        self.module = ctx.module
        self.spec = spec
        self.W = spec.width
        self.primal = prepared_function(self.module, spec.name)
        self.act = ActivityAnalysis(self.module, self.primal, spec)
        self.vmap: dict[int, Value] = {}
        self.tmap: dict[int, list[Value | None]] = {}
        self.smap: dict[int, list[Value]] = {}
        self.bmap: dict[int, Block] = {}
        self.exit_block: dict[int, Block] = {}  # where a primal block's terminator landed
        self.pending_phis: list[tuple[Instruction, Instruction, str, int]] = []
        self.fn: Function | None = None
        self.packing: Packing | None = None

    # --- setup --------------------------------------------------------------------------
    def declare(self) -> Function:
        params, self.packing = forward_signature(self.module, self.primal, self.spec)
        name = self.module.unique_name(naming.forward(self.spec))
        fn = Function(name, self.packing.type, params, linkage="internal",
                      attributes=self.ctx.derivative_attributes(self.spec.name))
        self.module.add_function(fn)
        self.fn = fn
        return fn

    def build(self) -> None:
        fn, W = self.fn, self.W
        k = 0
        for a, act in zip(self.primal.args, self.spec.args):
            self.vmap[id(a)] = fn.args[k]
            k += 1
            if act.has_shadow:
                shadows = fn.args[k:k + W]
                k += W
                if isinstance(a.type, T.PointerType):
                    self.smap[id(a)] = list(shadows)
                else:
                    self.tmap[id(a)] = list(shadows)
        for blk in self.primal.blocks:
            self.bmap[id(blk)] = fn.add_block(blk.name)
        self.b = Builder(self.module, fn)
        order = reverse_post_order(self.primal)
        for blk in order:
            self.b.position_at_end(self.bmap[id(blk)])
            for inst in blk.instructions:
                self.visit(inst)
            self.exit_block[id(blk)] = self.b.block
        reached = {id(b) for b in order}
        # blocks of unreached primal blocks go; those added while visiting (an indirect call's
        # dispatch) stay where they were inserted
        dropped = {id(self.bmap[id(b)]) for b in self.primal.blocks if id(b) not in reached}
        fn.blocks = [b for b in fn.blocks if id(b) not in dropped]
        self._fill_phis(reached)

    # --- value lookup ---------------------------------------------------------------
    def p(self, v: Value) -> Value:
        if isinstance(v, Block):
            return self.bmap[id(v)]
        if isinstance(v, Constant):
            return v
        return self.vmap[id(v)]

    def t(self, v: Value) -> list[Value | None]:
        return self.tmap.get(id(v)) or [None] * self.W

    def tz(self, v: Value, w: int) -> Value:
        tv = self.t(v)[w]
        return tv if tv is not None else zero_of(v.type)

    def s(self, v: Value) -> list[Value] | None:
        """Shadows of a pointer (or an integer copied from shadowed memory); None if it has none."""
        got = self.smap.get(id(v))
        if got is not None:
            return got
        if isinstance(v, Constant) and self.act.has_shadow(v):
            from adcc.ad.globals import shadow_constant
            return [shadow_constant(self.module, v, w) for w in range(self.W)]  # (each lane its own)
        return None

    def sz(self, v: Value, w: int, user: Instruction | None = None, refuse: bool = False) -> Value:
        """The shadow of `v`: its shadow; for an integer without one, the integer itself; for a
        pointer without one, see `inactive_pointer_shadow` (`refuse` where it meets active memory)."""
        sh = self.s(v)
        if sh is not None:
            return sh[w]
        if isinstance(v.type, T.PointerType) or (pointer_aggregate(self.module, v.type) and not isinstance(v, Constant)):
            return inactive_pointer_shadow(self.module, self.act, v, user, False, refuse, self.p)
        return v if isinstance(v, Constant) else self.p(v)

    # --- instructions -----------------------------------------------------------------
    def visit(self, inst: Instruction) -> None:
        op = inst.opcode
        if op == "#dbg":
            return
        if op == "phi":
            return self._phi(inst)
        if op == "call":
            return self._call(inst)
        if op == "ret":
            return self._ret(inst)
        if op in ("atomicrmw", "cmpxchg"):
            return self._atomic(inst)
        new = self._clone(inst)
        if op == "load":
            return self._load(inst, new)
        if op == "store":
            return self._store(inst)
        if op == "alloca":
            if self.act.has_shadow(inst):
                self.smap[id(inst)] = [self._shadow_alloca(inst) for _ in range(self.W)]
            return
        if op in ("getelementptr", "select", "addrspacecast", "bitcast", "freeze", "inttoptr") and \
                isinstance(inst.type, T.PointerType) and (op != "inttoptr" or self.act.has_int_shadow(inst.operands[0])):
            if self.act.has_shadow(inst):
                self.smap[id(inst)] = [self._clone_with(inst, w, shadow=True) for w in range(self.W)]
            return
        if op == "inttoptr" and self.act.has_shadow(inst):
            self.smap[id(inst)] = [int_pointer_shadow(self.b, self.act, inst, self.p, lambda v, w=w: self.sz(v, w))
                                   for w in range(self.W)]
            return
        if not self.act.is_varied(inst):
            if self.act.has_int_shadow(inst) and op in OFFSET_OPS:
                self.smap[id(inst)] = [int_offset_shadow(self.b, inst, self.p, lambda v, w=w: self.sz(v, w))
                                       for w in range(self.W)]
            elif self.act.has_int_shadow(inst) and op in ("select", "freeze", "ptrtoint"):
                self.smap[id(inst)] = [self._clone_with(inst, w, shadow=True) for w in range(self.W)]
            elif op == "extractvalue" and self.act.has_shadow(inst):  # a pointer out of a shadowed aggregate
                agg = self.s(inst.operands[0])
                self.smap[id(inst)] = [self.b.clone(inst, [agg[w]], name="") for w in range(self.W)]
            elif op in ("insertvalue", "select") and self.act.has_shadow(inst):  # aggregates of pointers
                self.smap[id(inst)] = [self.b.clone(inst, [self.sz(o, w, inst, refuse=True) if is_pointer(o.type) or
                                                           pointer_aggregate(self.module, o.type) else self.p(o)
                                                           for o in inst.operands], name="") for w in range(self.W)]
            return
        if op in INT_OPS:
            return self._sign_bits(inst, new)
        rule = lookup_opcode(op)
        if rule is not None:
            args = inst.operands
            pargs = [self.p(a) for a in args]
            known = self._known(rule, inst, args)
            self.tmap[id(inst)] = [self._emit(rule, pargs, new, [self.t(a)[w] for a in args], known)
                                   for w in range(self.W)]
            return
        if op in PASS_THROUGH:
            if op in ("extractelement", "insertelement", "shufflevector"):
                float_lane_mask(self.module, self.act, inst)  # integer lanes: whole floats move, or an error
            self.tmap[id(inst)] = [self._clone_with(inst, w, shadow=False) for w in range(self.W)]
            return
        if op in ("trunc", "zext", "sext"):  # float bits moved within integers (analysis.signbits.moves_words)
            raise bit_operation_error(self.module, inst)
        raise unsupported(self.module, inst, f"cannot differentiate instruction '{op}' in forward mode")

    def _sign_bits(self, inst: Instruction, new: Instruction) -> None:
        """A sign change through a float's bits: the tangent's bits get the same sign flip
        (t_r = t_x ^ ((r ^ x) & SIGN))."""
        x = sign_change_operand(self.module, self.act, inst)
        mask = Builder.iconst(inst.type, sign_mask(lane_bits(inst.type)))
        flip = self.b.and_(self.b.xor(new, self.p(x)), mask)
        self.tmap[id(inst)] = [None if t is None else self.b.xor(t, flip) for t in self.t(x)]

    def _clone(self, inst: Instruction) -> Instruction:
        new = self.b.clone(inst, [self.p(o) for o in inst.operands])
        self.vmap[id(inst)] = new
        return new

    def _clone_primal(self, inst: Instruction) -> Instruction:
        new = self._clone(inst)
        self.vmap[id(inst)] = new
        return new

    def _primal_call(self, inst: Instruction) -> Value | None:
        """The primal's own call, as it is (split forward mode reads its result back instead)."""
        return self._clone_primal(inst)

    def _clone_with(self, inst: Instruction, w: int, shadow: bool) -> Instruction:
        """The same instruction over tangents (shadow=False) or shadows (shadow=True)."""
        ops = []
        for o in inst.operands:
            if isinstance(o, Block):
                ops.append(self.bmap[id(o)])
            elif shadow and (isinstance(o.type, T.PointerType) or self.act.has_int_shadow(o)):
                ops.append(self.sz(o, w, inst, refuse=inst.opcode == "select"))
            elif not shadow and (is_floatish(self.module, o.type) or self.act.is_varied(o)):
                ops.append(self.tz(o, w))
            else:
                ops.append(self.p(o))
        return self.b.clone(inst, ops, name="")

    def _phi(self, inst: Instruction) -> None:
        new = self.b.phi(inst.type, name=inst.name)
        self.vmap[id(inst)] = new
        self.pending_phis.append((inst, new, "p", 0))
        if self.act.is_varied(inst):
            ts = []
            for w in range(self.W):
                tp = self.b.phi(inst.type)
                ts.append(tp)
                self.pending_phis.append((inst, tp, "t", w))
            self.tmap[id(inst)] = ts
        elif self.act.has_shadow(inst) or self.act.has_int_shadow(inst):
            ss = []
            for w in range(self.W):
                sp = self.b.phi(inst.type)
                ss.append(sp)
                self.pending_phis.append((inst, sp, "s", w))
            self.smap[id(inst)] = ss

    def _fill_phis(self, reached: set[int]) -> None:
        for old, new, kind, w in self.pending_phis:
            for v, blk in old.incoming():
                if id(blk) not in reached:
                    continue
                if kind == "p":
                    val = self.p(v)
                elif kind == "t":
                    val = self.tz(v, w)
                else:
                    val = self.sz(v, w, old, refuse=True)
                add_incoming(new, val, self.exit_block[id(blk)])

    def _load(self, inst: Instruction, new: Instruction) -> None:
        self.vmap[id(inst)] = new
        ptr = inst.operands[0]
        sh = self.s(ptr)
        if sh is None:
            return
        if self.act.is_varied(inst):
            self.tmap[id(inst)] = [clone_on_shadow(self.b, inst, [sh[w]], name="") for w in range(self.W)]
        elif self.act.has_shadow(inst) or self.act.has_int_shadow(inst):
            self.smap[id(inst)] = [clone_on_shadow(self.b, inst, [sh[w]], name="") for w in range(self.W)]

    def _store(self, inst: Instruction) -> None:
        val, ptr = inst.operands
        sh = self.s(ptr)
        if sh is None:
            if self.act.is_varied(val):
                refuse_lost_store(self.module, self.act, inst, ptr)
            return
        if isinstance(val.type, T.IntType) and tainted_store(self.act, inst) is not None:
            raise changed_word(self.module, inst)  # its tangent would be the primal's bits (#9)
        clears = clears_float(self.act, inst)  # constant bits over a float: its tangent is zero
        for w in range(self.W):
            if is_floatish(self.module, val.type) or self.act.is_varied(val):
                sv = self.tz(val, w)
            elif clears:
                sv = zero_of(val.type)
            elif isinstance(val, Constant) and not self.act.has_shadow(val):
                sv = val  # a pointer constant naming an active global stores that global's shadow
            else:
                sv = self.sz(val, w)
            clone_on_shadow(self.b, inst, [sv, sh[w]])

    def _atomic(self, inst: Instruction) -> None:
        """`atomicrmw fadd/fsub p, v`: the same update of p's shadow by v's tangent."""
        check_atomic(self.module, self.act, inst)
        self._clone(inst)
        self._atomic_shadow(inst)

    def _atomic_shadow(self, inst: Instruction) -> None:
        ptr, val = inst.operands[0], inst.operands[1]
        sh = self.s(ptr)
        if inst.opcode == "atomicrmw" and sh is not None and self.act.carries_float(inst):
            align = layout.align_of(self.module, self.act.adjoint_type(val))
            for w in range(self.W):
                self.b.atomic_rmw(inst.info["operation"], sh[w], self.tz(val, w), align)

    def _shadow_alloca(self, inst: Instruction) -> Value:
        sa = self.b.clone(inst, [self.p(o) for o in inst.operands], name="")
        size: Value = size_of_const(inst.info["alloc_type"])
        if inst.operands:
            n = convert(self.b, self.p(inst.operands[0]), T.i64)
            size = self.b.mul(size, n)
        self.b.memset(sa, 0, size)
        return sa

    def _ret(self, inst: Instruction) -> None:
        vals: list[Value] = []
        if inst.operands:
            v = inst.operands[0]
            vals.append(self.p(v))
            if self.spec.ret_active:
                vals.extend(self.tz(v, w) for w in range(self.W))
            elif self.spec.ret_shadow:
                vals.extend(self.sz(v, w, inst, refuse=True) for w in range(self.W))
        r = self.packing.pack(self.b, vals)
        self.b.ret(r)

    def _emit(self, rule, pargs, new, tangents, known):
        """The tangent of one operation (with __enzyme_error_estimate: its error estimate)."""
        if self.spec.error:
            return emit_error(self.b, rule, pargs, new, tangents, known)
        return emit_forward(self.b, rule, pargs, new, tangents, known, self.spec.strong_zero)

    def _known(self, rule, inst: Instruction, args) -> dict:
        """Partial terms already computed by earlier primal calls (cos(x) for d sin(x))."""
        siblings = sibling_calls(rule, inst, args)
        if not siblings:
            return {}
        before = set()
        for other in inst.block.instructions:
            if other is inst:
                break
            before.add(id(other))
        return {node: self.p(v) for node, v in siblings.items() if id(v) in before}

    # --- calls ------------------------------------------------------------------------
    def _call(self, inst: Instruction) -> None:
        kind = classify_call(self.module, inst)
        active = self._call_is_active(inst)
        if kind is CallKind.MATH:
            new = self._primal_call(inst)
            if self.act.is_varied(inst):
                rule = math_rule(self.module, inst)
                pargs = [self.p(a) for a in inst.args]
                known = self._known(rule, inst, inst.args)
                self.tmap[id(inst)] = [self._emit(rule, pargs, new, [self.t(a)[w] for a in inst.args], known)
                                       for w in range(self.W)]
            return
        if kind in MEMORY_KINDS:
            return self._call_memory(inst, kind)
        if kind is CallKind.MEMCPY:
            self._primal_call(inst)
            dst, src = inst.args[0], inst.args[1]
            if self.s(dst) is None and self.s(src) is not None:
                refuse_lost_store(self.module, self.act, inst, dst)
            if self.s(dst) is not None:
                for w in range(self.W):
                    if self.s(src) is not None:
                        ops = [self.s(o)[w] if k in (1, 2) else self.p(o)
                               for k, o in enumerate(inst.operands)]
                        self.b.clone(inst, ops)
                    else:
                        self.b.memset(self.s(dst)[w], 0, convert(self.b, self.p(inst.args[2]), T.i64))
            return
        if kind is CallKind.MEMSET:
            self._primal_call(inst)
            dst = inst.args[0]
            if self.s(dst) is not None:
                for w in range(self.W):
                    self.b.memset(self.s(dst)[w], 0, self.p(inst.args[2]))
            return
        if kind in (CallKind.INACTIVE,) or not active:
            self._primal_call(inst)
            return
        if kind is CallKind.RULE:
            if self.spec.error:
                raise unsupported(self.module, inst, f"__enzyme_error_estimate: no error-estimation rule for the call "
                                                     f"to '{inst.callee_name}' (custom rules and library call rules "
                                                     f"give derivatives only)")
            rule = call_rule_for(self.module, inst.callee_name)
            if rule.supports(reverse=False):
                return rule.forward(ForwardSite(self, inst))
            if self.module.is_defined(inst.callee_name):
                return self._call_defined(inst, inst.callee_name)
            raise rule_unavailable(self.module, inst, rule, "forward")
        if kind is CallKind.DEFINED:
            return self._call_defined(inst, inst.callee_name)
        if kind is CallKind.INDIRECT:
            return self._call_indirect(inst)
        raise no_derivative(self.module, inst, kind)

    def _call_is_active(self, inst: Instruction) -> bool:
        return self.act.is_active_call(inst) or self.act.is_varied(inst) or self.act.has_shadow(inst) or \
            always_applies(self.module, inst)

    def _call_memory(self, inst: Instruction, kind: CallKind, name: str | None = None) -> None:
        """malloc/free/realloc and their kin (`name`: the function, called directly or through a
        pointer)."""
        name = name or inst.callee_name
        if kind is CallKind.ALLOC:
            self._primal_call(inst)
            if self.act.allocation_has_shadow(inst):  # (a private scratch buffer without active data has none)
                args = [self.p(a) for a in inst.args]
                self.smap[id(inst)] = [emit_shadow_allocation(self.b, inst, args) for _ in range(self.W)]
            return
        if kind is CallKind.REALLOC:
            self._primal_call(inst)
            old = inst.args[0]
            n = convert(self.b, self.p(inst.args[1]), T.i64)
            shadows = []
            for w in range(self.W):
                olds = self.sz(old, w) if self.s(old) is not None else Constant(T.ptr, "null")
                shadows.append(self.b.call("adcc_shadow_realloc", T.ptr, [olds, n]))
            self.smap[id(inst)] = shadows
            return
        if kind is CallKind.FREE:
            self._primal_call(inst)
            sh = self.s(inst.args[0])
            if sh is not None:
                # shadows adcc allocated are in the runtime's table of live shadows; others belong to the caller,
                # who allocated them like the primal (Enzyme frees those with the primal's free);
                # where the pointer's origin is not in sight, the runtime tells them apart
                from adcc.analysis.memory import is_local_object, underlying_objects
                ours = name in IN_ORDER_FREES or \
                    all(isinstance(o, Instruction) and o.opcode == "call" and is_local_object(o, self.module)
                        or isinstance(o, Constant) for o in underlying_objects(inst.args[0], self.module))
                for w in range(self.W):
                    if ours:
                        self.b.call("adcc_shadow_free", T.void, [sh[w]])
                    elif len(inst.args) == 1 and inst.info["fn_type"].ret == T.void:
                        # adcc's shadow, or one the caller provided (released like its primal)
                        self.b.call("adcc_shadow_release", T.void, [sh[w], GlobalRef(name)])
                    else:  # (sized, aligned delete): the caller's shadow gets the same arguments
                        self._release_theirs(inst, name, sh[w])
            return

    def _release_theirs(self, inst: Instruction, name: str, shadow: Value) -> None:
        """Free `shadow` if adcc allocated it; else release it like its primal (`name` with the
        primal's other arguments)."""
        b = self.b
        ours = b.call("adcc_shadow_free_if_ours", T.i32, [shadow])
        theirs = self.fn.add_block(None, after=b.block)
        done = self.fn.add_block(None, after=theirs)
        b.cond_br(b.icmp("eq", ours, Builder.iconst(T.i32, 0)), theirs, done)
        b.position_at_end(theirs)
        b.call(name, inst.info["fn_type"].ret, [shadow, *[self.p(a) for a in inst.args[1:]]], fnty=inst.info["fn_type"])
        b.br(done)
        b.position_at_end(done)

    def _call_defined(self, inst: Instruction, name: str) -> Value | None:
        spec = callee_spec(self.act, inst, Mode.FORWARD, self.W, name)
        fwd = self.ctx.forward_function(spec)
        callee = self.module.function(name)
        args: list[Value] = []
        for a, p, act in zip(inst.args, callee.args, spec.args):
            pa = convert(self.b, self.p(a), p.type)
            args.append(pa)
            if act.has_shadow:
                for w in range(self.W):
                    if isinstance(p.type, T.PointerType):
                        args.append(self.sz(a, w))
                    else:
                        args.append(self.tz(a, w))
        _, packing = forward_signature(self.module, callee, spec)
        r = self.b.call(fwd, packing.type, args)
        parts = packing.unpack(self.b, r)
        if not isinstance(callee.ret_type, T.VoidType):
            self.vmap[id(inst)] = parts[0]
            rest = parts[1:]
            if spec.ret_active:
                self.tmap[id(inst)] = list(rest)
            elif spec.ret_shadow:
                self.smap[id(inst)] = list(rest)
        return r

    def _call_indirect(self, inst: Instruction) -> None:
        """Devirtualize over the module's address-taken functions of the same type (and the
        memory functions whose address is taken: an allocator table)."""
        fnty: T.FunctionType = inst.info["fn_type"]
        cands = indirect_candidates(self.module, fnty)
        if not cands:
            raise unsupported(self.module, inst, "cannot differentiate an indirect call: no function of this type "
                                                 "has its address taken in this module")
        fp = self.p(inst.callee)
        cont = self.fn.add_block(None, after=self.b.block)
        results: list[tuple[Block, Value | None, list | None, list | None]] = []
        for name, kind in cands:
            hit = self.fn.add_block(None, after=self.b.block)
            miss = self.fn.add_block(None, after=hit)
            c = self.b.icmp("eq", fp, candidate_address(self.module, name))
            self.b.cond_br(c, hit, miss)
            self.b.position_at_end(hit)
            for m in (self.vmap, self.tmap, self.smap):
                m.pop(id(inst), None)
            if kind is CallKind.DEFINED:
                self._call_defined(inst, name)
            else:
                self._call_memory(inst, kind, name)
            results.append((self.b.block, self.vmap.get(id(inst)), self.tmap.get(id(inst)), self.smap.get(id(inst))))
            self.b.br(cont)
            self.b.position_at_end(miss)
        self.b.call("adcc_fatal", T.void, [message_constant(self.module, INDIRECT_MISS)])
        self.b.unreachable()
        self.b.position_at_end(cont)
        # merge the arms' results
        if isinstance(inst.type, T.VoidType):
            return
        self.vmap[id(inst)] = self.b.phi(inst.type, [(pv, blk) for blk, pv, _, _ in results])
        if self.act.is_varied(inst):
            self.tmap[id(inst)] = [self.b.phi(inst.type, [(ts[w] if ts and ts[w] is not None else zero_of(inst.type), blk)
                                                          for blk, _, ts, _ in results]) for w in range(self.W)]
        elif self.act.has_shadow(inst):
            self.smap[id(inst)] = [self.b.phi(inst.type, [(ss[w], blk) for blk, _, _, ss in results])
                                   for w in range(self.W)]
