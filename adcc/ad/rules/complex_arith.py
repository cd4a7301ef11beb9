"""Rules for double-precision complex arithmetic and math called as functions: the compiler
runtime's product and quotient (`__muldc3`, `__divdc3`) and libm's complex functions (`cexp`,
`clog`, `csqrt`, `csin`, `ccos`, `ctan`, `csinh`, `ccosh`, `ctanh`, `cpow`, `cabs`, `carg`), which flang
calls for COMPLEX(8) and clang for `double complex`. Each complex operand is passed as two doubles
and the result comes back as {re, im} (`cabs`, `carg`: a double).

All but `cabs` and `carg` are holomorphic in each operand: dq = Σ f'ᵢ dzᵢ, and reverse mode takes conjugates,
z̄ᵢ += conj(f'ᵢ)·q̄. The table gives each f'ᵢ from the operands and the result.
"""
from __future__ import annotations

from adcc.ad.rules.calls import (CallRule, ForwardSite, ReverseSite, augment_primal_only, call_primal,
                                 reads_operands_and_result)
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import GlobalRef, Value


def _cmul(b: Builder, x: tuple, y: tuple) -> tuple:
    (xr, xi), (yr, yi) = x, y
    return b.fsub(b.fmul(xr, yr), b.fmul(xi, yi)), b.fadd(b.fmul(xr, yi), b.fmul(xi, yr))


def _cdiv(b: Builder, x: tuple, y: tuple) -> tuple:
    (xr, xi), (yr, yi) = x, y
    den = b.fadd(b.fmul(yr, yr), b.fmul(yi, yi))
    re = b.fadd(b.fmul(xr, yr), b.fmul(xi, yi))
    im = b.fsub(b.fmul(xi, yr), b.fmul(xr, yi))
    return b.fdiv(re, den), b.fdiv(im, den)


def _conj(b: Builder, x: tuple) -> tuple:
    return x[0], b.fneg(x[1])


def _call_same(b: Builder, name: str, z: tuple) -> tuple:
    """`name` (a unary complex libm function) at z."""
    fty = T.FunctionType(_PAIR, (T.f64, T.f64), False)
    return _pair(b, b.call(GlobalRef(name), _PAIR, list(z), fnty=fty))


def _const(re: float) -> tuple:
    return Builder.fconst(T.f64, re), Builder.fconst(T.f64, 0.0)


def _neg(b: Builder, x: tuple) -> tuple:
    return b.fneg(x[0]), b.fneg(x[1])


def _add(b: Builder, x: tuple, y: tuple) -> tuple:
    return b.fadd(x[0], y[0]), b.fadd(x[1], y[1])


# name -> f'ᵢ(b, operands, result) for each complex operand
_DERIVATIVES = {
    "__muldc3": (lambda b, o, q: o[1], lambda b, o, q: o[0]),
    "__divdc3": (lambda b, o, q: _cdiv(b, _const(1.0), o[1]),
                 lambda b, o, q: _neg(b, _cdiv(b, q, o[1]))),
    "cpow": (lambda b, o, q: _cdiv(b, _cmul(b, o[1], q), o[0]),
             lambda b, o, q: _cmul(b, q, _call_same(b, "clog", o[0]))),
    "cexp": (lambda b, o, q: q,),
    "clog": (lambda b, o, q: _cdiv(b, _const(1.0), o[0]),),
    "csqrt": (lambda b, o, q: _cdiv(b, _const(0.5), q),),
    "csin": (lambda b, o, q: _call_same(b, "ccos", o[0]),),
    "ccos": (lambda b, o, q: _neg(b, _call_same(b, "csin", o[0])),),
    "ctan": (lambda b, o, q: _add(b, _const(1.0), _cmul(b, q, q)),),
    "csinh": (lambda b, o, q: _call_same(b, "ccosh", o[0]),),
    "ccosh": (lambda b, o, q: _call_same(b, "csinh", o[0]),),
    "ctanh": (lambda b, o, q: _add(b, _const(1.0), _neg(b, _cmul(b, q, q))),),
}
_PAIR = T.StructType((T.f64, T.f64))


def _partials(b: Builder, name: str, operands: list, q: tuple) -> list:
    return [f(b, operands, q) for f in _DERIVATIVES[name]]


def _operands(site, value) -> list[tuple]:
    a = [value(x) for x in site.args]
    return [(a[k], a[k + 1]) for k in range(0, len(a), 2)]


def _pair(b: Builder, v: Value) -> tuple:
    return b.extractvalue(v, 0), b.extractvalue(v, 1)


def _cabs_partials(b: Builder, z: tuple, r: Value) -> tuple:
    """|z|: ∂/∂re = re/|z|, ∂/∂im = im/|z| (0 at 0)."""
    zero = Builder.zero(T.f64)
    nonzero = b.fcmp("one", r, zero)
    return tuple(b.select(nonzero, b.fdiv(x, r), zero) for x in z)


def _carg_partials(b: Builder, z: tuple, r: Value) -> tuple:
    """arg z = atan2(im, re): ∂/∂re = -im/|z|², ∂/∂im = re/|z|² (0 at 0)."""
    zero = Builder.zero(T.f64)
    re, im = z
    n2 = b.fadd(b.fmul(re, re), b.fmul(im, im))
    nonzero = b.fcmp("one", n2, zero)
    return b.select(nonzero, b.fdiv(b.fneg(im), n2), zero), b.select(nonzero, b.fdiv(re, n2), zero)


REAL_VALUED = {"cabs": _cabs_partials, "carg": _carg_partials}


def _forward(site: ForwardSite) -> None:
    b = site.b
    r = call_primal(site)
    site.set_result(r)
    if not site.varied(site.inst):
        return
    name = site.inst.callee_name.strip('"')
    ops = _operands(site, site.primal)
    abs_ = name in REAL_VALUED
    parts = [REAL_VALUED[name](b, ops[0], r)] if abs_ else _partials(b, name, ops, _pair(b, r))
    lanes = []
    for k in range(site.width):
        def tangent(i):
            t = site.tangents(site.args[i])[k] if site.varied(site.args[i]) else None
            return t if t is not None else Builder.zero(T.f64)
        if abs_:
            p = parts[0]
            lanes.append(b.fadd(b.fmul(p[0], tangent(0)), b.fmul(p[1], tangent(1))))
            continue
        acc = None
        for j, p in enumerate(parts):
            term = _cmul(b, p, (tangent(2 * j), tangent(2 * j + 1)))
            acc = term if acc is None else _add(b, acc, term)
        lanes.append(b.insertvalue(b.insertvalue(Builder.zero(r.type), acc[0], 0), acc[1], 1))
    site.set_tangents(lanes)


def _reverse(site: ReverseSite) -> None:
    d = site.result_adjoint()
    if d is None:
        return
    b = site.b
    name = site.inst.callee_name.strip('"')
    ops = _operands(site, site.primal)
    r = site.primal(site.inst)
    if name in REAL_VALUED:
        for a, p in zip(site.args, REAL_VALUED[name](b, ops[0], r)):
            site.add_adjoint(a, b.fmul(p, d))
        return
    qbar = _pair(b, d)
    for j, p in enumerate(_partials(b, name, ops, _pair(b, r))):
        re, im = _cmul(b, _conj(b, p), qbar)
        site.add_adjoint(site.args[2 * j], re)
        site.add_adjoint(site.args[2 * j + 1], im)


def _rule(name: str) -> CallRule:
    return CallRule(family="complex", callees=(name,), forward=_forward, augment=augment_primal_only,
                    reverse=_reverse, reverse_reads=reads_operands_and_result, description=f"complex {name}")


RULES: tuple[CallRule, ...] = tuple(_rule(name) for name in (*_DERIVATIVES, *REAL_VALUED))
