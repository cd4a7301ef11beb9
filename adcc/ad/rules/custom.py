"""The program's own rules: `__enzyme_register_gradient_*` and `__enzyme_register_derivative_*`.

Enzyme's calling conventions (its documentation and integration tests are the reference):
- every argument of f is passed in order; an argument that is not floating-point (a pointer, an
  integer) is followed by its shadow: a pointer's shadow memory, an integer again. A pointer
  without shadow memory (inactive) is passed as its own shadow to the augmented and reverse
  passes and as a null pointer to a forward derivative, as Enzyme does. Floating-point scalars
  have no shadow in reverse mode; in forward mode they are followed by their tangent. A rule
  written without the integers' shadows is accepted too (its parameter count tells);
- the augmented forward pass returns nothing, f's own result type (the primal result), or a struct
  {tape, primal, shadow of the result}, {primal, shadow} (two members of one type) or
  {tape, primal}; any other type is the tape;
- the reverse pass takes the same arguments, then the adjoint of f's result (when f returns a
  floating-point value), then the tape (when the augmented pass returns one); it returns the
  adjoints of f's floating-point arguments: one value, or a struct of them in argument order;
- a forward derivative takes the arguments as above and returns {primal, tangent}, or the tangent
  only (adcc then calls f for the primal); in vector mode it is called once per lane.
A rule function may return its struct through a hidden pointer (sret) and may take a parameter
by value through a pointer (`byval`, or the registration's `"byref_N"`); structs C returns in
registers (`{float, float}` as `<2 x float>`) are read member by member from memory.
When the augmented pass does not produce f's result and the program uses it, adcc calls f itself.
A signature that fits none of this is a compile error naming the registration, at its line (with
debug info) or at the call.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from adcc.analysis.activity import is_floatish
from adcc.analysis.declarations import CustomDerivative, CustomGradient, declarations_of
from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite
from adcc.diagnostics import CompileError
from adcc.ir import layout
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


# --- the rule functions ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Callee:
    """A rule function as its C signature sees it: the values its parameters take (a `byval`
    parameter: the struct itself) without the hidden struct-return pointer, and the returned type
    (the sret struct when there is one)."""
    name: str
    params: tuple[T.Type, ...]
    attrs: tuple[str, ...]
    ret: T.Type
    sret: bool


def _callee(module, name: str) -> _Callee:
    fn = module.function_header(name)
    params = list(fn.function_type.params)
    attrs = list(getattr(fn, "param_attrs", None) or [])
    attrs += [""] * (len(params) - len(attrs))
    ret, sret = fn.function_type.ret, False
    if attrs and "sret(" in attrs[0]:
        ret, sret = _attr_type(attrs[0], "sret("), True
        params, attrs = params[1:], attrs[1:]
    params = [_attr_type(a, "byval(") if "byval(" in a else t for t, a in zip(params, attrs)]
    return _Callee(name, tuple(params), tuple(attrs), ret, sret)


def _attr_type(attrs: str, key: str) -> T.Type:
    from adcc.ir.parser import LineParser
    return LineParser(attrs[attrs.index(key) + len(key):], None).parse_type()


def _call(b: Builder, callee: _Callee, args: list[Value], byref: frozenset[int] = frozenset()) -> Value | None:
    """Call a rule function; its result as one value (read from the sret memory when it returns
    through a hidden pointer), or None for void."""
    passed, attrs = [], []
    for k, (a, attr) in enumerate(zip(args, callee.attrs)):
        byval = "byval(" in attr
        if k in byref or byval:
            slot = b.alloca_in_entry(a.type)
            b.store(a, slot)
            a = slot
        passed.append(a)
        attrs.append(f"byval({_attr_type(attr, 'byval(')})" if byval else "")
    if callee.sret:
        out = b.alloca_in_entry(callee.ret)
        types = (T.ptr, *(a.type for a in passed))
        b.call(GlobalRef(callee.name), T.void, [out, *passed], fnty=T.FunctionType(T.void, types, False),
               arg_attrs=[f"sret({callee.ret})", *attrs])
        return b.load(callee.ret, out)
    types = tuple(a.type for a in passed)
    r = b.call(GlobalRef(callee.name), callee.ret, passed, fnty=T.FunctionType(callee.ret, types, False),
               arg_attrs=attrs)
    return None if isinstance(callee.ret, T.VoidType) else r


def _members(b: Builder, v: Value, types: list[T.Type]) -> list[Value] | None:
    """The members of the C struct `{types...}` that `v` holds: directly when `v` is that struct,
    else through memory (C returns small structs coerced: `{float, float}` as `<2 x float>`).
    None when `v` is too small to hold them."""
    module = b.module
    vt = module.resolve(v.type)
    if len(types) == 1 and vt == types[0]:
        return [v]
    if isinstance(vt, (T.StructType, T.ArrayType)) and _elems(vt) == list(types):
        return [b.extractvalue(v, k) for k in range(len(types))]
    want = T.StructType(tuple(types))
    try:
        if layout.store_size(module, v.type) < layout.store_size(module, want):
            return None
    except layout.LayoutError:
        return None
    slot = b.alloca_in_entry(v.type)
    b.store(v, slot)
    return [b.load(t, b.byte_gep(slot, Builder.iconst(T.i64, off)) if off else slot)
            for t, off in zip(types, layout.struct_offsets(module, want))]


def _elems(ty: T.Type) -> list[T.Type]:
    return list(ty.elems) if isinstance(ty, T.StructType) else [ty.elem] * ty.count


def _as(b: Builder, v: Value, ty: T.Type) -> Value:
    """`v` as a parameter of type `ty`: converted when scalar, reinterpreted through memory when
    an aggregate of the same size (a tape struct the reverse pass takes coerced)."""
    module = b.module
    if module.resolve(v.type) == module.resolve(ty):
        return v
    if isinstance(module.resolve(v.type), (T.StructType, T.ArrayType, T.VectorType)) or \
            isinstance(module.resolve(ty), (T.StructType, T.ArrayType, T.VectorType)):
        return _through_memory(b, v, ty)
    from adcc.ad.support import convert
    return convert(b, v, ty)


def _through_memory(b: Builder, v: Value, ty: T.Type) -> Value:
    """The bytes of `v` read back as type `ty`."""
    if v.type == ty:
        return v
    slot = b.alloca_in_entry(v.type if _size(b.module, v.type) >= _size(b.module, ty) else ty)
    b.store(v, slot)
    return b.load(ty, slot)


def _size(module, ty: T.Type) -> int:
    return layout.alloc_size(module, ty)


# --- Enzyme's argument convention -------------------------------------------------------------

@dataclass
class _Arguments:
    values: list[Value]
    roles: list[str]            # for messages: "argument 1 (double)", "shadow of argument 2", ...
    integer_shadows: list[int]  # positions of the integers' shadows (dropped for a rule without them)

    def fit(self, callee: _Callee, extra: int) -> list[Value] | None:
        """The values for `callee` (plus `extra` trailing ones): Enzyme's list, or the list without
        the integers' shadows when that is what the rule takes."""
        n = len(callee.params) - extra
        if n == len(self.values):
            return list(self.values)
        if self.integer_shadows and n == len(self.values) - len(self.integer_shadows):
            drop = set(self.integer_shadows)
            return [v for k, v in enumerate(self.values) if k not in drop]
        return None


def _arguments(site, fty: T.FunctionType, shadow, tangent=None) -> _Arguments:
    """f's arguments with their shadows (`shadow(arg)`: None when inactive) or, in forward mode,
    the floating-point ones with their tangents (`tangent(arg)`)."""
    b = site.b
    out = _Arguments([], [], [])
    for k, (a, pty) in enumerate(zip(site.args, fty.params)):
        p = _as(b, site.primal(a), pty)
        out.values.append(p)
        out.roles.append(f"argument {k + 1} ({pty})")
        if isinstance(pty, T.PointerType):
            s = shadow(a)
            out.values.append(s if s is not None else (p if tangent is None else Builder.null()))
            out.roles.append(f"shadow of argument {k + 1}")
        elif pty.is_float_or_float_vector():
            if tangent is not None:
                t = tangent(a)
                out.values.append(_as(b, t, pty) if t is not None else Builder.zero(pty))
                out.roles.append(f"tangent of argument {k + 1}")
        else:
            out.integer_shadows.append(len(out.values))
            out.values.append(p)
            out.roles.append(f"argument {k + 1} again (its shadow)")
    return out


def _location(site, registered):
    if registered.location is not None:
        return registered.location
    from adcc.ad.srcloc import location_of
    return location_of(site.module, site.inst)


def _mismatch(site, registered, role: str, callee: _Callee, want: list[str]) -> CompileError:
    target = registered.function.strip('"')
    return CompileError(
        f"the {role} '{callee.name.strip(chr(34))}' of registration '{registered.registration}' takes "
        f"{len(callee.params)} parameter(s), but Enzyme's convention for '{target}' passes {len(want)}: "
        f"{', '.join(want) or 'none'}", _location(site, registered))


def _bad_return(site, registered, role: str, callee: _Callee, want: str) -> CompileError:
    target = registered.function.strip('"')
    return CompileError(
        f"the {role} '{callee.name.strip(chr(34))}' of registration '{registered.registration}' returns "
        f"'{callee.ret}', but for '{target}' it must return {want}", _location(site, registered))


def _primal_call(site) -> Value:
    """f itself on the primal arguments (for a result the rule does not produce)."""
    fty = site.module.function_type_of(site.inst.callee_name)
    args = [_as(site.b, site.primal(a), t) for a, t in zip(site.args, fty.params)]
    return site.b.call(GlobalRef(site.inst.callee_name), fty.ret, args, fnty=fty)


def _float_params(fty: T.FunctionType) -> list[int]:
    return [k for k, t in enumerate(fty.params) if t.is_float_or_float_vector()]


def _returns_float(module, fty: T.FunctionType) -> bool:
    return not isinstance(fty.ret, (T.VoidType, T.PointerType)) and is_floatish(module, fty.ret)


# --- reverse mode --------------------------------------------------------------------------------

def _layout(module, g: CustomGradient) -> dict[str, int]:
    """Where the augmented pass returns the tape, the primal result and the result's shadow
    (-1: the whole return value), by Enzyme's reading of its return type."""
    fret = module.function_type_of(g.function).ret
    rt = _callee(module, g.augment).ret
    if isinstance(rt, T.VoidType):
        return {}
    if rt == fret:
        return {"primal": -1}
    st = module.resolve(rt)
    if isinstance(st, T.StructType):
        if len(st.elems) == 3:
            return {"tape": 0, "primal": 1, "shadow": 2}
        if len(st.elems) == 2 and st.elems[0] == st.elems[1]:
            return {"primal": 0, "shadow": 1}
        if len(st.elems) == 2:
            return {"tape": 0, "primal": 1}
    return {"tape": -1}


def _tape_type(module, g: CustomGradient) -> T.Type | None:
    lay = _layout(module, g)
    if "tape" not in lay:
        return None
    rt = _callee(module, g.augment).ret
    return rt if lay["tape"] < 0 else module.resolve(rt).elems[lay["tape"]]


def _saved_types(g: CustomGradient, view) -> list[T.Type]:
    ty = _tape_type(view.module, g)
    return [view.module.resolve(ty)] if ty is not None else []


def _reverse_reads(view) -> list[tuple[str, Value]]:
    out: list[tuple[str, Value]] = [("p", a) for a in view.args]
    out += [("s", a) for a in view.args if view.has_shadow(a)]
    return out


def _augment(g: CustomGradient, site: AugmentSite) -> None:
    module, b = site.module, site.b
    fty, aug = module.function_type_of(g.function), _callee(module, g.augment)
    given = _arguments(site, fty, site.shadow)
    args = given.fit(aug, 0)
    if args is None:
        raise _mismatch(site, g, "augmented forward pass", aug, given.roles)
    r = _call(b, aug, args, g.byref)
    lay = _layout(module, g)

    def part(key: str) -> Value | None:
        if key not in lay:
            return None
        return r if lay[key] < 0 else b.extractvalue(r, lay[key])

    if "tape" in lay:
        tape = part("tape")
        site.save(0, _through_memory(b, tape, module.resolve(tape.type)))  # tape fields have literal types
    if isinstance(fty.ret, T.VoidType):
        return
    primal = part("primal")
    if primal is None and site.inst.uses:
        primal = _primal_call(site)
    if primal is not None:
        site.set_result(_as(b, primal, fty.ret))
    if site.has_shadow(site.inst):
        shadow = part("shadow")
        if shadow is None:
            raise _bad_return(site, g, "augmented forward pass", aug,
                              "the shadow of its pointer result ({tape, primal, shadow} or {primal, shadow})")
        site.set_shadow(_as(b, shadow, fty.ret))


def _reverse(g: CustomGradient, site: ReverseSite) -> None:
    module, b = site.module, site.b
    fty, rev = module.function_type_of(g.function), _callee(module, g.reverse)
    given = _arguments(site, fty, site.shadow)
    extra: list[Value] = []
    roles = list(given.roles)
    if _returns_float(module, fty):
        d = site.result_adjoint()
        extra.append(d if d is not None else Builder.zero(fty.ret))
        roles.append("adjoint of the result")
    tape_ty = _tape_type(module, g)
    if tape_ty is not None:
        extra.append(site.saved(0))
        roles.append("tape")
    args = given.fit(rev, len(extra))
    if args is None:
        raise _mismatch(site, g, "reverse pass", rev, roles)
    params = rev.params[len(args):]
    args += [_as(b, v, t) for v, t in zip(extra, params)]
    r = _call(b, rev, args, g.byref)
    floats = [k for k in _float_params(fty) if site.varied(site.args[k]) and not isinstance(site.args[k], Constant)]
    if not floats:
        return  # no adjoint is needed from the rule: its return value does not matter
    floats = _float_params(fty)
    outs = _members(b, r, [fty.params[k] for k in floats]) if r is not None else None
    if outs is None:
        what = "its adjoint" if len(floats) == 1 else \
            f"a struct of the adjoints of its {len(floats)} floating-point arguments, in order"
        raise _bad_return(site, g, "reverse pass", rev, what)
    for k, d in zip(floats, outs):
        a = site.args[k]
        if site.varied(a) and not isinstance(a, Constant):
            site.add_adjoint(a, _as(b, d, site.act.adjoint_type(a)))


# --- forward mode --------------------------------------------------------------------------------

def _forward(d: CustomDerivative, site: ForwardSite) -> None:
    module, b = site.module, site.b
    fty, deriv = module.function_type_of(d.function), _callee(module, d.derivative)
    lanes = []
    for w in range(site.width):
        given = _arguments(site, fty, lambda v: (site.shadows(v) or [None] * site.width)[w],
                           lambda v: site.tangents(v)[w] if site.varied(v) else None)
        args = given.fit(deriv, 0)
        if args is None:
            raise _mismatch(site, d, "forward derivative", deriv, given.roles)
        lanes.append(_call(b, deriv, args))
    if isinstance(fty.ret, T.VoidType):
        return
    if deriv.ret == fty.ret:
        site.set_result(_primal_call(site))
        derivs = lanes
    else:
        pairs = [_members(b, x, [fty.ret, fty.ret]) if x is not None else None for x in lanes]
        if any(p is None for p in pairs):
            raise _bad_return(site, d, "forward derivative", deriv,
                              f"{{primal, tangent}} or the tangent ('{fty.ret}')")
        site.set_result(pairs[0][0])
        derivs = [p[1] for p in pairs]
    if isinstance(fty.ret, T.PointerType):
        site.set_shadows(derivs)
    else:
        site.set_tangents(derivs)
