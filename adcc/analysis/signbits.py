"""Sign changes made through the bits of a float: `bits ^ SIGN` (negation), `bits & ~SIGN`
(absolute value), `bits | SIGN` (minus the absolute value), `bits | (other & SIGN)` /
`bits ^ (other & SIGN)` (copysign, a conditional flip), and `bits +- (n << (width - 1))` (a
flip when n is odd), on an integer that holds a float.

Each changes at most the sign bit of one operand x, so its derivative is x's, negated exactly
when the sign bit changed: d r = (sign(r) != sign(x)) ? -d x : d x. `bits & SIGN` keeps only the
sign (a signed zero): no derivative. Any other integer operation that turns the bits of an active
float into a float again has no derivative adcc knows; the synthesizers refuse it.
"""
from __future__ import annotations

from typing import Callable

from adcc.ir import layout as L
from adcc.ir import types as T
from adcc.ir.values import Constant, Instruction, Value

BIT_OPS = ("xor", "and", "or")
SIGN_OPS = BIT_OPS + ("add", "sub")  # the operations that may change only a sign bit
# integer operations that may turn the bits of an active float into another float
INT_OPS = BIT_OPS + ("add", "sub", "mul", "shl", "lshr", "ashr", "udiv", "sdiv", "urem", "srem")


def sign_mask(bits: int) -> int:
    return 1 << (bits - 1)


def lane_bits(ty: T.Type) -> int | None:
    """The width of an integer, or of the lanes of an integer vector (an SSE packet of doubles
    viewed as <2 x i64>); None for other types."""
    if isinstance(ty, T.VectorType) and not ty.scalable:
        ty = ty.elem
    return ty.bits if isinstance(ty, T.IntType) else None


def _unsigned(v: Value, bits: int) -> int | None:
    c = L.constant_int(v)
    return None if c is None else c & ((1 << bits) - 1)


def _lanes(v: Value, ty: T.Type) -> list[int] | None:
    """The unsigned lane values of an integer (one lane) or integer-vector constant, else None."""
    bits = lane_bits(ty)
    if not isinstance(ty, T.VectorType):
        c = _unsigned(v, bits)
        return None if c is None else [c]
    if not isinstance(v, Constant):
        return None
    text = v.text.strip()
    if text == "zeroinitializer":
        return [0] * ty.count
    if text.startswith("splat (") and text.endswith(")"):
        items = [text[len("splat ("):-1]] * ty.count
    elif text.startswith("<") and text.endswith(">"):
        items = text[1:-1].split(",")
    else:
        return None
    out = []
    for item in items:
        parts = item.split()
        if len(parts) != 2 or parts[0] != str(ty.elem):
            return None
        try:
            out.append(int(parts[1]) & ((1 << bits) - 1))
        except ValueError:
            return None
    return out if len(out) == ty.count else None


def sign_only(v: Value) -> bool:
    """`y & SIGN` or `y << (width - 1)`: an integer (or integer vector) whose only possibly set
    bits are sign bits."""
    bits = lane_bits(v.type)
    if not isinstance(v, Instruction) or bits is None:
        return False
    if v.opcode == "shl":
        c = _lanes(v.operands[1], v.type)
        return c is not None and all(x == bits - 1 for x in c)
    if v.opcode != "and":
        return False
    s = sign_mask(bits)
    return any((c := _lanes(o, v.type)) is not None and all(x == s for x in c) for o in v.operands)


def sign_operand(inst: Instruction, varied: Callable[[Value], bool]) -> Value | None:
    """For an xor/and/or that changes at most the sign bit of its one active operand (of each
    lane of a vector: a lane's mask may differ from another's), that operand; None otherwise.
    Adding or subtracting a value whose only possible bit is the sign bit flips that bit as xor
    does (the carry out of it is lost): LLVM folds a loop of `bits ^= SIGN` into `x - (n << 63)`."""
    ty = inst.type
    bits = lane_bits(ty)
    if inst.opcode not in SIGN_OPS or bits not in (16, 32, 64):
        return None
    a, b = inst.operands
    if varied(a) == varied(b):
        return None
    x, other = (a, b) if varied(a) else (b, a)
    if inst.opcode == "sub" and x is not a:
        return None  # SIGN - x is no sign change of x
    s, full = sign_mask(bits), (1 << bits) - 1
    lanes = _lanes(other, ty)
    if lanes is not None:
        keeps = {"xor": (0, s), "and": (full, full ^ s), "or": (0, s), "add": (0, s), "sub": (0, s)}[inst.opcode]
        return x if all(c in keeps for c in lanes) else None
    if inst.opcode != "and" and sign_only(other):
        return x
    return None


def keeps_only_sign(inst: Instruction, varied: Callable[[Value], bool]) -> bool:
    """`x & SIGN` of an active x: a signed zero, without derivative."""
    return inst.opcode == "and" and sign_only(inst) and \
        any(varied(o) for o in inst.operands)
