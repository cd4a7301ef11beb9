"""The program's own rules: `__enzyme_register_gradient_*` and `__enzyme_register_derivative_*`.

Enzyme's calling conventions (its documentation and integration tests are the reference):
- every argument of f is passed in order; a pointer argument is followed by its shadow (the
  primal pointer itself when it has none); floating-point scalars and integers have no shadow;
- the augmented forward pass returns nothing, f's own result type (the primal result), or a struct
  {tape, primal, shadow of the result}, {primal, shadow} (two members of one type) or
  {tape, primal}; any other type is the tape;
- the reverse pass takes the same arguments, then the adjoint of f's result (when f returns a
  floating-point value), then the tape (when the augmented pass returns one); it returns the
  adjoints of f's floating-point scalar arguments (one value, a struct of them, or nothing);
- a forward derivative takes each argument followed by its tangent (pointer: shadow; integer: the
  value again) and returns {primal, tangent} (or only the tangent; adcc then calls f for the primal).
When the augmented pass does not produce f's result and the program uses it, adcc calls f itself.
"""
from __future__ import annotations

from functools import partial

from adcc.analysis.activity import is_floatish
from adcc.analysis.declarations import CustomDerivative, CustomGradient, declarations_of
from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, GlobalRef, Value


def custom_rule(module, name: str) -> CallRule | None:
    decls = declarations_of(module)
    grad, deriv = decls.gradients.get(name), decls.derivatives.get(name)
    if grad is None and deriv is None:
        return None
    cache = getattr(module, "_adcc_custom_rules", None)
    if cache is None:
        cache = module._adcc_custom_rules = {}
    rule = cache.get(name)
    if rule is None:
        what = " and ".join(x for x in (f"a custom gradient ({grad.registration})" if grad else "",
                                          f"a custom derivative ({deriv.registration})" if deriv else "") if x)
        rule = cache[name] = CallRule(
            family="custom", callees=(name,),
            forward=partial(_forward, deriv) if deriv else None,
            augment=partial(_augment, grad) if grad else None,
            reverse=partial(_reverse, grad) if grad else None,
            saved_types=partial(_saved_types, grad) if grad else (lambda view: ()),
            reverse_reads=_reverse_reads, reverse_reads_memory=True,
            description=f"'{name}' has {what}")
    return rule


# --- signatures ------------------------------------------------------------------------------

def _kind(module, ty: T.Type) -> str:
    if isinstance(ty, T.PointerType):
        return "pointer"
    if is_floatish(module, ty):
        return "float"
    return "other"


def _layout(module, g: CustomGradient) -> dict[str, int]:
    """Where the augmented pass returns the tape, the primal result and the result's shadow
    (-1: the whole return value)."""
    fty, aty = module.function_type_of(g.function), module.function_type_of(g.augment)
    rt = module.resolve(aty.ret)
    if isinstance(rt, T.VoidType):
        return {}
    if aty.ret == fty.ret:
        return {"primal": -1}
    if isinstance(rt, T.StructType):
        if len(rt.elems) == 3:
            return {"tape": 0, "primal": 1, "shadow": 2}
        if len(rt.elems) == 2 and rt.elems[0] == rt.elems[1]:
            return {"primal": 0, "shadow": 1}
        if len(rt.elems) == 2:
            return {"tape": 0, "primal": 1}
    return {"tape": -1}


def _tape_type(module, g: CustomGradient) -> T.Type | None:
    lay = _layout(module, g)
    if "tape" not in lay:
        return None
    aty = module.function_type_of(g.augment)
    return aty.ret if lay["tape"] < 0 else module.resolve(aty.ret).elems[lay["tape"]]


def _saved_types(g: CustomGradient, view) -> list[T.Type]:
    ty = _tape_type(view.module, g)
    return [ty] if ty is not None else []


def _reverse_reads(view) -> list[tuple[str, Value]]:
    out: list[tuple[str, Value]] = [("p", a) for a in view.args]
    out += [("s", a) for a in view.args if view.has_shadow(a)]
    return out


def _mismatch(site, role: str, fn: str, want: list[str], have: T.FunctionType) -> CompileError:
    from adcc.ad.srcloc import location_of
    target = (site.inst.callee_name or "?").strip('"')
    return CompileError(
        f"the {role} '{fn.strip(chr(34))}' registered for '{target}' takes {len(have.params)} parameter(s), "
        f"but Enzyme's convention passes {len(want)}: {', '.join(want) or 'none'}",
        location_of(site.module, site.inst))


def _args(site, fty: T.FunctionType, primal, shadow, tangents: bool, lane: int = 0) -> tuple[list[Value], list[str]]:
    """The rule's arguments for the call's operands, and a description of each (for errors)."""
    b, module = site.b, site.module
    vals: list[Value] = []
    desc: list[str] = []
    for k, (a, pty) in enumerate(zip(site.args, fty.params)):
        p = _convert(b, primal(a), pty)
        vals.append(p)
        desc.append(f"argument {k + 1}")
        kind = _kind(module, pty)
        if kind == "pointer":
            s = shadow(a)
            vals.append(s if s is not None else p)
            desc.append(f"shadow of argument {k + 1}")
        elif tangents and kind == "float":
            t = site.tangents(a)[lane] if site.varied(a) else None
            vals.append(_convert(b, t, pty) if t is not None else Builder.zero(pty))
            desc.append(f"tangent of argument {k + 1}")
        elif tangents:
            vals.append(p)
            desc.append(f"argument {k + 1} again")
    return vals, desc


def _convert(b: Builder, v: Value, ty: T.Type) -> Value:
    from adcc.ad.common import convert
    return convert(b, v, ty) if v.type != ty else v


def _call(b: Builder, module, name: str, args: list[Value]) -> Value:
    fty = module.function_type_of(name)
    return b.call(GlobalRef(name), fty.ret, args, fnty=fty)


def _primal_call(site) -> Value:
    """f itself on the primal arguments (for a result the rule does not produce)."""
    fty = site.module.function_type_of(site.inst.callee_name)
    args = [_convert(site.b, site.primal(a), t) for a, t in zip(site.args, fty.params)]
    return _call(site.b, site.module, site.inst.callee_name, args)


# --- reverse mode --------------------------------------------------------------------------------

def _augment(g: CustomGradient, site: AugmentSite) -> None:
    module, b = site.module, site.b
    fty, aty = module.function_type_of(g.function), module.function_type_of(g.augment)
    args, desc = _args(site, fty, site.primal, site.shadow, tangents=False)
    if len(args) != len(aty.params):
        raise _mismatch(site, "augmented forward pass", g.augment, desc, aty)
    r = _call(b, module, g.augment, args)
    lay = _layout(module, g)

    def part(key: str) -> Value | None:
        if key not in lay:
            return None
        return r if lay[key] < 0 else b.extractvalue(r, lay[key])

    if "tape" in lay:
        site.save(0, part("tape"))
    if not isinstance(fty.ret, T.VoidType):
        primal = part("primal")
        if primal is None and site.inst.uses:
            primal = _primal_call(site)
        if primal is not None:
            site.set_result(primal)
        if site.has_shadow(site.inst):
            shadow = part("shadow")
            if shadow is None:
                from adcc.ad.srcloc import location_of
                raise CompileError(f"the augmented forward pass '{g.augment}' registered for '{g.function}' must "
                                   f"return the shadow of its pointer result ({{tape, primal, shadow}})",
                                   location_of(module, site.inst))
            site.set_shadow(shadow)


def _reverse(g: CustomGradient, site: ReverseSite) -> None:
    module, b = site.module, site.b
    fty, rty = module.function_type_of(g.function), module.function_type_of(g.reverse)
    args, desc = _args(site, fty, site.primal, site.shadow, tangents=False)
    if _kind(module, fty.ret) == "float":
        d = site.result_adjoint()
        args.append(d if d is not None else Builder.zero(fty.ret))
        desc.append("adjoint of the result")
    tape_ty = _tape_type(module, g)
    if tape_ty is not None:
        args.append(site.saved(0))
        desc.append("tape")
    if len(args) != len(rty.params):
        raise _mismatch(site, "reverse pass", g.reverse, desc, rty)
    r = _call(b, module, g.reverse, args)
    floats = [(a, t) for a, t in zip(site.args, fty.params) if _kind(module, t) == "float"]
    if not floats:
        return
    rt = module.resolve(rty.ret)
    if len(floats) == 1 and not isinstance(rt, T.StructType):
        outs = [r]
    elif isinstance(rt, (T.StructType, T.ArrayType)) and _count(rt) == len(floats):
        outs = [b.extractvalue(r, k) for k in range(len(floats))]
    else:
        from adcc.ad.srcloc import location_of
        raise CompileError(f"the reverse pass '{g.reverse}' registered for '{g.function}' must return the "
                           f"adjoints of its {len(floats)} floating-point argument(s) (one value or a struct), "
                           f"not '{rty.ret}'", location_of(module, site.inst))
    for (a, _), d in zip(floats, outs):
        if site.varied(a) and not isinstance(a, Constant):
            site.add_adjoint(a, _convert(b, d, site.act.adjoint_type(a)))


def _count(ty: T.Type) -> int:
    return len(ty.elems) if isinstance(ty, T.StructType) else ty.count


# --- forward mode --------------------------------------------------------------------------------

def _forward(d: CustomDerivative, site: ForwardSite) -> None:
    module, b = site.module, site.b
    fty, dty = module.function_type_of(d.function), module.function_type_of(d.derivative)
    lanes = []
    for w in range(site.width):
        args, desc = _args(site, fty, site.primal, lambda v: (site.shadows(v) or [None] * site.width)[w],
                           tangents=True, lane=w)
        if len(args) != len(dty.params):
            raise _mismatch(site, "forward derivative", d.derivative, desc, dty)
        lanes.append(_call(b, module, d.derivative, args))
    if isinstance(fty.ret, T.VoidType):
        return
    rt = module.resolve(dty.ret)
    pair = isinstance(rt, T.StructType) and len(rt.elems) == 2 and dty.ret != fty.ret
    if pair:
        site.set_result(b.extractvalue(lanes[0], 0))
        derivs = [b.extractvalue(x, 1) for x in lanes]
    elif dty.ret == fty.ret:
        site.set_result(_primal_call(site))
        derivs = lanes
    else:
        from adcc.ad.srcloc import location_of
        raise CompileError(f"the forward derivative '{d.derivative}' registered for '{d.function}' must return "
                           f"{{primal, tangent}} or the tangent ('{fty.ret}'), not '{dty.ret}'",
                           location_of(module, site.inst))
    if isinstance(fty.ret, T.PointerType):
        site.set_shadows(derivs)
    else:
        site.set_tangents(derivs)
