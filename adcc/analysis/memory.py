"""Which memory a function (and everything it calls) may write.

Used by reverse mode to decide whether a load can be re-executed in the reverse
pass instead of being taped: when no function in the differentiated call tree
writes memory that is not freshly allocated inside it, every load from an
argument or a global sees the same bytes in the reverse pass.
"""
from __future__ import annotations

from adcc.analysis.calls import INACTIVE_INTRINSIC_PREFIXES, CallKind, classify_call, rule_names
from adcc.ir import types as T
from adcc.ir.values import Argument, Constant, Function, GlobalRef, Instruction, Value

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
    another one (through GEPs, casts, phis and selects, which are followed). Debug records
    (`#dbg_value(ptr %p, ...)`) are not uses: -g must not change what the analyses conclude."""
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
            elif u.opcode != "#dbg":
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


def stores_into_argument(module, fname: str, index: int, _seen: frozenset = frozenset()) -> bool:
    """May procedure `fname` (or a procedure it calls) store into the object its pointer argument
    `index` points to, or let that address escape where something else may? Only the object itself
    counts, not memory reached through pointers loaded from it: an array descriptor received
    read-only, whose data the procedure may write, answers False. Conservative: True when unsure."""
    if not module.is_defined(fname):
        return True
    fn = module.function(fname)
    if index >= len(fn.args):
        return True
    if (fname, index) in _seen:
        return False  # a recursive call: the other uses decide
    seen = _seen | {(fname, index)}
    for u, v in pointer_uses(fn.args[index]):
        op = u.opcode
        if op in ("load", "icmp"):
            continue
        if op == "call" and _call_stores_into(module, u, v, seen):
            return True
        if op != "call":
            return True  # a store into it or of its address, a return, an integer round trip, ...
    return False


def _call_stores_into(module, call: Instruction, v: Value, seen: frozenset) -> bool:
    from adcc.analysis.fortran import fresh_memory_arguments
    slots = [k for k, a in enumerate(call.args) if a is v]
    if call.callee_name is None or not slots:
        return True  # called through
    name = call.callee_name
    kind = classify_call(module, call)
    if kind in (CallKind.INACTIVE, CallKind.FREE):
        return False  # writes no active data (frees of a stack object do not happen)
    if kind is CallKind.MEMCPY or kind is CallKind.MEMSET:
        return 0 in slots
    if kind is CallKind.DEFINED:
        return any(stores_into_argument(module, name, k, seen) for k in slots)
    if kind is CallKind.RULE and name.strip('"').startswith("_FortranA"):
        # flang's runtime changes a descriptor it is given only to point it at other memory
        # (ALLOCATE, assignment with reallocation, association, results); the rest read theirs
        return any(k in fresh_memory_arguments(name.strip('"')) for k in slots)
    if kind is CallKind.RULE:
        written = rule_written_args(module, call)
        return written is None or any(w is v for w in written)
    return True


def normal_path_instructions(fn: Function):
    """The instructions a derivative can depend on: those of blocks reachable from the entry
    without taking an exception edge (a derivative is defined only along executions that do not
    throw: adcc.ad.prepare lowers `invoke` to `call` and drops the landing pads), less calls that
    cannot return normally (followed by `unreachable`: `std::__throw_length_error` in
    std::vector's constructor). An `invoke` on such a path counts as the call it makes."""
    seen: set[int] = set()
    stack = [fn.blocks[0]] if fn.blocks else []
    while stack:
        blk = stack.pop()
        if id(blk) in seen:
            continue
        seen.add(id(blk))
        insts = blk.instructions
        for k, inst in enumerate(insts):
            op = inst.opcode
            if op in ("call", "invoke") and _never_returns(inst, insts[k + 1] if k + 1 < len(insts) else None):
                break
            yield inst
        else:
            term = blk.terminator
            if term is not None and term.opcode == "invoke":
                stack.append(term.operands[-2])  # the normal destination only
            else:
                stack.extend(blk.successors)


def _never_returns(call: Instruction, following: Instruction | None) -> bool:
    if call.opcode == "invoke":
        normal = call.operands[-2]
        following = normal.instructions[0] if normal.instructions else None
    return following is not None and following.opcode == "unreachable"


def _as_call(op: str) -> str:
    return "call" if op == "invoke" else op


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

    for inst in normal_path_instructions(fn):
        op = _as_call(inst.opcode)
        if op == "store" and nonlocal_target(inst.operands[1]):
            return True
        if op in ("atomicrmw", "cmpxchg", "va_arg"):
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
        elif kind is CallKind.RULE and rule_written_args(module, inst) is not None:
            if any(nonlocal_target(p) for p in rule_written_args(module, inst)):
                return True
        elif kind in (CallKind.INDIRECT, CallKind.UNKNOWN, CallKind.ENZYME, CallKind.RULE):
            if any(isinstance(a.type, T.PointerType) for a in inst.args) or kind not in (CallKind.UNKNOWN, CallKind.RULE):
                return True
    return False


def reloadable_arguments(module, fn: Function, distinct: frozenset = frozenset()) -> tuple[int, ...]:
    """Pointer arguments whose memory nothing in the call writes, by `restrict` (noalias) or by
    what the call site proves (`distinct`: pairs of argument indices, lower first, that point into
    different objects, `distinct_arguments`): the function's own stores go only to local objects
    or to arguments other than them that cannot alias them, and no callee writes memory it did
    not allocate."""
    targets: list[Value] = []
    for inst in normal_path_instructions(fn):
        op = _as_call(inst.opcode)
        if op == "store":
            targets.append(inst.operands[1])
        elif op in ("atomicrmw", "cmpxchg", "va_arg"):
            return ()
        elif op == "call":
            kind = classify_call(module, inst)
            if kind in (CallKind.MEMCPY, CallKind.MEMSET, CallKind.FREE, CallKind.REALLOC):
                targets.append(inst.args[0])
            elif kind is CallKind.DEFINED:
                if writes_nonlocal_memory(module, module.function(inst.callee_name)):
                    return ()
            elif kind is CallKind.RULE and rule_written_args(module, inst) is not None:
                targets.extend(rule_written_args(module, inst))
            elif kind in (CallKind.INDIRECT, CallKind.UNKNOWN, CallKind.ENZYME, CallKind.RULE):
                if any(isinstance(a.type, T.PointerType) for a in inst.args) or kind not in (CallKind.UNKNOWN, CallKind.RULE):
                    return ()
    written = [o for t in targets for o in underlying_objects(t, module) if not is_local_object(o, module)]

    def noalias(a) -> bool:
        return isinstance(a, Argument) and "noalias" in (fn.param_attrs[a.index] or "")

    def apart(w, a) -> bool:
        return isinstance(w, Argument) and (min(w.index, a.index), max(w.index, a.index)) in distinct

    out = []
    for a in fn.args:
        if not isinstance(a.type, T.PointerType):
            continue
        if all(w is not a and (noalias(w) or noalias(a) or apart(w, a)) for w in written):
            out.append(a.index)
    return tuple(out)


def distinct_arguments(module, caller: Function, actuals: dict) -> frozenset:
    """Pairs (i, j), i < j, of a call's pointer arguments (key -> the caller's value) that point
    into different objects however the program runs: each is based only on identified objects
    (allocas, allocation calls, global variables, the caller's noalias arguments) and the two share
    none. A pair whose objects are unknown (a pointer loaded from memory, an ordinary argument of
    the caller) is left out."""
    def identified(o: Value) -> bool:
        if isinstance(o, Instruction):
            return o.opcode == "alloca" or (o.opcode == "call" and classify_call(module, o) is CallKind.ALLOC)
        if isinstance(o, GlobalRef):
            return o.gname in module.globals
        return isinstance(o, Argument) and o.function is caller and "noalias" in (caller.param_attrs[o.index] or "")

    objects: dict[int, set[tuple]] = {}
    for k, v in actuals.items():
        objs = underlying_objects(v, module)
        if objs and all(identified(o) for o in objs):
            objects[k] = {("global", o.gname) if isinstance(o, GlobalRef) else ("value", id(o)) for o in objs}
    keys = sorted(objects)
    return frozenset((i, j) for n, i in enumerate(keys) for j in keys[n + 1:] if not objects[i] & objects[j])


def rule_written_args(module, inst: Instruction) -> list[Value] | None:
    """The pointer arguments a call-rule callee writes through (its family says which), or None
    when unknown."""
    idx = rule_names(module).written_args(inst.callee_name or "")
    if idx is None:
        return None
    args = inst.args
    return [args[i] for i in idx if i < len(args)]


def written_pointers(module, inst: Instruction) -> list[Value] | None:
    """The pointers through which `inst` may write memory ([] when it writes none); None when it may
    write any memory reachable from non-local pointers (a callee that writes memory it did not
    allocate, an unknown function given pointers). A `free` counts as a write: reverse mode runs it
    in the reverse of the `free`, before the reverse of anything that came earlier."""
    op = inst.opcode
    if op == "store":
        return [inst.operands[1]]
    if op in ("atomicrmw", "cmpxchg"):
        return [inst.operands[0]]
    if op in ("invoke", "va_arg"):
        return None
    if op != "call":
        return []
    kind = classify_call(module, inst)
    pointers = [a for a in inst.args if isinstance(a.type, T.PointerType)]
    if kind in (CallKind.MEMCPY, CallKind.MEMSET, CallKind.REALLOC, CallKind.FREE):
        return [inst.args[0]]
    if kind is CallKind.ALLOC:
        return []
    if kind in (CallKind.MATH, CallKind.INACTIVE):  # frexp, modf, sincos, fread, sprintf write outputs
        return [] if (inst.callee_name or "").startswith(INACTIVE_INTRINSIC_PREFIXES) else pointers
    if kind is CallKind.DEFINED:
        return None if writes_nonlocal_memory(module, module.function(inst.callee_name)) else []
    if kind is CallKind.RULE and rule_written_args(module, inst) is not None:
        return rule_written_args(module, inst)
    if kind in (CallKind.UNKNOWN, CallKind.RULE):
        return None if pointers else []
    return None  # indirect calls, nested Enzyme calls


def instructions_after(inst: Instruction) -> list[Instruction]:
    """Every instruction that may run after `inst` in its function (itself too, inside a loop)."""
    blk = inst.block
    out = blk.instructions[blk.instructions.index(inst) + 1:]
    seen: set[int] = set()
    stack = list(blk.successors)
    while stack:
        b = stack.pop()
        if id(b) in seen:
            continue
        seen.add(id(b))
        out.extend(b.instructions)
        stack.extend(b.successors)
    return out


def may_be_written_after(module, fn: Function, inst: Instruction, ptr: Value, arguments_private: bool) -> bool:
    """May the memory `ptr` points into be written after `inst` (an instruction of `fn`) and before
    the reverse pass reads it? Written means: by a later store or call of `fn` or its callees (the
    same call again, in a loop), or, for memory `fn` did not allocate, by `fn`'s callers after it
    returns, unless `arguments_private` (the top-level function: its reverse runs right after it).
    Conservative: a pointer whose objects are unknown (loaded from memory) may be written."""
    objs = underlying_objects(ptr, module)
    for o in objs:
        if is_local_object(o, module) or _constant_global(module, o):
            continue
        if not isinstance(o, (Argument, GlobalRef)) or not arguments_private:
            return True
    objs = [o for o in objs if not _constant_global(module, o)]
    if not objs:
        return False
    for later in instructions_after(inst):
        targets = written_pointers(module, later)
        if targets is None:
            if any(not is_local_object(o, module) or escapes(o) for o in objs):
                return True
            continue
        for t in targets:
            if any(_may_alias(fn, module, o, w) for o in objs for w in underlying_objects(t, module)):
                return True
    return False


def _constant_global(module, v: Value) -> bool:
    if not isinstance(v, GlobalRef):
        return False
    g = module.globals.get(v.gname)
    return g is not None and g.is_constant


def _may_alias(fn: Function, module, a: Value, b: Value) -> bool:
    """May objects `a` and `b` (results of `underlying_objects`) be the same memory?"""
    if a is b:
        return True
    local_a, local_b = is_local_object(a, module), is_local_object(b, module)
    if local_a and local_b:
        return False  # distinct allocations
    if local_a or local_b:
        local, other = (a, b) if local_a else (b, a)
        if isinstance(other, (Argument, GlobalRef)):
            return False  # existed before this function allocated `local`
        return escapes(local)
    if isinstance(a, GlobalRef) and isinstance(b, GlobalRef):
        return a.gname == b.gname

    def noalias(v: Value) -> bool:
        return isinstance(v, Argument) and v.function is fn and "noalias" in (fn.param_attrs[v.index] or "")

    if isinstance(a, (Argument, GlobalRef)) and isinstance(b, (Argument, GlobalRef)):
        return not (noalias(a) or noalias(b))
    return True


def object_writes(module, obj: Instruction) -> list[Instruction]:
    """The instructions that write into `obj`, an allocation whose address never leaves its
    function's loads, stores, copies and free (`activity.private_heap_object`): stores into it,
    copies into it and memsets of it (its `free` does not count: reverse mode defers it)."""
    out = []
    for u, v in pointer_uses(obj):
        if u.opcode == "store" and u.operands[1] is v:
            out.append(u)
        elif u.opcode == "call" and u.args and u.args[0] is v and \
                classify_call(module, u) in (CallKind.MEMCPY, CallKind.MEMSET):
            out.append(u)
    return out


class LaterBlocks:
    """Which blocks may run after a given one (its successors' closure; itself inside a loop)."""

    def __init__(self):
        self._memo: dict[int, set[int]] = {}

    def after(self, blk) -> set[int]:
        got = self._memo.get(id(blk))
        if got is None:
            got = set()
            stack = list(blk.successors)
            while stack:
                b = stack.pop()
                if id(b) not in got:
                    got.add(id(b))
                    stack.extend(b.successors)
            self._memo[id(blk)] = got
        return got

    def may_run_after(self, first: Instruction, then: Instruction) -> bool:
        """May `then` execute after `first` (later in its block, or in a block reachable from it)?"""
        if then.block is first.block:
            ins = first.block.instructions
            if ins.index(then) > ins.index(first):
                return True
        return id(then.block) in self.after(first.block)
