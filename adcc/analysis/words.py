"""Integer words type analysis cannot place (#9): an i64 or i32 copied out of memory with a shadow
whose bytes nothing types may be a double's (a float's) bits as well as a pointer's or an integer's.

Stored back into shadowed memory straight from its load, with nothing in between that may write
the source, a word is one word of an untyped copy: the synthesizers tell a pointer from a float
at run time (`adcc/ad/words.py`). Anything else that stores such bits into shadowed memory (a
copy merged by a phi, or changed by integer arithmetic) is a located error: a float's derivative
would be kept or lost silently.
"""
from __future__ import annotations

from adcc.analysis.memory import _may_alias, underlying_objects
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.values import Constant, Instruction, Value

WORD_BITS = (32, 64)
# integer operations and conversions through which the bits of a word still reach a store
_THROUGH = frozenset({"xor", "and", "or", "add", "sub", "mul", "shl", "lshr", "ashr", "udiv", "sdiv", "urem",
                      "srem", "zext", "sext", "trunc", "phi", "select", "freeze", "bitcast"})
_NO_WRITE_CALLS = ("llvm.lifetime.", "llvm.dbg.", "llvm.assume", "llvm.experimental.noalias.scope.decl")


def unplaced(act, v: Value) -> bool:
    """A scalar integer word that may hold a float: copied out of shadowed memory (`copy`), and
    type analysis knows it for neither an integer nor a pointer."""
    if not isinstance(v.type, T.IntType) or v.type.bits not in WORD_BITS or not act.has_int_shadow(v):
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


def word_source(act, store: Instruction) -> Instruction | None:
    """For a store of an unplaced word that is an untyped copy of one word (the load right before
    it, in its block, with nothing in between that may write the loaded memory), that load."""
    val = store.operands[0]
    if not stored_word(act, store) or not isinstance(val, Instruction) or val.opcode != "load" \
            or val.block is not store.block or val.info.get("volatile") or store.info.get("volatile"):
        return None
    insts = store.block.instructions
    lo, hi = insts.index(val), insts.index(store)
    if lo > hi:
        return None
    size = layout.store_size(act.module, val.type)
    for x in insts[lo + 1:hi]:
        if _may_write(act, x, val.operands[0], size):
            return None
    return val


def tainted_store(act, store: Instruction) -> Value | None:
    """A store into shadowed memory of an integer that is no copy itself but is computed, by
    integer operations, from an unplaced word: the word, else None. (A sign flip of a float's bits
    that type analysis cannot place: its derivative cannot be followed.)"""
    val, ptr = store.operands
    if not act.has_shadow(ptr) or not isinstance(val.type, T.IntType) or act.has_int_shadow(val) \
            or act.is_varied(val) or isinstance(val, Constant):
        return None
    seen: set[int] = set()
    stack = [val]
    while stack:
        x = stack.pop()
        if id(x) in seen or not isinstance(x, Instruction):
            continue
        seen.add(id(x))
        if unplaced(act, x):
            return x
        if x.opcode in _THROUGH and isinstance(x.type, T.IntType):
            stack.extend(x.operands if x.opcode != "phi" else [v for v, _ in x.incoming()])
    return None


def _may_write(act, x: Instruction, src: Value, size: int) -> bool:
    op = x.opcode
    if op in ("call", "invoke"):
        name = x.callee_name or ""
        return not name.startswith(_NO_WRITE_CALLS)
    if op in ("atomicrmw", "cmpxchg", "fence", "va_arg"):
        return True
    if op != "store":
        return False
    dst = x.operands[1]
    module, fn = act.module, act.fn
    objs_d, objs_s = underlying_objects(dst, module), underlying_objects(src, module)
    if not objs_d or not objs_s:
        return True
    if all(not _may_alias(fn, module, a, b) for a in objs_d for b in objs_s):
        return False
    od, bd = _constant_offset(module, dst)
    os_, bs = _constant_offset(module, src)
    if bd is bs and od is not None and os_ is not None:
        n = layout.store_size(module, x.operands[0].type)
        return od < os_ + size and os_ < od + n
    return True


def _constant_offset(module, p: Value) -> tuple[int | None, Value]:
    """(byte offset, base) of a pointer reached from its base through constant GEPs; (None, p)
    where a variable index or an unknown layout leaves the offset open."""
    off = 0
    while isinstance(p, Instruction) and p.opcode in ("getelementptr", "bitcast", "addrspacecast"):
        if p.opcode == "getelementptr":
            try:
                split = layout.gep_strides(module, p.info["source_type"], p.operands[1:])
            except (layout.LayoutError, IndexError):
                return None, p
            if split is None or split[1]:
                return None, p
            off += split[0]
        p = p.operands[0]
    return off, p
