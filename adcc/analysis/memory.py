"""Which memory a function (and everything it calls) may write.

Used by reverse mode to decide whether a load can be re-executed in the reverse
pass instead of being taped: when no function in the differentiated call tree
writes memory that is not freshly allocated inside it, every load from an
argument or a global sees the same bytes in the reverse pass.
"""
from __future__ import annotations

from adcc.analysis.calls import CallKind, classify_call
from adcc.ir import types as T
from adcc.ir.values import Argument, Constant, Function, Instruction, Value

_THROUGH = frozenset({"getelementptr", "bitcast", "addrspacecast", "freeze"})


def underlying_objects(v: Value, module, limit: int = 32) -> list[Value]:
    """The allocations, arguments and globals a pointer may be based on."""
    out: list[Value] = []
    seen: set[int] = set()
    stack = [v]
    while stack and len(seen) < limit:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, Instruction) and x.opcode in _THROUGH:
            stack.append(x.operands[0])
        elif isinstance(x, Instruction) and x.opcode in ("phi", "select"):
            stack.extend(o for o in x.operands if isinstance(o.type, T.PointerType))
        else:
            out.append(x)
    if stack:
        out.append(v)  # gave up: treat as unknown
    return out


def is_local_object(x: Value, module) -> bool:
    if isinstance(x, Instruction):
        if x.opcode == "alloca":
            return True
        if x.opcode == "call" and classify_call(module, x) in (CallKind.ALLOC, CallKind.REALLOC):
            return True
    if isinstance(x, Constant) and x.text == "null":
        return True
    return False


def pointer_uses(obj: Value):
    """(user, pointer) for every instruction that uses a pointer into `obj` other than to derive
    another one (through GEPs, casts, phis and selects, which are followed)."""
    seen: set[int] = set()
    stack = [obj]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        for u in v.users:
            if u.opcode in _THROUGH or u.opcode in ("phi", "select"):
                stack.append(u)
            else:
                yield u, v


def stack_object(p: Value) -> Instruction | None:
    """The alloca `p` points into (through GEPs and casts), or None."""
    for _ in range(32):
        if not isinstance(p, Instruction):
            return None
        if p.opcode == "alloca":
            return p
        if p.opcode not in _THROUGH:
            return None
        p = p.operands[0]
    return None


def stored_pointers(obj: Value) -> list[Value]:
    """The pointer values stored into `obj` (directly, through pointers derived from it)."""
    return [u.operands[0] for u, v in pointer_uses(obj)
            if u.opcode == "store" and u.operands[1] is v and isinstance(u.operands[0].type, T.PointerType)]


def escapes(obj: Value) -> bool:
    """Does a pointer into `obj` reach a call argument or get stored into memory?"""
    for u, v in pointer_uses(obj):
        if u.opcode in ("call", "invoke") and any(a is v for a in u.args):
            if not (u.callee_name or "").startswith(("llvm.lifetime.", "llvm.memset.", "llvm.memcpy.",
                                                     "llvm.memmove.")) or u.args[1:2] == [v]:
                return True  # (a copy *from* it leaks its contents, not its address: fine too)
        elif u.opcode == "store" and u.operands[0] is v:
            return True
    return False


def writes_nonlocal_memory(module, fn: Function, _seen: set[str] | None = None,
                           callee_view: bool = False) -> bool:
    """True if `fn` or a function it calls may write memory it did not allocate itself.
    With `callee_view`, memory it allocated counts too once its address escapes into a call:
    for the functions it calls, that memory is not local."""
    seen = _seen if _seen is not None else set()
    if fn.fname in seen:
        return False
    seen.add(fn.fname)

    def nonlocal_target(p: Value) -> bool:
        return any(not is_local_object(o, module) or (callee_view and escapes(o))
                   for o in underlying_objects(p, module))

    for inst in fn.instructions():
        op = inst.opcode
        if op == "store" and nonlocal_target(inst.operands[1]):
            return True
        if op in ("atomicrmw", "cmpxchg", "invoke", "va_arg"):
            return True
        if op != "call":
            continue
        kind = classify_call(module, inst)
        if kind in (CallKind.MEMCPY, CallKind.MEMSET):
            if nonlocal_target(inst.args[0]):
                return True
        elif kind in (CallKind.FREE, CallKind.REALLOC):
            if nonlocal_target(inst.args[0]):
                return True
        elif kind is CallKind.DEFINED:
            if writes_nonlocal_memory(module, module.function(inst.callee_name), seen, callee_view):
                return True
        elif kind in (CallKind.INDIRECT, CallKind.UNKNOWN, CallKind.ENZYME, CallKind.RULE):
            if any(isinstance(a.type, T.PointerType) for a in inst.args) or kind not in (CallKind.UNKNOWN, CallKind.RULE):
                return True
    return False


def reloadable_arguments(module, fn: Function) -> tuple[int, ...]:
    """Pointer arguments whose memory nothing in the call writes, by `restrict` (noalias):
    the function's own stores go only to local objects or to noalias arguments other than
    them (or they are noalias themselves), and no callee writes memory it did not allocate."""
    targets: list[Value] = []
    for inst in fn.instructions():
        op = inst.opcode
        if op == "store":
            targets.append(inst.operands[1])
        elif op in ("atomicrmw", "cmpxchg", "invoke", "va_arg"):
            return ()
        elif op == "call":
            kind = classify_call(module, inst)
            if kind in (CallKind.MEMCPY, CallKind.MEMSET, CallKind.FREE, CallKind.REALLOC):
                targets.append(inst.args[0])
            elif kind is CallKind.DEFINED:
                if writes_nonlocal_memory(module, module.function(inst.callee_name)):
                    return ()
            elif kind in (CallKind.INDIRECT, CallKind.UNKNOWN, CallKind.ENZYME, CallKind.RULE):
                if any(isinstance(a.type, T.PointerType) for a in inst.args) or kind not in (CallKind.UNKNOWN, CallKind.RULE):
                    return ()
    written = [o for t in targets for o in underlying_objects(t, module) if not is_local_object(o, module)]

    def noalias(a) -> bool:
        return isinstance(a, Argument) and "noalias" in (fn.param_attrs[a.index] or "")

    out = []
    for a in fn.args:
        if not isinstance(a.type, T.PointerType):
            continue
        if all(w is not a and (noalias(w) or noalias(a)) for w in written):
            out.append(a.index)
    return tuple(out)
