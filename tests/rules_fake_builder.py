"""A numeric stand-in for adcc.ir.builder: every operation computes its value at once (Python doubles),
and checks the types the real IR would require (operand types agree, callee names match types)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from adcc.ad.rules.expr import PY_MATH
from adcc.ir.types import FloatType, IntType, VectorType

I1 = IntType(1)
_SUFFIX = {"half": "f16", "bfloat": "bf16", "float": "f32", "double": "f64", "x86_fp80": "f80", "fp128": "f128"}
_LIBM = {"float": "f", "double": "", "x86_fp80": "l", "fp128": "f128"}
_BITS = {"half": 16, "bfloat": 16, "float": 32, "double": 64, "x86_fp80": 80, "fp128": 128}


@dataclass(eq=False)
class V:
    type: object
    val: object  # a scalar, or a list of lanes for a vector type

    def lanes(self, count: int) -> list:
        return list(self.val) if isinstance(self.type, VectorType) else [self.val] * count


def suffix(ty) -> str:
    if isinstance(ty, VectorType):
        return f"v{ty.count}{suffix(ty.elem)}"
    if isinstance(ty, IntType):
        return f"i{ty.bits}"
    return _SUFFIX[ty.kind]


def _cmp(pred: str, a: float, b: float) -> bool:
    unordered = math.isnan(a) or math.isnan(b)
    if pred == "uno":
        return unordered
    if pred == "ord":
        return not unordered
    test = {"eq": a == b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b, "ne": a != b}[pred[1:]]
    return (not unordered and test) if pred[0] == "o" else (unordered or test)


def _div(a: float, b: float) -> float:
    if b != 0:
        return a / b
    return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)


@dataclass
class FakeBuilder:
    calls: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)

    def _lanewise(self, opname: str, ty, fn, *vals: V) -> V:
        self.ops.append(opname)
        if isinstance(ty, VectorType):
            n = ty.count
            cols = [v.lanes(n) for v in vals]
            return V(ty, [fn(*lane) for lane in zip(*cols)])
        return V(ty, fn(*(v.val for v in vals)))

    def _binary(self, opname, a: V, b: V, fn) -> V:
        assert a.type == b.type, f"{opname}: {a.type} vs {b.type}"
        assert isinstance(a.type, (FloatType, VectorType)), a.type
        return self._lanewise(opname, a.type, fn, a, b)

    def fconst(self, ty, value: float) -> V:
        value = float(value)
        return V(ty, [value] * ty.count if isinstance(ty, VectorType) else value)

    def poison(self, ty) -> V:
        return V(ty, [math.nan] * ty.count)

    def fadd(self, a, b): return self._binary("fadd", a, b, lambda x, y: x + y)
    def fsub(self, a, b): return self._binary("fsub", a, b, lambda x, y: x - y)
    def fmul(self, a, b): return self._binary("fmul", a, b, lambda x, y: x * y)
    def fdiv(self, a, b): return self._binary("fdiv", a, b, _div)
    def frem(self, a, b): return self._binary("frem", a, b, math.fmod)

    def fneg(self, a: V) -> V:
        return self._lanewise("fneg", a.type, lambda x: -x, a)

    def fcmp(self, pred: str, a: V, b: V) -> V:
        assert a.type == b.type, f"fcmp: {a.type} vs {b.type}"
        ty = VectorType(a.type.count, I1) if isinstance(a.type, VectorType) else I1
        return self._lanewise("fcmp", ty, lambda x, y: _cmp(pred, x, y), a, b)

    def select(self, c: V, a: V, b: V) -> V:
        assert a.type == b.type, f"select: {a.type} vs {b.type}"
        assert c.type == I1 or (isinstance(c.type, VectorType) and c.type.elem == I1
                                and isinstance(a.type, VectorType) and c.type.count == a.type.count)
        return self._lanewise("select", a.type, lambda k, x, y: x if k else y, c, a, b)

    def call(self, name: str, ret, args: list[V]) -> V:
        self.calls.append(name)
        if name.startswith("llvm."):
            base, *sfx = name[5:].split(".")
            assert sfx[0] == suffix(ret) == suffix(args[0].type), (name, ret)
            if base in ("powi", "ldexp"):
                assert sfx[1] == suffix(args[1].type), name
        else:
            assert isinstance(ret, FloatType) and ret.kind in _LIBM, f"libm call {name} at {ret}"
            base = name[: len(name) - len(_LIBM[ret.kind])] if _LIBM[ret.kind] else name
            assert all(a.type == ret for a in args), name
        return self._lanewise("call", ret, PY_MATH[base], *args)

    def cast(self, opcode: str, value: V, to_type) -> V:
        src = value.type.elem if isinstance(value.type, VectorType) else value.type
        dst = to_type.elem if isinstance(to_type, VectorType) else to_type
        if opcode in ("fpext", "fptrunc"):
            wider = _BITS[dst.kind] > _BITS[src.kind]
            assert wider == (opcode == "fpext"), f"{opcode} {value.type} to {to_type}"
            fn = float
        elif opcode in ("sitofp", "uitofp"):
            assert isinstance(src, IntType) and isinstance(dst, FloatType)
            fn = float
        else:
            raise AssertionError(f"unexpected cast {opcode}")
        return self._lanewise(opcode, to_type, fn, value)

    def extractelement(self, vec: V, index: int) -> V:
        self.ops.append("extractelement")
        return V(vec.type.elem, vec.val[index])

    def insertelement(self, vec: V, elem: V, index: int) -> V:
        self.ops.append("insertelement")
        assert elem.type == vec.type.elem
        lanes = list(vec.val)
        lanes[index] = elem.val
        return V(vec.type, lanes)
