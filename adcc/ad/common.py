"""Pieces both synthesizers share: the synthesis context (function cache), block
orders, size constants, value conversions, and how a synthesized function packs
several results into one return value."""
from __future__ import annotations

from adcc.ad.rules import lookup_call
from adcc.ad.rules.calls import family_shadows_result, family_written_args, is_family_callee
from adcc.analysis.calls import CallKind, RuleNames, effective_callee, install_rule_names
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ad.srcloc import location_of
from adcc.analysis.activity import is_floatish, pointer_aggregate
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Block, Constant, Function, Instruction, Value


RULE_NAMES = RuleNames(is_math=lambda name: lookup_call(name) is not None, is_call_rule=is_family_callee,
                       written_args=family_written_args, rule_shadows_result=family_shadows_result)


def math_rule(module, inst: Instruction):
    """The rule-table entry of a MATH call (through the function it is declared like)."""
    return lookup_call(effective_callee(module, inst.callee_name))


class ADContext:
    """Per-module state of one differentiation run: synthesized functions by spec."""

    def __init__(self, module, options=None):
        self.module = module
        self.options = options
        install_rule_names(module, RULE_NAMES)
        self.forward_cache: dict[FunctionSpec, Function] = {}
        self.reverse_cache: dict[FunctionSpec, tuple[Function, Function]] = {}
        self.reports: list[str] = []

    def forward_function(self, spec: FunctionSpec) -> Function:
        fn = self.forward_cache.get(spec)
        if fn is None:
            from adcc.ad.forward import ForwardSynthesizer
            synth = ForwardSynthesizer(self, spec)
            fn = synth.declare()
            self.forward_cache[spec] = fn  # before the body: recursion finds it
            synth.build()
        return fn

    def reverse_functions(self, spec: FunctionSpec) -> tuple[Function, Function]:
        pair = self.reverse_cache.get(spec)
        if pair is None:
            from adcc.ad.reverse import ReverseSynthesizer
            synth = ReverseSynthesizer(self, spec)
            pair = synth.declare()
            self.reverse_cache[spec] = pair
            synth.build()
        return pair


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


def size_of_const(ty: T.Type) -> Constant:
    """`sizeof(ty)` as an i64 constant expression (no data layout needed)."""
    return Constant(T.i64, f"ptrtoint (ptr getelementptr ({ty}, ptr null, i32 1) to i64)")


def convert(b: Builder, v: Value, to: T.Type) -> Value:
    """Convert a call-site argument to a parameter type (varargs promotion, int widths)."""
    fr = v.type
    if fr == to:
        return v
    if isinstance(fr, T.FloatType) and isinstance(to, T.FloatType):
        return b.cast("fptrunc" if fr.bits > to.bits else "fpext", v, to)
    if isinstance(fr, T.IntType) and isinstance(to, T.IntType):
        return b.cast("trunc" if fr.bits > to.bits else "sext", v, to)
    if isinstance(fr, T.IntType) and isinstance(to, T.PointerType):
        return b.cast("inttoptr", v, to)
    if isinstance(fr, T.PointerType) and isinstance(to, T.IntType):
        return b.cast("ptrtoint", v, to)
    if isinstance(fr, T.IntType) and isinstance(to, T.FloatType):
        return b.cast("sitofp", v, to)
    return b.cast("bitcast", v, to)


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
    acts = []
    for a in inst.args:
        if isinstance(a.type, T.PointerType) and analysis.has_shadow(a):
            acts.append(Activity.DUP)
        elif analysis.is_varied(a) and (is_floatish(module, a.type) or isinstance(a.type, T.IntType)):
            acts.append(Activity.DUP if mode is Mode.FORWARD else Activity.OUT)  # (an integer: a float's bits)
        else:
            acts.append(Activity.CONST)
    ret_active = analysis.is_varied(inst) and (is_floatish(module, inst.type) or isinstance(inst.type, T.IntType))
    ret_shadow = (isinstance(inst.type, T.PointerType) or pointer_aggregate(module, inst.type)) and \
        (analysis.has_shadow(inst) or analysis.has_int_shadow(inst))
    return FunctionSpec(name, tuple(acts), ret_active, ret_shadow, mode, width,
                        analysis.spec.readonly_memory and not _caller_writes_shared(analysis))


def _caller_writes_shared(analysis) -> bool:
    """Callees may re-read their inputs in the reverse pass only if the caller's call tree never
    writes memory the callees can see (its own allocations count once passed to a call)."""
    cached = getattr(analysis, "_writes_shared", None)
    if cached is None:
        from adcc.analysis.memory import writes_nonlocal_memory
        cached = analysis._writes_shared = writes_nonlocal_memory(analysis.module, analysis.fn, callee_view=True)
    return cached


def unsupported(module, inst: Instruction, what: str) -> CompileError:
    fn = inst.block.function.fname if inst.block is not None and inst.block.function else "?"
    return CompileError(f"{what} (in function '{fn.strip(chr(34))}')", location_of(module, inst))


def bit_operation_error(module, inst: Instruction) -> CompileError:
    return unsupported(module, inst, f"cannot differentiate integer operation '{inst.opcode}' on the bits of a "
                                     f"floating-point value (only sign changes through the sign bit are)")


def no_derivative(module, inst: Instruction, kind: CallKind) -> CompileError:
    """The error for a call adcc cannot differentiate (both modes)."""
    if kind is CallKind.ENZYME:
        return unsupported(module, inst, "nested __enzyme_* calls (higher-order AD) are not supported yet")
    name = (inst.callee_name or "?").strip('"')
    return unsupported(module, inst, f"cannot differentiate call to external function '{name}' "
                                     f"(no derivative rule and no definition available)")


def rule_unavailable(module, inst: Instruction, rule, mode: str) -> CompileError:
    """A call rule without the mode's half, on a function without a body to fall back on."""
    name = (inst.callee_name or "?").strip('"')
    need = ("a forward derivative (__enzyme_register_derivative_*)" if mode == "forward"
            else "a custom gradient (__enzyme_register_gradient_*: augmented forward and reverse pass)")
    return unsupported(module, inst, f"cannot differentiate call to '{name}' in {mode} mode: {rule.description}, "
                                     f"but {mode} mode needs {need}, and '{name}' has no body to differentiate")


def inactive_pointer_shadow(module, act, v: Value, user: Instruction, writable: bool, refuse: bool) -> Value:
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


def indirect_candidates(module, fnty: T.FunctionType) -> list[tuple[str, CallKind]]:
    """What an indirect call of type `fnty` may reach: the defined functions whose address is
    taken (differentiated), and the memory functions whose address is taken (malloc, free,
    realloc, new, ...: an allocator table), which behave as when called directly."""
    from adcc.analysis.calls import classify_callee
    out = [(n, CallKind.DEFINED) for n in address_taken_functions(module) if module.function(n).function_type == fnty]
    for n in address_taken_externals(module):
        kind = classify_callee(module, n)
        if kind in MEMORY_KINDS and module.function_type_of(n) == fnty:
            out.append((n, kind))
    return out


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

