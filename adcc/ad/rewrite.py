"""Find `__enzyme_*` call sites in a module and replace each by a call to its derivative."""
from __future__ import annotations

from adcc.ad.callsite import CallSite, api_of, parse_call_site
from adcc.ad.common import ADContext, convert, zero_of
from adcc.ad.forward import forward_signature
from adcc.analysis.spec import FunctionSpec, Mode
from adcc.ad.srcloc import location_of
from adcc.analysis.activity import is_floatish
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Function, GlobalRef, Instruction, Value


def find_call_sites(module) -> list[Instruction]:
    out = []
    for name in module.defined_function_names():
        entry = module.functions[name]
        if entry.parsed is None and "__enzyme_" not in entry.text:
            continue
        fn = module.function(name)
        for inst in fn.instructions():
            if inst.opcode in ("call", "invoke") and inst.callee_name and api_of(inst.callee_name):
                out.append(inst)
    return out


def innermost_first(module, sites: list[Instruction]) -> list[Instruction]:
    """Call sites ordered so that a site whose target can reach other sites (higher-order AD:
    `__enzyme_fwddiff(grad)` where grad calls `__enzyme_autodiff(f)`) comes after them: the outer
    derivative is synthesized from a body whose inner calls are already derivatives."""
    if len(sites) < 2:
        return sites
    by_fn: dict[str, list[Instruction]] = {}
    for s in sites:
        by_fn.setdefault(s.block.function.fname, []).append(s)

    reach_memo: dict[str, set[str]] = {}

    def reach(name: str) -> set[str]:
        """Defined functions reachable from `name` (itself included)."""
        got = reach_memo.get(name)
        if got is None:
            got, stack = {name}, [name]
            while stack:
                for r in module.references(stack.pop()):
                    if r not in got and module.is_defined(r):
                        got.add(r)
                        stack.append(r)
            reach_memo[name] = got
        return got

    def inner(site: Instruction) -> list[Instruction]:
        target = _target_name(site)
        if target is None or not module.is_defined(target):
            return []
        return [t for f in reach(target) for t in by_fn.get(f, ()) if t is not site]

    done: set[int] = set()
    order: list[Instruction] = []
    visiting: set[int] = set()

    def visit(site: Instruction) -> None:
        if id(site) in done or id(site) in visiting:
            return
        visiting.add(id(site))
        for t in inner(site):
            visit(t)
        visiting.discard(id(site))
        done.add(id(site))
        order.append(site)

    for s in sites:
        visit(s)
    return order


def rewrite_module(module, options) -> tuple[list[str], list[str]]:
    ctx = ADContext(module, options)
    handled: list[str] = []
    for inst in innermost_first(module, find_call_sites(module)):
        if getattr(options, "defer_unresolved", False):
            target = _target_name(inst)
            if target is not None and target in module.functions and not module.is_defined(target):
                continue  # defined in another translation unit: the link step differentiates it
        _wrap_ruled_target(module, inst)
        site = parse_call_site(module, inst)
        if site.mode is Mode.FORWARD:
            _rewrite_forward(ctx, site)
        else:
            _rewrite_reverse(ctx, site)
        handled.append(inst.callee_name or "")
    if getattr(options, "print_activity", False) or getattr(options, "print_types", False):
        ctx.reports.extend(_analysis_reports(ctx, options))
    return handled, ctx.reports


def _wrap_ruled_target(module, inst: Instruction) -> None:
    """`__enzyme_*(f, ...)` of a function with a custom rule: differentiate a wrapper that calls f,
    so the rule applies at the top level as at any depth."""
    from adcc.ad.rules.custom import custom_rule
    name = _target_name(inst)
    if name is None or name not in module.functions or custom_rule(module, name) is None:
        return
    fty = module.function_type_of(name)
    wname = module.unique_name(f"adcc.wrap.{name.strip(chr(34))}")
    w = Function(wname, fty.ret, list(fty.params), fty.vararg, linkage="internal")
    module.add_function(w)
    b = Builder(module, w).position_at_end(w.add_block("entry"))
    r = b.call(GlobalRef(name), fty.ret, list(w.args), fnty=fty)
    b.ret(None if isinstance(fty.ret, T.VoidType) else r)
    args = inst.args
    slot = 1 if args and "sret" in inst.info.get("arg_attrs", [""])[0] else 0
    inst.set_operand(inst.info["callee_slot"] + 1 + slot, GlobalRef(wname))


def _target_name(inst: Instruction) -> str | None:
    args = inst.args
    attrs = inst.info.get("arg_attrs", [])
    if args and attrs and "sret" in attrs[0]:
        args = args[1:]
    return args[0].gname if args and isinstance(args[0], GlobalRef) else None


def _analysis_reports(ctx: ADContext, options) -> list[str]:
    from adcc.analysis.activity import ActivityAnalysis
    out = []
    specs = list(ctx.forward_cache) + list(ctx.reverse_cache)
    for spec in specs:
        fn = ctx.module.function(spec.name)
        if options.print_activity:
            out.append(ActivityAnalysis(ctx.module, fn, spec).format())
        if options.print_types:
            try:
                from adcc.analysis.types import analyze_types
                out.append(analyze_types(ctx.module, fn).format())
            except ImportError:
                out.append(f"type analysis unavailable for @{spec.name}")
    return out


def _site_spec(module, site: CallSite) -> FunctionSpec:
    fn = module.function(site.fn_name)
    acts = tuple(a.activity for a in site.args)
    ret_float = is_floatish(module, fn.ret_type)
    readonly, reload = False, ()
    if site.mode is Mode.REVERSE:
        from adcc.analysis.memory import reloadable_arguments, writes_nonlocal_memory
        readonly = not writes_nonlocal_memory(module, fn)
        if not readonly:
            reload = reloadable_arguments(module, fn)
    return FunctionSpec(site.fn_name, acts, ret_float, False, site.mode, site.width, readonly, reload,
                        top_level=site.mode is Mode.REVERSE)


def _call_args(b: Builder, fn, site: CallSite, shadows_too: bool = True) -> list[Value]:
    args: list[Value] = []
    for p, a in zip(fn.args, site.args):
        args.append(convert(b, a.primal, p.type))
        if a.activity.has_shadow and shadows_too:
            args.extend(convert(b, s, p.type) for s in a.shadows)
    return args


def _rewrite_forward(ctx: ADContext, site: CallSite) -> None:
    module = ctx.module
    fn = module.function(site.fn_name)
    spec = _site_spec(module, site)
    fwd = ctx.forward_function(spec)
    b = Builder(module).position_before(site.inst)
    _, packing = forward_signature(module, fn, spec)
    r = b.call(fwd, packing.type, _call_args(b, fn, site))
    parts = packing.unpack(b, r)
    tangents = parts[1:] if not isinstance(fn.ret_type, T.VoidType) else []
    _deliver(b, site, tangents if spec.ret_active else [])


def _rewrite_reverse(ctx: ADContext, site: CallSite) -> None:
    from adcc.ad.reverse import gradient_function
    module = ctx.module
    fn = module.function(site.fn_name)
    ret = module.resolve(fn.ret_type)
    if isinstance(ret, (T.StructType, T.ArrayType)) and is_floatish(module, ret):
        raise CompileError(f"__enzyme_autodiff of '{site.fn_name.strip(chr(34))}', which returns an aggregate of "
                           f"floating-point values, is not supported (there is no single adjoint to seed): "
                           f"return a scalar, or write the results through a pointer passed with enzyme_dup",
                           location_of(module, site.inst))
    spec = _site_spec(module, site)
    grad, packing = gradient_function(ctx, spec)
    b = Builder(module).position_before(site.inst)
    r = b.call(grad, packing.type, _call_args(b, fn, site))
    _deliver(b, site, packing.unpack(b, r))


def _deliver(b: Builder, site: CallSite, values: list[Value]) -> None:
    """Hand the derivatives to the program as the __enzyme_* call declared them, then drop it."""
    if site.sret is not None:
        _store_sret(b, site, values)
        _replace(site, None)
    else:
        _replace(site, _shape_result(b, site, values))


def _shape_result(b: Builder, site: CallSite, values: list[Value]) -> Value | None:
    """Fit derivative values to the declared return type of the __enzyme_* call."""
    rt = site.result_type
    if isinstance(rt, T.VoidType):
        return None
    module = b.module
    rt_res = module.resolve(rt)
    if len(values) == 1 and module.resolve(values[0].type) == rt_res:
        return values[0]
    if rt_res.is_float():
        return convert(b, values[0], rt_res) if values else zero_of(rt_res)
    if isinstance(rt_res, (T.StructType, T.ArrayType)):
        elems = rt_res.elems if isinstance(rt_res, T.StructType) else [rt_res.elem] * rt_res.count
        agg: Value = Constant(rt, "zeroinitializer")
        for k, ety in enumerate(elems):
            v = convert(b, values[k], ety) if k < len(values) else zero_of(ety)
            agg = b.insertvalue(agg, v, k)
        return agg
    if isinstance(rt_res, T.VectorType):
        vec: Value = Constant(rt, "zeroinitializer")
        for k in range(rt_res.count):
            if k < len(values):
                vec = b.insertelement(vec, convert(b, values[k], rt_res.elem), k)
        return vec
    raise CompileError(f"unsupported return type '{rt}' for __enzyme_{site.api}", location_of(module, site.inst))


def _store_sret(b: Builder, site: CallSite, values: list[Value]) -> None:
    """Store results into the hidden struct-return memory, laid out as its declared type."""
    from adcc.ir.parser import LineParser
    module = b.module
    attrs = site.inst.info.get("arg_attrs", [""])[0]
    k = attrs.find("sret(")
    sty = None
    if k >= 0:
        try:
            sty = module.resolve(LineParser(attrs[k + 5:], None).parse_type())
        except (ValueError, IndexError):
            sty = None
    if isinstance(sty, (T.StructType, T.ArrayType)):
        flat = _flatten(b, values)
        for (ety, off), v in zip(_leaves(module, sty, 0), flat):
            p = b.gep(T.i8, site.sret, [off]) if off else site.sret
            b.store(convert(b, v, ety) if v.type != ety else v, p)
        return
    off = 0
    for v in values:
        p = b.gep(T.i8, site.sret, [off]) if off else site.sret
        b.store(v, p)
        off += 8


def _leaves(module, ty: T.Type, base: int) -> list[tuple[T.Type, int]]:
    """Scalar members of an aggregate type with their byte offsets."""
    from adcc.ir import layout
    ty = module.resolve(ty)
    if isinstance(ty, T.StructType):
        out = []
        for ety, off in zip(ty.elems, layout.struct_offsets(module, ty)):
            out.extend(_leaves(module, ety, base + off))
        return out
    if isinstance(ty, T.ArrayType):
        step = layout.alloc_size(module, ty.elem)
        out = []
        for i in range(ty.count):
            out.extend(_leaves(module, ty.elem, base + i * step))
        return out
    return [(ty, base)]


def _flatten(b: Builder, values: list[Value]) -> list[Value]:
    """Scalars of the results in order (struct/array results are taken apart)."""
    out: list[Value] = []
    for v in values:
        ty = b.module.resolve(v.type)
        if isinstance(ty, T.StructType):
            for k in range(len(ty.elems)):
                out.extend(_flatten(b, [b.extractvalue(v, k)]))
        elif isinstance(ty, T.ArrayType):
            for k in range(ty.count):
                out.extend(_flatten(b, [b.extractvalue(v, k)]))
        else:
            out.append(v)
    return out


def _replace(site: CallSite, result: Value | None) -> None:
    inst = site.inst
    if inst.opcode == "invoke":
        # the derivative call cannot throw: continue at the normal destination
        normal, unwind = inst.operands[-2], inst.operands[-1]
        if any(src is inst.block for p in unwind.phis() for _, src in p.incoming()):
            raise CompileError("unsupported: __enzyme_* invoked with an unwind destination that has phis")
        Builder(None).position_before(inst).br(normal)
    if inst.uses:
        inst.replace_all_uses_with(result if result is not None else Constant(inst.type, "poison"))
    inst.erase()
