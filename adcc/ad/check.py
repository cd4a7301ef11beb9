"""-fadcc-check-derivatives: every derivative call goes through a wrapper that describes the
call to the runtime's checker (runtime/adcc_check.c), which compares the derivative with central
finite differences of the primal run in forked copies of the process.

A call site is checkable when the runtime can perturb every active input and read every
output: active scalars of float/double type (x86_fp80 and fp128 through double), and duplicated
memory whose floating-point slots type analysis knows (a uniform array of float or double, or
fixed offsets of a struct), of a size the call site knows when the layout repeats (a stack
array, a global, or an allocation visible at the call). Other sites are compiled with a wrapper
that counts their calls as not checkable, with the reason printed once at run time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from adcc.analysis.calls import ALLOC_FUNCTIONS, CallKind, classify_call, effective_callee
from adcc.analysis.declarations import declarations_of
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ad.common import Packing, message_constant
from adcc.ad.srcloc import location_of, source_name
from adcc.ad.rules.mpi import ROUTINES as MPI_ROUTINES
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Function, GlobalRef, Instruction, Value

FLOAT, DOUBLE = 1, 2  # ADCC_CHECK_FLOAT, ADCC_CHECK_DOUBLE (runtime/adcc_check.h)
PRECISION = {"float": FLOAT, "double": DOUBLE, "x86_fp80": DOUBLE, "fp128": DOUBLE}
# adcc_check_site: where, function, unchecked, mode, width, six counters, next
SITE_TYPE = T.StructType((T.ptr, T.ptr, T.ptr, T.i32, T.i32, T.i64, T.i64, T.i64, T.i64, T.i64, T.i64, T.ptr))
_BY_MEMORY = ("byval", "sret", "inalloca", "preallocated")


@dataclass
class Region:
    arg: int                    # argument index of f
    layout: tuple[int, ...]     # period, count, (offset, kind)...
    size: Value | None = None   # bytes at the call site (None: not known, -1 at run time)


@dataclass
class Plan:
    scalars: list[tuple[int, int]] = field(default_factory=list)   # (argument index, precision)
    regions: list[Region] = field(default_factory=list)
    ret_kind: int = 0
    reason: str | None = None


def derivative_call(ctx, b: Builder, site, spec: FunctionSpec, deriv: Function, packing: Packing,
                    args: list[Value]) -> Value:
    """Call `deriv` with `args` (before site.inst); under -fadcc-check-derivatives through a
    wrapper that has the runtime check the call."""
    if not getattr(ctx.options, "check_derivatives", False) or _in_differentiated_code(ctx, site):
        return b.call(deriv, packing.type, args)
    module = ctx.module
    fn = module.function(spec.name)
    plan = plan_check(module, spec, fn)
    for region in plan.regions if plan.reason is None else ():
        region.size = size_at_call(b, module, site.args[region.arg].primal)
        region.layout = _allocated_layout(module, site.args[region.arg].primal, region.layout)
        if region.size is None and region.layout[0] > 0:
            plan.reason = (f"the size of argument {region.arg + 1}'s memory is not known at the call "
                           f"(pass memory allocated where the call can see it)")
        elif region.size is None:  # fixed offsets: the layout says where the values are
            region.size = Builder.iconst(T.i64, -1)
    wrapper = _wrapper(ctx, site, spec, fn, deriv, packing, plan)
    sizes = [] if plan.reason else [r.size for r in plan.regions]
    return _located_call(b.call(wrapper, packing.type, [*args, *sizes]), site)


def count_unchecked(ctx, b: Builder, site, spec: FunctionSpec, reason: str) -> None:
    """Under -fadcc-check-derivatives, a derivative call of a shape the check does not cover yet
    (split mode, enzyme_runtime_activity, ...) is counted with its reason in the run's summary
    ("not checkable"), never passed over in silence."""
    if not getattr(ctx.options, "check_derivatives", False) or _in_differentiated_code(ctx, site):
        return
    plan = Plan(reason=reason)
    b.call("adcc_check_begin", T.ptr, [_site_global(ctx, site, spec, plan), _i32(0), _i32(0), _i32(0)])


def _located_call(call: Instruction, site) -> Instruction:
    """The call gets the __enzyme_* call's debug location: where code is inlined through it, the
    debug locations it brings along (from the program's own rules) are then inlined at that line."""
    dbg = site.inst.get_metadata("dbg")
    if dbg:
        call.metadata.append(("dbg", dbg))
    return call


def _in_differentiated_code(ctx, site) -> bool:
    """Is the call inside a function some other call differentiates (higher-order AD)? Its
    derivative is then itself differentiated: it stays a plain call."""
    reach = getattr(ctx, "_adcc_check_reach", None)
    if reach is None:  # the first site rewritten is an innermost one: every outer site is still there
        from adcc.ad.rewrite import _target_name, find_call_sites
        module = ctx.module
        reach, todo = set(), [_target_name(inst) for inst in find_call_sites(module)]
        while todo:
            name = todo.pop()
            if name and name not in reach and module.is_defined(name):
                reach.add(name)
                todo.extend(module.references(name))
        ctx._adcc_check_reach = reach
    return site.inst.block.function.fname in reach


# --- what can be checked -------------------------------------------------------------------

def plan_check(module, spec: FunctionSpec, fn: Function) -> Plan:
    """What the runtime needs to check calls of `fn` with `spec`, or why it cannot."""
    plan = Plan()
    plan.reason = _plan_arguments(module, spec, fn, plan) or _plan_result(module, spec, fn, plan) \
        or _call_tree_reason(module, fn)
    return plan


def _plan_arguments(module, spec: FunctionSpec, fn: Function, plan: Plan) -> str | None:
    types = None
    for k, (arg, act) in enumerate(zip(fn.args, spec.args)):
        if any(a in fn.param_attrs[k] for a in _BY_MEMORY):
            return f"argument {k + 1} is passed by value in memory"
        if act is Activity.CONST:
            continue
        if isinstance(arg.type, T.PointerType):
            if types is None:
                from adcc.analysis.types import analyze_types
                types = analyze_types(module, fn)
            found = region_layout(module, types, arg)
            if isinstance(found, str):
                return f"argument {k + 1}: {found}"
            if found is not None:
                plan.regions.append(Region(k, found))
            continue
        kind = PRECISION.get(arg.type.kind) if isinstance(arg.type, T.FloatType) else None
        if kind is None:
            return f"argument {k + 1} is active but not a float or double scalar"
        plan.scalars.append((k, kind))
    return None


def _plan_result(module, spec: FunctionSpec, fn: Function, plan: Plan) -> str | None:
    ret = module.resolve(fn.ret_type)
    if not spec.ret_active or isinstance(ret, T.VoidType):
        return None
    kind = PRECISION.get(ret.kind) if isinstance(ret, T.FloatType) else None
    if kind is None:
        return "its result is active but not a float or double scalar"
    # a double result computed in single precision somewhere has single-precision noise
    plan.ret_kind = FLOAT if kind == DOUBLE and _computes_in_single(module, fn) else kind
    return None


def _computes_in_single(module, fn: Function) -> bool:
    """Does `fn`'s call tree round values to float (so finite differences of it have float noise)?"""
    return any(inst.opcode == "fptrunc" or (inst.opcode in ("fadd", "fsub", "fmul", "fdiv") and inst.type == T.f32)
               for name in _call_tree(module, fn) if module.is_defined(name)
               for inst in module.function(name).instructions())


def _call_tree(module, fn: Function, limit: int = 256):
    """The functions `fn` calls directly or through its callees (defined or not), `fn` first."""
    seen: set[str] = set()
    todo = [fn.fname]
    while todo and len(seen) <= limit:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        yield name
        if module.is_defined(name):
            todo.extend(inst.callee_name for inst in module.function(name).instructions()
                        if inst.opcode in ("call", "invoke") and inst.callee_name is not None)


def region_layout(module, types, arg) -> tuple[int, ...] | str | None:
    """The floating-point slots of the memory behind a duplicated pointer, as the runtime reads
    them; None when it holds none; a reason when they cannot be described."""
    from adcc.analysis.types import MAX_OFFSET, Float, Pointer
    tree = types.value_tree(arg)
    if any(len(p) > 1 for p in tree.paths) or any(k == Pointer for k in tree.paths.values()):
        return "its memory holds pointers (to memory the check cannot size)"
    kinds = {p[0]: k for p, k in tree.paths.items()}
    every = kinds.pop(-1, None)
    if isinstance(every, Float):
        precision = PRECISION.get(every.kind) if every.kind in ("float", "double") else None
        if precision is None or any(isinstance(k, Float) and k != every for k in kinds.values()):
            return f"its memory holds {every.kind} values"
        return (layout.alloc_size(module, T.FloatType(every.kind)), 1, 0, precision)
    period, elements = _array_of_records(module, arg)
    for element in elements:  # p[i].field: the record's own layout, repeated
        for path, kind in types.value_tree(element).paths.items():
            if len(path) > 1 or kind == Pointer:
                return "its memory holds pointers (to memory the check cannot size)"
            if 0 <= path[0] < period:
                kinds.setdefault(path[0], kind)
    if period:
        kinds = {off % period: k for off, k in kinds.items() if off >= 0}
    slots = _float_slots(kinds, period or MAX_OFFSET - 16)
    if isinstance(slots, str) or slots:
        return slots if isinstance(slots, str) else (period, len(slots) // 2, *slots)
    return None if kinds else "the layout of its memory is not known"


def _array_of_records(module, arg) -> tuple[int, list[Instruction]]:
    """`getelementptr %record, ptr %arg, i64 %i`: the record's size and those addresses."""
    period, elements = 0, []
    for user in arg.users:
        if user.opcode != "getelementptr" or user.operands[0] is not arg or len(user.operands) != 2:
            continue
        record = module.resolve(user.info.get("source_type", T.i8))
        if not isinstance(record, (T.StructType, T.ArrayType)) or isinstance(user.operands[1], Constant):
            continue
        size = layout.alloc_size(module, record)
        if period and size != period:
            return 0, []
        period = size
        elements.append(user)
    return period, elements


def _float_slots(kinds: dict, limit: int) -> list[int] | str:
    """(offset, precision) pairs of the whole floating-point values among per-byte kinds."""
    from adcc.analysis.types import Float
    slots: list[int] = []
    covered = -1
    for off in sorted(o for o, k in kinds.items() if isinstance(k, Float)):
        if off < covered:
            continue
        kind = kinds[off].kind
        width = T.FLOAT_BITS[kind] // 8
        if kind not in ("float", "double"):  # (long double memory: not read as doubles)
            return f"its memory holds {kind} values"
        if any(kinds.get(off + i) != kinds[off] for i in range(width)):
            return "the layout of its memory is not known"
        if off + width > limit:
            return "the layout of its memory is not known beyond its first bytes"
        slots += [off, PRECISION[kind]]
        covered = off + width
    return slots


def _call_tree_reason(module, fn: Function) -> str | None:
    """Why running the primal from the check is not possible, from what its call tree calls:
    memory freed or reallocated may be an argument's (the runtime could not read it after the
    call); a function the program declares to Enzyme without defining it may exist nowhere (its
    rules stand in for it in the derivative; the primal is then never linked)."""
    decls = declarations_of(module)
    declared = (set(decls.gradients) | set(decls.derivatives) | set(decls.function_like)
                | set(decls.allocation_like) | set(decls.inactive_functions))
    for name in _call_tree(module, fn):
        if not module.is_defined(name):
            if name in declared:
                return f"it calls '{name.strip(chr(34))}', declared to Enzyme but not defined here"
            if name.strip('"') in MPI_ROUTINES:
                return f"it calls '{name.strip(chr(34))}' (the check would run it on one MPI rank alone)"
            continue
        for inst in module.function(name).instructions():
            if inst.opcode in ("call", "invoke") and inst.callee_name is not None and \
                    classify_call(module, inst) in (CallKind.FREE, CallKind.REALLOC) and inst.args and \
                    _foreign(module, inst.args[0]):
                return "it frees or reallocates memory it did not allocate"
    return None


def _foreign(module, ptr: Value, depth: int = 0) -> bool:
    """May `ptr` point into memory its function did not allocate? Pointers kept in the function's
    own stack slots (a local std::vector's buffer) are followed through the stores into them."""
    from adcc.analysis.memory import pointer_uses, underlying_objects
    for x in underlying_objects(ptr, module):
        if isinstance(x, Constant) and x.text == "null":
            continue
        if isinstance(x, Instruction) and x.opcode in ("call", "invoke") and \
                classify_call(module, x) in (CallKind.ALLOC, CallKind.REALLOC):
            continue
        if not (isinstance(x, Instruction) and x.opcode == "load") or depth > 3:
            return True
        slots = underlying_objects(x.operands[0], module)
        if not all(isinstance(o, Instruction) and o.opcode == "alloca" for o in slots):
            return True
        for slot in slots:
            for user, p in pointer_uses(slot):
                if user.opcode == "store" and user.operands[1] is p:
                    if isinstance(user.operands[0].type, T.PointerType) and \
                            _foreign(module, user.operands[0], depth + 1):
                        return True
                elif user.opcode in ("call", "invoke") and not (user.callee_name or "").startswith("llvm.lifetime."):
                    if not (user.callee_name or "").startswith("llvm.memset."):
                        return True
    return False


def _allocated_layout(module, ptr: Value, found: tuple[int, ...]) -> tuple[int, ...]:
    """The layout of a region whose allocation the call site sees as an array of one float type:
    every element is then a slot, also those f reaches only where type analysis cannot follow
    (through a pointer a lambda captured and an indirect call). `found` (fixed offsets, what f's
    own accesses show) is kept unless it agrees with that array."""
    if found[0] != 0:
        return found
    base = _allocation_base(ptr)
    ty = _allocated_type(module, base)
    while isinstance(ty, T.ArrayType):
        ty = module.resolve(ty.elem)
    if not isinstance(ty, T.FloatType) or ty.kind not in ("float", "double"):
        return found
    size, precision = layout.alloc_size(module, ty), PRECISION[ty.kind]
    slots = list(zip(found[2::2], found[3::2]))
    if not slots or any(off % size or kind != precision for off, kind in slots):
        return found
    if base is not ptr:  # a pointer into the array: its slots must start on an element
        offset = layout.gep_instruction_offset(module, ptr) if ptr.opcode == "getelementptr" and \
            ptr.operands[0] is base else None
        if offset is None or offset % size:
            return found
    return (size, 1, 0, precision)


def _allocation_base(ptr: Value) -> Value:
    """The object `ptr` points into, through address arithmetic and casts."""
    while isinstance(ptr, Instruction) and ptr.opcode in ("getelementptr", "bitcast", "addrspacecast"):
        ptr = ptr.operands[0]
    return ptr


def _allocated_type(module, base: Value) -> T.Type | None:
    """The IR type a stack slot or a global defined here was allocated with (None: no such object,
    or a global defined elsewhere, whose size may differ)."""
    if isinstance(base, GlobalRef):
        g = module.globals.get(base.gname)
        return module.resolve(g.value_type) if g is not None and g.value_type is not None and g.initializer else None
    if isinstance(base, Instruction) and base.opcode == "alloca":
        return module.resolve(base.info["alloc_type"])
    return None


def size_at_call(b: Builder, module, ptr: Value) -> Value | None:
    """Bytes from `ptr` to the end of the object it points into, when the call site can see the
    object's allocation (stack, global, malloc-like call); else None."""
    base = _allocation_base(ptr)
    whole = _object_size(b, module, base)
    if whole is None:
        return None
    if base is ptr:
        return whole
    offset = b.sub(b.cast("ptrtoint", ptr, T.i64), b.cast("ptrtoint", base, T.i64))
    left = b.sub(whole, offset)
    return b.select(b.icmp("slt", left, Builder.iconst(T.i64, 0)), Builder.iconst(T.i64, 0), left)


def _object_size(b: Builder, module, base: Value) -> Value | None:
    from adcc.ad.common import convert
    i64 = lambda n: Builder.iconst(T.i64, n)  # noqa: E731
    ty = _allocated_type(module, base)
    if isinstance(base, GlobalRef):
        return None if ty is None else i64(layout.alloc_size(module, ty))
    if not isinstance(base, Instruction):
        return None
    if base.opcode == "alloca":
        size = i64(layout.alloc_size(module, ty))
        return b.mul(size, convert(b, base.operands[0], T.i64)) if base.operands else size
    if base.opcode != "call" or classify_call(module, base) not in (CallKind.ALLOC, CallKind.REALLOC):
        return None
    args = base.args
    custom = declarations_of(module).allocation_like.get(base.callee_name)
    name = effective_callee(module, base.callee_name)
    if custom is not None:
        return convert(b, args[custom.size_arg], T.i64)
    if ALLOC_FUNCTIONS.get(name) == "calloc":
        return b.mul(convert(b, args[0], T.i64), convert(b, args[1], T.i64))
    if name in ("aligned_alloc", "realloc"):
        return convert(b, args[1], T.i64)
    return convert(b, args[0], T.i64)


# --- the wrapper and the primal evaluation ---------------------------------------------------

def _wrapper(ctx, site, spec: FunctionSpec, fn: Function, deriv: Function, packing: Packing, plan: Plan) -> Function:
    """wrapper(args..., sizes...): the derivative call, described to the runtime around it."""
    module = ctx.module
    params = [p.type for p in deriv.args]
    sizes = [] if plan.reason else [T.i64] * len(plan.regions)
    w = Function(module.unique_name(f"adcc.check.{_base(spec.name)}"), packing.type, params + sizes,
                 linkage="internal", attributes=module.target_attributes(spec.name))
    module.add_function(w)
    args, size_args = w.args[:len(params)], w.args[len(params):]
    b = Builder(module, w).position_at_end(w.add_block("entry"))
    site_ref = _site_global(ctx, site, spec, plan)
    state = b.call("adcc_check_begin", T.ptr, [site_ref, _i32(len(plan.scalars)), _i32(len(plan.regions)),
                                               _i32(plan.ret_kind)])
    if plan.reason is None:  # (a site that cannot be checked only counts its calls: begin gives null)
        plain, check = w.add_block("plain"), w.add_block("check")
        b.cond_br(b.icmp("eq", state, Builder.null()), plain, check)
        b.position_at_end(check)
        positions = _argument_positions(spec)
        _describe_inputs(b, spec, plan, state, args, size_args, positions)
        frame = _frame(b, fn, args, positions)
        b.call("adcc_check_start", T.void, [state, GlobalRef(_thunk(ctx, spec, fn, plan).fname), frame])
        r = _located_call(b.call(deriv, packing.type, list(args)), site)
        _report_results(b, spec, plan, state, packing, r)
        b.call("adcc_check_finish", T.void, [state])
        b.ret(None if isinstance(packing.type, T.VoidType) else r)
        b.position_at_end(plain)
    r = _located_call(b.call(deriv, packing.type, list(args)), site)
    b.ret(None if isinstance(packing.type, T.VoidType) else r)
    return w


def _argument_positions(spec: FunctionSpec) -> list[tuple[int, list[int]]]:
    """For each argument of f: where its primal and its shadows are among the derivative's."""
    out, k = [], 0
    for act in spec.args:
        n = spec.width if act.has_shadow else 0
        out.append((k, list(range(k + 1, k + 1 + n))))
        k += 1 + n
    return out


def _describe_inputs(b: Builder, spec, plan: Plan, state, args, size_args, positions) -> None:
    lanes = spec.width if spec.mode is Mode.FORWARD else 1
    for k, kind in plan.scalars:
        primal, shadows = positions[k]
        tangents = Builder.null()
        if spec.mode is Mode.FORWARD:
            tangents = b.alloca_in_entry(T.ArrayType(lanes, T.f64), align=8)
            for w, pos in enumerate(shadows):
                b.store(_to_double(b, args[pos]), b.byte_gep(tangents, 8 * w) if w else tangents)
        b.call("adcc_check_scalar", T.void, [state, _to_double(b, args[primal]), _i32(kind), tangents])
    for region, size in zip(plan.regions, size_args):
        primal, shadows = positions[region.arg]
        array = b.alloca_in_entry(T.ArrayType(lanes, T.ptr), align=8)
        for w, pos in enumerate(shadows[:lanes]):
            b.store(args[pos], b.byte_gep(array, 8 * w) if w else array)
        b.call("adcc_check_region", T.void, [state, args[primal], size, _layout_global(b.module, region.layout), array])


def _frame(b: Builder, fn: Function, args, positions) -> Value:
    """The primal arguments, in a struct the evaluation reads them from."""
    sty = T.StructType(tuple(a.type for a in fn.args))
    frame = b.alloca_in_entry(sty, align=16)
    for (primal, _), off in zip(positions, layout.struct_offsets(b.module, sty)):
        b.store(args[primal], b.byte_gep(frame, off) if off else frame)
    return frame


def _report_results(b: Builder, spec, plan: Plan, state, packing: Packing, r: Value) -> None:
    values = packing.unpack(b, r)
    if spec.mode is Mode.REVERSE:
        results = values  # adjoints of the enzyme_out scalars, in order
    else:
        results = values[1:] if plan.ret_kind else []
    for k, v in enumerate(results):
        b.call("adcc_check_result", T.void, [state, _i32(k), _to_double(b, v)])


def _thunk(ctx, spec: FunctionSpec, fn: Function, plan: Plan) -> Function:
    """eval(check, frame) -> double: f on the frame's arguments, active scalars replaced by the
    runtime's perturbed values; its result as a double."""
    module = ctx.module
    t = Function(module.unique_name(f"adcc.check.eval.{_base(spec.name)}"), T.f64, [T.ptr, T.ptr],
                 linkage="internal", attributes=module.target_attributes(spec.name))
    module.add_function(t)
    b = Builder(module, t).position_at_end(t.add_block("entry"))
    state, frame = t.args
    sty = T.StructType(tuple(a.type for a in fn.args))
    scalar_index = {k: j for j, (k, _) in enumerate(plan.scalars)}
    values = []
    for k, off in enumerate(layout.struct_offsets(module, sty)):
        ty = fn.args[k].type
        if k in scalar_index:
            x = b.call("adcc_check_point", T.f64, [state, _i32(scalar_index[k])])
            values.append(_from_double(b, x, ty))
        else:
            values.append(b.load(ty, b.byte_gep(frame, off) if off else frame))
    # not inlined: f's debug locations would land in a function without debug info
    r = b.call(GlobalRef(fn.fname), fn.ret_type, values, fnty=fn.function_type, attrs="noinline")
    b.ret(_to_double(b, r) if plan.ret_kind else Builder.fconst(T.f64, 0.0))
    return t


# --- globals ----------------------------------------------------------------------------------

def _site_global(ctx, site, spec: FunctionSpec, plan: Plan) -> GlobalRef:
    module = ctx.module
    loc = location_of(module, site.inst)
    where, function = f"{loc.file}:{loc.line}" if loc is not None and loc.line else None, source_name(module, spec.name)
    for callee, line, named in ctx.options.call_site_lines:  # from a compile with line tables
        if callee == site.inst.callee_name and where is None:
            where, function = line, named
    name = module.unique_name(f"adcc.check.site.{_base(spec.name)}")
    reason = message_constant(module, plan.reason) if plan.reason else Builder.null()
    fields = [message_constant(module, where or ctx.options.source_file), message_constant(module, function), reason,
              _i32(0 if spec.mode is Mode.FORWARD else 1), _i32(spec.width)]
    body = ", ".join(f"{v.type} {v.text}" for v in fields)
    zeros = ", ".join(["i64 0"] * 6)
    module.add_global(name, f"@{name} = internal global {SITE_TYPE} {{ {body}, {zeros}, ptr null }}, align 8",
                      SITE_TYPE, False)
    return GlobalRef(name)


def _layout_global(module, slots: tuple[int, ...]) -> GlobalRef:
    ty = T.ArrayType(len(slots), T.i32)
    name = module.unique_name("adcc.check.layout")
    body = ", ".join(f"i32 {v}" for v in slots)
    module.add_global(name, f"@{name} = private unnamed_addr constant {ty} [{body}], align 4", ty, True, "private")
    return GlobalRef(name)


# --- small conversions ------------------------------------------------------------------------

def _i32(n: int) -> Constant:
    return Builder.iconst(T.i32, n)


def _base(name: str) -> str:
    return name.strip('"')


def _to_double(b: Builder, v: Value) -> Value:
    bits = T.FLOAT_BITS[v.type.kind]
    return b.cast("fpext" if bits < 64 else "fptrunc", v, T.f64)


def _from_double(b: Builder, v: Value, ty: T.Type) -> Value:
    bits = T.FLOAT_BITS[ty.kind]
    return b.cast("fptrunc" if bits < 64 else "fpext", v, ty)
