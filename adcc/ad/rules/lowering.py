"""Lowering of a math function call for a given LLVM type: which callee to call and how.

Bases with an LLVM 22 intrinsic become `llvm.<base>.<suffix>` (vectors included); the rest call
libm (`cbrt`, `cbrtf`, `cbrtl`, `cbrtf128`), scalarized per element for vectors and computed in
`float` for half/bfloat, which libm does not provide.
"""
from __future__ import annotations

import re
from typing import Sequence

from adcc.ir.types import FloatType, IntType, Type, VectorType

# Math bases that LLVM 22 has as overloaded intrinsics (llvm.<base>.<type suffix>).
LLVM_MATH_INTRINSICS = frozenset({
    "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
    "pow", "powi", "exp", "exp2", "exp10", "log", "log2", "log10", "ldexp",
    "fabs", "copysign", "floor", "ceil", "trunc", "rint", "nearbyint", "round", "roundeven",
    "lround", "llround", "lrint", "llrint",
    "fma", "fmuladd", "minnum", "maxnum", "minimum", "maximum", "minimumnum", "maximumnum",
})

# Intrinsics whose name also carries the integer operand's type (llvm.powi.f64.i32).
_INT_OPERAND_INTRINSICS = frozenset({"powi", "ldexp"})

_FLOAT_SUFFIX = {"half": "f16", "bfloat": "bf16", "float": "f32", "double": "f64",
                 "x86_fp80": "f80", "fp128": "f128", "ppc_fp128": "ppcf128"}

# libm name suffix per scalar float kind; half/bfloat have none (computed in float).
_LIBM_SUFFIX = {"float": "f", "double": "", "x86_fp80": "l", "fp128": "f128", "ppc_fp128": "l"}

TYPE_SUFFIX_RE = re.compile(r"(?:(?:nx)?v\d+)?(?:f16|bf16|f32|f64|f80|f128|ppcf128|i\d+)")


def type_suffix(ty: Type) -> str:
    """The intrinsic name suffix of a type: f64, v4f32, nxv2f64, i32."""
    if isinstance(ty, FloatType):
        return _FLOAT_SUFFIX[ty.kind]
    if isinstance(ty, IntType):
        return f"i{ty.bits}"
    if isinstance(ty, VectorType):
        prefix = "nxv" if getattr(ty, "scalable", False) else "v"
        return f"{prefix}{ty.count}{type_suffix(ty.elem)}"
    raise ValueError(f"no intrinsic suffix for type {ty}")


def libm_name(base: str, ty: FloatType) -> str:
    """The libm symbol for a scalar float kind (`cbrtf` for float); half/bfloat use the float one."""
    return base + _LIBM_SUFFIX.get(ty.kind, "f")


def math_function_name(base: str, ty: Type, int_type: Type | None = None) -> tuple[str, bool]:
    """(callee name, is_intrinsic) of math function `base` at float or vector type `ty`.

    `int_type` is the integer operand's type of powi/ldexp (default i32). For a libm base and a
    vector type the name is the per-element scalar function (the call is scalarized).
    """
    if base in LLVM_MATH_INTRINSICS:
        name = f"llvm.{base}.{type_suffix(ty)}"
        if base in _INT_OPERAND_INTRINSICS:
            name += "." + type_suffix(int_type if int_type is not None else IntType(32))
        return name, True
    scalar = ty.elem if isinstance(ty, VectorType) else ty
    return libm_name(base, scalar), False


def emit_math(builder, base: str, args: Sequence) -> object:
    """Emit `base(args...)` at the type of the first argument; returns the result value."""
    ty = args[0].type
    int_type = args[1].type if base in _INT_OPERAND_INTRINSICS and len(args) > 1 else None
    if base in LLVM_MATH_INTRINSICS:
        name, _ = math_function_name(base, ty, int_type)
        return builder.call(name, ty, list(args))
    if isinstance(ty, VectorType):
        out = builder.poison(ty)
        for i in range(ty.count):
            elems = [builder.extractelement(a, i) for a in args]
            out = builder.insertelement(out, _emit_libm_scalar(builder, base, elems), i)
        return out
    return _emit_libm_scalar(builder, base, args)


def _emit_libm_scalar(builder, base: str, args: Sequence) -> object:
    ty = args[0].type
    if ty.kind in _LIBM_SUFFIX:
        return builder.call(libm_name(base, ty), ty, list(args))
    wide = FloatType("float")
    ext = [builder.cast("fpext", a, wide) if isinstance(a.type, FloatType) else a for a in args]
    return builder.cast("fptrunc", builder.call(libm_name(base, wide), wide, ext), ty)
