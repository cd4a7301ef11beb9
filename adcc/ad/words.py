"""Shadow code for integer words type analysis cannot place (`adcc/analysis/words.py`, #9): a
word told apart at run time as the untyped memcpy walks do (`tape.py`, WORD_WALK): an i64 whose
bits lie in [4096, 2**48) is a pointer, any other word a float; an i32 is never a pointer."""
from __future__ import annotations

from adcc.ad.common import unsupported
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Instruction, Value

_LOW, _SPAN = 4096, (1 << 48) - 4096  # the user-space addresses, as WORD_WALK tells them


def _is_pointer(b: Builder, w: Value) -> Value:
    return b.icmp("ult", b.add(w, Builder.iconst(T.i64, -_LOW)), Builder.iconst(T.i64, _SPAN))


def shadow_store(b: Builder, value: Value, shadow: Value, sp: Value, align: int) -> None:
    """Augmented forward pass, `store iN value, p`: a pointer word takes its shadow along into
    p's shadow; a float word leaves p's shadow (its adjoint) alone, as a float store does."""
    if value.type != T.i64:
        return
    old = b.load(T.i64, sp, align=align)
    b.store(b.select(_is_pointer(b, value), shadow, old), sp, align=align)


def adjoint_move(b: Builder, ty: T.IntType, sp: Value, sq: Value, align_p: int, align_q: int) -> None:
    """Reverse of `store (load q), p`: p's shadow word, unless a pointer or zero, is a float
    adjoint: zeroed there, added into q's shadow (in that order: p may be q)."""
    w = b.load(ty, sp, align=align_p)
    zero = Builder.iconst(ty, 0)
    go = b.icmp("ne", w, zero)
    if ty == T.i64:
        go = b.and_(go, b.xor(_is_pointer(b, w), Builder.iconst(T.i1, 1)))
    b.store(b.select(go, zero, w), sp, align=align_p)
    fty = T.FloatType("double" if ty.bits == 64 else "float")
    old = b.load(ty, sq, align=align_q)
    total = b.cast("bitcast", b.fadd(b.cast("bitcast", old, fty), b.cast("bitcast", w, fty)), ty)
    b.store(b.select(go, total, old), sq, align=align_q)  # (bits: a pointer word stays as it is)


def untraceable_copy(module, store: Instruction):
    return unsupported(module, store, f"cannot follow the derivative of a word copied as '{store.operands[0].type}' "
                                      f"that may hold a floating-point value (type analysis cannot tell what it "
                                      f"holds, and it does not come straight from one load)")


def changed_word(module, store: Instruction):
    return unsupported(module, store, "cannot differentiate integer operations on a word that may hold a "
                                      "floating-point value (type analysis cannot tell what it holds)")
