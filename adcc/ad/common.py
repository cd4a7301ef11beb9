"""Pieces both synthesizers share: the synthesis context (function cache), block
orders, size constants, value conversions, and how a synthesized function packs
several results into one return value."""
from __future__ import annotations

import re

from adcc.ad import naming
from adcc.ad.rules import lookup_call
from adcc.ad.rules.calls import (family_callback_arg, family_incoming_args, family_shadows_result, family_written_args,
                              is_family_callee, is_library_routine)
from adcc.analysis.calls import CallKind, RuleNames, effective_callee, install_rule_names
from adcc.analysis.signbits import sign_operand
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ad.srcloc import location_of
from adcc.ad.support import convert, unsupported
from adcc.analysis.activity import call_activities, is_floatish, pointer_aggregate
from adcc.diagnostics import CompileError, Diagnostic
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Block, Constant, Function, GlobalRef, Instruction, Value


def _inactive_global(name: str) -> bool:
    from adcc.ad.rules import mpi, openmp
    return openmp.is_runtime_global(name) or mpi.is_runtime_global(name)


RULE_NAMES = RuleNames(is_math=lambda name: lookup_call(name) is not None, is_call_rule=is_family_callee,
                       written_args=family_written_args, is_library=is_library_routine,
                       callback_arg=family_callback_arg, inactive_global=_inactive_global,
                       rule_shadows_result=family_shadows_result, incoming_args=family_incoming_args)


def math_rule(module, inst: Instruction):
    """The rule-table entry of a MATH call (through the function it is declared like)."""
    return lookup_call(effective_callee(module, inst.callee_name))


class ADContext:
    """Per-module state of one differentiation run: synthesized functions by spec.

    `forward_synthesizer(ctx, spec)` and `reverse_synthesizer(ctx, spec)` make the synthesizer of
    a spec, `gradient(ctx, spec)` the gradient function of a spec (adcc.ad.rewrite passes them
    in: this module and the rule families sit below the synthesizers)."""

    def __init__(self, module, options=None, forward_synthesizer=None, reverse_synthesizer=None, gradient=None):
        self.module = module
        self.options = options
        self._forward_synthesizer = forward_synthesizer
        self._reverse_synthesizer = reverse_synthesizer
        self._gradient = gradient
        install_rule_names(module, RULE_NAMES)
        self.forward_cache: dict[FunctionSpec, Function] = {}
        self.reverse_cache: dict[FunctionSpec, tuple[Function, Function]] = {}
        self.reverse_activities: list = []  # the ActivityAnalysis of every reverse synthesis begun
        self.reports: list[str] = []
        self.nested = False  # a derivative of derivative code is being synthesized (higher order)
        self.warnings: list = []    # adcc.diagnostics.CompileWarning, rendered by the driver
        self.building = 0  # bodies of derivatives being built: > 0 when a callee's derivative is declared

    def forward_function(self, spec: FunctionSpec) -> Function:
        fn = self.forward_cache.get(spec)
        if fn is None:
            synth = self._forward_synthesizer(self, spec)
            fn = synth.declare()
            self.forward_cache[spec] = fn  # before the body: recursion finds it
            self._build(synth)
        return fn

    def reverse_functions(self, spec: FunctionSpec) -> tuple[Function, Function]:
        pair = self.reverse_cache.get(spec)
        if pair is None:
            synth = self._reverse_synthesizer(self, spec)
            pair = synth.declare()
            self.reverse_cache[spec] = pair
            self._build(synth)
        return pair

    def gradient_function(self, spec: FunctionSpec):
        """(function, packing) of grad(args..., shadows...) = tape, augmented pass, reverse pass
        seeded with 1.0, adjoints (adcc.ad.reverse.gradient_function)."""
        return self._gradient(self, spec)

    def _build(self, synth) -> None:
        self.building += 1
        try:
            synth.build()
        finally:
            self.building -= 1

    def derivative_attributes(self, name: str) -> str:
        """Function attributes of a derivative (forward, augmented or reverse function) of `name`:
        the primal's target attributes, and `noinline` for the derivative of a `noinline` primal
        that differentiated code calls, so that it stays a call after optimization as the primal
        does in clang's output. Inlined, the derivatives of a unit's many small noinline
        functions made one huge function whose optimization and code generation grew faster
        than linearly (#17 item 5). The derivatives a request itself reaches
        (`__enzyme_autodiff(f, ...)`) stay inlinable into its wrapper, which can then keep a
        fixed-size tape in registers."""
        target = self.module.target_attributes(name)
        if self.building == 0 or not self.module.is_noinline(name):
            return target
        return f"{target} noinline" if target else "noinline"


def reverse_post_order(fn: Function) -> list[Block]:
    seen: set[int] = set()
    order: list[Block] = []
    stack: list[tuple[Block, int]] = [(fn.entry, 0)]
    seen.add(id(fn.entry))
    while stack:
        b, k = stack.pop()
        succ = b.successors
        if k < len(succ):
            stack.append((b, k + 1))
            s = succ[k]
            if id(s) not in seen:
                seen.add(id(s))
                stack.append((s, 0))
        else:
            order.append(b)
    order.reverse()
    return order


def alignment_of(inst: Instruction) -> int:
    """The `align N` of a load, store or alloca (0 when it has none): what a shadow access at the
    same offset may assume too."""
    import re
    m = re.search(r"\balign (\d+)", "".join(p for p in inst.template if isinstance(p, str)))
    return int(m.group(1)) if m else 0


def size_of_const(ty: T.Type) -> Constant:
    """`sizeof(ty)` as an i64 constant expression (no data layout needed)."""
    return Constant(T.i64, f"ptrtoint (ptr getelementptr ({ty}, ptr null, i32 1) to i64)")


# The alignment adcc's own shadow allocations guarantee (the runtime's ADCC_ALIGN). A primal object
# may be more aligned (an `alloca ..., align 32`) than its shadow: shadow accesses claim at most this.
SHADOW_ALIGN = 16


def shadow_alignment(module, inst: Instruction) -> int:
    """The alignment a load or store of shadow memory mirroring primal access `inst` may claim: the
    primal's (written, or its type's ABI alignment), at most `SHADOW_ALIGN`."""
    from adcc.ir.layout import access_alignment
    return min(access_alignment(module, inst), SHADOW_ALIGN)


def clone_on_shadow(b: Builder, inst: Instruction, operands: list[Value], name: str | None = None) -> Instruction:
    """`inst` (a load or store) over shadow operands, claiming no more alignment than shadows have."""
    new = b.clone(inst, operands, name=name)
    new.set_alignment(shadow_alignment(b.module, inst))
    return new


def zero_of(ty: T.Type) -> Constant:
    return Builder.zero(ty)


class Packing:
    """Several results returned as one value: nothing, the value itself, or a literal struct."""

    def __init__(self, fields: list[T.Type]):
        self.fields = fields
        if not fields:
            self.type: T.Type = T.void
        elif len(fields) == 1:
            self.type = fields[0]
        else:
            self.type = T.StructType(tuple(fields))

    def pack(self, b: Builder, values: list[Value]) -> Value | None:
        if not self.fields:
            return None
        if len(self.fields) == 1:
            return values[0]
        agg: Value = Constant(self.type, "poison")
        for k, v in enumerate(values):
            agg = b.insertvalue(agg, v, k)
        return agg

    def unpack(self, b: Builder, agg: Value) -> list[Value]:
        if not self.fields:
            return []
        if len(self.fields) == 1:
            return [agg]
        return [b.extractvalue(agg, k) for k in range(len(self.fields))]


def callee_spec(analysis, inst: Instruction, mode: Mode, width: int, name: str) -> FunctionSpec:
    """Activities of a call to a defined function, from the caller's activity analysis."""
    module = analysis.module
    if mode is Mode.REVERSE:
        _refuse_reshaped_by_value(analysis, inst)
    acts = call_activities(analysis, inst, mode)
    ret_active = analysis.is_varied(inst) and (is_floatish(module, inst.type) or isinstance(inst.type, T.IntType))
    ret_shadow = (isinstance(inst.type, T.PointerType) or pointer_aggregate(module, inst.type)) and \
        (analysis.has_shadow(inst) or analysis.has_int_shadow(inst))
    return FunctionSpec(name, tuple(acts), ret_active, ret_shadow, mode, width,
                        analysis.spec.readonly_memory and not _caller_writes_shared(analysis),
                        parallel=analysis.spec.parallel, strong_zero=analysis.spec.strong_zero,
                        replay=analysis.spec.replay,
                        error=analysis.spec.error, arg_types=_arg_types(analysis, inst, mode, name))


def _arg_types(analysis, inst: Instruction, mode: Mode, name: str) -> tuple:
    """The caller's type facts of a call's arguments, for a callee that moves memory it cannot
    type itself (a memcpy through `void *`, an integer load of a float's width): its derivative
    is specialized on them, so that floats moved there carry their derivatives as floats."""
    from adcc.ad.copies import has_untyped_copy
    module = analysis.module
    if not module.is_defined(name):
        return ()
    callee = module.function(name)
    if not has_untyped_copy(module, callee):
        return ()
    if callee is analysis.fn:
        return ()  # direct recursion: one derivative (what it copies untyped is told at run time or refused)
    types = analysis.types
    out = tuple(types._tree(a).frozen() if not isinstance(a, Constant) or isinstance(a, GlobalRef) else ()
                for a, _ in zip(inst.args, callee.args))
    if not any(out):
        return ()
    seen = module.__dict__.setdefault("_adcc_arg_types", {}).setdefault(name, set())
    if out not in seen and len(seen) >= MAX_TYPE_SPECIALIZATIONS:
        return ()  # (mutual recursion that shifts the facts at every level: the unspecialized one)
    seen.add(out)
    return out


MAX_TYPE_SPECIALIZATIONS = 8  # derivatives of one function specialized on its callers' type facts


def _refuse_reshaped_by_value(analysis, inst: Instruction) -> None:
    """An active integer passed or returned by value whose floats are not its lanes (two floats as
    one i64): the callee's analysis may see other floats in it (a double), and the adjoint it gives
    back would be added as those. A located error in reverse mode (forward tangents are the bits)."""
    for v in (*inst.args, inst):
        if isinstance(v.type, (T.IntType, T.VectorType)) and analysis.is_varied(v) and \
                not analysis.view_keeps_lanes(v):
            what = "return value" if v is inst else "argument"
            raise unsupported(analysis.module, inst, f"cannot differentiate a call whose {what} of type {v.type} "
                                                     f"holds {analysis.float_view(v)} in reverse mode (floating-point "
                                                     f"values passed as the bits of an integer of another width)")


def _caller_writes_shared(analysis) -> bool:
    """Callees may re-read their inputs in the reverse pass only if the caller's call tree never
    writes memory the callees can see (its own allocations count once passed to a call)."""
    cached = getattr(analysis, "_writes_shared", None)
    if cached is None:
        from adcc.analysis.memory import writes_nonlocal_memory
        cached = analysis._writes_shared = writes_nonlocal_memory(analysis.module, analysis.fn, callee_view=True)
    return cached


ATOMIC_ACCUMULATIONS = frozenset({"fadd", "fsub"})


def check_atomic(module, analysis, inst: Instruction) -> None:
    """Atomic updates of memory that holds derivatives: `atomicrmw fadd/fsub` (`#pragma omp atomic`
    with += or -=) whose old value is unused are differentiable; any other is an error (a
    compare-and-swap loop, as clang emits for *=, or an update whose old value the program reads)."""
    ptr = inst.operands[0]
    if not (isinstance(ptr.type, T.PointerType) and analysis.has_shadow(ptr)):
        return
    if inst.opcode == "cmpxchg":
        raise unsupported(module, inst, "cannot differentiate an atomic compare-and-exchange on memory that holds "
                                        "derivatives (an atomic update other than += or -=)")
    op = inst.info.get("operation")
    if analysis.carries_float(inst) and (op not in ATOMIC_ACCUMULATIONS or inst.uses):
        what = f"atomic '{op}'" if op not in ATOMIC_ACCUMULATIONS else "atomic update whose old value is used"
        raise unsupported(module, inst, f"cannot differentiate an {what} on memory that holds derivatives")


def _float_elem(ty: T.Type):
    elem = ty.elem if isinstance(ty, T.VectorType) else ty
    return elem if isinstance(elem, T.FloatType) else None


def float_lanes_differ(a: T.Type, b: T.Type) -> bool:
    """Two float (vector) types whose lanes are floats of different kinds (<2 x float> and double,
    <4 x float> and <2 x double>): the bits of one are not the other's values lane by lane."""
    ea, eb = _float_elem(a), _float_elem(b)
    return ea is not None and eb is not None and ea != eb


def lane_change_error(module, inst: Instruction, a: T.Type, b: T.Type) -> CompileError:
    """Reverse mode: the adjoint of a value whose bits hold floats of another kind would be added
    up in the wrong kind (two float adjoints summed as one double)."""
    fn = inst.block.function.fname if inst.block is not None and inst.block.function else "?"
    what = (f"cannot differentiate a reinterpretation of {a} as {b} in reverse mode: the adjoints of floats "
            f"of one kind would be added as the other's (#9) (in function '{fn.strip(chr(34))}')")
    return CompileError(what, _nearby_location(module, inst))


def _nearby_location(module, inst: Instruction):
    """The source location of `inst`, else of the nearest instruction that has one (a cast clang
    folded from a copy carries none): its users, then the instructions after it in its block."""
    loc = location_of(module, inst)
    if loc is not None:
        return loc
    near = [u for u, _ in inst.uses]
    if inst.block is not None:
        body = list(inst.block.instructions)
        k = next((i for i, x in enumerate(body) if x is inst), 0)
        near += body[k + 1:] + body[:k][::-1]
    for x in near:
        loc = location_of(module, x)
        if loc is not None:
            return loc
    return None


def bit_operation_error(module, inst: Instruction) -> CompileError:
    return unsupported(module, inst, f"cannot differentiate integer operation '{inst.opcode}' on the bits of a "
                                     f"floating-point value (only sign changes through the sign bit are)")


def sign_change_operand(module, act, inst: Instruction) -> Value:
    """The float bits whose sign `inst` changes (`analysis/signbits.py`); a located error for any
    other operation on them, and for a vector whose lanes are not the floats' (the sign bits of
    doubles viewed as <4 x i32> lie in every other lane)."""
    x = sign_operand(inst, act.is_varied)
    if x is None or (isinstance(inst.type, T.VectorType) and act.float_view(x) is None) or \
            not act.view_keeps_lanes(x) or not act.view_keeps_lanes(inst):
        raise bit_operation_error(module, inst)
    return x


def reshaped_lanes(act, inst: Instruction) -> bool:
    """Does a lane-wise operation (shufflevector, extractelement, insertelement) touch an active
    integer whose lanes are not the floats it holds (two doubles as <4 x i32>: a double is two
    lanes)?"""
    return any(act.is_varied(v) and not act.view_keeps_lanes(v) for v in (inst, *inst.operands[:2]))


def float_lane_mask(module, act, inst: Instruction) -> list[int | None] | None:
    """For a lane-wise operation on integers whose lanes are not their floats' (`reshaped_lanes`):
    a shufflevector that moves whole floats (lanes 0,1,0,1 of two doubles as <4 x i32>: doubles
    0,0) gets its mask over the floats; anything else, which splits floats into lanes of other
    floats, is a located error in both modes (never a derivative moved with the wrong bits).
    None where no lanes are reshaped."""
    if not reshaped_lanes(act, inst):
        return None
    if inst.opcode == "shufflevector":
        v1, v2, mask = inst.operands
        views = [act.float_view(v) for v in (v1, v2, inst)]
        if all(isinstance(w, T.VectorType) for w in views) and len({w.elem for w in views}) == 1:
            g = v1.type.count // views[0].count
            lanes = layout.shuffle_mask(mask, inst.type.count)
            n = v1.type.count
            if all(v.type.count == g * w.count for v, w in zip((v1, v2, inst), views)):
                out: list[int | None] = []
                for q in range(views[2].count):
                    group = lanes[q * g:(q + 1) * g]
                    if all(m is None for m in group):
                        out.append(None)
                        continue
                    m0 = group[0]
                    if m0 is None or (m0 % n) % g or any(m != m0 + r for r, m in enumerate(group)):
                        break
                    out.append(m0 // g if m0 < n else views[0].count + (m0 - n) // g)
                else:
                    return out
    v = next(v for v in (inst, *inst.operands[:2]) if act.is_varied(v) and not act.view_keeps_lanes(v))
    raise unsupported(module, inst, f"cannot differentiate '{inst.opcode}' on the lanes of {v.type} that hold "
                                    f"{act.float_view(v) or 'floating-point values'} (a floating-point value "
                                    f"split across lanes)")


def no_derivative(module, inst: Instruction, kind: CallKind) -> CompileError:
    """The error for a call adcc cannot differentiate (both modes)."""
    if kind is CallKind.ENZYME:
        return unsupported(module, inst, "nested __enzyme_* calls (higher-order AD) are not supported yet")
    if inst.calls_inline_asm:
        return unsupported(module, inst, "cannot differentiate inline assembly with active operands")
    name = (inst.callee_name or "?").strip('"')
    error = unsupported(module, inst, f"cannot differentiate {callee_description(inst)} "
                                      f"(no derivative rule and no definition available)")
    error.notes.extend(_declaration_notes(source_name(name), location_of(module, inst)))
    return error


def _declaration_notes(name: str, loc) -> list[Diagnostic]:
    """What the program can declare so that the call differentiates (README "Enzyme interface")."""
    return [
        Diagnostic("note", f"give '{name}' a derivative rule (README, \"Enzyme interface\"), e.g. for reverse "
                           f"mode:\n        void *__enzyme_register_gradient_{name}[3] = {{(void *){name}, "
                           f"(void *){name}_augmented, (void *){name}_reverse}};", loc),
        Diagnostic("note", f"or, if '{name}' does not change derivatives, declare it inactive:\n"
                           f"        void *__enzyme_inactivefn_{name}[1] = {{(void *){name}}};   "
                           f"or   __attribute__((enzyme_inactive)) on its declaration", loc),
    ]


def source_name(symbol: str) -> str:
    """The identifier of a (possibly C++-mangled) function symbol: _Z7mysteryd -> mystery,
    _ZN2ns7mysteryEd -> mystery."""
    import re
    if symbol.startswith("_ZN"):
        k, last = 3, None
        while k < len(symbol) and symbol[k] != "E":
            m = re.match(r"\d+", symbol[k:])
            if m is None:
                k += 1  # a qualifier (K, V, r)
                continue
            start = k + len(m.group())
            last = symbol[start:start + int(m.group())]
            k = start + int(m.group())
        return last or symbol
    m = re.match(r"_ZL?(\d+)", symbol)
    return symbol[m.end():m.end() + int(m.group(1))] if m else symbol


def callee_description(inst: Instruction) -> str:
    """What a call calls, for messages: `call to external function 'f'`, or inline assembly."""
    if inst.calls_inline_asm:
        return "inline assembly"
    return f"call to external function '{(inst.callee_name or '?').strip(chr(34))}'"


def rule_unavailable(module, inst: Instruction, rule, mode: str) -> CompileError:
    """A call rule without the mode's half, on a function without a body to fall back on."""
    name = (inst.callee_name or "?").strip('"')
    need = ("a forward derivative (__enzyme_register_derivative_*)" if mode == "forward"
            else "a custom gradient (__enzyme_register_gradient_*: augmented forward and reverse pass)")
    return unsupported(module, inst, f"cannot differentiate call to '{name}' in {mode} mode: {rule.description}, "
                                     f"but {mode} mode needs {need}, and '{name}' has no body to differentiate")


def inactive_pointer_shadow(module, act, v: Value, user: Instruction, writable: bool, refuse: bool,
                            primal=None) -> Value:
    """The shadow of pointer `v`, which has none, where one must be given: for constants, the
    same expression over zero twins of the globals (null for null); otherwise null (stored into
    shadow memory: a later active access through it fails loudly, never silently), or, where the
    pointer meets active memory in this function (`refuse`: a phi/select merges them, or it is
    returned as a shadow), a located error: reading its primal memory as a shadow would be wrong."""
    from adcc.ad.globals import inactive_constant_shadow
    if isinstance(v, Constant):
        return inactive_constant_shadow(module, v, writable)
    if not refuse:
        return Constant(T.ptr, "null")
    if primal is not None and getattr(module, "_adcc_dropped_const", False) and act.inactive_argument(v) is not None:
        # memory of an enzyme_const argument that active values flow through, which the
        # -Wadcc-dropped-derivative warning has reported for this call: Enzyme's meaning (the
        # constant pointer stands for its own shadow; what flows through that memory is dropped)
        return primal(v)
    raise unsupported(module, user, f"cannot differentiate: a pointer may point into active memory or into "
                                    f"{act.describe_inactive(v)} (mismatched activity); give that memory a "
                                    f"shadow (pass it as enzyme_dup)")


def int_pointer_shadow(b: Builder, act, inst: Instruction, primal, shadow) -> Value:
    """The shadow of `inttoptr i` where i is offset arithmetic on `ptrtoint p` (an aligned address
    inside p's object): p's shadow plus the same byte offset."""
    from adcc.analysis.activity import int_pointer_base
    base = int_pointer_base(inst.operands[0])
    addr = convert(b, primal(inst.operands[0]), T.i64)
    off = b.sub(addr, b.cast("ptrtoint", primal(base), T.i64))
    return b.byte_gep(shadow(base), off)


def int_offset_shadow(b: Builder, inst: Instruction, primal, shadow) -> Value:
    """The shadow bits of an integer address computed from a shadowed pointer p (`(uintptr_t)p + 63
    & ~63`): p's shadow address plus the same byte offset."""
    from adcc.analysis.activity import int_pointer_base
    base = int_pointer_base(inst)
    off = b.sub(convert(b, primal(inst), T.i64), b.cast("ptrtoint", primal(base), T.i64))
    return convert(b, b.add(b.cast("ptrtoint", shadow(base), T.i64), off), inst.type)


def refuse_lost_store(module, act, inst: Instruction, ptr: Value) -> None:
    """Active data stored (or copied) through `ptr`, which has no shadow: an error when the memory
    may be memory adcc cannot see (its derivative would be lost silently)."""
    reason = act.unshadowable_origin(ptr)
    if reason is not None:
        raise unsupported(module, inst, f"cannot differentiate: active data is stored into {reason} "
                                        f"(its derivative would be lost); give that function a definition "
                                        f"adcc can see or a derivative rule")


def emit_shadow_allocation(b: Builder, inst: Instruction, args: list[Value]) -> Value:
    """Zeroed shadow memory for an allocation call (malloc, calloc, new, aligned_alloc, or a
    function the program declared allocation-like or function-like one of them)."""
    from adcc.analysis.declarations import declarations_of
    from adcc.analysis.calls import ALLOC_FUNCTIONS
    custom = declarations_of(b.module).allocation_like.get(inst.callee_name)
    name = effective_callee(b.module, inst.callee_name)
    name = ALLOC_FUNCTIONS.get(name, name)
    if custom is not None:
        n = args[custom.size_arg]
    elif name == "adcc_split_tape_new":  # a tape of its own, its records zeroed (check 0)
        return b.call("adcc_split_tape_new", T.ptr, [args[0], Builder.iconst(T.i32, 0)])
    elif name == "calloc":
        return b.call("adcc_shadow_calloc", T.ptr, [convert(b, args[0], T.i64), convert(b, args[1], T.i64)])
    else:
        n = args[-1] if name == "aligned_alloc" else args[0]
    return b.call("adcc_shadow_alloc", T.ptr, [convert(b, n, T.i64)])


def message_constant(module, text: str):
    """A private C string in the module (for runtime error messages), created once per text."""
    from adcc.ad import naming
    from adcc.ir.values import GlobalRef
    cache = getattr(module, "_adcc_messages", None)
    if cache is None:
        cache = module._adcc_messages = {}
    name = cache.get(text)
    if name is None:
        name = module.unique_name(naming.message(len(cache)))
        data = text.encode() + b"\0"
        esc = "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else f"\\{c:02X}" for c in data)
        ty = T.ArrayType(len(data), T.i8)
        module.add_global(name, f'@{name} = private unnamed_addr constant {ty} c"{esc}", align 1', ty, True, "private")
        cache[text] = name
    return GlobalRef(name)


INDIRECT_MISS = ("an indirect call in differentiated code reached a function adcc did not differentiate "
                 "(only functions of the same type whose address is taken in this module are candidates)")


MEMORY_KINDS = (CallKind.ALLOC, CallKind.REALLOC, CallKind.FREE)


# external functions with a derivative (or none needed) when called directly: through a pointer,
# each is reached by way of a stub that calls it directly (a table of libm functions)
STUBBED_KINDS = (CallKind.MATH, CallKind.RULE, CallKind.INACTIVE)


def indirect_candidates(module, fnty: T.FunctionType) -> list[tuple[str, CallKind]]:
    """What an indirect call of type `fnty` may reach: the defined functions whose address is
    taken (differentiated), the memory functions whose address is taken (malloc, free,
    realloc, new, ...: an allocator table), which behave as when called directly, and the
    external functions with known derivatives whose address is taken (`external_stub`: their
    stubs are differentiated; `candidate_address` is what the called pointer is compared with)."""
    from adcc.analysis.calls import classify_callee
    out = [(n, CallKind.DEFINED) for n in address_taken_functions(module) if module.function(n).function_type == fnty]
    for n in address_taken_externals(module):
        if module.function_type_of(n) != fnty:
            continue
        kind = classify_callee(module, n)
        if kind in MEMORY_KINDS:
            out.append((n, kind))
        elif kind in STUBBED_KINDS and not fnty.vararg:
            out.append((external_stub(module, n), CallKind.DEFINED))
    return out


def external_stub(module, name: str) -> str:
    """A defined function that only calls external `name` directly (made once per module)."""
    stubs = getattr(module, "_adcc_stubs", None)
    if stubs is None:
        stubs = module._adcc_stubs = {}
        module._adcc_stub_of = {}
    stub = stubs.get(name)
    if stub is None:
        fnty = module.function_type_of(name)
        stub = module.unique_name(naming.external_stub(name))
        params = ", ".join(f"{t} %{k}" for k, t in enumerate(fnty.params))
        args = ", ".join(f"{t} %{k}" for k, t in enumerate(fnty.params))
        callee, ref = (f"@{n}" if re.match(r"^[-a-zA-Z$._][-a-zA-Z$._0-9]*$", n) else f'@"{n}"' for n in (name, stub))
        if isinstance(fnty.ret, T.VoidType):
            body = f"  call void {callee}({args})\n  ret void"
        else:
            body = f"  %r = call {fnty.ret} {callee}({args})\n  ret {fnty.ret} %r"
        module.add_definitions(f"define internal {fnty.ret} {ref}({params}) {{\n{body}\n}}\n")
        stubs[name] = stub
        module._adcc_stub_of[stub] = name
    return stub


def candidate_address(module, name: str) -> GlobalRef:
    """The function pointer that selects indirect-call candidate `name` (a stub: its external)."""
    return GlobalRef(getattr(module, "_adcc_stub_of", {}).get(name, name))


def address_taken_externals(module) -> list[str]:
    """Declared (not defined) functions whose address is taken in this module."""
    cached = getattr(module, "_adcc_addr_taken_ext", None)
    if cached is not None:
        return cached
    from adcc.ir.symbols import global_refs
    declared = {n for n, e in module.functions.items() if not e.is_definition}
    found: set[str] = set()
    for g in module.globals.values():
        found.update(n for n in global_refs(g.initializer or "") if n in declared)
    for n in module.defined_function_names():
        found.update(r for r in module.references(n, calls=False) if r in declared)
    module._adcc_addr_taken_ext = sorted(found)
    return module._adcc_addr_taken_ext


def address_taken_functions(module) -> list[str]:
    """Defined functions whose address escapes (candidates for indirect calls)."""
    cached = getattr(module, "_adcc_addr_taken", None)
    if cached is not None:
        return cached
    from adcc.ir.symbols import global_refs
    names = set(module.defined_function_names())
    found: set[str] = set()
    for g in module.globals.values():
        found.update(n for n in global_refs(g.initializer or "") if n in names)
    for n in names:
        found.update(r for r in module.references(n, calls=False) if r in names)
    result = sorted(found)
    module._adcc_addr_taken = result
    return result

