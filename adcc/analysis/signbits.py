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


# --- whole floats moved as integer words ------------------------------------------------------
# SROA passes floats by value as the bits of one wider integer: two floats become
# `or (shl (zext a), 32), (zext b)`, and the callee cuts them out again with `lshr`/`trunc`. Such
# moves keep every bit of each float. Without a derivative for them, they must not be taken for
# the end of the float (its derivative silently dropped): where the moved bits reach a place
# from which they may become a float again, they stay active, so that the synthesizers refuse
# them (a located error), rather than the derivative being lost.

WORD = 32  # the narrowest float whose bits are moved whole (a float; a double is two words)

# where moved bits may turn into a float again: another function's argument, the return value,
# memory, a bitcast, an aggregate or vector
_REENTRIES = frozenset({"call", "invoke", "ret", "store", "bitcast", "insertvalue", "insertelement"})
_CARRIERS = frozenset({"phi", "select", "freeze"})


def moves_words(inst: Instruction) -> bool:
    """Does this integer operation only move whole 32-bit words of its operands (shifts by a
    multiple of 32, `or`, masks that keep or clear whole words, zero extension and truncation to
    a multiple of 32 bits)? Scalars only."""
    ty = inst.type
    if not isinstance(ty, T.IntType) or ty.bits % WORD:
        return False
    op = inst.opcode
    if op in ("zext", "trunc"):
        src = inst.operands[0].type
        return isinstance(src, T.IntType) and src.bits % WORD == 0
    if op in ("shl", "lshr"):
        amount = _unsigned(inst.operands[1], ty.bits)
        return amount is not None and amount % WORD == 0 and 0 < amount < ty.bits
    if op == "or":
        return True
    if op == "and":
        mask = next((c for c in (_unsigned(o, ty.bits) for o in inst.operands) if c is not None), None)
        if mask is None or mask == 0:
            return False
        lanes = [(mask >> k) & 0xFFFFFFFF for k in range(0, ty.bits, WORD)]
        return all(lane in (0, 0xFFFFFFFF) for lane in lanes)
    return False


def moved_bits_reenter(inst: Instruction) -> bool:
    """May the words `inst` moved (`moves_words`) become a float again: do they reach, through
    further moves, phis, selects and freezes, a call's argument, the return value, a store's
    value, a bitcast, or an aggregate or vector? (Compares, conversions to floating point and
    any other arithmetic end the float: its bits no longer travel whole.)"""
    seen: set[int] = set()
    stack = [inst]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        for u, k in v.uses:
            op = u.opcode
            if op in _REENTRIES:
                if op == "store" and k != 0:
                    continue  # the word is the address
                if op in ("call", "invoke") and (u.callee_name or "").startswith("llvm."):
                    continue  # an intrinsic on integers (ctpop, bswap, assume ...)
                return True
            if op in _CARRIERS or (op in ("zext", "trunc", "shl", "lshr", "or", "and") and moves_words(u)):
                stack.append(u)
    return False
