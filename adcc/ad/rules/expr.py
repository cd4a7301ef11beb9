"""A tiny symbolic language for partial derivatives, with a numeric and an IR interpreter.

`X(i)` is the i-th primal operand, `Y` the primal result, `Const(c)` a float constant; Python
operators build arithmetic, `F.<name>(...)` a math call, `Select(Cmp(pred, a, b), t, f)` a branch-free
choice, `ToFloat(e)` an integer operand converted (sitofp) to the expression's float type.
Expressions are frozen and compare structurally, so `emit` shares common subexpressions.
Every float in an expression has the type of the primal result (a vector type included).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

from adcc.ir.types import VectorType
from adcc.ad.rules.lowering import emit_math


class Expr:
    __slots__ = ()

    def __add__(self, o): return Bin("fadd", self, wrap(o))
    def __radd__(self, o): return Bin("fadd", wrap(o), self)
    def __sub__(self, o): return Bin("fsub", self, wrap(o))
    def __rsub__(self, o): return Bin("fsub", wrap(o), self)
    def __mul__(self, o): return Bin("fmul", self, wrap(o))
    def __rmul__(self, o): return Bin("fmul", wrap(o), self)
    def __truediv__(self, o): return Bin("fdiv", self, wrap(o))
    def __rtruediv__(self, o): return Bin("fdiv", wrap(o), self)
    def __neg__(self): return Neg(self)


@dataclass(frozen=True, slots=True)
class Arg(Expr):
    index: int


@dataclass(frozen=True, slots=True)
class Result(Expr):
    pass


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: float


@dataclass(frozen=True, slots=True)
class Bin(Expr):
    op: str  # fadd fsub fmul fdiv
    a: Expr
    b: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    a: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    name: str  # a math base name: cos, sqrt, pow, powi, ldexp, ...
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Cmp(Expr):
    pred: str  # an fcmp predicate: oeq ogt oge olt ole one ord ueq ugt uge ult ule une uno
    a: Expr
    b: Expr

    def __post_init__(self):
        object.__setattr__(self, "a", wrap(self.a))
        object.__setattr__(self, "b", wrap(self.b))
        if self.pred not in _PREDICATES:
            raise ValueError(f"unknown fcmp predicate {self.pred!r}")


@dataclass(frozen=True, slots=True)
class Select(Expr):
    cond: Expr  # a Cmp, or an operand that is an i1 (vector) condition
    t: Expr
    f: Expr

    def __post_init__(self):
        object.__setattr__(self, "t", wrap(self.t))
        object.__setattr__(self, "f", wrap(self.f))


@dataclass(frozen=True, slots=True)
class ToFloat(Expr):
    a: Expr  # an integer operand (powi/ldexp exponent), converted with sitofp


def X(i: int) -> Arg:
    return Arg(i)


Y = Result()


def wrap(v) -> Expr:
    if isinstance(v, Expr):
        return v
    if isinstance(v, (int, float)):
        return Const(float(v))
    raise TypeError(f"not an expression: {v!r}")


# ---------------------------------------------------------------- Python semantics (reference)

def _ieee_div(a: float, b: float) -> float:
    if b != 0.0:
        return a / b
    if a == 0.0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _c_round(x: float) -> float:
    if not math.isfinite(x):
        return x
    return math.copysign(math.floor(abs(x) + 0.5), x)


def _even_round(x: float) -> float:
    return x if not math.isfinite(x) else math.copysign(float(round(x)), x)


def _num(pick: Callable[[float, float], float]) -> Callable[[float, float], float]:
    """IEEE minNum/maxNum: a NaN operand is ignored."""
    return lambda a, b: b if math.isnan(a) else a if math.isnan(b) else pick(a, b)


def _nan_propagating(pick: Callable[[float, float], float]) -> Callable[[float, float], float]:
    return lambda a, b: math.nan if math.isnan(a) or math.isnan(b) else pick(a, b)


def _total(f: Callable[..., float]) -> Callable[..., float]:
    """Python math raises on domain errors; IR gives NaN (or inf on overflow)."""
    def g(*xs):
        try:
            return f(*xs)
        except ValueError:
            return math.nan
        except (OverflowError, ZeroDivisionError):
            return math.inf
    return g


@functools.cache
def _c_libm(name: str) -> Callable[[float], float]:
    """A one-argument libm function through ctypes (the Bessel functions have no Python twin)."""
    import ctypes
    import ctypes.util
    f = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name)
    f.restype, f.argtypes = ctypes.c_double, [ctypes.c_double]
    return f


def _magnitude_pick(a: float, b: float, pick: Callable) -> float:
    if math.isnan(a) or math.isnan(b):
        return b if math.isnan(a) else a
    if abs(a) == abs(b):
        return pick(a, b)
    return a if pick(abs(a), abs(b)) == abs(a) else b


def _logb(x: float) -> float:
    return float(math.frexp(x)[1] - 1) if x != 0.0 and math.isfinite(x) else -math.inf if x == 0.0 else abs(x)


PY_MATH: dict[str, Callable[..., float]] = {name: _total(f) for name, f in {
    "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "asin": math.asin, "acos": math.acos, "atan": math.atan, "atan2": math.atan2,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "asinh": math.asinh, "acosh": math.acosh, "atanh": math.atanh,
    "exp": math.exp, "exp2": lambda x: 2.0 ** x, "exp10": lambda x: 10.0 ** x, "expm1": math.expm1,
    "log": math.log, "log2": math.log2, "log10": math.log10, "log1p": math.log1p,
    "sqrt": math.sqrt, "cbrt": math.cbrt, "hypot": math.hypot,
    "pow": math.pow, "powi": lambda x, n: float(x) ** int(n), "ldexp": lambda x, n: math.ldexp(x, int(n)),
    "erf": math.erf, "erfc": math.erfc, "lgamma": math.lgamma, "tgamma": math.gamma,
    "j0": lambda x: _c_libm("j0")(x), "j1": lambda x: _c_libm("j1")(x),
    "y0": lambda x: _c_libm("y0")(x), "y1": lambda x: _c_libm("y1")(x),
    "remainder": math.remainder, "nextafter": math.nextafter, "logb": _logb, "ilogb": lambda x: int(_logb(x)),
    "nextup": lambda x: math.nextafter(x, math.inf), "nextdown": lambda x: math.nextafter(x, -math.inf),
    "fmaxmag": lambda a, b: _magnitude_pick(a, b, max), "fminmag": lambda a, b: _magnitude_pick(a, b, min),
    "significand": lambda x: 2.0 * math.frexp(x)[0],
    "fabs": math.fabs, "copysign": math.copysign, "fmod": math.fmod,
    "fdim": lambda a, b: a - b if a > b else 0.0,
    "fma": lambda a, b, c: a * b + c, "fmuladd": lambda a, b, c: a * b + c,
    "minnum": _num(min), "maxnum": _num(max),
    "minimumnum": _num(min), "maximumnum": _num(max),
    "minimum": _nan_propagating(min), "maximum": _nan_propagating(max),
    "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc,
    "round": _c_round, "rint": _even_round, "nearbyint": _even_round, "roundeven": _even_round,
    "lround": lambda x: int(_c_round(x)), "llround": lambda x: int(_c_round(x)),
    "lrint": lambda x: int(_even_round(x)), "llrint": lambda x: int(_even_round(x)),
}.items()}

_ORDERED = {"oeq": lambda a, b: a == b, "ogt": lambda a, b: a > b, "oge": lambda a, b: a >= b,
            "olt": lambda a, b: a < b, "ole": lambda a, b: a <= b, "one": lambda a, b: a != b,
            "ord": lambda a, b: True}
_PREDICATES = {**_ORDERED, **{"u" + p[1:]: f for p, f in _ORDERED.items() if p != "ord"},
               "uno": lambda a, b: False, "true": None, "false": None}


class _Functions:
    """`F.cos(e)`: a call of any math function `PY_MATH` knows (checked when the rule is built)."""

    def __getattr__(self, name: str) -> Callable[..., Call]:
        if name not in PY_MATH:
            raise AttributeError(f"unknown math function {name!r}")
        return lambda *args: Call(name, tuple(wrap(a) for a in args))


F = _Functions()


def _fcmp(pred: str, a: float, b: float) -> bool:
    if pred in ("true", "false"):
        return pred == "true"
    unordered = math.isnan(a) or math.isnan(b)
    if pred.startswith("o"):
        return not unordered and _ORDERED[pred](a, b)
    if pred == "uno":
        return unordered
    return unordered or _ORDERED["o" + pred[1:]](a, b)


def evaluate(expr: Expr, args: Sequence[float], result: float) -> float:
    """The value of `expr` in Python double arithmetic (IEEE division, NaN instead of exceptions)."""
    ev = lambda e: evaluate(e, args, result)  # noqa: E731
    match expr:
        case Arg(i):
            return args[i]
        case Result():
            return result
        case Const(c):
            return c
        case Neg(a):
            return -ev(a)
        case Bin("fadd", a, b):
            return ev(a) + ev(b)
        case Bin("fsub", a, b):
            return ev(a) - ev(b)
        case Bin("fmul", a, b):
            return ev(a) * ev(b)
        case Bin("fdiv", a, b):
            return _ieee_div(ev(a), ev(b))
        case Call(name, cargs):
            return PY_MATH[name](*(ev(a) for a in cargs))
        case Cmp(pred, a, b):
            return _fcmp(pred, ev(a), ev(b))
        case Select(c, t, f):
            return ev(t) if ev(c) else ev(f)
        case ToFloat(a):
            return float(ev(a))
    raise TypeError(f"cannot evaluate {expr!r}")


# ---------------------------------------------------------------- IR emission

class Emitter:
    """Emits expressions through a builder at float type `ty`, sharing equal subexpressions."""

    def __init__(self, builder, args: Sequence, result, ty):
        self.builder, self.args, self.result, self.ty = builder, args, result, ty
        self.memo: dict[Expr, object] = {}

    def __call__(self, expr: Expr):
        v = self.memo.get(expr)
        if v is None:
            v = self.memo[expr] = self._emit(expr)
        return v

    def _emit(self, expr: Expr):
        b = self.builder
        match expr:
            case Arg(i):
                return self.args[i]
            case Result():
                if self.result is None:
                    raise ValueError("this partial needs the primal result")
                return self.result
            case Const(c):
                return b.fconst(self.ty, c)
            case Neg(a):
                return b.fneg(self(a))
            case Bin(op, a, x):
                return getattr(b, op)(self(a), self(x))
            case Call(name, cargs):
                return emit_math(b, name, [self(a) for a in cargs])
            case Cmp(pred, a, x):
                return b.fcmp(pred, self(a), self(x))
            case Select(c, t, f):
                return b.select(self(c), self(t), self(f))
            case ToFloat(a):
                return self._to_float(self(a))
        raise TypeError(f"cannot emit {expr!r}")

    def _to_float(self, v):
        b, ty = self.builder, self.ty
        if isinstance(ty, VectorType) and not isinstance(v.type, VectorType):
            elem = b.cast("sitofp", v, ty.elem)
            out = b.poison(ty)
            for i in range(ty.count):
                out = b.insertelement(out, elem, i)
            return out
        return b.cast("sitofp", v, ty)


def emit(expr: Expr, builder, args: Sequence, result, ty=None):
    """Emit `expr` with `builder`; floats get type `ty` (default: the result's type)."""
    return Emitter(builder, args, result, ty if ty is not None else result.type)(expr)


def walk(expr: Expr):
    """Every node of `expr`, depth first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


def children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Bin(_, a, b) | Cmp(_, a, b):
            return (a, b)
        case Neg(a) | ToFloat(a):
            return (a,)
        case Call(_, args):
            return args
        case Select(c, t, f):
            return (c, t, f)
    return ()


__all__ = ["Expr", "Arg", "Result", "Const", "Bin", "Neg", "Call", "Cmp", "Select", "ToFloat",
           "X", "Y", "F", "wrap", "evaluate", "emit", "Emitter", "walk", "PY_MATH"]
