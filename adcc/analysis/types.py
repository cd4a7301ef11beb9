"""Type analysis: what the bytes of every value, and of the memory behind every pointer,
hold (float of which width, integer, pointer, anything), in the spirit of Enzyme's TypeTree.

A tree maps paths to kinds. Path (k,) is byte k of the value itself; (k, j) is byte j of
the memory a pointer stored at byte k points to, (k, j, i) one level deeper. An offset of -1
below the first level means "every offset". Kinds only grow along the lattice
Unknown < Anything < {Float(kind), Integer, Pointer} < Conflict, so the worklist reaches a
fixpoint; missing information stays Unknown (never guessed to be Float).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from adcc.ir.metadata import metadata_index
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.values import Argument, Constant, Function, GlobalRef, Instruction, Value

MAX_OFFSET = 512       # facts at larger offsets are dropped (as Enzyme's MaxTypeOffset)
MAX_NESTED_OFFSET = 64  # ... and beyond this offset in pointees of pointees
MAX_DEPTH = 3          # path length limit (value byte + 2 levels of pointees)
MAX_COPY = 4096        # memcpy sizes beyond this copy only uniform (-1) information


# --- kinds --------------------------------------------------------------------------

class Kind:
    __slots__ = ()
    rank = 0


@dataclass(frozen=True, slots=True)
class _Simple(Kind):
    name: str
    rank: int

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class Float(Kind):
    kind: str  # LLVM spelling: "double", "float", "x86_fp80", ...
    rank = 2

    def __str__(self) -> str:
        return f"Float({self.kind})"

    __repr__ = __str__


Unknown = _Simple("Unknown", 0)
Anything = _Simple("Anything", 1)
Integer = _Simple("Integer", 2)
Pointer = _Simple("Pointer", 2)
Conflict = _Simple("Conflict", 3)   # two incompatible facts (reported by format())


def join(a: Kind, b: Kind) -> Kind:
    if a == b or b.rank < a.rank or b is Unknown:
        return a if a.rank >= b.rank else b
    if a.rank < b.rank:
        return b
    return Conflict  # same rank 2, different kinds


# --- trees --------------------------------------------------------------------------

class TypeTree:
    """Paths (tuples of offsets) to kinds; see the module docstring."""
    __slots__ = ("paths", "version", "changed", "position")

    def __init__(self, paths: dict | None = None):
        self.paths: dict[tuple[int, ...], Kind] = dict(paths or {})
        self.version = 0  # bumped by TypeAnalysis._set on every change
        self.changed: list[tuple[int, ...]] = []  # the path of each change, in order (len: version)
        self.position: dict[tuple[int, ...], int] = {p: k for k, p in enumerate(self.paths)}  # in `paths`

    def get(self, path: tuple[int, ...]) -> Kind:
        """Kind at `path`, falling back to -1 ("every offset") entries below the first level."""
        k = self.paths.get(path)
        if k is not None:
            return k
        best = Unknown
        for alt in _generalizations(path):
            a = self.paths.get(alt)
            if a is not None:
                best = join(best, a)
        return best

    def __getitem__(self, offset: int) -> Kind:
        return self.get((offset,))

    def items(self):
        return sorted(self.paths.items())

    def __eq__(self, other) -> bool:
        return isinstance(other, TypeTree) and self.paths == other.paths

    def __repr__(self) -> str:
        return f"TypeTree({format_tree(self)})"

    def frozen(self) -> tuple:
        return tuple(sorted(self.paths.items(), key=lambda kv: kv[0]))


def _generalizations(path):
    if len(path) < 2:
        return ()
    out = []
    head = path[:1]
    rest = path[1:]
    n = len(rest)
    for mask in range(1, 1 << n):
        alt = tuple(-1 if (mask >> i) & 1 else rest[i] for i in range(n))
        if alt != rest:
            out.append(head + alt)
    return out


def format_tree(tree: TypeTree, prefix: tuple = ()) -> str:
    """`[0,8): Float(double), [8,16): Pointer {[0,4): Integer}` for the paths under `prefix`."""
    level = len(prefix)
    firsts: dict[int, Kind] = {}
    for p, k in tree.paths.items():
        if len(p) == level + 1 and p[:level] == prefix:
            firsts[p[level]] = k
    parts = []
    offs = sorted(firsts)
    i = 0
    while i < len(offs):
        start = offs[i]
        k = firsts[start]
        j = i
        while (start >= 0 and j + 1 < len(offs) and offs[j + 1] == offs[j] + 1
               and firsts[offs[j + 1]] == k and not _has_children(tree, prefix + (offs[j + 1],))):
            j += 1
        rng = "[*]" if start == -1 else f"[{start},{offs[j] + 1})"
        sub = format_tree(tree, prefix + (start,)) if _has_children(tree, prefix + (start,)) else ""
        parts.append(f"{rng}: {k}" + (f" {{{sub}}}" if sub else ""))
        i = j + 1
    return ", ".join(parts)


def _has_children(tree: TypeTree, prefix: tuple) -> bool:
    n = len(prefix)
    return any(len(p) > n and p[:n] == prefix for p in tree.paths)


# --- known functions ------------------------------------------------------------------

ALLOCATORS = frozenset({"malloc", "calloc", "realloc", "aligned_alloc", "posix_memalign", "_Znwm",
                        "_Znam", "_ZnwmSt11align_val_t"})
MEMCPY = ("llvm.memcpy", "llvm.memmove", "memcpy", "memmove", "llvm.memcpy.inline")
MEMSET = ("llvm.memset", "memset", "llvm.memset.inline")
LIBM_INT_PARAMS = frozenset({"ldexp", "ldexpf", "ldexpl", "scalbn", "scalbnf", "scalbln", "jn", "yn"})
TBAA_INTEGERS = frozenset({"int", "long", "long long", "short", "bool", "_Bool", "unsigned int",
                           "unsigned long", "unsigned long long", "unsigned short", "__int128",
                           "unsigned __int128", "wchar_t", "char16_t", "char32_t"})
TBAA_FLOATS = {"double": "double", "float": "float", "long double": "x86_fp80", "__float128": "fp128",
               "_Float16": "half", "__fp16": "half"}


# Enzyme's type hints, `__enzyme_double(p, nbytes)` and friends (matched as substrings, as
# Enzyme does): the memory at p holds that kind for nbytes (one element when the size is left
# out or not a constant: every offset). They outrank clang's TBAA on accesses through p.
TYPE_HINTS = {"__enzyme_float": (Float("float"), 4), "__enzyme_double": (Float("double"), 8),
              "__enzyme_integer": (Integer, 1), "__enzyme_pointer": (Pointer, 8)}


def type_hint(name: str | None) -> tuple[Kind, int] | None:
    """(kind, element size) of a type-hint function, or None."""
    if name is None or "__enzyme_" not in name:
        return None
    return next((v for k, v in TYPE_HINTS.items() if k in name), None)


def tbaa_kind(name: str) -> Kind:
    if name in TBAA_FLOATS:
        return Float(TBAA_FLOATS[name])
    if name in TBAA_INTEGERS:
        return Integer
    if name in ("any pointer", "vtable pointer") or name.startswith(("p1 ", "p2 ", "p3 ", "p4 ", "any p")):
        return Pointer
    return Unknown  # "omnipotent char", structs, enums of unknown width ...


def _callee_family(name: str | None, family) -> bool:
    return name is not None and any(name == f or name.startswith(f + ".") for f in family)


# --- the analysis ---------------------------------------------------------------------

class TypeAnalysis:
    """Runs to a fixpoint on construction. `arg_trees` seeds argument trees (value paths)."""

    def __init__(self, module, fn: Function, arg_trees: dict[int, TypeTree] | None = None,
                 _context: "_Interprocedural | None" = None):
        self.module = module
        self.fn = fn
        self.trees: dict[Value, TypeTree] = {}
        self.return_tree = TypeTree()
        self.conflicts: list[str] = []
        self._conflicted: set[Value] = set()
        self._ctx = _context or _Interprocedural()
        self._md = metadata_index(module)
        self._work: list[Instruction] = []
        self._queued: set[Instruction] = set()
        self._copied: dict[tuple, int] = {}  # _copy's arguments -> source tree version
        self._periodic = False  # the second phase (see __init__)
        self._returns = [i for i in fn.instructions() if i.opcode == "ret" and i.operands]
        self._hinted = {id(_base(i.args[0])) for i in fn.instructions()
                        if i.opcode == "call" and i.args and type_hint(i.callee_name) is not None}
        for a in fn.args:
            self._seed(a)
        for inst in fn.instructions():
            self._seed(inst)
        for idx, tree in (arg_trees or {}).items():
            if idx < len(fn.args):
                for p, k in tree.paths.items():
                    self._set(fn.args[idx], p, k)
        self._queue_all()
        self._run()
        # Second phase: a variable-index GEP into a region whose facts repeat with its stride
        # points at that region's element (_periodic_element). Concluding that needs the absence
        # of disagreeing facts, which only the fixpoint of the first phase makes likely.
        self._periodic = True
        for inst in fn.instructions():
            if inst.opcode == "getelementptr":
                self._push(inst)
        self._run()

    # --- public queries ---------------------------------------------------------------
    def value_tree(self, v: Value) -> TypeTree:
        """For pointers: the pointee memory at offsets from v (with deeper levels); for other
        values: the value's own bytes."""
        t = self._tree(v)
        if isinstance(v.type, T.PointerType):
            return TypeTree({p[1:]: k for p, k in t.paths.items() if p[0] == 0 and len(p) > 1})
        return TypeTree(t.paths)

    def scalar_kind(self, v: Value) -> Kind:
        """Join of the kinds of v's bytes (for aggregates: of all members)."""
        if isinstance(v.type, T.FloatType):
            return Float(v.type.kind)
        if isinstance(v.type, T.PointerType):
            return Pointer
        t = self._tree(v)
        k = Unknown
        for p, kind in t.paths.items():
            if len(p) == 1:
                k = join(k, kind)
        return k

    def memory_kind(self, ptr_value: Value, offset: int, size: int) -> Kind:
        t = self._tree(ptr_value)
        k = Unknown
        for b in range(offset, offset + size):
            k = join(k, t.get((0, b)))
        return k

    def copy_element(self, call_inst: Instruction):
        """What a memcpy/memmove copies: Float(kind) | Pointer | Integer | 'mixed' | Unknown."""
        dst, src = call_inst.args[0], call_inst.args[1]
        n = layout.constant_int(call_inst.args[2])
        kinds = set()
        for v in (dst, src):
            t = self._tree(v)
            for p, k in t.paths.items():
                if len(p) == 2 and p[0] == 0 and (n is None or p[1] == -1 or 0 <= p[1] < n):
                    if k is not Unknown and k is not Anything:
                        kinds.add(k)
        if not kinds:
            return Unknown
        if len(kinds) == 1:
            return next(iter(kinds))
        return "mixed"

    def format(self) -> str:
        from adcc.ir.printer import Namer
        namer = Namer(self.fn)
        lines = [f"types of @{self.fn.fname}:"]
        for v in list(self.fn.args) + [i for i in self.fn.instructions() if not isinstance(i.type, T.VoidType)]:
            if v.type == T.label or v.opcode == "#dbg" if isinstance(v, Instruction) else False:
                continue
            lines.append(f"  {namer.ref(v)}: {_summary(self, v)}")
        if self.return_tree.paths:
            lines.append(f"  return: {format_tree(self.return_tree)}")
        for c in self.conflicts:
            lines.append(f"  conflict: {c}")
        return "\n".join(lines)

    # --- trees and the worklist -----------------------------------------------------------
    def _tree(self, v: Value) -> TypeTree:
        t = self.trees.get(v)
        if t is None:
            t = TypeTree()
            if not isinstance(v, (Instruction, Argument)):
                self._seed_constant(v, t)
            self.trees[v] = t
        return t

    def _set(self, v: Value, path: tuple, kind: Kind) -> None:
        # the hot spot of the analysis: calls and lookups are inlined
        n = len(path)
        if kind is Unknown or n > MAX_DEPTH or path[0] < 0:
            return
        if n > 1:
            if path[1] < -1 or path[1] > MAX_OFFSET:
                return  # outside the object, or too far to track
            if n == 3 and (path[2] < -1 or path[2] > MAX_NESTED_OFFSET):  # n <= MAX_DEPTH == 3
                return
        t = self.trees.get(v)
        if t is None:
            t = self._tree(v)
        paths = t.paths
        old = paths.get(path, Unknown)
        if old is kind:
            return
        new = join(old, kind)
        if new is old or new == old:
            return
        if new is Conflict and v not in self._conflicted:
            self._conflicted.add(v)  # one report per value
            self.conflicts.append(f"{_vname(v)} at {list(path)}: {old} and {kind}")
        if path not in t.position:
            t.position[path] = len(t.position)
        paths[path] = new
        t.version += 1
        t.changed.append(path)
        queued, work = self._queued, self._work
        if isinstance(v, Instruction) and v not in queued:
            queued.add(v)
            work.append(v)
        for u, _ in v.uses:
            if u not in queued:
                queued.add(u)
                work.append(u)

    def _push(self, inst: Instruction) -> None:
        if inst not in self._queued:
            self._queued.add(inst)
            self._work.append(inst)

    def _queue_all(self) -> None:
        for inst in self.fn.instructions():
            self._push(inst)

    def _run(self) -> None:
        while self._work:
            inst = self._work.pop()
            self._queued.discard(inst)
            if inst.block is None or inst.block.function is not self.fn and inst.block.function is not None:
                continue
            handler = _TRANSFER.get(inst.opcode)
            if handler is not None:
                handler(self, inst)

    # --- seeds from IR types --------------------------------------------------------------
    def _seed(self, v: Value) -> None:
        self._tree(v)
        self._seed_type(v, v.type, 0)
        if isinstance(v, Instruction) and v.opcode in ("icmp", "fcmp"):
            self._set(v, (0,), Integer)

    def _seed_type(self, v: Value, ty: T.Type, base: int) -> None:
        ty = self.module.resolve(ty) if isinstance(ty, T.NamedStructType) else ty
        if isinstance(ty, T.FloatType):
            for b in range(layout.store_size(self.module, ty)):
                self._set(v, (base + b,), Float(ty.kind))
        elif isinstance(ty, T.PointerType):
            for b in range(layout.store_size(self.module, ty)):
                self._set(v, (base + b,), Pointer)
        elif isinstance(ty, T.IntType) and ty.bits == 1:
            self._set(v, (base,), Integer)
        elif isinstance(ty, T.VectorType) and not ty.scalable:
            es = layout.store_size(self.module, ty.elem) if not isinstance(ty.elem, T.IntType) or ty.elem.bits >= 8 else 0
            if es:
                for k in range(ty.count):
                    self._seed_type(v, ty.elem, base + k * es)
        elif isinstance(ty, T.StructType):
            for off, e in zip(layout.struct_offsets(self.module, ty), ty.elems):
                self._seed_type(v, e, base + off)
        elif isinstance(ty, T.ArrayType) and ty.count <= 1024:
            es = layout.alloc_size(self.module, ty.elem)
            for k in range(ty.count):
                self._seed_type(v, ty.elem, base + k * es)

    def _seed_constant(self, v: Value, t: TypeTree) -> None:
        if isinstance(v, GlobalRef) or isinstance(v.type, (T.PointerType, T.FloatType)):
            self.trees[v] = t
            self._seed_type(v, v.type, 0)
            return
        if isinstance(v, Constant) and isinstance(v.type, T.IntType) and v.text in ("0", "false", "zeroinitializer"):
            for b in range(max(1, v.type.bits // 8)):
                t.position.setdefault((b,), len(t.position))
                t.paths[(b,)] = Anything
        elif isinstance(v, Constant) and v.is_undef():
            pass
        elif isinstance(v, Constant):
            self.trees[v] = t
            self._seed_type(v, v.type, 0)

    # --- helpers for transfer functions -----------------------------------------------------
    def _size(self, ty: T.Type) -> int:
        try:
            return layout.store_size(self.module, ty)
        except layout.LayoutError:
            return 0

    def _copy(self, dst: Value, pd: tuple, src: Value, ps: tuple, lo: int, hi: int | None, shift: int) -> None:
        """dst[pd + (o - shift, ...)] ⊔= src[ps + (o, ...)] for o in [lo, hi) (all if hi is None)."""
        n = len(ps)
        st = self._tree(src)
        if not st.paths:
            return
        # the same copy from an unchanged source adds nothing: trees only grow (by join), so
        # what it added last time is still there
        key = (id(st), pd, id(self._tree(dst)), ps, lo, hi, shift)  # trees live as long as self
        last = self._copied.get(key)
        if last == st.version:
            return
        self._copied[key] = st.version
        updates = []
        for p, k in _changed_since(st, last):
            if len(p) <= n or p[:n] != ps:
                continue
            o = p[n]
            if o == -1:
                updates.append((pd + (-1,) + p[n + 1:], k))
                continue
            if o < lo or (hi is not None and o >= hi) or o - shift < 0:
                continue
            updates.append((pd + (o - shift,) + p[n + 1:], k))
        dpaths = self._tree(dst).paths
        for path, k in updates:
            old = dpaths.get(path)
            if old is not None and (old is k or k.rank < old.rank or old == k):
                continue  # nothing new (the common case once near the fixpoint)
            if path[0] >= 0:
                self._set(dst, path, k)

    def _integer(self, v: Value) -> None:
        if isinstance(v.type, T.IntType):
            for b in range(max(1, v.type.bits // 8)):
                self._set(v, (b,), Integer)

    def _mark_memory(self, ptr: Value, lo: int, size: int | None, kind: Kind) -> None:
        if size is None or size > MAX_COPY:
            self._set(ptr, (0, -1), kind)
        else:
            for b in range(lo, lo + size):
                self._set(ptr, (0, b), kind)


def _changed_since(tree: TypeTree, version: int | None):
    """The (path, kind) items of `tree` changed since `version` (all when None), in the order of
    `tree.paths`. A copy from the tree at `version` already joined the others into its
    destination, which only grows: copying them again would change nothing."""
    if version is None or 2 * (tree.version - version) >= len(tree.paths):
        return list(tree.paths.items())
    position = tree.position
    paths = tree.paths
    return [(p, paths[p]) for p in sorted(set(tree.changed[version:]), key=position.__getitem__)]


def _vname(v: Value) -> str:
    if isinstance(v, Constant):
        return v.text
    return "%" + (v.name or "?")


def _summary(ta: TypeAnalysis, v: Value) -> str:
    t = ta._tree(v)
    if isinstance(v.type, T.PointerType):
        inner = format_tree(t, (0,))
        return "Pointer" + (f" {{{inner}}}" if inner else "")
    if isinstance(v.type, (T.StructType, T.ArrayType, T.NamedStructType, T.VectorType)):
        return "{" + format_tree(t) + "}"
    k = ta.scalar_kind(v)
    inner = format_tree(t, (0,))
    return str(k) + (f" {{{inner}}}" if inner else "")


# --- transfer functions ------------------------------------------------------------------

def _t_load(ta: TypeAnalysis, inst: Instruction) -> None:
    p = inst.operands[0]
    size = ta._size(inst.type)
    _tbaa(ta, inst, p, size, inst)
    _value_memory(ta, inst, p, size)


def _t_store(ta: TypeAnalysis, inst: Instruction) -> None:
    v, p = inst.operands[0], inst.operands[1]
    size = ta._size(v.type)
    _tbaa(ta, inst, p, size, v)
    _value_memory(ta, v, p, size)


def _value_memory(ta: TypeAnalysis, v: Value, p: Value, size: int) -> None:
    """Bytes [0,size) of value v are the memory at p: v[(k, ...)] <-> p[(0, k, ...)]."""
    if size == 0:
        return
    ta._copy(p, (0,), v, (), 0, size, 0)
    ta._copy(v, (), p, (0,), 0, size, 0)
    # uniform memory (offset -1) describes every byte of the value
    pt = ta._tree(p)
    for path, k in list(pt.paths.items()):
        if len(path) >= 2 and path[0] == 0 and path[1] == -1:
            if len(path) == 2:
                for b in range(size):
                    ta._set(v, (b,), k)
            else:  # what a pointer points to is recorded at the pointer's first byte
                ta._set(v, (0,) + path[2:], k)


def _base(p: Value) -> Value:
    """The pointer `p` is derived from through GEPs and casts."""
    while isinstance(p, Instruction) and p.opcode in ("getelementptr", "bitcast", "addrspacecast"):
        p = p.operands[0]
    return p


def _tbaa(ta: TypeAnalysis, inst: Instruction, p: Value, size: int, v: Value) -> None:
    tag = inst.get_metadata("tbaa")
    if tag is None or (ta._hinted and id(_base(p)) in ta._hinted):
        return  # the program's type hint on this memory outranks clang's TBAA
    acc = ta._md.tbaa_access_type(tag)
    if acc is None:
        return
    k = tbaa_kind(acc[0])
    if k is Unknown:
        return
    ta._mark_memory(p, 0, size, k)
    for b in range(size):
        ta._set(v, (b,), k)


def _t_same(ta: TypeAnalysis, inst: Instruction) -> None:
    """phi, select, freeze, bitcast, addrspacecast, ptrtoint, inttoptr: result <-> inputs."""
    if inst.opcode == "phi":
        ins = [v for v, _ in inst.incoming()]
    elif inst.opcode == "select":
        ins = inst.operands[1:3]
    else:
        ins = inst.operands[:1]
    for v in ins:
        if isinstance(v, Constant) and v.is_undef():
            continue
        ta._copy(inst, (), v, (), 0, None, 0)
        if not isinstance(v, Constant) or isinstance(v, GlobalRef):
            ta._copy(v, (), inst, (), 0, None, 0)


def _t_gep(ta: TypeAnalysis, inst: Instruction) -> None:
    base = inst.operands[0]
    idx = inst.operands[1:]
    for ix in idx:
        ta._integer(ix)
    if isinstance(inst.type, T.VectorType):
        return
    try:
        split = layout.gep_strides(ta.module, inst.info["source_type"], idx)
    except (layout.LayoutError, IndexError):
        return
    if split is None:
        return
    const, var = split
    if not var and const and _is_pointer_walk(inst, base):
        var = [(None, abs(const))]  # p = phi [p0], [p + c]: a strided walk, not one offset
    if not var:
        # result points `const` bytes into base
        ta._copy(inst, (0,), base, (0,), -MAX_OFFSET, None, const)
        ta._copy(base, (0,), inst, (0,), -MAX_OFFSET, None, -const)
        return
    # variable index: only uniform (every-offset) facts cross the GEP, and, once the facts at
    # fixed offsets are known (the second phase), the element of a region that repeats with the
    # GEP's period
    for path, k in list(ta._tree(base).paths.items()):
        if len(path) >= 2 and path[0] == 0 and path[1] == -1:
            ta._set(inst, path, k)
    if ta._periodic:
        period = 0
        for _, s in var:
            period = math.gcd(period, s)
        element = _periodic_element(ta, base, const, period)
        if element:
            for j, k in element.items():
                ta._set(inst, (0, j), k)
            return  # (facts the base gave are no news to spread over all of it)
    rt = ta._tree(inst)
    firsts = {p[1]: k for p, k in rt.paths.items() if len(p) == 2 and p[0] == 0 and p[1] >= 0}
    if firsts:
        kinds = set(firsts.values())
        span = max(firsts) + 1
        stride = min(s for _, s in var)
        kind = next(iter(kinds))
        if len(kinds) == 1 and len(firsts) == span and (span >= stride or _padded_float(ta, kind, span, stride)):
            ta._set(base, (0, -1), kind)


def _padded_float(ta: TypeAnalysis, kind: Kind, span: int, stride: int) -> bool:
    """An array of a float type whose elements are padded (x86_fp80: 10 bytes in 16)."""
    if not isinstance(kind, Float):
        return False
    ty = T.FloatType(kind.kind)
    return span == layout.store_size(ta.module, ty) and stride == layout.alloc_size(ta.module, ty)


def _periodic_element(ta: TypeAnalysis, base: Value, const: int, period: int) -> dict[int, Kind] | None:
    """Byte j in [0, period) -> kind of the memory at `base + const + m*period + j`, for the
    element a variable-index GEP reaches, when every window [const + m*period, +period), m >= 0,
    the base's facts describe agrees on it; None when two windows disagree, or a float would
    straddle a window (the period is no multiple of its size). Variable indices are taken as
    non-negative: the field array of a record (`{i32, [n x double]}, p, 0, 1, i`) starts at its
    constant offset, and memory before a pointer is no part of its tree either."""
    if period <= 0 or period > MAX_OFFSET or const < 0:
        return None
    facts = ta._tree(base).paths
    element: dict[int, Kind] = {}
    for path, k in facts.items():
        if len(path) != 2 or path[0] != 0 or path[1] < const or k is Unknown:
            continue
        j = (path[1] - const) % period
        old = element.get(j)
        if old is None or old is Anything:
            element[j] = k
        elif k is not Anything and k != old:
            return None  # two windows disagree: the element depends on the index
    for k in set(element.values()):
        if k is Conflict:
            return None
        if isinstance(k, Float) and period % layout.alloc_size(ta.module, T.FloatType(k.kind)):
            return None
    return element


def _is_pointer_walk(gep: Instruction, base: Value) -> bool:
    if not isinstance(base, Instruction) or base.opcode != "phi":
        return False
    return any(v is gep for v, _ in base.incoming())


def _t_int_binary(ta: TypeAnalysis, inst: Instruction) -> None:
    if not isinstance(inst.type, T.IntType):
        return
    a, b = inst.operands
    op = inst.opcode
    ka, kb = ta.scalar_kind(a), ta.scalar_kind(b)
    if op in ("add", "sub", "or") and (ka is Pointer or kb is Pointer):
        if op == "sub":  # p - q is a distance; p - k a pointer (decided only on known facts)
            if ka is Pointer and kb is Pointer:
                ta._integer(inst)
            elif ka is Pointer and (kb is Integer or isinstance(b, Constant)):
                for b_ in range(ta._size(inst.type)):
                    ta._set(inst, (b_,), Pointer)
        elif ka is Pointer and kb is not Pointer or kb is Pointer and ka is not Pointer:
            for b_ in range(ta._size(inst.type)):
                ta._set(inst, (b_,), Pointer)
        return
    if op in ("mul", "udiv", "sdiv", "urem", "srem", "shl", "lshr", "ashr"):
        ta._integer(inst)
        if not isinstance(a, Constant):
            ta._integer(a)
        if op not in ("shl", "lshr", "ashr") and not isinstance(b, Constant):
            ta._integer(b)
        return
    if op in ("and", "or", "xor"):
        if (ka is Integer and (kb is Integer or isinstance(b, Constant))) or \
                (kb is Integer and isinstance(a, Constant)):
            ta._integer(inst)
        return
    if op in ("add", "sub") and ka is Integer and kb in (Integer, Anything):
        ta._integer(inst)
    elif op in ("add", "sub") and kb is Integer and ka in (Integer, Anything):
        ta._integer(inst)


def _t_int_cast(ta: TypeAnalysis, inst: Instruction) -> None:
    op = inst.opcode
    if op in ("zext", "sext", "trunc"):
        ta._integer(inst)
        ta._integer(inst.operands[0])
    elif op in ("sitofp", "uitofp"):
        ta._integer(inst.operands[0])
    elif op in ("fptosi", "fptoui"):
        ta._integer(inst)


def _t_switch(ta: TypeAnalysis, inst: Instruction) -> None:
    ta._integer(inst.operands[0])


def _t_extractvalue(ta: TypeAnalysis, inst: Instruction) -> None:
    agg = inst.operands[0]
    off, size = _aggregate_region(ta, agg.type, inst.info["indices"])
    if off is None:
        return
    ta._copy(inst, (), agg, (), off, off + size, off)
    ta._copy(agg, (), inst, (), 0, size, -off)


def _t_insertvalue(ta: TypeAnalysis, inst: Instruction) -> None:
    agg, v = inst.operands[0], inst.operands[1]
    off, size = _aggregate_region(ta, agg.type, inst.info["indices"])
    if off is None:
        return
    ta._copy(inst, (), v, (), 0, size, -off)
    ta._copy(v, (), inst, (), off, off + size, off)
    total = ta._size(agg.type)
    for lo, hi in ((0, off), (off + size, total)):
        if hi > lo:
            ta._copy(inst, (), agg, (), lo, hi, 0)
            if not isinstance(agg, Constant):
                ta._copy(agg, (), inst, (), lo, hi, 0)


def _aggregate_region(ta: TypeAnalysis, ty: T.Type, indices) -> tuple[int | None, int]:
    off = 0
    for k in indices:
        ty = ta.module.resolve(ty)
        if isinstance(ty, T.StructType):
            off += layout.struct_offsets(ta.module, ty)[k]
            ty = ty.elems[k]
        elif isinstance(ty, T.ArrayType):
            ty = ty.elem
            off += k * layout.alloc_size(ta.module, ty)
        else:
            return None, 0
    return off, ta._size(ty)


def _t_elements(ta: TypeAnalysis, inst: Instruction) -> None:
    """extractelement/insertelement/shufflevector: every element shares one tree."""
    vecs = [v for v in [inst] + inst.operands if isinstance(v.type, T.VectorType)]
    if not vecs:
        return
    es = ta._size(vecs[0].type.elem)
    if es == 0:
        return
    scalars = [v for v in [inst] + inst.operands[:2] if not isinstance(v.type, T.VectorType)
               and v.type == vecs[0].type.elem]
    for v in vecs:
        for s in scalars:
            for e in range(v.type.count):
                ta._copy(s, (), v, (), e * es, e * es + es, e * es)
                if not isinstance(v, Constant):
                    ta._copy(v, (), s, (), 0, es, -e * es)
    for v in vecs:
        for w in vecs:
            if v is not w and not isinstance(v, Constant):
                n = min(v.type.count, w.type.count) * es
                ta._copy(v, (), w, (), 0, n, 0)


def _t_ret(ta: TypeAnalysis, inst: Instruction) -> None:
    if not inst.operands:
        return
    v = inst.operands[0]
    t = ta._tree(v)
    for p, k in t.paths.items():
        ta.return_tree.paths[p] = join(ta.return_tree.paths.get(p, Unknown), k)


def _t_call(ta: TypeAnalysis, inst: Instruction) -> None:
    name = inst.callee_name
    args = inst.args
    hint = type_hint(name)
    if hint is not None and args and isinstance(args[0].type, T.PointerType):
        kind, elem = hint
        n = layout.constant_int(args[1]) if len(args) > 1 else elem
        if len(args) > 1:
            ta._integer(args[1])
        ta._mark_memory(args[0], 0, None if n is None else max(n, elem), kind)
        return
    if _callee_family(name, MEMCPY):
        dst, src, n = args[0], args[1], args[2]
        size = layout.constant_int(n)
        ta._integer(n)
        if size is not None and size <= MAX_COPY:
            ta._copy(dst, (0,), src, (0,), 0, size, 0)
            ta._copy(src, (0,), dst, (0,), 0, size, 0)
        for a, b in ((dst, src), (src, dst)):
            for path, k in list(ta._tree(a).paths.items()):
                if len(path) >= 2 and path[0] == 0 and (path[1] == -1 or size is None):
                    ta._set(b, (0, -1) + path[2:], k)
        for off, sz, tag in ta._md.tbaa_struct(inst.get_metadata("tbaa.struct")):
            acc = ta._md.tbaa_access_type(tag)
            k = tbaa_kind(acc[0]) if acc else Unknown
            if k is not Unknown:
                ta._mark_memory(dst, off, sz, k)
                ta._mark_memory(src, off, sz, k)
        return
    if _callee_family(name, MEMSET):
        dst, val, n = args[0], args[1], args[2]
        size = layout.constant_int(n)
        ta._integer(n)
        if isinstance(val, Constant) and layout.constant_int(val) == 0:
            ta._mark_memory(dst, 0, size, Anything)
        return
    if name in ALLOCATORS:
        for a in args:
            if isinstance(a.type, T.IntType):
                ta._integer(a)
        if name == "realloc":
            ta._copy(inst, (0,), args[0], (0,), -MAX_OFFSET, None, 0)
            ta._copy(args[0], (0,), inst, (0,), -MAX_OFFSET, None, 0)
        return
    if name is not None and (name.startswith("llvm.") or name in LIBM_INT_PARAMS):
        for a in args:
            if isinstance(a.type, T.IntType) and a.type.bits > 1 and not name.startswith(("llvm.lifetime", "llvm.dbg")):
                if not name.startswith(("llvm.memcpy", "llvm.ptrmask")):
                    ta._integer(a)
        if isinstance(inst.type, T.IntType) and name.startswith(("llvm.ctpop", "llvm.ctlz", "llvm.cttz", "llvm.smax",
                                                                 "llvm.smin", "llvm.umax", "llvm.umin", "llvm.abs")):
            ta._integer(inst)
        return
    if name is not None and ta.module.is_defined(name) and not name.startswith("__enzyme"):
        ta._ctx.call(ta, inst, name)


_TRANSFER = {"load": _t_load, "store": _t_store, "getelementptr": _t_gep, "call": _t_call,
             "invoke": _t_call, "switch": _t_switch, "ret": _t_ret,
             "extractvalue": _t_extractvalue, "insertvalue": _t_insertvalue,
             "extractelement": _t_elements, "insertelement": _t_elements, "shufflevector": _t_elements}
for _op in ("phi", "select", "freeze", "bitcast", "addrspacecast", "ptrtoint", "inttoptr"):
    _TRANSFER[_op] = _t_same
for _op in ("add", "sub", "mul", "udiv", "sdiv", "urem", "srem", "shl", "lshr", "ashr", "and", "or", "xor"):
    _TRANSFER[_op] = _t_int_binary
for _op in ("zext", "sext", "trunc", "sitofp", "uitofp", "fptosi", "fptoui"):
    _TRANSFER[_op] = _t_int_cast


# --- interprocedural -------------------------------------------------------------------

class _Interprocedural:
    """Callee analyses shared by one top-level analysis, keyed by (callee, argument trees)."""

    MAX_DEPTH = 8

    def __init__(self):
        self.cache: dict[tuple, TypeAnalysis] = {}
        self.stack: list[str] = []

    def call(self, ta: TypeAnalysis, inst: Instruction, name: str) -> None:
        if name in self.stack or len(self.stack) >= self.MAX_DEPTH:
            return  # recursion: the caller's own facts are all we use
        callee = ta.module.function(name)
        args = inst.args
        trees = {k: ta._tree(a) for k, a in enumerate(args) if k < len(callee.args)}
        key = (name,) + tuple(trees[k].frozen() for k in sorted(trees))
        sub = self.cache.get(key)
        if sub is None:
            self.stack.append(name)
            try:
                sub = TypeAnalysis(ta.module, callee, {k: TypeTree(t.paths) for k, t in trees.items()}, self)
            finally:
                self.stack.pop()
            self.cache[key] = sub
        for k, a in enumerate(args[:len(callee.args)]):
            if isinstance(a, Constant) and not isinstance(a, GlobalRef):
                continue
            for p, kind in sub._tree(callee.args[k]).paths.items():
                ta._set(a, p, kind)
        if not isinstance(inst.type, T.VoidType):
            for p, kind in sub.return_tree.paths.items():
                ta._set(inst, p, kind)


def analyze_types(module, fn: Function) -> TypeAnalysis:
    return TypeAnalysis(module, fn)


def cached_types(module, fn: Function, arg_types: tuple = ()) -> TypeAnalysis:
    """analyze_types(module, fn), computed once while neither `fn` nor a function its analysis
    followed has changed: the derivatives of one function for several activity patterns (and
    the checks of each call site) share it. The cache lives on the module object. `arg_types`
    (FunctionSpec.arg_types: a frozen tree per argument) seeds the arguments' trees with what a
    caller knows."""
    cache = getattr(module, "_adcc_types", None)
    if cache is None:
        cache = module._adcc_types = {}
    key = (fn, arg_types) if arg_types else fn
    hit = cache.get(key)
    if hit is not None and hit[1] == _snapshot(module, hit[2]):
        return hit[0]
    seeds = {k: TypeTree(dict(t)) for k, t in enumerate(arg_types) if t} if arg_types else None
    ta = TypeAnalysis(module, fn, seeds)
    covered = [fn] + [sub.fn for sub in ta._ctx.cache.values() if sub.fn is not fn]
    cache[key] = (ta, _snapshot(module, covered), covered)
    return ta


def _snapshot(module, fns: list[Function]) -> list:
    """What an analysis of `fns[0]` read: the instructions of `fns` (by identity), their
    operands, metadata and types, whether each callee is defined, and that the callees `fns[1:]`
    are still the module's definitions."""
    out: list = []
    for k, fn in enumerate(fns):
        out.append(fn)
        if k:
            entry = module.functions.get(fn.fname)
            out.append(entry is not None and entry.parsed is fn)
        for inst in fn.instructions():
            out.append(inst)
            out.append(inst.opcode)
            out.append(inst.type)
            out.append(tuple(inst.operands))
            out.append(tuple(inst.metadata))
            if inst.opcode in ("call", "invoke"):
                name = inst.callee_name
                out.append(name is not None and module.is_defined(name))
    return out


def format_types(module_text: str, function_name: str) -> str:
    from adcc.ir import parse_module
    m = parse_module(module_text)
    return analyze_types(m, m.function(function_name)).format()
