"""Integer words type analysis cannot place (#9): an i64 or i32 copied out of memory with a shadow
whose bytes nothing types may be a double's (a float's) bits as well as a pointer's or an integer's.

Such a word keeps its shadow (a pointer's) and, in reverse mode, gets an adjoint too (a float's):
the synthesizers tell the two apart at run time (`adcc/ad/words.py`), through loads, phis,
selects and stores. A word changed by integer arithmetic and stored into shadowed memory is a
located error: its float's derivative would be kept or lost silently.
"""
from __future__ import annotations

from adcc.analysis.signbits import sign_only, sign_operand
from adcc.ir import types as T
from adcc.ir.values import Constant, Instruction, Value

WORD_BITS = (32, 64)
# integer operations and conversions through which the bits of a word still reach a store
_THROUGH = frozenset({"xor", "and", "or", "add", "sub", "mul", "shl", "lshr", "ashr", "udiv", "sdiv", "urem",
                      "srem", "zext", "sext", "trunc", "phi", "select", "freeze", "bitcast"})


def unplaced(act, v: Value) -> bool:
    """A scalar integer word that may hold a float: copied out of shadowed memory (`copy`), and
    type analysis knows it for neither an integer nor a pointer."""
    if not isinstance(v.type, T.IntType) or v.type.bits not in WORD_BITS or not act.has_int_shadow(v) \
            or act.is_varied(v):
        return False
    from adcc.analysis.types import Integer, Pointer
    kind = act.types.scalar_kind(v)
    return kind is not Integer and kind is not Pointer and act.float_view(v) is None and _loaded(v)


def _loaded(v: Value) -> bool:
    """Is v (through phis, selects, freezes) loaded from memory? (A copy that is a pointer's
    address, `ptrtoint` or offset arithmetic on it, is no float whatever the memory it lands in.)"""
    seen: set[int] = set()
    stack = [v]
    while stack:
        x = stack.pop()
        if id(x) in seen or not isinstance(x, Instruction):
            continue
        seen.add(id(x))
        if x.opcode == "load":
            return True
        if x.opcode == "phi":
            stack.extend(y for y, _ in x.incoming())
        elif x.opcode in ("select", "freeze"):
            stack.extend(x.operands[-2:] if x.opcode == "select" else x.operands)
    return False


def stored_word(act, store: Instruction) -> bool:
    """Does this store put an unplaced word (`unplaced`) into shadowed memory?"""
    val, ptr = store.operands
    return act.has_shadow(ptr) and unplaced(act, val)


def tainted_store(act, store: Instruction) -> Value | None:
    """A store into shadowed memory of an integer that is no copy itself but is computed from an
    unplaced word by integer operations among which one changes only a sign bit (`bits ^ SIGN`,
    `bits - (n << 63)`, ...: a float's sign flip whose derivative cannot be followed): the word,
    else None. (Other arithmetic on such words, a counter's increment, a hash, is taken for
    integer arithmetic: refusing it would refuse every container.)"""
    val, ptr = store.operands
    if not act.has_shadow(ptr) or not isinstance(val.type, T.IntType) or act.has_int_shadow(val) \
            or act.is_varied(val) or isinstance(val, Constant):
        return None
    seen: set[int] = set()
    stack = [val]
    word, sign = None, False
    while stack:
        x = stack.pop()
        if id(x) in seen or not isinstance(x, Instruction):
            continue
        seen.add(id(x))
        if unplaced(act, x):
            word = word or x
            continue
        if x.opcode in _THROUGH and isinstance(x.type, T.IntType):
            sign = sign or sign_operand(x, _not_a_sign_mask) is not None
            stack.extend(x.operands if x.opcode != "phi" else [v for v, _ in x.incoming()])
    return word if sign else None


def _not_a_sign_mask(v: Value) -> bool:
    return not isinstance(v, Constant) and not sign_only(v)


def word_flow(act, fn) -> set[int]:
    """The unplaced words (ids) whose values reach a store into shadowed memory, through phis,
    selects and freezes: those that carry an adjoint in reverse mode."""
    out: set[int] = set()
    stack = [i.operands[0] for i in fn.instructions() if i.opcode == "store" and stored_word(act, i)]
    while stack:
        x = stack.pop()
        if id(x) in out or not unplaced(act, x):
            continue
        out.add(id(x))
        if x.opcode == "phi":
            stack.extend(v for v, _ in x.incoming())
        elif x.opcode == "select":
            stack.extend(x.operands[1:])
        elif x.opcode == "freeze":
            stack.append(x.operands[0])
    return out


def clears_float(act, store: Instruction) -> bool:
    """Does this store put an inactive integer of a float's width, carrying no shadow, where type
    analysis places a float in shadowed memory? (LLVM folds `t = copysign(0.0, s)` into
    `store i64 0`.) Its reverse ends the overwritten float's adjoint, as a float store's does."""
    val, ptr = store.operands
    if not isinstance(val.type, T.IntType) or val.type.bits not in WORD_BITS or not act.has_shadow(ptr) \
            or act.is_varied(val) or act.has_int_shadow(val) or id(val) in act.int_shadowed:
        return False
    from adcc.analysis.types import Float
    return isinstance(act.types.memory_kind(ptr, 0, val.type.bits // 8), Float)
