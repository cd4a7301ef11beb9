"""Objects whose contents are inactive for good: a stack object that this function, and the defined
functions it is passed to (a constructor adcc does not inline), fill only with constants, integers
that hold no float or address, pointers into memory the program declared inactive (enzyme_const
arguments, constant and inactive globals), and pointers to containers allocated for it that hold the
same. No address into the object or its containers leaves them, so nothing else can write there:
floats read through pointers loaded from it are inactive, and it needs no shadow.

GradBench's LSTM keeps `std::vector<const double *>` rows of an enzyme_const sequence: without this
proof the vector gets a shadow whose constructor stores no shadows of the constant rows (there are
none), and the reverse pass adds adjoints through null pointers.
"""
from __future__ import annotations

from adcc.analysis.calls import CallKind, classify_call
from adcc.ir import types as T
from adcc.ir.symbols import global_refs
from adcc.ir.values import Argument, Constant, Function, GlobalRef, Instruction, Value

# what an argument (or a value) may carry, as the closed-world walk sees it
INACTIVE = "inactive"   # a pointer into memory the program declared inactive
CLEAN = "clean"         # an integer or float that holds no derivative, no address
CLOSED = "closed"       # a pointer into the closed object or one of its containers
OTHER = "other"         # anything else (active memory, values that may carry derivatives)

_DERIVE = frozenset({"getelementptr", "bitcast", "addrspacecast", "freeze"})
_INT_OPS = frozenset({"add", "sub", "mul", "shl", "lshr", "ashr", "and", "or", "xor", "udiv", "sdiv", "urem",
                      "srem", "sext", "zext", "trunc", "icmp", "select", "phi", "freeze", "fptosi", "fptoui"})
_ADDRESS_ARITH = frozenset({"add", "sub", "and", "or", "xor", "ashr", "lshr", "shl", "udiv", "sdiv", "mul",
                            "icmp", "zext", "sext", "trunc", "freeze", "select", "phi"})
_LIMIT = 4096  # instructions a walk may visit (per function) before it gives up


def closed_object(module, fn: Function, obj: Instruction, arg_classes: tuple[str, ...],
                  merges: bool = True) -> bool:
    """Is stack object `obj` of `fn` closed with inactive contents (see the module docstring)?
    `arg_classes[k]` says what argument k of `fn` carries. With `merges` false: are its contents
    inactive and do they include pointers into declared-inactive memory, while pointers from it
    may also be merged (phi, select) with pointers into active memory? Such a merge needs shadows
    of those pointers, which do not exist (a shadow of the object would hold null for them)."""
    walk = _ClosedWalk(module, fn, arg_classes, [obj], {})
    return walk.run(merges) and (merges or walk.inactive_pointers)


def _summary(module, name: str, classes: tuple[str, ...], memo: dict) -> tuple[bool, bool]:
    """Does a call of `name` with arguments of these classes keep the closed object closed, and does
    it store pointers into declared-inactive memory there?"""
    key = (name, classes)
    if key in memo:
        return memo[key]
    memo[key] = (True, False)  # (a recursive call: its other paths decide)
    fn = module.function(name)
    seeds = [a for a, c in zip(fn.args, classes) if c == CLOSED]
    walk = _ClosedWalk(module, fn, classes, seeds, memo)
    memo[key] = (len(fn.args) == len(classes) and walk.run(), walk.inactive_pointers)
    return memo[key]


class _ClosedWalk:
    def __init__(self, module, fn: Function, classes: tuple[str, ...], seeds: list[Value], memo: dict):
        self.module, self.fn, self.classes, self.memo = module, fn, classes, memo
        self.roots: dict[int, Value] = {id(s): s for s in seeds}  # objects of the closed world
        self._visited = 0
        self._loading: set[int] = set()
        self._merges: dict[int, Instruction] = {}  # phis and selects of closed-world pointers
        self.inactive_pointers = False  # pointers into declared-inactive memory are stored in it

    # --- classification ------------------------------------------------------------------------
    def _arg_class(self, a: Argument) -> str:
        return self.classes[a.index] if a.index < len(self.classes) else OTHER

    def _bases(self, v: Value) -> list[Value] | None:
        """The objects pointer `v` may be based on (through address arithmetic and merges)."""
        out, seen, stack = [], set(), [v]
        while stack:
            x = stack.pop()
            if id(x) in seen:
                continue
            seen.add(id(x))
            if len(seen) > 256:
                return None
            if isinstance(x, Instruction) and x.opcode in _DERIVE:
                stack.append(x.operands[0])
            elif isinstance(x, Instruction) and x.opcode in ("phi", "select"):
                stack.extend(o for o in x.operands if isinstance(o.type, T.PointerType))
            else:
                out.append(x)
        return out

    def _base_class(self, x: Value) -> str:
        from adcc.analysis.activity import global_is_active
        if id(x) in self.roots:
            return CLOSED
        if isinstance(x, GlobalRef):
            return OTHER if global_is_active(self.module, x.gname) else INACTIVE
        if isinstance(x, Constant):
            return OTHER if any(global_is_active(self.module, n) for n in global_refs(x.text)) else INACTIVE
        if isinstance(x, Argument):
            c = self._arg_class(x)
            return c if c in (INACTIVE, CLOSED) else OTHER
        if isinstance(x, Instruction) and x.opcode == "load":
            if id(x) in self._loading:
                return INACTIVE  # (a chain of loads through a merge: the rest of the merge decides)
            self._loading.add(id(x))
            try:
                return self.pointer_class(x.operands[0])  # (from the closed world: a root once visited)
            finally:
                self._loading.discard(id(x))
        return OTHER

    def pointer_class(self, v: Value) -> str:
        """INACTIVE, CLOSED (into the closed world, or into it or inactive memory) or OTHER."""
        bases = self._bases(v)
        if bases is None:
            return OTHER
        classes = {self._base_class(b) for b in bases}
        if OTHER in classes:
            return OTHER
        return CLOSED if CLOSED in classes else INACTIVE

    def _only_closed(self, v: Value) -> bool:
        """Does pointer `v` point into the closed world only (not maybe into inactive memory)?"""
        bases = self._bases(v)
        return bases is not None and all(self._base_class(b) == CLOSED and
                                         (id(b) in self.roots or isinstance(b, Argument)) for b in bases)

    def clean(self, v: Value) -> bool:
        """A value that carries no derivative and no address: a constant, an inactive argument, a
        copy of closed or inactive memory, integer arithmetic on such, a comparison."""
        seen, stack = set(), [v]
        while stack:
            x = stack.pop()
            if id(x) in seen:
                continue
            seen.add(id(x))
            if len(seen) > 512:
                return False
            more = self._clean_operands(x)
            if more is None:
                return False
            stack.extend(more)
        return True

    def _clean_operands(self, v: Value) -> list[Value] | None:
        """The operands `v` is clean if they are (None: it is not)."""
        if isinstance(v, Constant):
            return [] if "@" not in v.text else None  # (no constant expression over an address)
        if isinstance(v, Argument):
            return [] if self._arg_class(v) == CLEAN else None
        if not isinstance(v, Instruction):
            return None
        op = v.opcode
        if op == "load":
            return [] if self.pointer_class(v.operands[0]) != OTHER else None
        if op in ("fptosi", "fptoui", "icmp", "fcmp"):
            return []  # (a comparison or a rounded integer carries no derivative and no address)
        if op == "call" and (v.callee_name or "").startswith("llvm.") and \
                classify_call(self.module, v) is CallKind.INACTIVE and _is_int(v.type):
            return list(v.args)
        return list(v.operands) if op in _INT_OPS and _is_int(v.type) else None

    def storable(self, val: Value) -> bool:
        """May `val` be stored into the closed world?"""
        if isinstance(val.type, T.PointerType):
            cls = self.pointer_class(val)
            if cls == INACTIVE and not (isinstance(val, Constant) and val.is_zero()):
                self.inactive_pointers = True
            return cls != OTHER
        return self.clean(val)

    # --- the walk ---------------------------------------------------------------------------------
    def run(self, merges: bool = True) -> bool:
        """Adopt every root (loads of pointers from the closed world, allocations stored into it) and
        check every use of every root."""
        work = list(self.roots.values())
        walked: set[int] = set()
        while work:
            root = work.pop()
            if id(root) in walked:
                continue
            walked.add(id(root))
            for user, ptr in self._uses(root):
                self._visited += 1
                if self._visited > _LIMIT:
                    return False
                found = self._check(user, ptr)
                if found is None:
                    return False
                for x in found:
                    self.roots[id(x)] = x
                    work.append(x)
        return not merges or self._merges_closed()

    def _uses(self, obj: Value):
        """(user, pointer) for each use of a pointer derived from `obj` (through merges too: what
        they merge is checked once the world is complete, `_merges_closed`)."""
        seen, stack = set(), [obj]
        while stack:
            v = stack.pop()
            if id(v) in seen:
                continue
            seen.add(id(v))
            for u in v.users:
                if u.opcode in _DERIVE or u.opcode in ("phi", "select") and isinstance(u.type, T.PointerType):
                    if u.opcode in ("phi", "select"):
                        self._merges[id(u)] = u
                    stack.append(u)
                else:
                    yield u, v

    def _merges_closed(self) -> bool:
        """Every pointer merge that may yield a closed-world pointer merges only closed-world and
        inactive pointers (else loads through it may read active memory)."""
        for inst in self._merges.values():
            bases = self._bases(inst)
            if bases is None:
                return False
            classes = {self._base_class(b) for b in bases}
            if CLOSED in classes and OTHER in classes:
                return False
        return True

    def _adoptable(self, val: Value) -> list[Value] | None:
        """Allocations stored into the closed world join it (their every use is then checked)."""
        bases = self._bases(val)
        if bases is None:
            return None
        out = []
        for b in bases:
            if isinstance(b, Instruction) and b.opcode in ("call", "invoke") and \
                    classify_call(self.module, b) is CallKind.ALLOC and id(b) not in self.roots:
                out.append(b)
        return out

    def _check(self, u: Instruction, ptr: Value) -> list[Value] | None:
        """New roots that this use of closed-world pointer `ptr` brings, or None if it may let
        active data or the address out of the closed world."""
        op = u.opcode
        if op == "load":
            if isinstance(u.type, T.PointerType):
                return [u]
            return None if _holds_pointer(u.type) else []  # (pointers in a vector: out of sight)
        if op == "store":
            val, to = u.operands
            new = self._adoptable(val) if isinstance(val.type, T.PointerType) else []
            if new is None:
                return None
            if to is ptr and val is not ptr:
                for x in new:
                    self.roots[id(x)] = x  # (classified as closed from here on)
                return new if self.storable(val) else None
            # the address itself is stored: only into the closed world
            return new if self._only_closed(to) and self.storable(val) else None
        if op in ("icmp", "#dbg"):
            return []
        if op == "ptrtoint":
            return [] if self._address_only_compared(u) else None
        if op in ("call", "invoke"):
            return [] if self._call_keeps_closed(u, ptr) else None
        return None  # a return, an aggregate, an atomic, an integer round trip, ...

    def _address_only_compared(self, inst: Instruction) -> bool:
        """An address as an integer used only in arithmetic, comparisons and as a size (a vector's
        capacity), never turned back into a pointer or stored."""
        seen, stack = set(), [inst]
        while stack:
            v = stack.pop()
            for u in v.users:
                if id(u) in seen:
                    continue
                seen.add(id(u))
                if len(seen) > 256:
                    return False
                if u.opcode in _ADDRESS_ARITH:
                    stack.append(u)
                elif u.opcode == "getelementptr" and u.operands[0] is not v:
                    continue  # an index
                elif u.opcode in ("call", "invoke") and classify_call(self.module, u) in \
                        (CallKind.FREE, CallKind.ALLOC, CallKind.MEMCPY, CallKind.MEMSET, CallKind.INACTIVE):
                    continue  # a size
                elif u.opcode == "br" or u.opcode == "switch":
                    continue
                else:
                    return False
        return True

    def _call_keeps_closed(self, call: Instruction, ptr: Value) -> bool:
        kind = classify_call(self.module, call)
        name = call.callee_name or ""
        slots = [k for k, a in enumerate(call.args) if a is ptr]
        if kind in (CallKind.FREE, CallKind.MEMSET) or name.startswith(("llvm.lifetime.", "llvm.dbg.")):
            return True
        if kind is CallKind.INACTIVE:
            return not isinstance(call.type, T.PointerType)
        if kind is CallKind.MEMCPY:
            dest, src = call.args[0], call.args[1]
            if 0 in slots:  # into the closed world: from it or from inactive memory
                return self.pointer_class(src) != OTHER
            return self._only_closed(dest)  # (out of it: into it only)
        if kind is CallKind.DEFINED and call.callee_name is not None:
            if isinstance(call.type, T.PointerType) or not isinstance(call.type, (T.VoidType, T.IntType, T.FloatType)):
                return False
            classes = tuple(self._actual_class(a) for a in call.args)
            ok, inactive = _summary(self.module, call.callee_name, classes, self.memo)
            self.inactive_pointers |= inactive
            return ok
        return False

    def _actual_class(self, a: Value) -> str:
        if isinstance(a.type, T.PointerType):
            c = self.pointer_class(a)
            return c
        return CLEAN if self.clean(a) else OTHER


def _is_int(ty: T.Type) -> bool:
    return isinstance(ty, T.IntType) or isinstance(ty, T.VectorType) and isinstance(ty.elem, T.IntType)


def _holds_pointer(ty: T.Type) -> bool:
    if isinstance(ty, T.PointerType):
        return True
    if isinstance(ty, (T.VectorType, T.ArrayType)):
        return _holds_pointer(ty.elem)
    if isinstance(ty, T.StructType):
        return any(_holds_pointer(e) for e in ty.elems)
    return isinstance(ty, T.NamedStructType)  # (unresolved here: may hold one)


# --- fields: what each slot of a stack object may hold ------------------------------------------
# An object that holds a pointer into active memory needs a shadow, but a field of it that only
# ever holds pointers into declared-inactive memory (a struct keeping weights and an input row)
# has none to hold: the pointers loaded from that field are inactive, as are floats read through
# them. The object's address must not leave this function and the callees it is passed to, and
# every access must be at a constant offset.

def inactive_field(module, fn: Function, load: Instruction, arg_classes: tuple[str, ...], cache: dict) -> bool:
    """Is pointer `load` (of `fn`) read from a field of a stack object that only ever holds
    pointers into declared-inactive memory (or null)?"""
    from adcc.ir import layout
    at = _constant_offset(module, load.operands[0])
    if at is None:
        return False
    obj, off = at
    if id(obj) not in cache:
        cache[id(obj)] = _FieldWalk(module, fn, arg_classes, {}).stores(obj, 0)
    stores = cache[id(obj)]
    if stores is None:
        return False
    size = layout.store_size(module, load.type)
    for o, s, cls in stores:
        if o < off + size and off < o + s and (cls != INACTIVE or (o, s) != (off, size)) and cls != "zero":
            return False
    return True


def _constant_offset(module, p: Value) -> tuple[Instruction, int] | None:
    """(alloca, byte offset) when `p` is a constant offset into a stack object."""
    from adcc.ir import layout
    off = 0
    for _ in range(32):
        if not isinstance(p, Instruction):
            return None
        if p.opcode == "alloca":
            return p, off
        if p.opcode == "getelementptr":
            o = layout.gep_instruction_offset(module, p)
            if o is None:
                return None
            off += o
        elif p.opcode not in ("bitcast", "addrspacecast"):
            return None
        p = p.operands[0]
    return None


class _FieldWalk:
    def __init__(self, module, fn: Function, classes: tuple[str, ...], memo: dict):
        self.module, self.fn, self.classes, self.memo = module, fn, classes, memo
        self.values = _ClosedWalk(module, fn, classes, [], {})  # (to classify stored values)

    def stores(self, base: Value, base_off: int) -> list[tuple[int, int, str]] | None:
        """(offset, size, class) of every store into the object `base` points to at `base_off`,
        here and in the callees it is passed to; None where an access is not at a constant offset
        or the address may leave."""
        from adcc.ir import layout
        out: list[tuple[int, int, str]] = []
        stack, seen = [(base, base_off)], set()
        while stack:
            v, off = stack.pop()
            if id(v) in seen:
                return None  # (the same pointer at two offsets: through a merge)
            seen.add(id(v))
            for u in v.users:
                op = u.opcode
                if op == "getelementptr" and u.operands[0] is v:
                    o = layout.gep_instruction_offset(self.module, u)
                    if o is None:
                        return None
                    stack.append((u, off + o))
                elif op in ("bitcast", "addrspacecast"):
                    stack.append((u, off))
                elif op == "load" and u.operands[0] is v or op in ("icmp", "#dbg"):
                    continue
                elif op == "store" and u.operands[1] is v and u.operands[0] is not v:
                    val = u.operands[0]
                    if isinstance(val.type, T.PointerType):
                        cls = INACTIVE if self.values.pointer_class(val) == INACTIVE else OTHER
                    else:
                        cls = OTHER
                    out.append((off, layout.store_size(self.module, val.type), cls))
                elif op in ("call", "invoke"):
                    got = self._call(u, v, off)
                    if got is None:
                        return None
                    out.extend(got)
                else:
                    return None
        return out

    def _call(self, call: Instruction, v: Value, off: int) -> list[tuple[int, int, str]] | None:
        from adcc.ir import layout
        name = call.callee_name or ""
        kind = classify_call(self.module, call)
        if name.startswith(("llvm.lifetime.", "llvm.dbg.")):
            return []
        if kind is CallKind.MEMSET and call.args[0] is v:
            n, byte = layout.constant_int(call.args[2]), layout.constant_int(call.args[1])
            return None if n is None else [(off, n, "zero" if byte == 0 else OTHER)]
        if kind is not CallKind.DEFINED or isinstance(call.type, T.PointerType) or \
                not isinstance(call.type, (T.VoidType, T.IntType, T.FloatType)):
            return None
        classes = tuple(self._actual_class(a) for a in call.args)
        out = []
        for k, a in enumerate(call.args):
            if a is not v:
                continue
            key = (name, k, classes)
            if key not in self.memo:
                self.memo[key] = []  # (a recursive call: its other paths decide)
                fn = self.module.function(name)
                got = None if k >= len(fn.args) or len(fn.args) != len(classes) else \
                    _FieldWalk(self.module, fn, classes, self.memo).stores(fn.args[k], 0)
                self.memo[key] = got
            got = self.memo[key]
            if got is None:
                return None
            out.extend((off + o, s, c) for o, s, c in got)
        return out

    def _actual_class(self, a: Value) -> str:
        if isinstance(a.type, T.PointerType):
            return self.values.pointer_class(a)  # (INACTIVE or OTHER: no closed world here)
        return CLEAN if self.values.clean(a) else OTHER
