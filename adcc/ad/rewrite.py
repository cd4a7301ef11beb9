"""Find `__enzyme_*` call sites in a module and replace each by a call to its derivative:
what to synthesize for a decoded call (callsite.py), the derivative's arguments, and, with
enzyme_runtime_activity, a dispatcher over the argument activities; results.py hands the
results to the program."""
from __future__ import annotations

import re

from adcc.ad.callsite import SPLIT_APIS, CallSite, api_of, parse_call_site
from adcc.ad.common import ADContext, Packing, convert
from adcc.ad.enzyme_uses import check_names
from adcc.ad.check import count_unchecked, derivative_call
from adcc.ad.dropped import dropped_derivative_warnings
from adcc.ad.forward import ForwardSynthesizer, forward_signature
from adcc.ad.globals import reset_implicit_shadows
from adcc.ad.replay import REPLAY_SYNTHESIZERS
from adcc.ad.results import deliver
from adcc.ad.reverse import ReverseSynthesizer, gradient_function
from adcc.ad.srcloc import location_of
from adcc.analysis.activity import is_floatish
from adcc.analysis.linking import unresolved_callee
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.diagnostics import CompileError
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Function, GlobalRef, Instruction, Value

RUNTIME_ACTIVITY_LIMIT = 4  # duplicated pointers checked at run time (2**N variants)


def _forward_synthesizer(ctx: ADContext, spec: FunctionSpec):
    """The forward synthesizer of a spec: the plain one, or a split-forward record/replay one."""
    return REPLAY_SYNTHESIZERS.get(spec.replay, ForwardSynthesizer)(ctx, spec)


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
        return call_tree(module, name, reach_memo)

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


REVERSE_APIS = ("autodiff", "augmentfwd", "reverse", "augmentsize")


def _differentiated_again(module, sites: list[Instruction]) -> bool:
    """Whether one of the reverse-mode `sites` lies in code that some site of the module
    differentiates (higher order: its derivative becomes part of that code)."""
    reverse = [s for s in sites if api_of(s.callee_name or "") in REVERSE_APIS]
    if not reverse:
        return False
    memo: dict[str, set[str]] = {}
    reached: set[str] = set()
    for s in find_call_sites(module):
        target = _target_name(s)
        if target is not None and module.is_defined(target):
            reached |= call_tree(module, target, memo)
    return any(s.block.function.fname in reached for s in reverse)


def nested_sites(module, sites: list[Instruction]) -> list[Instruction]:
    """When some site's target reaches another site (higher-order AD), the sites whose own target
    reaches none (the innermost level, to differentiate first); else nothing."""
    if len(sites) < 2:
        return []
    fns = {s.block.function.fname for s in sites}
    memo: dict[str, set[str]] = {}

    def reaches_site(target: str | None) -> bool:
        return target is not None and module.is_defined(target) and bool(call_tree(module, target, memo) & fns)

    outer = [s for s in sites if reaches_site(_target_name(s))]
    return [s for s in sites if not reaches_site(_target_name(s))] if outer else []


def rewrite_module(module, options, only: list[Instruction] | None = None) -> tuple[list[str], list[str], list]:
    """Differentiate the module's call sites (or `only` those), innermost first."""
    check_names(module)
    # type hints stay until differentiation is done (type analysis reads them; api.py drops them)
    sites = only if only is not None else find_call_sites(module)
    if options is not None and _differentiated_again(module, sites):
        # reverse-mode derivative code that another derivative differentiates again: no
        # checkpointed loops (their runtime moves state the outer derivative would need tangents
        # or adjoints of)
        import dataclasses
        options = dataclasses.replace(options, tape_limit=-1)
    ctx = ADContext(module, options, _forward_synthesizer, ReverseSynthesizer, gradient_function)
    handled: list[str] = []
    for inst in innermost_first(module, sites):
        if getattr(options, "defer_unresolved", False):
            target = _target_name(inst)
            if target is not None and target in module.functions and unresolved_callee(module, target):
                continue  # its call tree needs another translation unit: the link step differentiates it
        if api_of(inst.callee_name or "") == "batch":
            from adcc.ad.batch import rewrite_batch
            rewrite_batch(module, inst)
            handled.append(inst.callee_name or "")
            continue
        _wrap_ruled_target(module, inst)
        site = parse_call_site(module, inst)
        ctx.nested = ctx.nested or _reaches_derivative_code(module, site.fn_name)
        try:
            _rewrite(ctx, site)
        except CompileError as e:
            raise _about_the_program(module, site, e) from None
        handled.append(inst.callee_name or "")
    if getattr(options, "print_activity", False) or getattr(options, "print_types", False):
        ctx.reports.extend(_analysis_reports(ctx, options))
    return handled, ctx.reports, ctx.warnings


_INTERNAL = re.compile(r"'(?:adcc[._][\w.$]*)'|\(in function 'adcc\.[^']*'\)")


def _about_the_program(module, site: CallSite, error: CompileError) -> CompileError:
    """An error met inside code adcc synthesized (a nested derivative) is reported at the call the
    program wrote, naming the program's function, never adcc's internal symbols."""
    message = error.diagnostic.message
    if not _INTERNAL.search(message):
        return error
    name = site.fn_name.strip('"')
    from adcc.ad.common import source_name
    reason = _INTERNAL.sub("", message).strip()  # a reason in the program's terms, if it has one
    detail = f" ({reason})" if "__enzyme_" in reason else ""
    return CompileError(f"__enzyme_{site.api} of '{source_name(name)}': this nesting of derivatives is not supported: "
                        f"'{source_name(name)}' contains a derivative (an __enzyme_* call) whose code adcc cannot "
                        f"differentiate again in this mode{detail}", location_of(module, site.inst))


DERIVATIVE_PREFIXES = ("adcc.aug.", "adcc.rev.", "adcc.grad.", "adcc.split.", "adcc.fwd.")


def call_tree(module, name: str, memo: dict[str, set[str]] | None = None) -> set[str]:
    """The defined functions `name` may reach through references (itself included)."""
    got = memo.get(name) if memo is not None else None
    if got is None:
        got, stack = {name}, [name]
        while stack:
            for r in module.references(stack.pop()):
                if r not in got and module.is_defined(r):
                    got.add(r)
                    stack.append(r)
        if memo is not None:
            memo[name] = got
    return got


def _reaches_derivative_code(module, name: str) -> bool:
    """Does `name` call (at any depth) a derivative adcc synthesized for an inner __enzyme_* call?"""
    return any(f.startswith(DERIVATIVE_PREFIXES) for f in call_tree(module, name))


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
                from adcc.analysis.types import cached_types
                out.append(cached_types(ctx.module, fn, spec.arg_types).format())
            except ImportError:
                out.append(f"type analysis unavailable for @{spec.name}")
    return out


# --- what to synthesize ----------------------------------------------------------------

def _site_spec(module, site: CallSite, activities: tuple[Activity, ...] | None = None) -> FunctionSpec:
    fn = module.function(site.fn_name)
    if activities is None:
        activities = _activities(site)
    ret = module.resolve(fn.ret_type)
    returned = site.return_activity != "const"
    ret_active = returned and is_floatish(module, ret)
    # a returned pointer's shadow (Enzyme's default in forward mode) when the program takes it
    wanted = site.return_activity == "dup" or bool(site.inst.uses) or site.sret is not None
    ret_shadow = returned and wanted and site.mode is Mode.FORWARD and isinstance(ret, T.PointerType)
    readonly, reload = False, ()
    if site.mode is Mode.REVERSE:
        from adcc.analysis.memory import reloadable_arguments, writes_nonlocal_memory
        readonly = not writes_nonlocal_memory(module, fn)
        apart = _distinct_actuals(module, site)
        if not readonly:
            reload = reloadable_arguments(module, fn, frozenset((a[1], b[1]) for a, b in apart
                                                                if a[0] == b[0] == "p"))
    return FunctionSpec(site.fn_name, activities, ret_active, ret_shadow, site.mode, site.width, readonly, reload,
                        top_level=site.mode is Mode.REVERSE, strong_zero=site.strong_zero,
                        error=site.api == "error_estimate", apart=apart if site.mode is Mode.REVERSE else frozenset())


def _distinct_actuals(module, site: CallSite) -> frozenset:
    """Pairs of f's pointer parameters and their shadows, (("p" | "s"), parameter index), whose
    values at this call point into different objects (distinct allocations or globals of the
    caller): for f, as good as `restrict` between them."""
    from adcc.analysis.memory import distinct_arguments
    if site.width != 1:
        return frozenset()
    first = 0 if site.target_sret is None else 1
    actuals = {}
    for k, a in enumerate(site.args):
        if a.byref or not isinstance(a.primal.type, T.PointerType):
            continue
        actuals[("p", first + k)] = a.primal
        if len(a.shadows) == 1 and a.shadows[0].stride is None:
            actuals[("s", first + k)] = a.shadows[0].value
    return distinct_arguments(module, site.inst.block.function, actuals)


def _activities(site: CallSite) -> tuple[Activity, ...]:
    acts = tuple(a.activity for a in site.args)
    if site.target_sret is not None:
        acts = (Activity.DUP if site.target_sret.shadow is not None else Activity.CONST,) + acts
    return acts


def _check_return(module, site: CallSite) -> None:
    fn = module.function(site.fn_name)
    ret = module.resolve(fn.ret_type)
    loc, name = location_of(module, site.inst), site.fn_name.strip('"')
    if site.mode is Mode.REVERSE:
        if isinstance(ret, (T.StructType, T.ArrayType)) and is_floatish(module, ret) \
                and site.return_activity != "const":
            raise CompileError(f"__enzyme_autodiff of '{name}', which returns an aggregate of floating-point "
                               f"values, is not supported (there is no single adjoint to seed): return a scalar, "
                               f"write the results through a pointer passed with enzyme_dup, or pass "
                               f"enzyme_const_return", loc)
        if site.return_activity == "dup" and not isinstance(ret, T.PointerType):
            raise CompileError(f"enzyme_dup_return is not valid for '{name}' in reverse mode "
                               f"(its return value is seeded: use enzyme_active_return or enzyme_const_return)", loc)
    if site.return_activity == "active" and not is_floatish(module, ret):
        raise CompileError(f"enzyme_active_return given, but '{name}' does not return a floating-point value", loc)


def _derivative(ctx: ADContext, site: CallSite, spec: FunctionSpec) -> tuple[Function, Packing]:
    module = ctx.module
    if site.mode is Mode.FORWARD:
        fn = module.function(site.fn_name)
        _, packing = forward_signature(module, fn, spec)
        return ctx.forward_function(spec), packing
    if spec.width > 1:
        from adcc.ad.vector_reverse import vector_gradient_function
        if site.target_sret is not None:
            raise CompileError(f"enzyme_width {spec.width} in reverse mode is not supported for "
                               f"'{site.fn_name.strip(chr(34))}', which returns a struct through memory",
                               location_of(module, site.inst))
        return vector_gradient_function(ctx, spec, site.primal_return, location_of(module, site.inst))
    return gradient_function(ctx, spec, with_primal=site.primal_return)


# --- rewriting one call ----------------------------------------------------------------

def _rewrite(ctx: ADContext, site: CallSite) -> None:
    module = ctx.module
    _check_reverse_log_hooks(module, site)
    if site.context is not None and (site.api in SPLIT_APIS or site.api == "error_estimate"):
        raise CompileError(f"enzyme_context with {site.inst.callee_name.strip(chr(34))} is not supported yet "
                           "(contexts reach __enzyme_autodiff and __enzyme_fwddiff)", location_of(module, site.inst))
    if site.context is not None and site.mode is Mode.REVERSE and site.width > 1:
        raise CompileError(f"enzyme_context with a context of width {site.width} in reverse mode is not supported "
                           "yet (contexts of width 1 are; vector contexts reach __enzyme_fwddiff)",
                           location_of(module, site.inst))
    if site.api in SPLIT_APIS:
        from adcc.ad.split import rewrite_split
        fn = module.function(site.fn_name)
        return rewrite_split(ctx, site, lambda b: _arguments(b, site, fn)[1])
    if site.api == "error_estimate":
        _check_error_estimate(module, site)
    _check_return(module, site)
    spec = _site_spec(module, site)
    dropped = dropped_derivative_warnings(module, site, spec, ctx.options)
    ctx.warnings.extend(dropped)
    # where such memory meets active memory, its pointer is its own shadow (as in Enzyme), never silently
    module._adcc_dropped_const = any(w.key[1] is not None and not isinstance(w.key[1], str) for w in dropped)
    fn = module.function(site.fn_name)
    b = Builder(module).position_before(site.inst)
    out_memory, args = _arguments(b, site, fn)
    if site.runtime_activity:
        callee, packing = _runtime_activity_dispatch(ctx, site, spec, fn)
    else:
        callee, packing = _derivative(ctx, site, spec)
    if site.context is not None:  # the program's context: its shadows, as the program left them
        from adcc.ad.contexts import context_of, fill_heap_shadows, specialize
        ctx_name = context_of(module, site.inst, site.context, "enzyme_context")
        callee = module.function(specialize(module, callee.fname, ctx_name))
        fill_heap_shadows(module, b, callee.fname, ctx_name)
    reset_implicit_shadows(module, b, callee.fname, call_tree(module, callee.fname))
    unchecked = _unchecked_shape(module, site)
    if unchecked:
        count_unchecked(ctx, b, site, spec, unchecked)
        r = b.call(callee, packing.type, args)
    else:
        r = derivative_call(ctx, b, site, spec, callee, packing, args)
    parts = packing.unpack(b, r)
    values = _results(site, spec, fn, parts)
    if out_memory is not None and site.sret is None:  # f's struct results, read back for the program
        values = [b.load(_sret_results_type(site), out_memory)]
    deliver(b, site, values)


def _unchecked_shape(module, site: CallSite) -> str | None:
    """Why -fadcc-check-derivatives does not check this call yet (None: it does)."""
    if site.api == "error_estimate":
        return "error estimates (__enzyme_error_estimate) are not derivatives: not checked"
    if _counts_iterations(module, site.fn_name):
        return ("the function counts with __enzyme_iter: its derivative is that of another count than the "
                "primal's, by design")
    if site.runtime_activity:
        return "enzyme_runtime_activity calls are not checked yet"
    if site.context is not None:
        return ("calls with enzyme_context are not checked yet (their derivatives read and write the shadows of "
                "globals the context holds, which finite differences of the arguments do not see)")
    if site.target_sret is not None:
        return "functions returning a struct through memory are not checked yet"
    if site.primal_return:
        return "calls with enzyme_primal_return are not checked yet"
    if site.mode is Mode.REVERSE and site.width > 1:
        return "vector reverse mode (enzyme_width) calls are not checked yet"
    return None


def _counts_iterations(module, name: str) -> bool:
    """Does `name` call __enzyme_iter (at any depth)?"""
    from adcc.ad.utility_calls import ITER
    if not any(ITER in n for n in module.functions if not module.functions[n].is_definition):
        return False
    for f in call_tree(module, name):
        e = module.functions[f]
        text = e.text if e.parsed is None else ""
        if ITER in text or (e.parsed is not None and any(ITER in (i.callee_name or "") for i in e.parsed.instructions()
                                                          if i.opcode == "call")):
            return True
    return False


def _results(site: CallSite, spec: FunctionSpec, fn, parts: list[Value]) -> list[Value]:
    """The values the call returns to the program, in Enzyme's order."""
    if site.mode is Mode.REVERSE:
        return parts  # [primal] + adjoints (gradient_function lays them out)
    returns_value = not isinstance(fn.ret_type, T.VoidType)
    primal = parts[:1] if returns_value else []
    tangents = parts[1:] if (spec.ret_active or spec.ret_shadow) else []
    return (primal if site.primal_return else []) + tangents


def _arguments(b: Builder, site: CallSite, fn) -> tuple[Value | None, list[Value]]:
    """The derivative's arguments: each primal followed by its shadows."""
    args: list[Value] = []
    params = list(fn.args)
    out_memory = None
    if site.target_sret is not None:
        out_memory, sret_args = _target_sret_arguments(b, site)
        args.extend(sret_args)
        params = params[1:]
    for p, a in zip(params, site.args):
        primal = b.load(p.type, a.primal) if a.byref else convert(b, a.primal, p.type)
        args.append(primal)
        if a.activity.has_shadow:
            for s in a.shadows:
                v = s.value if s.stride is None else b.gep(T.i8, s.value, [b.mul(s.stride, Builder.iconst(
                    s.stride.type, s.lane))])
                args.append(convert(b, v, p.type))
    return out_memory, args


def _target_sret_arguments(b: Builder, site: CallSite) -> tuple[Value | None, list[Value]]:
    """f's hidden result pointer: its primal (the call's result memory with enzyme_primal_return,
    else a temporary) and its shadows (forward: the call's result memory, after the primal)."""
    ts = site.target_sret
    size = layout.alloc_size(b.module, ts.type)
    if site.mode is Mode.REVERSE or ts.shadow is None and not ts.primal_in_result:
        primal = b.alloca_in_entry(ts.type, align=16)
        return None, [primal] + ([convert(b, ts.shadow, T.ptr)] if ts.shadow is not None else [])
    memory = site.sret if site.sret is not None else b.alloca_in_entry(_sret_results_type(site), align=16)
    primal = memory if ts.primal_in_result else b.alloca_in_entry(ts.type, align=16)
    first = 1 if ts.primal_in_result else 0
    shadows = [memory if k == 0 else b.byte_gep(memory, k * size) for k in range(first, first + site.width)]
    return memory, [primal] + (shadows if ts.shadow is not None else [])


def _sret_results_type(site: CallSite) -> T.Type:
    ts = site.target_sret
    return T.ArrayType(site.width + (1 if ts.primal_in_result else 0), ts.type)


def _runtime_activity_dispatch(ctx: ADContext, site: CallSite, spec: FunctionSpec, fn) -> tuple[Function, Packing]:
    """enzyme_runtime_activity: a duplicated pointer whose shadow is its primal is inactive. One
    derivative per combination of such arguments; a small dispatcher compares the pointers."""
    module = ctx.module
    loc = location_of(module, site.inst)
    params = list(fn.args)
    checked = [k for k, (p, act) in enumerate(zip(params, spec.args))
               if act.has_shadow and isinstance(p.type, T.PointerType)]
    if site.width != 1 and checked:
        raise CompileError("enzyme_runtime_activity together with enzyme_width is not supported yet", loc)
    if len(checked) > RUNTIME_ACTIVITY_LIMIT:
        raise CompileError(f"enzyme_runtime_activity is supported for at most {RUNTIME_ACTIVITY_LIMIT} duplicated "
                           f"pointer arguments; this call has {len(checked)}", loc)
    full, packing = _derivative(ctx, site, spec)
    if not checked:
        return full, packing
    disp = Function(module.unique_name(f"adcc.rtact.{full.fname}"), packing.type,
                    [a.type for a in full.args], linkage="internal")
    module.add_function(disp)
    b = Builder(module, disp).position_at_end(disp.add_block("entry"))
    slots = _argument_slots(spec, params)
    index: Value = Builder.iconst(T.i32, 0)
    for bit, k in enumerate(checked):
        primal, shadow = disp.args[slots[k]], disp.args[slots[k] + 1]
        same = b.cast("zext", b.icmp("eq", primal, shadow), T.i32)
        index = b.or_(index, b.shl(same, Builder.iconst(T.i32, bit)))
    cases = []
    for mask in range(1, 1 << len(checked)):
        inactive = {k for bit, k in enumerate(checked) if mask >> bit & 1}
        acts = tuple(Activity.CONST if k in inactive else a for k, a in enumerate(spec.args))
        variant, _ = _derivative(ctx, site, FunctionSpec(spec.name, acts, *_spec_tail(spec),
                                                         strong_zero=spec.strong_zero, error=spec.error))
        blk = disp.add_block(f"inactive{mask}")
        vb = Builder(module, disp).position_at_end(blk)
        vargs = [a for k, a in enumerate(disp.args) if not _is_dropped_shadow(k, slots, inactive)]
        r = vb.call(variant, packing.type, vargs)
        vb.ret(r if packing.fields else None)
        cases.append((mask, blk))
    active = disp.add_block("active")
    ab = Builder(module, disp).position_at_end(active)
    r = ab.call(full, packing.type, list(disp.args))
    ab.ret(r if packing.fields else None)
    b.switch(index, active, cases)
    return disp, packing


ERROR_LOG_HOOKS = ("enzymeLogValue", "enzymeLogError", "enzymeLogGrad")


def _check_error_estimate(module, site: CallSite) -> None:
    """Enzyme calls the program's logging hooks from every operation of an error estimate; adcc
    does not, so a program that defines them is told so rather than left without its log."""
    from adcc.ad.log_hooks import hook_definitions
    hooks = [h for h in ERROR_LOG_HOOKS if hook_definitions(module, h)]
    if hooks:
        raise CompileError(f"__enzyme_error_estimate: the logging hook '{hooks[0]}' the program defines is not "
                           f"supported by adcc (the estimate itself is; remove the hook)", location_of(module, site.inst))


REVERSE_APIS = ("autodiff", "augmentfwd", "reverse")


def _check_reverse_log_hooks(module, site: CallSite) -> None:
    """Enzyme's floating-point logging builds call the program's `enzymeLogGrad` (each adjoint, in
    a reverse pass) and `enzymeLogValue` (each value). adcc calls enzymeLogGrad with the signature
    of Enzyme's integration tests (adcc.ad.log_hooks); a program that defines enzymeLogValue, or
    enzymeLogGrad with another signature, and differentiates in reverse mode is told so rather
    than left with an empty log (its derivatives would be right; what it logs would not be)."""
    from adcc.ad.log_hooks import GRAD_HOOK, grad_hook, hook_definitions
    if site.api not in REVERSE_APIS:
        return
    if hook_definitions(module, "enzymeLogValue"):
        raise CompileError(f"__enzyme_{site.api}: the program defines Enzyme's logging hook 'enzymeLogValue', "
                           f"which Enzyme's floating-point profiling calls from every operation; it is not supported "
                           f"by adcc (adcc would never call it): remove the hook", location_of(module, site.inst))
    if hook_definitions(module, GRAD_HOOK) and grad_hook(module) is None:
        raise CompileError(f"__enzyme_{site.api}: the program defines Enzyme's logging hook '{GRAD_HOOK}' with a "
                           f"signature adcc does not call it with; adcc calls void {GRAD_HOOK}(double grad, "
                           f"const char *opcode, const char *callee, const char *module, const char *function, "
                           f"unsigned block, unsigned instruction)", location_of(module, site.inst))


def _spec_tail(spec: FunctionSpec) -> tuple:
    return (spec.ret_active, spec.ret_shadow, spec.mode, spec.width, spec.readonly_memory, spec.reload_args)


def _argument_slots(spec: FunctionSpec, params) -> list[int]:
    """Index of each parameter's primal among the derivative's arguments."""
    slots, k = [], 0
    for act in spec.args:
        slots.append(k)
        k += 1 + (spec.width if act.has_shadow else 0)
    return slots


def _is_dropped_shadow(k: int, slots: list[int], inactive: set[int]) -> bool:
    return any(k == slots[p] + 1 for p in inactive)
