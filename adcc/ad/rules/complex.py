"""Call rules for complex arithmetic in double precision, as std::complex<double> and C's
_Complex double reach it: compiler-rt's __muldc3/__divdc3 and <complex.h>'s functions (x86-64
ABI: a complex argument is two doubles, a complex result `{double, double}`).

For a holomorphic f (exp, log, sqrt, sin, cos, tan, sinh, cosh, tanh) with derivative f'(z):
forward dr = f'(z)·dz; reverse z̄ += conj(f'(z))·r̄ (real and imaginary parts as two real
adjoints). Products and quotients follow the same rule per operand; cabs and carg are real.
"""
from __future__ import annotations

from typing import Callable

from adcc.ad.rules.calls import AugmentSite, CallRule, CallView, ForwardSite, ReverseSite
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Value

Complex = tuple  # (real, imaginary) as two double Values
PAIR = T.StructType((T.f64, T.f64))


def _zero() -> Value:
    return Builder.fconst(T.f64, 0.0)


def cmul(b: Builder, x: Complex, y: Complex) -> Complex:
    return (b.fsub(b.fmul(x[0], y[0]), b.fmul(x[1], y[1])), b.fadd(b.fmul(x[0], y[1]), b.fmul(x[1], y[0])))


def cinv(b: Builder, x: Complex) -> Complex:
    n = b.fadd(b.fmul(x[0], x[0]), b.fmul(x[1], x[1]))
    return (b.fdiv(x[0], n), b.fdiv(b.fneg(x[1]), n))


def _call_pair(b: Builder, name: str, z: Complex) -> Complex:
    r = b.call(name, PAIR, [z[0], z[1]])
    return (b.extractvalue(r, 0), b.extractvalue(r, 1))


def _pair(b: Builder, x: Complex) -> Value:
    agg = b.insertvalue(Constant(PAIR, "poison"), x[0], 0)
    return b.insertvalue(agg, x[1], 1)


# derivative f'(z) of each holomorphic function, from z and the primal result r
def _unary(name: str) -> Callable:
    def d(b: Builder, z: Complex, r: Complex) -> Complex:
        one = Builder.fconst(T.f64, 1.0)
        if name == "cexp":
            return r
        if name == "clog":
            return cinv(b, z)
        if name == "csqrt":
            inv = cinv(b, r)
            half = Builder.fconst(T.f64, 0.5)
            return (b.fmul(inv[0], half), b.fmul(inv[1], half))
        if name in ("csin", "csinh"):
            return _call_pair(b, "ccos" if name == "csin" else "ccosh", z)
        if name == "ccos":
            s = _call_pair(b, "csin", z)
            return (b.fneg(s[0]), b.fneg(s[1]))
        if name == "ccosh":
            return _call_pair(b, "csinh", z)
        r2 = cmul(b, r, r)
        if name == "ctan":
            return (b.fadd(one, r2[0]), r2[1])
        return (b.fsub(one, r2[0]), b.fneg(r2[1]))  # ctanh
    return d


UNARY = ("cexp", "clog", "csqrt", "csin", "ccos", "ctan", "csinh", "ccosh", "ctanh")
USES_RESULT = ("cexp", "csqrt", "ctan", "ctanh", "__divdc3", "cabs")


def _operands(view: CallView) -> list[Complex]:
    a = view.args
    return [(a[k], a[k + 1]) for k in range(0, len(a), 2)]


def _partials(b: Builder, name: str, zs: list[Complex], r) -> list[Complex]:
    """d r / d z_k for each complex operand (complex results), as complex numbers."""
    if name == "__muldc3":
        return [zs[1], zs[0]]
    if name == "__divdc3":
        inv = cinv(b, zs[1])
        q = cmul(b, r, inv)
        return [inv, (b.fneg(q[0]), b.fneg(q[1]))]
    return [_unary(name)(b, zs[0], r)]


def _tangent(site, v: Value, w: int) -> Value:
    t = site.tangents(v)[w]
    return t if t is not None else _zero()


def _primal_pair(site, r: Value) -> Complex:
    return (site.b.extractvalue(r, 0), site.b.extractvalue(r, 1))


def _forward(name: str):
    def forward(site: ForwardSite) -> None:
        b = site.b
        r = b.clone(site.inst, [site.primal(o) for o in site.inst.operands], name="")
        site.set_result(r)
        zs = [(site.primal(x), site.primal(y)) for x, y in _operands(site)]
        lanes = []
        if name in ("cabs", "carg"):
            (a, c), = zs
            n = b.fadd(b.fmul(a, a), b.fmul(c, c))
            for w in range(site.width):
                da, dc = (_tangent(site, v, w) for v in site.args)
                if name == "cabs":
                    lanes.append(b.fdiv(b.fadd(b.fmul(a, da), b.fmul(c, dc)), r))
                else:
                    lanes.append(b.fdiv(b.fsub(b.fmul(a, dc), b.fmul(c, da)), n))
            site.set_tangents(lanes)
            return
        parts = _partials(b, name, zs, _primal_pair(site, r))
        for w in range(site.width):
            acc = (_zero(), _zero())
            for (x, y), dfz in zip(_operands(site), parts):
                dz = (_tangent(site, x, w), _tangent(site, y, w))
                t = cmul(b, dfz, dz)
                acc = (b.fadd(acc[0], t[0]), b.fadd(acc[1], t[1]))
            lanes.append(_pair(b, acc))
        site.set_tangents(lanes)
    return forward


def _augment(site: AugmentSite) -> None:
    site.set_result(site.b.clone(site.inst, [site.primal(o) for o in site.inst.operands], name=""))


def _reverse(name: str):
    def reverse(site: ReverseSite) -> None:
        b = site.b
        d = site.result_adjoint()
        if d is None:
            return
        zs = [(site.primal(x), site.primal(y)) for x, y in _operands(site)]
        r = site.primal(site.inst) if name in USES_RESULT else None
        if name in ("cabs", "carg"):
            (a, c), = zs
            if name == "cabs":
                contrib = (b.fdiv(b.fmul(d, a), r), b.fdiv(b.fmul(d, c), r))
            else:
                n = b.fadd(b.fmul(a, a), b.fmul(c, c))
                contrib = (b.fdiv(b.fneg(b.fmul(d, c)), n), b.fdiv(b.fmul(d, a), n))
            for v, x in zip(site.args, contrib):
                if site.varied(v):
                    site.add_adjoint(v, x)
            return
        dr = (b.extractvalue(d, 0), b.extractvalue(d, 1))
        parts = _partials(b, name, zs, _primal_pair(site, r) if r is not None else None)
        for (x, y), dfz in zip(_operands(site), parts):
            # conj(f')·r̄
            re = b.fadd(b.fmul(dfz[0], dr[0]), b.fmul(dfz[1], dr[1]))
            im = b.fsub(b.fmul(dfz[0], dr[1]), b.fmul(dfz[1], dr[0]))
            if site.varied(x):
                site.add_adjoint(x, re)
            if site.varied(y):
                site.add_adjoint(y, im)
    return reverse


def _reads(name: str):
    def reads(view: CallView):
        out = [("p", a) for a in view.args]
        if name in USES_RESULT:
            out.append(("p", view.inst))
        return out
    return reads


def _rule(name: str) -> CallRule:
    return CallRule("complex", (name,), forward=_forward(name), augment=_augment, reverse=_reverse(name),
                    reverse_reads=_reads(name), writes=lambda callee: (), description=f"complex {name}")


RULES: tuple[CallRule, ...] = tuple(_rule(n) for n in UNARY + ("__muldc3", "__divdc3", "cabs", "carg"))
