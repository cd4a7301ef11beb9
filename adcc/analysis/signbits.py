"""Sign changes made through the bits of a float: `bits ^ SIGN` (negation), `bits & ~SIGN`
(absolute value), `bits | SIGN` (minus the absolute value), and `bits | (other & SIGN)` /
`bits ^ (other & SIGN)` (copysign, a conditional flip), on an integer that holds a float.

Each changes at most the sign bit of one operand x, so its derivative is x's, negated exactly
when the sign bit changed: d r = (sign(r) != sign(x)) ? -d x : d x. `bits & SIGN` keeps only the
sign (a signed zero): no derivative. Any other integer operation that turns the bits of an active
float into a float again has no derivative adcc knows; the synthesizers refuse it.
"""
from __future__ import annotations

from typing import Callable

from adcc.ir import layout as L
from adcc.ir import types as T
from adcc.ir.values import Instruction, Value

BIT_OPS = ("xor", "and", "or")
# integer operations that may turn the bits of an active float into another float
INT_OPS = BIT_OPS + ("add", "sub", "mul", "shl", "lshr", "ashr", "udiv", "sdiv", "urem", "srem")


def sign_mask(bits: int) -> int:
    return 1 << (bits - 1)


def _unsigned(v: Value, bits: int) -> int | None:
    c = L.constant_int(v)
    return None if c is None else c & ((1 << bits) - 1)


def sign_only(v: Value) -> bool:
    """`y & SIGN`: an integer whose only possibly set bit is the sign bit."""
    if not isinstance(v, Instruction) or v.opcode != "and" or not isinstance(v.type, T.IntType):
        return False
    s = sign_mask(v.type.bits)
    return any(_unsigned(o, v.type.bits) == s for o in v.operands)


def sign_operand(inst: Instruction, varied: Callable[[Value], bool]) -> Value | None:
    """For an xor/and/or that changes at most the sign bit of its one active operand, that
    operand; None otherwise."""
    ty = inst.type
    if inst.opcode not in BIT_OPS or not isinstance(ty, T.IntType) or ty.bits not in (16, 32, 64):
        return None
    a, b = inst.operands
    if varied(a) == varied(b):
        return None
    x, other = (a, b) if varied(a) else (b, a)
    s, full = sign_mask(ty.bits), (1 << ty.bits) - 1
    c = _unsigned(other, ty.bits)
    if c is not None:
        keeps = {"xor": (0, s), "and": (full, full ^ s), "or": (0, s)}[inst.opcode]
        return x if c in keeps else None
    if inst.opcode in ("or", "xor") and sign_only(other):
        return x
    return None


def keeps_only_sign(inst: Instruction, varied: Callable[[Value], bool]) -> bool:
    """`x & SIGN` of an active x: a signed zero, without derivative."""
    return inst.opcode == "and" and isinstance(inst.type, T.IntType) and sign_only(inst) and \
        any(varied(o) for o in inst.operands)
