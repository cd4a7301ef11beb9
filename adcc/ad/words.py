"""Shadow code for integer words type analysis cannot place (`adcc/analysis/words.py`, #9): a
word told apart at run time as the untyped memcpy walks do (`tape.py`, WORD_WALK): an i64 whose
bits lie in [4096, 2**48) is a pointer, any other word a float; an i32 is never a pointer."""
from __future__ import annotations

from adcc.ad.common import unsupported
from adcc.ad.tape import POINTER_LOW as _LOW, POINTER_SPAN as _SPAN  # as the untyped memcpy walks tell them
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Instruction, Value

def _is_pointer(b: Builder, w: Value) -> Value:
    return b.icmp("ult", b.add(w, Builder.iconst(T.i64, -_LOW)), Builder.iconst(T.i64, _SPAN))


def shadow_store(b: Builder, value: Value, shadow: Value, sp: Value, align: int) -> None:
    """Augmented forward pass, `store iN value, p`: a pointer word takes its shadow along into
    p's shadow; a float word leaves p's shadow (its adjoint) alone, as a float store does."""
    if value.type != T.i64:
        return
    old = b.load(T.i64, sp, align=align)
    b.store(b.select(_is_pointer(b, value), shadow, old), sp, align=align)


def take_adjoint(b: Builder, ty: T.IntType, sp: Value, align: int) -> Value:
    """Reverse of `store iN word, p`: p's shadow word, unless a pointer or zero, is the float
    adjoint of the stored word: zeroed there (the store killed the old value), returned as bits
    (0 for a pointer word)."""
    w = b.load(ty, sp, align=align)
    zero = Builder.iconst(ty, 0)
    go = b.icmp("ne", w, zero)
    if ty == T.i64:
        go = b.and_(go, b.xor(_is_pointer(b, w), Builder.iconst(T.i1, 1)))
    b.store(b.select(go, zero, w), sp, align=align)
    return b.select(go, w, zero)


def add_adjoints(b: Builder, a: Value, d: Value) -> Value:
    """The bits of the sum of two float adjoints held as integer bits."""
    fty = _float_of(a.type)
    return b.cast("bitcast", b.fadd(b.cast("bitcast", a, fty), b.cast("bitcast", d, fty)), a.type)


def give_adjoint(b: Builder, d: Value, sq: Value, align: int) -> None:
    """Reverse of `word = load iN q`: the word's float adjoint `d` (bits) is added into q's shadow
    word, which stays bit for bit as it is where d is zero (a pointer's shadow)."""
    old = b.load(d.type, sq, align=align)
    some = b.icmp("ne", d, Builder.iconst(d.type, 0))
    b.store(b.select(some, add_adjoints(b, old, d), old), sq, align=align)


def _float_of(ty: T.IntType) -> T.FloatType:
    return T.FloatType("double" if ty.bits == 64 else "float")


def changed_word(module, store: Instruction):
    return unsupported(module, store, "cannot differentiate integer operations on a word that may hold a "
                                      "floating-point value (type analysis cannot tell what it holds)")
