"""The derivative rule table: one entry per math function and opcode, frozen at import.

Each entry lists its partials (see `expr`), its spellings (libm base names and the LLVM intrinsic
base; every f/l/f128 and type-suffixed form derives from them) and a `domain` of sample points where
it is smooth, which the table-driven test checks against finite differences.
"""
from __future__ import annotations

import math
from types import MappingProxyType
from typing import Callable, Sequence

from adcc.ad.rules.expr import PY_MATH, Cmp, Const, Expr, F, Select, ToFloat, X, Y, wrap
from adcc.ad.rules.lowering import LLVM_MATH_INTRINSICS
from adcc.ad.rules.rule import Rule

# double, float, long double, and the TS 18661-3 names glibc declares: _Float128, _Float32, _Float64,
# _Float32x (double) and _Float64x (long double)
_LIBM_SUFFIXES = ("", "f", "l", "f128", "f32", "f64", "f32x", "f64x")
_AUTO = object()


def _spell(bases: Sequence[str]) -> tuple[str, ...]:
    return tuple(b + s for b in bases for s in _LIBM_SUFFIXES)


def pointwise(name: str, partials: Sequence, *, domain, libm: Sequence[str] | object = _AUTO,
              intrinsic: str | None | object = _AUTO, opcodes: Sequence[str] = (),
              reference: Callable | None = None) -> Rule:
    """A rule whose partials are expressions of the operands (None: not differentiable)."""
    if intrinsic is _AUTO:
        intrinsic = name if name in LLVM_MATH_INTRINSICS else None
    if libm is _AUTO:
        libm = () if opcodes else (name,)
    return Rule(name=name, kind="pointwise", arity=len(partials),
                partial_exprs=tuple(None if p is None else wrap(p) for p in partials),
                domain=tuple(domain), c_names=_spell(libm), intrinsic=intrinsic, opcodes=tuple(opcodes),
                reference=reference or PY_MATH[intrinsic or name])


def unary(name: str, partial, *, domain, **kw) -> Rule:
    return pointwise(name, (partial,), domain=domain, **kw)


def binary(name: str, partials: tuple, *, domain, **kw) -> Rule:
    return pointwise(name, partials, domain=domain, **kw)


def opcode(name: str, partials: tuple, *, domain, reference: Callable) -> Rule:
    """An IR instruction (fadd, fmul, ...): no libm or intrinsic spelling."""
    return pointwise(name, partials, domain=domain, libm=(), intrinsic=None, opcodes=(name,),
                     reference=reference)


def linear(name: str, coefficients: tuple[float, ...], *, domain, reference: Callable) -> Rule:
    """An instruction linear in its operands: constant partials, so no multiplications are emitted."""
    return opcode(name, tuple(Const(float(c)) for c in coefficients), domain=domain, reference=reference)


def zero(name: str, arity: int = 1, *, domain, opcodes: Sequence[str] = (), reference: Callable | None = None,
         libm: Sequence[str] | object = _AUTO) -> Rule:
    """A function or instruction whose derivative is zero wherever it exists."""
    intrinsic = name if name in LLVM_MATH_INTRINSICS else None
    if libm is _AUTO:
        libm = () if opcodes else (name,)
    return Rule(name=name, kind="zero", arity=arity, partial_exprs=(None,) * arity, domain=tuple(domain),
                c_names=_spell(libm), intrinsic=intrinsic, opcodes=tuple(opcodes),
                reference=reference or PY_MATH[name])


def cast(name: str, inverse: str, *, domain) -> Rule:
    """A float-to-float cast: partial 1, but tangents are cast forward and adjoints cast back."""
    return Rule(name=name, kind="cast", arity=1, partial_exprs=(Const(1.0),), domain=tuple(domain),
                opcodes=(name,), inverse_cast=inverse, reference=lambda x: x)


def _min_max(pred: str) -> tuple[Expr, Expr]:
    """Partials of a two-operand min/max: all to the operand it returns; a NaN operand is not returned."""
    first = Select(Cmp("uno", X(1), X(1)), 1, Select(Cmp(pred, X(0), X(1)), 1, 0))
    second = Select(Cmp("uno", X(1), X(1)), 0, Select(Cmp(pred, X(0), X(1)), 0, 1))
    return first, second


def _digamma(x: Expr) -> Expr:
    """ψ(x) = d lgamma(x)/dx, branch-free: reflection ψ(x) = ψ(1-x) - π/tan(πx) below 1/2, the shift
    ψ(z) = ψ(z+8) - Σ_{i<8} 1/(z+i), and the asymptotic series at z+8 >= 8.5 (relative error < 1e-15)."""
    reflect = Cmp("olt", x, 0.5)
    z = Select(reflect, 1 - x, x)
    shift = 1 / z
    for i in range(1, 8):
        shift = shift + 1 / (z + i)
    y = z + 8
    r = 1 / (y * y)
    bernoulli = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)  # B2 .. B14
    series: Expr = Const(bernoulli[-1] / 14)
    for k in range(len(bernoulli) - 1, 0, -1):
        series = series * r + bernoulli[k - 1] / (2 * k)
    psi = F.log(y) - 0.5 / y - series * r - shift
    return Select(reflect, psi - math.pi / F.tan(math.pi * x), psi)


def _magnitude(pick: str, tie: str) -> tuple[Expr, Expr]:
    """Partials of fmaxmag/fminmag: all to the operand returned (a NaN operand is not returned)."""
    ax, ay = F.fabs(X(0)), F.fabs(X(1))
    first = Select(Cmp("uno", X(1), X(1)), 1,
                   Select(Cmp(pick, ax, ay), 1, Select(Cmp("oeq", ax, ay), Select(Cmp(tie, X(0), X(1)), 1, 0), 0)))
    return first, Select(Cmp("uno", X(1), X(1)), 0, 1 - first)


_LN2, _LN10 = math.log(2.0), math.log(10.0)
_ATAN2_DENOM = X(0) * X(0) + X(1) * X(1)
_ERF_SCALE = 2.0 / math.sqrt(math.pi)
_POWI_N = ToFloat(X(1))

_POSITIVE = ((0.25,), (1.7,), (6.0,))
_ANY = ((-1.3,), (0.4,), (2.2,))
_UNIT = ((-0.6,), (0.1,), (0.8,))
_PAIRS = ((1.0, 2.0), (3.0, -1.5), (-0.5, -2.5))
_OFF_INTEGER = ((0.3,), (-1.7,), (2.4,), (-3.2,))

RULES: tuple[Rule, ...] = (
    # instructions
    linear("fadd", (1, 1), domain=_PAIRS, reference=lambda a, b: a + b),
    linear("fsub", (1, -1), domain=_PAIRS, reference=lambda a, b: a - b),
    linear("fneg", (-1,), domain=_ANY, reference=lambda a: -a),
    opcode("fmul", (X(1), X(0)), domain=_PAIRS, reference=lambda a, b: a * b),
    opcode("fdiv", (1 / X(1), -(X(0) / X(1)) / X(1)), domain=_PAIRS, reference=lambda a, b: a / b),
    binary("fmod", (1, -F.trunc(X(0) / X(1))), opcodes=("frem",), libm=("fmod",),
           domain=((5.3, 2.1), (-7.7, 2.5), (1.2, -0.5))),
    cast("fpext", "fptrunc", domain=((1.25,), (-3.5,))),
    cast("fptrunc", "fpext", domain=((1.25,), (-3.5,))),
    zero("sitofp", opcodes=("sitofp",), domain=((3,), (-2,)), reference=float),
    zero("uitofp", opcodes=("uitofp",), domain=((3,), (7,)), reference=float),
    zero("fptosi", opcodes=("fptosi",), domain=((2.7,), (-1.2,)), reference=int),
    zero("fptoui", opcodes=("fptoui",), domain=((2.7,), (5.1,)), reference=int),
    Rule(name="select", kind="select", arity=3, opcodes=("select",),
         partial_exprs=(None, Select(X(0), 1, 0), Select(X(0), 0, 1)),
         domain=((True, 1.5, -2.0), (False, 1.5, -2.0)), reference=lambda c, a, b: a if c else b),
    # min/max family (C name, intrinsic)
    binary("fmin", _min_max("ole"), intrinsic="minnum", domain=_PAIRS),
    binary("fmax", _min_max("oge"), intrinsic="maxnum", domain=_PAIRS),
    binary("fminimum", _min_max("ole"), intrinsic="minimum", domain=_PAIRS),
    binary("fmaximum", _min_max("oge"), intrinsic="maximum", domain=_PAIRS),
    binary("fminimum_num", _min_max("ole"), intrinsic="minimumnum", domain=_PAIRS),
    binary("fmaximum_num", _min_max("oge"), intrinsic="maximumnum", domain=_PAIRS),
    binary("fdim", (Select(Cmp("ogt", X(0), X(1)), 1, 0), Select(Cmp("ogt", X(0), X(1)), -1, 0)),
           domain=((3.0, 1.2), (0.5, 2.0), (-1.0, -4.0))),
    # x - n·y with n = x/y rounded to nearest even: n is recovered from the result
    binary("remainder", (1, -F.rint((X(0) - Y) / X(1))), libm=("remainder", "drem"),
           domain=((5.3, 2.1), (-7.7, 2.5), (1.2, -0.5))),
    # the neighbouring float towards y: x moves it, y only picks the direction
    binary("nextafter", (1, None), libm=("nextafter", "nexttoward"), domain=((1.5, 2.0), (-0.5, -3.0))),
    unary("nextup", 1, domain=_ANY),
    unary("nextdown", 1, domain=_ANY),
    # the operand of larger (smaller) magnitude; equal magnitudes pick as fmax (fmin)
    binary("fmaxmag", _magnitude("ogt", "oge"), libm=("fmaxmag", "fmaximum_mag", "fmaximum_mag_num"),
           domain=((1.0, -2.0), (3.0, -1.5), (-0.5, 0.25))),
    binary("fminmag", _magnitude("olt", "ole"), libm=("fminmag", "fminimum_mag", "fminimum_mag_num"),
           domain=((1.0, -2.0), (3.0, -1.5), (-0.5, 0.25))),
    # sign and fused arithmetic
    # the sign of x, of a zero too: fabs(-x*x) at x = 0 sees -0.0 and needs -1 for x^2's second
    # derivative (2), as Enzyme's rule (copysign) gives
    unary("fabs", F.copysign(1, X(0)), domain=_ANY),
    binary("copysign", (F.copysign(1, X(0)) * F.copysign(1, X(1)), None),
           domain=((1.5, -2.0), (-0.5, 3.0), (2.0, 1.0))),
    pointwise("fma", (X(1), X(0), 1), domain=((1.5, -2.0, 0.3), (-0.7, 0.4, 2.0))),
    pointwise("fmuladd", (X(1), X(0), 1), libm=(), domain=((1.5, -2.0, 0.3), (-0.7, 0.4, 2.0))),
    # roots and powers
    unary("sqrt", Select(Cmp("oeq", X(0), 0), 0, 0.5 / Y), domain=_POSITIVE),
    unary("cbrt", Select(Cmp("oeq", X(0), 0), 0, Y / (3 * X(0))), domain=((8.0,), (-0.5,), (2.7,))),
    binary("pow", (Select(Cmp("oeq", X(1), 0), 0, X(1) * F.pow(X(0), X(1) - 1)),
                   Select(Cmp("oeq", X(0), 0), 0, Y * F.log(X(0)))),
           domain=((1.5, 2.3), (0.7, -1.2), (3.0, 0.5), (2.0, 0.0))),
    binary("powi", (Select(Cmp("oeq", _POWI_N, 0), 0, _POWI_N * F.pow(X(0), _POWI_N - 1)), None), libm=(),
           domain=((1.5, 3), (-0.7, -2), (2.0, 0), (-1.3, 1))),
    binary("ldexp", (F.ldexp(1, X(1)), None), libm=("ldexp", "scalbn", "scalbln"),
           domain=((1.5, 3), (-0.3, -2), (0.7, 0))),
    binary("hypot", (X(0) / Y, X(1) / Y), domain=((3.0, 4.0), (-1.5, 0.5), (0.2, -2.0))),
    # exponentials and logarithms
    unary("exp", Y, domain=_ANY),
    unary("exp2", Y * _LN2, domain=_ANY),
    unary("exp10", Y * _LN10, domain=_ANY),
    unary("expm1", Y + 1, domain=_ANY),
    unary("log", 1 / X(0), domain=_POSITIVE),
    unary("log2", 1 / (X(0) * _LN2), domain=_POSITIVE),
    unary("log10", 1 / (X(0) * _LN10), domain=_POSITIVE),
    unary("log1p", 1 / (X(0) + 1), domain=((-0.5,), (0.3,), (4.0,))),
    # trigonometric and hyperbolic
    unary("sin", F.cos(X(0)), domain=_ANY),
    unary("cos", -F.sin(X(0)), domain=_ANY),
    unary("tan", 1 + Y * Y, domain=_UNIT),
    unary("asin", 1 / F.sqrt(1 - X(0) * X(0)), domain=_UNIT),
    unary("acos", -1 / F.sqrt(1 - X(0) * X(0)), domain=_UNIT),
    unary("atan", 1 / (1 + X(0) * X(0)), domain=_ANY),
    binary("atan2", (X(1) / _ATAN2_DENOM, -X(0) / _ATAN2_DENOM), domain=((1.0, 2.0), (-0.5, -1.5), (2.0, -0.3))),
    unary("sinh", F.cosh(X(0)), domain=_ANY),
    unary("cosh", F.sinh(X(0)), domain=_ANY),
    unary("tanh", 1 - Y * Y, domain=_ANY),
    unary("asinh", 1 / F.sqrt(X(0) * X(0) + 1), domain=_ANY),
    unary("acosh", 1 / F.sqrt(X(0) * X(0) - 1), domain=((1.2,), (3.0,))),
    unary("atanh", 1 / (1 - X(0) * X(0)), domain=_UNIT),
    # special functions
    unary("erf", _ERF_SCALE * F.exp(-(X(0) * X(0))), domain=_ANY),
    unary("erfc", -_ERF_SCALE * F.exp(-(X(0) * X(0))), domain=_ANY),
    unary("lgamma", _digamma(X(0)), libm=("lgamma", "gamma"), domain=((0.3,), (2.5,), (-1.5,), (12.0,))),
    unary("tgamma", Y * _digamma(X(0)), domain=((0.7,), (3.2,), (-0.5,))),
    unary("j0", -F.j1(X(0)), domain=_POSITIVE),
    unary("j1", F.j0(X(0)) - Y / X(0), domain=_POSITIVE),
    unary("y0", -F.y1(X(0)), domain=_POSITIVE),
    unary("y1", F.y0(X(0)) - Y / X(0), domain=_POSITIVE),
    # x·2^-ilogb(x): linear between powers of two
    unary("significand", Y / X(0), domain=((0.3,), (-5.0,), (7.25,))),
    # piecewise constant
    *(zero(n, domain=_OFF_INTEGER) for n in ("floor", "ceil", "trunc", "round", "rint", "nearbyint",
                                              "roundeven", "lround", "llround", "lrint", "llrint")),
    # integer-valued: exponents, classification, rounding to an integer of a given width
    zero("logb", domain=((0.3,), (-5.0,), (7.25,))),
    zero("ilogb", domain=((0.3,), (-5.0,), (7.25,)), libm=("ilogb", "llogb")),
    zero("isnan", domain=_ANY, libm=("isnan", "isinf", "finite"), reference=lambda x: int(math.isnan(x))),
    zero("fromfp", 3, domain=((2.7, 2, 32), (-1.2, 2, 16)), libm=("fromfp", "ufromfp", "fromfpx", "ufromfpx"),
         reference=lambda x, rounding, width: float(math.trunc(x))),
)


def _index(key: Callable[[Rule], Sequence[str]]) -> MappingProxyType:
    out: dict[str, Rule] = {}
    for rule in RULES:
        for name in key(rule):
            if name in out:
                raise ValueError(f"spelling {name!r} claimed by {out[name].name} and {rule.name}")
            out[name] = rule
    return MappingProxyType(out)


BY_NAME = _index(lambda r: (r.name,))
BY_C_NAME = _index(lambda r: r.c_names)
BY_INTRINSIC = _index(lambda r: (r.intrinsic,) if r.intrinsic else ())
BY_OPCODE = _index(lambda r: r.opcodes)
