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
from adcc.ad.adjoint import ReverseBuilder
from adcc.ad.augmented import AugmentedBuilder
from adcc.ad.calling import signatures
from adcc.ad.checkpoint_loops import reverse_primal
from adcc.ad.deferral import deferred_loops
from adcc.ad.interchange import interchanged_nests
from adcc.ad.parallel import exclusive_accesses
from adcc.analysis.calls import IN_ORDER_FREES, CallKind, classify_call
from adcc.ad.common import (Packing, alignment_of, address_taken_functions, indirect_candidates, math_rule, reverse_post_order,
                            rule_unavailable,
                            unsupported, zero_of)
from adcc.ad.rules import lookup_opcode, sibling_calls
from adcc.ad.rules.calls import CallView, SavedValue, always_applies, call_rule_for
from adcc.analysis.spec import FunctionSpec
from adcc.ad.tape import (STACK_TAPE_LIMIT, TAPE_TYPE, FastLoop, RecordLayout, TapePlan, ensure_tape_helpers,
                          key_type, mark_tape_noalias, static_tape_bytes)
from adcc.analysis.activity import ActivityAnalysis
from adcc.analysis.signbits import INT_OPS, sign_operand
from adcc.analysis.words import clears_float, word_flow
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Block, Constant, Function, Instruction, Value


def gradient_function(ctx, spec: FunctionSpec, with_primal: bool = False) -> tuple[Function, Packing]:
    """grad(args..., shadows...) = { tape; aug; rev(1.0); free tape; return adjoints }; with_primal
    (enzyme_primal_return): { primal result, adjoints... }."""
    module = ctx.module
    key = ("grad", spec, with_primal)
    cache = gradient_cache(ctx)
    if key in cache:
        return cache[key]
    fn = module.function(spec.name)
    aug, rev = ctx.reverse_functions(spec)
    aug_params, aug_pack, rev_params, rev_pack = signatures(module, fn, spec)
    params = aug_params[1:]
    out_pack = Packing(aug_pack.fields[:1] + rev_pack.fields) if with_primal else rev_pack
    g = Function(module.unique_name(naming.gradient(spec)), out_pack.type, params, linkage="internal",
                 attributes=module.target_attributes(spec.name))
    module.add_function(g)
    b = Builder(module, g).position_at_end(g.add_block("entry"))
    tape, on_stack = new_tape(b, module, aug)
    primal = b.call(aug, aug_pack.type, [tape, *g.args])
    top = b.load(T.i64, b.byte_gep(tape, 8), align=8)
    b.call("adcc_tape_note", T.void, [top])  # tape bytes of this gradient (adcc_tape_last_bytes)
    rargs: list[Value] = [tape]
    if spec.ret_active:
        rargs.append(Builder.fconst(fn.ret_type, 1.0) if fn.ret_type.is_float_or_float_vector()
                     else zero_of(fn.ret_type))
    deferred = getattr(ctx, "frees_deferred", False)
    mark = b.call("adcc_free_mark", T.i64, []) if deferred else None
    r = b.call(rev, rev_pack.type, rargs)
    if deferred:
        b.call("adcc_free_flush", T.void, [mark])  # frees a call rule's reverse might still have read
    if not on_stack:
        b.call("adcc_tape_free", T.void, [tape])
    if with_primal:
        r = out_pack.pack(b, aug_pack.unpack(b, primal)[:1] + rev_pack.unpack(b, r))
    b.ret(r if out_pack.fields else None)
    cache[key] = (g, out_pack)
    return g, out_pack


def gradient_cache(ctx) -> dict:
    """The gradient functions built for this module, by (kind, spec, with_primal)."""
    if not hasattr(ctx, "gradient_cache"):
        ctx.gradient_cache = {}
    return ctx.gradient_cache


def new_tape(b: Builder, module, aug: Function) -> tuple[Value, bool]:
    """A fresh tape for a gradient that calls `aug`; True when its records are on the stack."""
    tape = b.alloca(TAPE_TYPE, align=8)
    bound = static_tape_bytes(module, aug)
    on_stack = bound is not None and bound <= STACK_TAPE_LIMIT
    if on_stack:
        # The whole tape fits a stack buffer: no runtime calls, and once aug and rev are
        # inlined here the optimizer forwards each record from its store to its load.
        buf = b.alloca(T.ArrayType(max(bound, 16), T.i8), align=16)
        b.store(buf, tape, align=8)
        b.store(Builder.iconst(T.i64, 0), b.byte_gep(tape, 8), align=8)
        b.store(Builder.iconst(T.i64, bound), b.byte_gep(tape, 16), align=8)
    else:
        b.store(Constant(TAPE_TYPE, "zeroinitializer"), tape, align=8)
    return tape, on_stack


class ReverseSynthesizer:
    def __init__(self, ctx, spec: FunctionSpec):
        self.ctx = ctx
        self.module = ctx.module
        self.spec = spec
        self.primal = reverse_primal(ctx, spec)  # (long loops outlined for checkpointing)
        self.act = ActivityAnalysis(self.module, self.primal, spec)
        ctx.reverse_activities.append(self.act)
        # shadows of stack objects on the heap instead of the LIFO shadow stack once a derivative
        # of derivative code is being built: that code's own stack shadows (its primal here) are
        # allocated and released in program order, interleaved with ours (ADContext.nested)
        self.heap_stack_shadows = getattr(ctx, "nested", False)
        from adcc.ad.log_hooks import GradLogger, grad_hook
        hook = grad_hook(self.module)  # the program's enzymeLogGrad: called with each operation's adjoint
        self.grad_logger = GradLogger(self.module, hook, self.primal, spec.name) if hook else None
        self._saves: dict[int, list[SavedValue]] = {}
        ensure_tape_helpers(self.module)

    def declare(self) -> tuple[Function, Function]:
        aug_params, self.aug_pack, rev_params, self.rev_pack = signatures(self.module, self.primal, self.spec)
        m = self.module
        target = self.ctx.derivative_attributes(self.spec.name)
        self.aug = Function(m.unique_name(naming.augmented(self.spec)), self.aug_pack.type, aug_params,
                            attributes=target)
        self.rev = Function(m.unique_name(naming.reverse(self.spec)), self.rev_pack.type, rev_params,
                            attributes=target)
        m.add_function(self.aug)
        m.add_function(self.rev)
        return self.aug, self.rev

    def build(self) -> None:
        self.rules_read_memory = any(self._rule_reads_memory(i) for f in self._call_tree()
                                     for i in f.instructions() if i.opcode == "call")
        self.kept_alive = self._kept_alive()
        self.reload_heap = self._reloadable_heap_objects()
        self.order = reverse_post_order(self.primal)
        self.reached = {id(b) for b in self.order}
        self.ids = {id(b): k for k, b in enumerate(self.order)}
        self.exclusive = exclusive_accesses(self)  # parallel specs: additions no other thread meets
        self.words = word_flow(self.act, self.primal)  # integer words that may hold floats (#9)
        self.needs = {id(b): self._needs(b) for b in self.order}
        self.returns = [b for b in self.order if b.terminator is not None and b.terminator.opcode == "ret"]
        self.plan = TapePlan(self)
        self.fast = self._fast_loops()
        self.deferred = deferred_loops(self)  # stencil loops whose reverse defers its additions
        self.nests = interchanged_nests(self)  # loop nests whose reverse runs the inner loop outside
        AugmentedBuilder(self).build()
        ReverseBuilder(self).build()
        for fn in (self.aug, self.rev):
            mark_tape_noalias(self.module, fn)
        if not hasattr(self.ctx, "function_records"):
            self.ctx.function_records = {}
        # what the function record holds (adcc.ad.vector_reverse patches lanes' shadows into it)
        self.ctx.function_records[self.spec] = (list(self.plan.func_keys), len(self.returns))

    def record_types(self, blk: Block) -> list[T.Type]:
        s = self
        multi = len(s.preds(blk)) > 1 and s.plan.counted_header(blk) is None and id(blk) not in s.plan.choice
        return ([T.i32] if multi else []) + [key_type(k, v) for k, v in s.plan.taped[id(blk)]]

    def _fast_loops(self) -> dict[int, FastLoop]:
        from adcc.analysis.cfg import equality_count, trip_count
        s, plan = self, self.plan
        out: dict[int, FastLoop] = {}
        for cl in plan.counted.values():
            lp = cl.loop
            if lp.children or lp.exiting != [cl.latch]:
                continue
            if any(i.opcode == "call" and s.is_active_call(i) and self._pushes_onto_tape(i)
                   for b in lp.blocks for i in b.instructions):
                continue  # callees push onto the tape too
            trip = trip_count(lp, plan.dt) or equality_count(lp, plan.dt)
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
                off += RecordLayout(types).packed
            if ok and offsets:
                out[id(cl)] = FastLoop(cl, trip, off, offsets)
        # a reservation may move the tape buffer: none may happen inside another fast loop,
        # whose cursor holds the buffer's address
        for key, fl in list(out.items()):
            if any(other is not fl and fl.cl.outside in other.cl.loop for other in out.values()):
                del out[key]
        return out

    def _kept_alive(self) -> set[int]:
        """Fixed-size stack objects whose address reaches an active call, in a module where some
        call rule's reverse pass reads primal memory (a custom gradient reads its pointer
        arguments), or whose address is stored in one of those: the reverse runs after this
        function's frame is gone, so they live on the runtime's stack until their reverse instead."""
        from adcc.analysis.memory import pointer_uses
        if not self.rules_read_memory:
            return set()
        from adcc.analysis.memory import underlying_objects
        out: set[int] = set()
        stored: list[tuple[Instruction, list]] = []  # allocas whose address is stored: (alloca, targets)
        for inst in self.primal.instructions():
            if inst.opcode != "alloca" or inst.operands or alignment_of(inst) > 16:
                continue
            targets = []
            for u, v in pointer_uses(inst):
                if u.opcode == "call" and any(a is v for a in u.args) and self.is_active_call(u) and \
                        classify_call(self.module, u) in (CallKind.RULE, CallKind.DEFINED, CallKind.INDIRECT):
                    out.add(id(inst))
                    break
                if u.opcode == "store" and u.operands[0] is v:
                    targets.append(u.operands[1])
            else:
                if targets:
                    stored.append((inst, targets))
        # an object whose address is kept in one that lives on (a struct of pointers the call reads)
        grown = True
        while grown:
            grown = False
            for inst, targets in stored:
                if id(inst) not in out and any(id(o) in out for t in targets
                                               for o in underlying_objects(t, self.module)):
                    out.add(id(inst))
                    grown = True
        return out

    def _reloadable_heap_objects(self) -> dict[int, tuple[Instruction, list[Instruction]]]:
        """Heap allocations of this function that its reverse pass may read again (`TapePlan`
        re-executes a load from one when no write into it can follow the load): allocations
        whose address stays in this function (activity.private_heap_object) and that are freed
        at most once. Their `free` is deferred to the reverse of the allocation (instead of the
        reverse of the free), so that they are alive while the reverse pass reads them.
        Maps the allocation to (allocation, the stores and copies that write into it)."""
        from adcc.analysis.activity import private_heap_object
        from adcc.analysis.memory import object_writes, pointer_uses
        out: dict[int, tuple[Instruction, list[Instruction]]] = {}
        self.heap_free: dict[int, Instruction | None] = {}  # allocation -> its free, if any
        for inst in self.primal.instructions():
            if inst.opcode != "call" or not private_heap_object(self.module, inst):
                continue
            frees = [u for u, _ in pointer_uses(inst) if u.opcode == "call"
                     and classify_call(self.module, u) is CallKind.FREE]
            if len(frees) > 1 or any(len(f.args) != 1 or f.info["fn_type"].ret != T.void for f in frees):
                continue
            self.heap_free[id(inst)] = frees[0] if frees else None
            out[id(inst)] = (inst, object_writes(self.module, inst))
        return out

    def freed_at_allocation(self, free: Instruction) -> bool:
        """Is this `free` of a reloadable heap object, released at the reverse of its allocation?"""
        from adcc.analysis.memory import underlying_objects
        return all(id(o) in self.reload_heap for o in underlying_objects(free.args[0], self.module))

    def _call_tree(self):
        """The primal and every function it may call (defined in this module)."""
        seen, stack, out = {self.spec.name}, [self.primal], []
        while stack:
            f = stack.pop()
            out.append(f)
            for i in f.instructions():
                n = i.callee_name if i.opcode == "call" else None
                if n is not None and n not in seen and self.module.is_defined(n):
                    seen.add(n)
                    stack.append(self.module.function(n))
        return out

    def may_be_overwritten(self, inst: Instruction, ptr: Value) -> bool:
        """For call rules (CallView.may_be_overwritten): may the memory behind `ptr` change between
        `inst` and its reverse? A stack object not kept alive is gone by then."""
        from adcc.analysis.memory import may_be_written_after, underlying_objects
        if any(isinstance(o, Instruction) and o.opcode == "alloca" and id(o) not in self.kept_alive
               for o in underlying_objects(ptr, self.module)):
            return True
        private = self.spec.top_level or self.spec.readonly_memory
        return may_be_written_after(self.module, self.primal, inst, ptr, private)

    def _rule_reads_memory(self, inst: Instruction) -> bool:
        if classify_call(self.module, inst) is not CallKind.RULE:
            return False
        rule = call_rule_for(self.module, inst.callee_name)
        return rule is not None and rule.reverse_reads_memory

    def _pushes_onto_tape(self, inst: Instruction) -> bool:
        kind = classify_call(self.module, inst)
        if kind is CallKind.RULE:
            rule = self.call_rule(inst)
            return rule is None or rule.uses_tape
        return kind in (CallKind.DEFINED, CallKind.INDIRECT)

    def writes_fresh_object(self, inst: Instruction, ptr: Value) -> bool:
        """Is `inst` (a write through `ptr`) the first access to a memory object this function
        allocates, once per allocation? Then, in reverse, nothing reads that object's shadow after
        the reverse of `inst` (only the release of the shadow follows), and the reverse need not
        zero the shadow it overwrote."""
        from adcc.analysis.memory import is_local_object, pointer_uses, underlying_objects
        objs = underlying_objects(ptr, self.module)
        if len(objs) != 1 or not isinstance(objs[0], Instruction) or not is_local_object(objs[0], self.module):
            return False
        obj, plan = objs[0], self.plan
        if obj.block is None or plan.li.loop_of(obj.block) is not plan.li.loop_of(inst.block):
            return False  # inst would run more than once per allocation

        def before(a: Instruction, b: Instruction) -> bool:  # a runs before b on every path to b
            if a.block is b.block:
                ins = a.block.instructions
                return ins.index(a) < ins.index(b)
            return plan.dt.dominates(a.block, b.block)

        if not before(obj, inst):
            return False
        for u, _ in pointer_uses(obj):
            if u is inst or (u.opcode == "call" and (u.callee_name or "").startswith("llvm.lifetime.")):
                continue
            if not before(inst, u):
                return False  # another access may come first
        return True

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

        act = self.act
        for inst in blk.instructions:
            op = inst.opcode
            if op == "load" and act.is_varied(inst):
                need("s", inst.operands[0])
                ex = self.exclusive.get(id(inst))
                if ex is not None:  # where the access lies in the chunk
                    for v in (ex.iv, ex.lb, ex.ub):
                        need("p", v)
            elif op == "store":
                val, ptr = inst.operands
                if act.has_shadow(ptr) and act.carries_float(val):
                    need("s", ptr)
                elif id(val) in self.words and act.has_shadow(ptr) or clears_float(act, inst):
                    need("s", ptr)
            elif op == "load" and id(inst) in self.words:
                need("s", inst.operands[0])
            elif op == "select" and id(inst) in self.words:
                need("p", inst.operands[0])
            elif op == "alloca" and id(inst) in self.kept_alive:
                need("p", inst)
                if act.has_shadow(inst):
                    need("s", inst)
            elif op == "alloca" and act.has_shadow(inst):
                need("s", inst)
            elif op == "call":
                self._call_needs(inst, need)
            elif op == "atomicrmw" and act.has_shadow(inst.operands[0]) and act.carries_float(inst.operands[1]):
                need("s", inst.operands[0])
            elif op in INT_OPS and act.is_varied(inst):
                x = sign_operand(inst, act.is_varied)
                if x is not None:  # (otherwise refused when the reverse is built)
                    need("p", inst)
                    need("p", x)
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
        """Only the primal values the partials of the active operands read (a term the primal
        computes already, like the cos(x) next to a sin(x), is read rather than recomputed)."""
        from adcc.ad.rules.expr import Arg, Result, children
        siblings = sibling_calls(rule, inst, operands)

        def visit(node) -> None:
            if node in siblings:
                need("p", siblings[node])
                return
            if isinstance(node, Arg):
                need("p", operands[node.index])
            elif isinstance(node, Result):
                need("p", inst)
            for child in children(node):
                visit(child)

        for i, o in enumerate(operands):
            if i >= len(rule.partial_exprs) or rule.partial_exprs[i] is None or not self.act.is_varied(o):
                continue
            visit(rule.partial_exprs[i])

    def _call_needs(self, inst: Instruction, need) -> None:
        act = self.act
        kind = classify_call(self.module, inst)
        if kind is CallKind.MATH and act.is_varied(inst):
            self._rule_needs(math_rule(self.module, inst), inst, inst.args, need)
        elif kind is CallKind.ALLOC:
            if act.has_shadow(inst):
                need("s", inst)
            if self.heap_free.get(id(inst)) is not None:
                need("p", inst)  # its free moved here (reloadable_heap_objects)
        elif kind is CallKind.REALLOC:
            need("s", inst)
            if act.has_shadow(inst.args[0]):
                need("s", inst.args[0])
        elif kind is CallKind.FREE and inst.callee_name not in IN_ORDER_FREES:
            if not self.freed_at_allocation(inst):  # (else released at the allocation's reverse)
                for a in inst.args:
                    need("p", a)
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
            for _, target in self.candidates(inst):  # an allocator table: as when called directly
                if target is CallKind.ALLOC or (target is CallKind.REALLOC and act.has_shadow(inst)):
                    need("s", inst)
                if target is CallKind.REALLOC and act.has_shadow(inst.args[0]):
                    need("s", inst.args[0])
                if target is CallKind.FREE:
                    need("p", inst.args[0])
        elif kind is CallKind.RULE and self.is_active_call(inst):
            rule = self.call_rule(inst)
            if rule is not None:
                view = CallView(self.module, inst, act, self)
                for key, v in rule.reverse_reads(view):
                    need(key, v)
                for saved in self.rule_saves(inst, rule):
                    need("x", saved)

    def call_rule(self, inst: Instruction):
        """The call rule that differentiates `inst` in reverse mode; None when its body is
        differentiated instead (a rule with only a forward half, on a defined function)."""
        rule = call_rule_for(self.module, inst.callee_name)
        if rule.supports(reverse=True):
            if self.spec.parallel and not rule.thread_safe:
                raise unsupported(self.module, inst, f"cannot differentiate call to '{inst.callee_name.strip(chr(34))}' "
                                                     f"inside an OpenMP parallel region in reverse mode: "
                                                     f"{rule.description} accumulates adjoints that other threads "
                                                     f"may share, without synchronization")
            return rule
        if self.module.is_defined(inst.callee_name):
            return None
        raise rule_unavailable(self.module, inst, rule, "reverse")

    def rule_saves(self, inst: Instruction, rule) -> list[SavedValue]:
        """The tape fields a call rule's augmented pass fills for its reverse (made once per call)."""
        got = self._saves.get(id(inst))
        if got is None:
            types = rule.saved_types(CallView(self.module, inst, self.act, self))
            got = self._saves[id(inst)] = [SavedValue(inst, k, ty) for k, ty in enumerate(types)]
        return got

    def is_active_call(self, inst: Instruction) -> bool:
        return self.act.is_active_call(inst) or self.act.is_varied(inst) or \
            (isinstance(inst.type, T.PointerType) and self.act.has_shadow(inst)) or always_applies(self.module, inst)

    def shared_memory(self, ptr: Value) -> bool:
        """May other threads accumulate adjoints into the memory `ptr` points to while this
        function's reverse runs (a parallel spec, memory it did not allocate privately)? Then
        adjoints of its loads accumulate atomically."""
        if not self.spec.parallel:
            return False
        from adcc.ad.rules.openmp import reduction_private
        from adcc.analysis.memory import escapes, is_local_object, underlying_objects
        return not all(is_local_object(o, self.module) and (not escapes(o) or reduction_private(o))
                       for o in underlying_objects(ptr, self.module))

    def candidates(self, inst: Instruction) -> list[tuple[str, CallKind]]:
        cands = indirect_candidates(self.module, inst.info["fn_type"])
        if not cands:
            raise unsupported(self.module, inst, "cannot differentiate an indirect call: no function of this "
                                                 "type has its address taken in this module")
        return cands
