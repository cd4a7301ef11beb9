"""Math functions with more than one output: call rules for frexp, modf, remquo, lgamma_r and sincos
(results stored through pointer arguments) and for the intrinsics returning a struct (llvm.frexp,
llvm.modf, llvm.sincos).

Each function is data: its outputs (the return value, a struct member, or the float an argument
points to) and, per output, a pointwise `Rule` of partials with respect to the call's operands
(`X(i)` is operand i, `Y` that output's value; pointer and integer operands have no partial). Both
modes apply the partials through `emit_forward` / `emit_reverse`. An output without a rule is
overwritten with a value that carries no derivative (modf's integral part): its tangent is zero,
and in reverse its shadow is cleared like that of any overwritten value. Integer outputs (frexp's
exponent, remquo's quotient bits, lgamma_r's sign) carry no derivative and are left alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite
from adcc.ad.rules.expr import Cmp, F, Select, X, Y, wrap
from adcc.ad.rules.rule import Rule, emit_forward, emit_reverse
from adcc.ad.rules.table import BY_NAME
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.layout import align_of
from adcc.ir.values import Constant

RESULT, FIELD, POINTER = "result", "field", "pointer"


@dataclass(frozen=True)
class Output:
    where: str              # RESULT, FIELD (member `index` of the struct result), POINTER (through operand `index`)
    index: int = 0
    rule: Rule | None = None  # partials w.r.t. the call's operands; None: the output carries no derivative


@dataclass(frozen=True)
class LibmCall:
    name: str
    callees: tuple[str, ...]
    outputs: tuple[Output, ...]

    @property
    def float_operands(self) -> tuple[int, ...]:
        """Operands some output has a partial for."""
        return tuple(sorted({i for o in self.outputs if o.rule for i in o.rule.active_args}))


def _partials(name: str, arity: int, partials: dict, domain, reference) -> Rule:
    """A rule over all `arity` call operands; `partials` maps float operand index -> expression
    (an operand not listed gets none); `domain` lists the float operands' values."""
    exprs = tuple(wrap(partials[i]) if i in partials else None for i in range(arity))
    floats = sorted(partials)
    points = tuple(tuple(p[floats.index(i)] if i in floats else None for i in range(arity)) for p in domain)
    return Rule(name=name, kind="pointwise", arity=arity, partial_exprs=exprs, domain=points,
                reference=lambda *xs: reference(*(xs[i] for i in floats)))


_SUFFIXES = ("", "f", "l", "f128", "f32", "f64", "f32x", "f64x")
_INTRINSIC_TYPES = ("f16", "f32", "f64", "f80", "f128", "v2f32", "v4f32", "v8f32", "v16f32", "v2f64", "v4f64", "v8f64")


def _libm(*bases: str, post: str = "") -> tuple[str, ...]:
    return tuple(b + s + post for b in bases for s in _SUFFIXES)


def _intrinsic(base: str, int_result: bool = False) -> tuple[str, ...]:
    """llvm.<base>.<type> for the scalar and common vector types (frexp also names its i32 type)."""
    out = []
    for t in _INTRINSIC_TYPES:
        name = f"llvm.{base}.{t}"
        if int_result:
            lanes = t[:t.index("f")] if t.startswith("v") else ""
            name += f".{lanes}i32"
        out.append(name)
    return tuple(out)


# d mantissa/dx = 2^-e = m/x exactly (a power of two); at x = 0 the mantissa is 0 for every x near it
# up to the scaling, and the one-sided limits disagree: 1 is the value of 2^-e there (e = 0)
_MANTISSA = Select(Cmp("oeq", X(0), 0), 1, Y / X(0))
_REMAINDER_Y = BY_NAME["remainder"].partial_exprs[1]
_LGAMMA = BY_NAME["lgamma"].partial_exprs[0]
_FRAC_POINTS = ((2.75,), (-1.3,), (0.4,))


def _frac(x: float) -> float:
    return math.modf(x)[0]


CALLS: tuple[LibmCall, ...] = (
    LibmCall("frexp", _libm("frexp"), (
        Output(RESULT, rule=_partials("frexp", 2, {0: _MANTISSA}, ((0.3,), (-5.0,), (7.25,)),
                                      lambda x: math.frexp(x)[0])),)),
    LibmCall("llvm.frexp", _intrinsic("frexp", int_result=True), (
        Output(FIELD, 0, _partials("llvm.frexp", 1, {0: _MANTISSA}, ((0.3,), (-5.0,), (7.25,)),
                                   lambda x: math.frexp(x)[0])),)),
    LibmCall("modf", _libm("modf"), (
        Output(RESULT, rule=_partials("modf", 2, {0: 1}, _FRAC_POINTS, _frac)),
        Output(POINTER, 1))),
    LibmCall("llvm.modf", _intrinsic("modf"), (
        Output(FIELD, 0, _partials("llvm.modf", 1, {0: 1}, _FRAC_POINTS, _frac)),
        Output(FIELD, 1))),
    LibmCall("remquo", _libm("remquo"), (
        Output(RESULT, rule=_partials("remquo", 3, {0: 1, 1: _REMAINDER_Y}, ((5.3, 2.1), (-7.7, 2.5), (1.2, -0.5)),
                                      math.remainder)),)),
    LibmCall("lgamma_r", _libm("lgamma", post="_r"), (
        Output(RESULT, rule=_partials("lgamma_r", 2, {0: _LGAMMA}, ((0.3,), (2.5,), (-1.5,)), math.lgamma)),)),
    LibmCall("sincos", _libm("sincos"), (
        Output(POINTER, 1, _partials("sincos.sin", 3, {0: F.cos(X(0))}, ((-1.3,), (0.4,), (2.2,)), math.sin)),
        Output(POINTER, 2, _partials("sincos.cos", 3, {0: -F.sin(X(0))}, ((-1.3,), (0.4,), (2.2,)), math.cos)))),
    LibmCall("llvm.sincos", _intrinsic("sincos"), (
        Output(FIELD, 0, _partials("llvm.sincos.sin", 1, {0: F.cos(X(0))}, ((-1.3,), (0.4,), (2.2,)), math.sin)),
        Output(FIELD, 1, _partials("llvm.sincos.cos", 1, {0: -F.sin(X(0))}, ((-1.3,), (0.4,), (2.2,)), math.cos)))),
)


# --- the three halves ---------------------------------------------------------------------------

def _float_type(site) -> T.Type:
    """The float (vector) type of the function: its first operand's."""
    return site.args[0].type


def _out_value(site, out: Output, call, b: Builder):
    """The primal value of an output, right after the call."""
    if out.where == RESULT:
        return call
    if out.where == FIELD:
        return b.extractvalue(call, out.index)
    ty = _float_type(site)
    return b.load(ty, site.primal(site.args[out.index]), align=align_of(site.module, ty))


def _operands(site) -> list:
    """Primal operands for the partials: the float ones (pointers never appear in a partial)."""
    return [site.primal(a) if not isinstance(a.type, T.PointerType) else Constant(a.type, "poison")
            for a in site.args]


def _forward(fn: LibmCall, site: ForwardSite) -> None:
    b = site.b
    call = b.clone(site.inst, [site.primal(o) for o in site.inst.operands], name="")
    site.set_result(call)
    args = _operands(site)
    struct = site.inst.type if any(o.where == FIELD for o in fn.outputs) else None
    lanes = [Builder.zero(struct) for _ in range(site.width)] if struct is not None else None
    for out in fn.outputs:
        tangents = [None] * site.width
        if out.rule is not None:
            y = _out_value(site, out, call, b) if out.rule.uses_result else None
            for w in range(site.width):
                ts = [site.tangents(a)[w] if site.varied(a) else None for a in site.args]
                tangents[w] = emit_forward(b, out.rule, args, y, ts, strong_zero=site.strong_zero)
        if out.where == RESULT:
            site.set_tangents(tangents)
        elif out.where == FIELD:
            lanes = [lane if t is None else b.insertvalue(lane, t, out.index) for lane, t in zip(lanes, tangents)]
        else:
            shadows = site.shadows(site.args[out.index])
            ty = _float_type(site)
            for s, t in zip(shadows or (), tangents):
                b.store(t if t is not None else Builder.zero(ty), s, align=align_of(site.module, ty))
    if lanes is not None:
        site.set_tangents(lanes)


def _saved_types(fn: LibmCall, view) -> list[T.Type]:
    """The outputs a partial reads (frexp's mantissa, remquo's remainder), saved by the augmented pass."""
    ty = view.args[0].type
    return [ty for out in fn.outputs if out.rule is not None and out.rule.uses_result]


def _reverse_reads(fn: LibmCall, view) -> list[tuple[str, object]]:
    reads = [("p", a) for a in view.args if not isinstance(a.type, T.PointerType)] if any(
        view.varied(view.args[i]) for i in fn.float_operands) else []
    reads += [("s", view.args[o.index]) for o in fn.outputs
              if o.where == POINTER and view.has_shadow(view.args[o.index])]
    return reads


def _augment(fn: LibmCall, site: AugmentSite) -> None:
    b = site.b
    call = b.clone(site.inst, [site.primal(o) for o in site.inst.operands], name="")
    site.set_result(call)
    k = 0
    for out in fn.outputs:
        if out.rule is not None and out.rule.uses_result:
            site.save(k, _out_value(site, out, call, b))
            k += 1


def _reverse(fn: LibmCall, site: ReverseSite) -> None:
    b, ty = site.b, _float_type(site)
    align = align_of(site.module, ty)
    result_adjoint = site.result_adjoint() if fn.outputs[0].where in (RESULT, FIELD) else None
    mask = [site.varied(a) for a in site.args]
    args = [site.primal(a) if any(mask) and not isinstance(a.type, T.PointerType) else Constant(a.type, "poison")
            for a in site.args]
    k = 0
    for out in fn.outputs:
        y = None
        if out.rule is not None and out.rule.uses_result:
            y, k = site.saved(k), k + 1
        if out.where == POINTER:
            s = site.shadow(site.args[out.index])
            if s is None:
                continue
            d = b.load(ty, s, align=align) if out.rule is not None else None
            b.store(Builder.zero(ty), s, align=align)  # the primal overwrote it
        elif out.where == FIELD:
            d = b.extractvalue(result_adjoint, out.index) if result_adjoint is not None else None
        else:
            d = result_adjoint
        if out.rule is None or d is None or not any(mask):
            continue
        for a, c in zip(site.args, emit_reverse(b, out.rule, args, y, d, mask, strong_zero=site.strong_zero)):
            if c is not None:
                site.add_adjoint(a, c)


def _call_rule(fn: LibmCall) -> CallRule:
    return CallRule(family="libm", callees=fn.callees, forward=partial(_forward, fn), augment=partial(_augment, fn),
                    reverse=partial(_reverse, fn), saved_types=partial(_saved_types, fn),
                    reverse_reads=partial(_reverse_reads, fn), description=f"the derivative of {fn.name}")


RULES: tuple[CallRule, ...] = tuple(_call_rule(fn) for fn in CALLS)
BY_CALLEE = {name: fn for fn in CALLS for name in fn.callees}


# <math.h> functions (glibc's, every type suffix) with neither a rule in `table` nor a call rule here,
# and why. A call to one of them with an active operand is refused with a located error.
WITHOUT_RULE: dict[str, str] = {
    "nan": "no floating-point operand: its result is a constant",
    "jn": "Bessel function of integer order n: the partial needs orders n-1 and n+1 (j0, j1 have rules)",
    "yn": "Bessel function of integer order n: the partial needs orders n-1 and n+1 (y0, y1 have rules)",
    "scalb": "obsolete (y must be integer-valued); scalbn and scalbln have rules",
    "canonicalize": "writes the canonical encoding through a pointer",
    "getpayload": "NaN payloads", "setpayload": "NaN payloads", "setpayloadsig": "NaN payloads",
    "totalorder": "an ordering of two floats read through pointers", "totalordermag": "an ordering of two floats",
    **{f"{to}{op}": "C23 narrowing arithmetic (the result type differs from the operands')"
       for to in ("f", "d", "f32", "f64", "f32x") for op in ("add", "sub", "mul", "div", "fma", "sqrt")},
}
