"""Rules for the elemental intrinsics flang evaluates in its runtime library (MOD, MODULO, SCALE,
FRACTION, SET_EXPONENT, SPACING, RRSPACING, NEAREST, ERFC_SCALED), real kinds 4 and 8.

Each entry gives the partial of the result with respect to each real argument, built from the
arguments and the result: forward ẏ = Σ ∂ᵢ·ẋᵢ, reverse x̄ᵢ += ȳ·∂ᵢ. The trailing source-file and line
arguments carry nothing.
"""
from __future__ import annotations

import math
from typing import Callable

from adcc.ad.rules.calls import CallRule, ForwardSite, ReverseSite, augment_primal_only, call_primal
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import GlobalRef, Value

Partial = Callable[[Builder, list, Value, str], "Value | None"]   # (b, args, result, callee) -> ∂


def _one(b, args, r, callee):
    return Builder.fconst(r.type, 1.0)


def _remainder_p(b, args, r, callee):   # MOD and MODULO: r = a - k p with k constant nearby
    return b.fdiv(b.fsub(r, args[0]), args[1])


def _ratio(b, args, r, callee):         # r = x * 2**k with k constant nearby (0 at x = 0)
    x = args[0]
    return b.select(b.fcmp("oeq", x, Builder.zero(x.type)), Builder.zero(x.type), b.fdiv(r, x))


def _scale(b, args, r, callee):         # SCALE(x, n) = x * 2**n
    fty = T.FunctionType(r.type, (r.type, args[1].type), False)
    return b.call(GlobalRef(callee), r.type, [Builder.fconst(r.type, 1.0), args[1]], fnty=fty)


def _erfc_scaled(b, args, r, callee):   # exp(x**2) erfc(x): 2 x r - 2/sqrt(pi)
    x = args[0]
    two_x_r = b.fmul(b.fmul(Builder.fconst(x.type, 2.0), x), r)
    return b.fsub(two_x_r, Builder.fconst(x.type, 2.0 / math.sqrt(math.pi)))


# runtime name stem -> partials of its real arguments (None: no derivative through that argument)
_PARTIALS: dict[str, tuple[Partial | None, ...]] = {
    "ModReal": (_one, _remainder_p),
    "ModuloReal": (_one, _remainder_p),
    "Scale": (_scale, None),
    "Fraction": (_ratio,),
    "SetExponent": (_ratio, None),
    "RRSpacing": (_ratio,),
    "Nearest": (_one, None),
    "ErfcScaled": (_erfc_scaled,),
    "Spacing": (None,),
}


def _partials(site, primal) -> list[tuple[Value, Value]]:
    """(argument, its partial) for each real argument with a derivative."""
    name = site.inst.callee_name.strip('"')
    stem = name[len("_FortranA"):].rstrip("0123456789")
    args = [primal(a) for a in site.args]
    r = primal(site.inst)
    out = []
    for a, p, fn in zip(site.args, args, _PARTIALS[stem]):
        if fn is not None and isinstance(a.type, T.FloatType) and site.varied(a):
            out.append((a, fn(site.b, args, r, site.inst.callee_name)))
    return out


def _forward(site: ForwardSite) -> None:
    r = call_primal(site)
    site.set_result(r)
    if not site.varied(site.inst):
        return
    values = {id(site.inst): r}
    parts = _partials(site, lambda v: values.get(id(v)) or site.primal(v))
    lanes = []
    for w in range(site.width):
        t = None
        for a, d in parts:
            ta = site.tangents(a)[w]
            if ta is not None:
                term = site.b.fmul(d, ta)
                t = term if t is None else site.b.fadd(t, term)
        lanes.append(t)
    site.set_tangents(lanes)


def _reverse(site: ReverseSite) -> None:
    d = site.result_adjoint()
    if d is None:
        return
    for a, p in _partials(site, site.primal):
        site.add_adjoint(a, site.b.fmul(d, p))


def _reverse_reads(view) -> list:
    return [("p", a) for a in view.args if isinstance(a.type, (T.FloatType, T.IntType))] + [("p", view.inst)]


def _rule(stem: str) -> CallRule:
    return CallRule(family="fortran", callees=(f"_FortranA{stem}4", f"_FortranA{stem}8"), forward=_forward,
                    augment=augment_primal_only, reverse=_reverse, reverse_reads=_reverse_reads,
                    description=f"flang's runtime ({stem.replace('Real', '').upper()})")


RULES: tuple[CallRule, ...] = tuple(_rule(stem) for stem in _PARTIALS)
