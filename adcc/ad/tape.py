"""The tape: record layouts, the runtime's push/pop/reserve helpers, and the plan of where the
reverse pass gets each value it needs (constant, function record, loop counter, recomputation,
once per loop execution, or a block's record), plus the preallocated records of fast loops and
tapes whose size is known at compile time. docs/reverse-mode.md states the invariants.
"""
from __future__ import annotations

from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Argument, Block, Constant, Instruction, Value

TAPE_TYPE = T.StructType((T.ptr, T.i64, T.i64))

TAPE_HELPERS = """
define internal ptr @adcc.tape.push(ptr %t, i64 %n) alwaysinline nounwind {
  %topp = getelementptr inbounds i8, ptr %t, i64 8
  %top = load i64, ptr %topp, align 8
  %capp = getelementptr inbounds i8, ptr %t, i64 16
  %cap = load i64, ptr %capp, align 8
  %nt = add i64 %top, %n
  %ok = icmp ule i64 %nt, %cap
  br i1 %ok, label %fast, label %slow
fast:
  %base = load ptr, ptr %t, align 8
  %p = getelementptr inbounds i8, ptr %base, i64 %top
  store i64 %nt, ptr %topp, align 8
  ret ptr %p
slow:
  %q = call ptr @adcc_tape_grow(ptr %t, i64 %n)
  ret ptr %q
}

define internal ptr @adcc.tape.reserve(ptr %t, i64 %n) alwaysinline nounwind {
  %topp = getelementptr inbounds i8, ptr %t, i64 8
  %top = load i64, ptr %topp, align 8
  %p = call ptr @adcc.tape.push(ptr %t, i64 %n)
  store i64 %top, ptr %topp, align 8
  %base = load ptr, ptr %t, align 8
  ret ptr %base
}

define internal ptr @adcc.tape.pop(ptr %t, i64 %n) alwaysinline nounwind {
  %topp = getelementptr inbounds i8, ptr %t, i64 8
  %top = load i64, ptr %topp, align 8
  %nt = sub i64 %top, %n
  store i64 %nt, ptr %topp, align 8
  %base = load ptr, ptr %t, align 8
  %p = getelementptr inbounds i8, ptr %base, i64 %nt
  ret ptr %p
}

"""


# reverse of a copy of floats: dsrc[i] += ddst[i]; ddst[i] = 0 (element type {ty}, {size} bytes);
# the `add` variant leaves ddst alone (a copy into fresh memory: nothing reads ddst afterwards);
# the `.shared` variants add into dsrc atomically (memory other threads share, in a parallel region)
ADJOINT_COPY = """
define internal void @adcc.adjoint.{name}.{ty}(ptr %dd, ptr %ds, i64 %n) nounwind {{
entry:
  %cnt = lshr i64 %n, {shift}
  %z = icmp eq i64 %cnt, 0
  br i1 %z, label %done, label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i1, %loop ]
  %pd = getelementptr inbounds {fty}, ptr %dd, i64 %i
  %ps = getelementptr inbounds {fty}, ptr %ds, i64 %i
  %vd = load {fty}, ptr %pd, align {size}
{zero}
{accumulate}
  %i1 = add i64 %i, 1
  %c = icmp eq i64 %i1, %cnt
  br i1 %c, label %done, label %loop
done:
  ret void
}}
"""


# reverse of a memmove of floats, whose source and destination may overlap: the same as a copy,
# walking away from the overlap (upwards when the destination lies above the source), so that each
# destination adjoint is read before a source contribution lands on it
ADJOINT_MOVE = """
define internal void @adcc.adjoint.move.{ty}(ptr %dd, ptr %ds, i64 %n) nounwind {{
entry:
  %cnt = lshr i64 %n, {shift}
  %z = icmp eq i64 %cnt, 0
  br i1 %z, label %done, label %pick
pick:
  %up = icmp ugt ptr %dd, %ds
  %last = add i64 %cnt, -1
  %start = select i1 %up, i64 0, i64 %last
  %step = select i1 %up, i64 1, i64 -1
  %end = select i1 %up, i64 %cnt, i64 -1
  br label %loop
loop:
  %i = phi i64 [ %start, %pick ], [ %i1, %loop ]
  %pd = getelementptr inbounds {fty}, ptr %dd, i64 %i
  %ps = getelementptr inbounds {fty}, ptr %ds, i64 %i
  %vd = load {fty}, ptr %pd, align {size}
  store {fty} zeroinitializer, ptr %pd, align {size}
  %vs = load {fty}, ptr %ps, align {size}
  %a = fadd {fty} %vs, %vd
  store {fty} %a, ptr %ps, align {size}
  %i1 = add i64 %i, %step
  %c = icmp eq i64 %i1, %end
  br i1 %c, label %done, label %loop
done:
  ret void
}}
"""


# Copies of memory whose type nothing tells (a union, a C++ type-erased buffer such as
# std::function's storage, raw bytes at -O0): each 8-byte word is told apart at run time. A word
# whose bits lie in [4096, 2**48) is a pointer (a user-space address; as a double it would be a
# subnormal below 1e-309, which no computation produces); any other word is a double. A pointer
# word's shadow moves with the copy in the forward sweep (`adcc.shadow.copy.any`, reading the
# primal after the copy); in the reverse sweep a destination shadow word that holds a pointer
# (or nothing) is left alone, any other is a double adjoint: added into the source's shadow and
# zeroed (`copy`/`move`), only added (`add`: a fresh destination), or only zeroed (`clear`: the
# source has no shadow). Both walk away from an overlap (memmove).
# one template walks the words: {up} picks the direction, {test} sets %go when the word at %i is
# one to act on, {act} acts (%pd: the destination shadow word, %w: the word tested)
WORD_WALK = """
define internal void @{name}({params}) nounwind {{{{
entry:
  %cnt = lshr i64 %n, 3
  %z = icmp eq i64 %cnt, 0
  br i1 %z, label %done, label %pick
pick:
  %up = {up}
  %last = add i64 %cnt, -1
  %start = select i1 %up, i64 0, i64 %last
  %step = select i1 %up, i64 1, i64 -1
  %end = select i1 %up, i64 %cnt, i64 -1
  br label %loop
loop:
  %i = phi i64 [ %start, %pick ], [ %i1, %next ]
  %pd = getelementptr inbounds i64, ptr %dd, i64 %i
{test}
  br i1 %go, label %act, label %next
act:
{act}
  br label %next
next:
  %i1 = add i64 %i, %step
  %c = icmp eq i64 %i1, %end
  br i1 %c, label %done, label %loop
done:
  ret void
}}}}
"""


# a word whose bits lie in [POINTER_LOW, POINTER_LOW + POINTER_SPAN) is taken for a user-space address
POINTER_LOW, POINTER_SPAN = 4096, (1 << 48) - 4096


def _pointer_word(result: str) -> str:
    """%result = whether word %w holds a user-space address"""
    return f"  %wo = add i64 %w, -{POINTER_LOW}\n  %{result} = icmp ult i64 %wo, {POINTER_SPAN}"


# forward sweep: dd[i] = ds[i] where the primal word dp[i] (after the copy) is a pointer
SHADOW_COPY_ANY = WORD_WALK.format(
    name="adcc.shadow.copy.any", params="ptr %dp, ptr %dd, ptr %ds, i64 %n", up="icmp ult ptr %dd, %ds",
    test="  %pp = getelementptr inbounds i64, ptr %dp, i64 %i\n  %w = load i64, ptr %pp, align 1\n"
         + _pointer_word("go"),
    act="  %ps = getelementptr inbounds i64, ptr %ds, i64 %i\n  %v = load i64, ptr %ps, align 1\n"
        "  store i64 %v, ptr %pd, align 1")

# reverse sweep: a destination shadow word that is neither a pointer nor zero is a double adjoint
ADJOINT_COPY_ANY = WORD_WALK.format(
    name="adcc.adjoint.{name}.any", params="ptr %dd, ptr %ds, i64 %n", up="icmp ugt ptr %dd, %ds",
    test="  %w = load i64, ptr %pd, align 1\n" + _pointer_word("isp")
         + "\n  %isz = icmp eq i64 %w, 0\n  %skip = or i1 %isp, %isz\n  %go = xor i1 %skip, true",
    act="{zero}\n{accumulate}")


def _add_any_copy_helpers(module) -> None:
    module.add_definitions(SHADOW_COPY_ANY.format())
    zero = "  store i64 0, ptr %pd, align 1"
    at = "  %vd = bitcast i64 %w to double\n  %ps = getelementptr inbounds i64, ptr %ds, i64 %i\n"
    plain = at + ("  %vs = load double, ptr %ps, align 1\n  %a = fadd double %vs, %vd\n"
                  "  store double %a, ptr %ps, align 1")
    atomic = at + "  %a = atomicrmw fadd ptr %ps, double %vd monotonic, align 8"
    for name, zeroes, acc in (("copy", zero, plain), ("move", zero, plain), ("add", "", plain), ("clear", zero, ""),
                              ("copy.shared", zero, atomic), ("add.shared", "", atomic)):
        module.add_definitions(ADJOINT_COPY_ANY.format(name=name, zero=zeroes, accumulate=acc))


# the float types whose copies have adjoint helpers: (suffix, LLVM type, bytes per element, log2 of it)
COPY_ELEMENTS = (("f64", "double", 8, 3), ("f32", "float", 4, 2), ("f16", "half", 2, 1),
                 ("f80", "x86_fp80", 16, 4), ("f128", "fp128", 16, 4))
COPY_SUFFIX = {fty: ty for ty, fty, _, _ in COPY_ELEMENTS}


def ensure_tape_helpers(module) -> None:
    if "adcc.tape.push" in module.functions:
        return
    from adcc.ir.module import FunctionEntry
    from adcc.ir import types as TT
    # fresh shadow memory aliases nothing else: tell the post-AD optimizer (LICM, vectorizer)
    for name, params in (("adcc_shadow_alloc", "i64"), ("adcc_shadow_calloc", "i64, i64"),
                         ("adcc_shadow_realloc_fwd", "ptr, i64"), ("adcc_shadow_stack_alloc", "i64")):
        if name not in module.functions:
            module.add_text(f"declare noalias ptr @{name}({params}) nounwind")
            module.functions[name] = FunctionEntry(name, "", False)
    module.ensure_declaration("adcc_tape_grow", TT.FunctionType(TT.ptr, (TT.ptr, TT.i64)))
    module.ensure_declaration("adcc_tape_free", TT.FunctionType(TT.void, (TT.ptr,)))
    # real definitions: a derivative of code that contains derivatives (higher order) differentiates them
    module.add_definitions(TAPE_HELPERS)
    plain = ("  %vs = load {fty}, ptr %ps, align {size}\n  %a = fadd {fty} %vs, %vd\n"
             "  store {fty} %a, ptr %ps, align {size}")
    atomic = "  %a = atomicrmw fadd ptr %ps, {fty} %vd monotonic, align {size}"
    for name, zero in (("copy", "  store {fty} zeroinitializer, ptr %pd, align {size}"), ("add", "")):
        for suffix, acc in (("", plain), (".shared", atomic)):
            for ty, fty, size, shift in COPY_ELEMENTS:
                if suffix and ty not in ("f64", "f32"):
                    continue  # (atomic adds of these: refused where they would be needed)
                module.add_definitions(ADJOINT_COPY.format(
                    name=name + suffix, ty=ty, fty=fty, size=size, shift=shift, zero=zero.format(fty=fty, size=size),
                    accumulate=acc.format(fty=fty, size=size)))
    for ty, fty, size, shift in COPY_ELEMENTS:
        module.add_definitions(ADJOINT_MOVE.format(ty=ty, fty=fty, size=size, shift=shift))
    _add_any_copy_helpers(module)


def tape_scope(module) -> str:
    """The alias scope of tape records (`!alias.scope` on their loads and stores, `!noalias` on
    every other access of the synthesized functions): no pointer of the program or its shadows
    points into the tape buffer, and saying so lets the optimizer vectorize loops that read or
    write records beside shadow memory without run-time overlap checks."""
    got = getattr(module, "_adcc_tape_scope", None)
    if got is None:
        domain, scope, scopes = (module._free_metadata_id() for _ in range(3))
        module.add_text(f'!{domain} = distinct !{{!{domain}, !"adcc.tape"}}\n'
                        f'!{scope} = distinct !{{!{scope}, !{domain}, !"adcc.tape.records"}}\n'
                        f'!{scopes} = !{{!{scope}}}')
        got = module._adcc_tape_scope = f"!{scopes}"
        module._adcc_tape_scope_node = f"!{scope}"
    return got


def mark_tape_noalias(module, fn) -> None:
    """Every load and store of `fn` that is not a tape record access is `!noalias` the tape."""
    scope = tape_scope(module)
    for inst in fn.instructions():
        if inst.opcode in ("load", "store") and inst.get_metadata("alias.scope") is None \
                and inst.get_metadata("noalias") is None:
            inst.metadata.append(("noalias", scope))


def store_size(ty: T.Type) -> int:
    if isinstance(ty, T.IntType):
        n = max(1, (ty.bits + 7) // 8)
        p = 1
        while p < n:
            p *= 2
        return p
    if isinstance(ty, T.FloatType):
        return {"half": 2, "bfloat": 2, "float": 4, "double": 8, "x86_fp80": 16, "fp128": 16, "ppc_fp128": 16}[ty.kind]
    if isinstance(ty, T.PointerType):
        return 8
    if isinstance(ty, T.VectorType):
        return ty.count * store_size(ty.elem)
    if isinstance(ty, T.ArrayType):
        return ty.count * store_size(ty.elem)
    if isinstance(ty, T.StructType):
        off = 0
        for e in ty.elems:
            a = min(8, store_size(e))
            off = (off + a - 1) // a * a + store_size(e)
        return (off + 7) // 8 * 8
    raise ValueError(f"cannot size {ty}")


class RecordLayout:
    """Byte offsets of a record's fields (largest first), total size rounded to 16."""

    def __init__(self, types: list[T.Type]):
        order = sorted(range(len(types)), key=lambda k: -min(8, store_size(types[k])))
        self.offsets = [0] * len(types)
        off = 0
        for k in order:
            sz = store_size(types[k])
            a = min(8, sz) if sz & (sz - 1) == 0 else 8
            off = (off + a - 1) // a * a
            self.offsets[k] = off
            off += sz
        self.size = (off + 15) // 16 * 16
        self.packed = (off + 7) // 8 * 8  # inside a fast loop's block, records need 8-byte alignment only
        self.types = types

    def align(self, k: int) -> int:
        sz = store_size(self.types[k])
        return min(8, sz) if sz & (sz - 1) == 0 else 8

    def push(self, b: Builder, tape: Value, values: list[Value]) -> None:
        if not self.types:
            return
        p = b.call("adcc.tape.push", T.ptr, [tape, b.iconst(T.i64, self.size)], declare=False)
        self.store_at(b, p, values)

    def store_at(self, b: Builder, addr: Value, values: list[Value]) -> None:
        """Write the record at a tape address (pushed, or inside a preallocated loop tape)."""
        md = [("alias.scope", tape_scope(b.module))]
        for k, v in enumerate(values):
            q = b.byte_gep(addr, self.offsets[k]) if self.offsets[k] else addr
            b.store(v, q, align=self.align(k), metadata=list(md))

    def load_at(self, b: Builder, addr: Value) -> list[Value]:
        md = [("alias.scope", tape_scope(b.module))]
        out = []
        for k, ty in enumerate(self.types):
            q = b.byte_gep(addr, self.offsets[k]) if self.offsets[k] else addr
            out.append(b.load(ty, q, align=self.align(k), metadata=list(md)))
        return out

    def pop(self, b: Builder, tape: Value) -> list[Value]:
        if not self.types:
            return []
        p = b.call("adcc.tape.pop", T.ptr, [tape, b.iconst(T.i64, self.size)], declare=False)
        return self.load_at(b, p)


# --- cache or recompute ------------------------------------------------------------------

PURE_OPS = frozenset({"add", "sub", "mul", "shl", "lshr", "ashr", "and", "or", "xor", "udiv", "sdiv",
                      "urem", "srem", "icmp", "fcmp", "select", "zext", "sext", "trunc", "sitofp", "uitofp",
                      "fptosi", "fptoui", "fpext", "fptrunc", "fadd", "fsub", "fmul", "fdiv", "fneg",
                      "getelementptr", "ptrtoint", "inttoptr", "bitcast", "freeze", "extractvalue",
                      "extractelement", "insertelement", "insertvalue", "shufflevector"})
MAX_RECOMPUTE_DEPTH = 8


def key_type(kind: str, v) -> T.Type:
    """Type of a tape record field: primal/shadow values, counters, hoisted values, indices."""
    if kind in ("i", "idx"):
        return T.i32
    if kind == "c":
        return T.i64
    if kind == "h":
        return v[1][1].type
    return v.type


class FastLoop:
    """An innermost counted loop whose records go to a block reserved before the loop (its trip
    count is known on entry): no capacity check per iteration, the cursor lives in a register.
    Iterations are packed at an 8-byte stride; the whole block is rounded up to 16 bytes so the
    tape's top stays 16-byte aligned (`block_bytes`)."""

    def __init__(self, cl, trip, stride: int, offsets: dict[int, int]):
        self.cl = cl
        self.trip = trip          # cfg.TripCount or cfg.EqualityCount: header executions
        self.stride = stride      # record bytes per iteration (a multiple of 8)
        self.offsets = offsets    # block -> offset of its record inside an iteration

    def block_bytes(self, b: Builder, n: Value) -> Value:
        """Tape bytes of n iterations: n * stride rounded up to 16."""
        return self.aligned(b, b.mul(n, Builder.iconst(T.i64, self.stride)))

    def aligned(self, b: Builder, v: Value) -> Value:
        """v rounded up to 16 (a no-op when the stride keeps it aligned)."""
        if self.stride % 16 == 0:
            return v
        return b.and_(b.add(v, Builder.iconst(T.i64, 15)), Builder.iconst(T.i64, -16))


class PathReplay:
    """Blocks from a merge block's immediate dominator down to it, with their branches: the
    reverse pass follows the recomputed conditions to learn which predecessor was taken."""

    def __init__(self, order: list, branches: dict, target):
        self.direct = None          # (condition, pred if true, pred if false) for plain if/else
        self.order = order          # dominator first, reverse post-order
        self.branches = branches    # block -> (condition or None, true/only successor, false successor)
        self.target = target

    def conditions(self) -> list:
        if self.direct is not None:
            return [self.direct[0]]
        return [c for c, _, _ in self.branches.values() if c is not None]

    @staticmethod
    def two_way(cond, p_true, p_false) -> "PathReplay":
        """`cond` alone tells the predecessor (whatever lies between the branch and it)."""
        r = PathReplay([], {}, None)
        r.direct = (cond, p_true, p_false)
        return r


class CountedLoop:
    """A loop whose iterations the reverse pass counts down instead of taping block ids."""

    def __init__(self, loop, outside: Block, latch: Block, iv: Instruction | None):
        self.loop = loop
        self.header = loop.header
        self.outside = outside
        self.latch = latch
        self.iv = iv  # the primal's canonical induction variable (0, 1, 2, ...), if any


def _canonical_iv(h: Block, outside: Block, latch: Block) -> Instruction | None:
    for phi in h.phis():
        if not isinstance(phi.type, T.IntType):
            continue
        inc = dict((id(b), v) for v, b in phi.incoming())
        start, step = inc.get(id(outside)), inc.get(id(latch))
        if not (isinstance(start, Constant) and start.text == "0"):
            continue
        if isinstance(step, Instruction) and step.opcode == "add":
            a, c = step.operands
            if a is phi and isinstance(c, Constant) and c.text == "1":
                return phi
    return None


class TapePlan:
    """Where the reverse pass gets each value it needs: constant, the function record
    (arguments and values computed once), a loop counter, recomputation from other
    available values, or this block's tape record."""

    def __init__(self, synth):
        from adcc.analysis.cfg import DominatorTree, LoopInfo
        self.s = synth
        fn = synth.primal
        self.dt = DominatorTree(fn)
        self.li = LoopInfo(fn, self.dt)
        self.counted: dict[int, CountedLoop] = {}
        for lp in self.li.loops:
            outside = [p for p in synth.preds(lp.header) if p not in lp]
            inside = [p for p in synth.preds(lp.header) if p in lp]
            if len(outside) != 1 or len(inside) != 1:
                continue
            self.counted[id(lp.header)] = CountedLoop(lp, outside[0], inside[0],
                                                      _canonical_iv(lp.header, outside[0], inside[0]))
        # exit edges (inside block, outside block) -> the counted loops they leave, innermost first
        self.exit_edges: dict[tuple[int, int], list[CountedLoop]] = {}
        for cl in sorted(self.counted.values(), key=lambda c: -c.loop.depth):
            for e in cl.loop.blocks:
                for x in e.successors:
                    if x not in cl.loop and id(x) in synth.reached:
                        self.exit_edges.setdefault((id(e), id(x)), []).append(cl)
        self.count_from: dict[int, object] = {}  # counted loop -> cfg.ExitCount (counter not taped)
        self._computable_counts(synth)
        rets = synth.returns
        self.once_blocks = {id(b) for b in synth.order
                            if self.li.loop_of(b) is None and all(self.dt.dominates(b, r) for r in rets)}
        self._memo: dict[tuple, str] = {}
        self._needed: dict[int, set[int]] = {}
        from adcc.analysis.memory import LaterBlocks
        self._later = LaterBlocks()
        self.choice: dict[int, PathReplay] = {}  # merge block -> how to find its predecessor
        for blk in synth.order:
            ch = self._branch_choice(blk)
            if ch is not None:  # if/else merge (a side may hold whole loops)
                ch = PathReplay.two_way(*ch)
            else:  # chained branches from the dominator (an acyclic region)
                ch = self._path_replay(blk)
            if ch is not None:
                self.choice[id(blk)] = ch
                synth.needs[id(blk)].extend(("p", c) for c in ch.conditions())
        self.func_keys: list[tuple[str, object]] = []
        self._func_seen: set[tuple[str, int]] = set()
        self.hoisted: dict[int, list[tuple[str, object]]] = {}  # counted loop -> invariant keys
        self._hoist_seen: set[tuple[int, str, int]] = set()
        self.taped: dict[int, list[tuple[str, object]]] = {}
        for blk in synth.order:
            keys: list = []
            seen: set = set()  # one record field per value, however many needs read it
            for kind, v in synth.needs[id(blk)]:
                self._collect(kind, v, blk, keys, seen)
            self.taped[id(blk)] = keys

    def edge_record(self, e: Block, x: Block) -> list[tuple[str, object]]:
        """What leaving loops along the edge e -> x records: each loop's final iteration count
        (unless the reverse computes it, `count_from`) and the loop-invariant values its reverse
        reads (pushed once per loop execution)."""
        keys: list[tuple[str, object]] = []
        for cl in self.exit_edges.get((id(e), id(x)), []):
            if id(cl) not in self.count_from:
                keys.append(("c", cl))
            keys.extend(("h", (cl, key)) for key in self.hoisted.get(id(cl), []))
        return keys

    def _computable_counts(self, synth) -> None:
        """Counted loops left only through their latch whose iteration count follows from values
        available after the loop (`for (j = i + 1; j < n; j++)`): the reverse computes the count
        from them instead of reading it from the tape. Those values become needs of the exit
        blocks (recomputed or taped once per loop execution, like any need)."""
        from adcc.analysis.cfg import exit_count
        for cl in self.counted.values():
            lp = cl.loop
            if lp.exiting != [cl.latch]:
                continue
            ec = exit_count(lp, self.dt)
            if ec is None:
                continue
            vals = [v for v in (ec.bound, ec.start) if v is not None]
            if not all(isinstance(v.type, T.IntType) and v.type.bits <= 64 for v in vals):
                continue
            exits = [x for x in cl.latch.successors if x not in lp and id(x) in synth.reached]
            if not exits or any(isinstance(v, Instruction) and not (v.block is not None and
                                self.dt.dominates(v.block, x)) for v in vals for x in exits):
                continue
            self.count_from[id(cl)] = ec
            for x in exits:
                synth.needs[id(x)].extend(("p", v) for v in vals)

    def _branch_choice(self, blk: Block):
        """For a two-way merge below `if (c)`: the condition tells the reverse pass which way the
        forward pass came, so it is recomputed instead of taping a predecessor id."""
        preds = self.s.preds(blk)
        if len(preds) != 2 or id(blk) in self.counted:
            return None
        dom = self.dt.idom(blk)
        term = dom.terminator if dom is not None else None
        if term is None or term.opcode != "br" or len(term.operands) != 3:
            return None
        cond, s_true, s_false = term.operands
        if s_true is s_false:
            return None

        def side(p):
            if p is dom:
                return True if s_true is blk else False if s_false is blk else None
            t = s_true is not blk and self.dt.dominates(s_true, p)
            f = s_false is not blk and self.dt.dominates(s_false, p)
            return True if t and not f else False if f and not t else None

        sides = [side(p) for p in preds]
        if None in sides or sides[0] == sides[1]:
            return None
        # the pred on one side must be unreachable from the other side's successor (a path
        # D -> s_false -> ... -> pred_true would enter blk "from the true side" with c false)
        for p, sd in zip(preds, sides):
            other = s_false if sd else s_true
            if p is not dom and other is not blk and self._reaches(other, p, dom, blk):
                return None
        if self.source("p", cond, blk) == "tape":
            return None
        p_true = preds[sides.index(True)]
        p_false = preds[sides.index(False)]
        return cond, p_true, p_false

    def _path_replay(self, blk: Block) -> "PathReplay | None":
        """A merge block's predecessor, found in reverse by replaying the forward branch decisions
        from its immediate dominator with recomputed conditions (instead of taping a block id).
        Only for small acyclic regions whose conditions recompute without loads."""
        preds = self.s.preds(blk)
        if len(preds) < 2 or id(blk) in self.counted:
            return None
        dom = self.dt.idom(blk)
        if dom is None:
            return None
        # the region: dom and the blocks between it and blk (those that can reach blk)
        region, stack = [dom], [p for p in preds if p is not dom]
        seen = {id(dom)} | {id(p) for p in stack}
        region.extend(stack)
        while stack:
            n = stack.pop()
            for x in self.s.preds(n):
                if id(x) not in seen:
                    seen.add(id(x))
                    region.append(x)
                    stack.append(x)
                    if len(region) > 8:
                        return None
        ids = {id(r) for r in region}
        if any(id(p) not in ids for p in preds):
            return None
        order = [r for r in self.s.order if id(r) in ids]  # RPO: an acyclic region replays in order
        pos = {id(r): k for k, r in enumerate(order)}
        branches = {}
        for r in order:
            t = r.terminator
            if t is None or t.opcode != "br":
                return None
            for x in t.successors:
                if x is not blk and id(x) in pos and pos[id(x)] <= pos[id(r)]:
                    return None  # a cycle inside the region
            if len(t.operands) == 3:
                if not self._pure(t.operands[0], blk, 0):
                    return None
                branches[id(r)] = (t.operands[0], t.operands[1], t.operands[2])
            else:
                branches[id(r)] = (None, t.operands[0], None)
        return PathReplay(order, branches, blk)

    def _pure(self, v, blk: Block, depth: int) -> bool:
        """Recomputable in blk's reverse without reading memory (safe on untaken paths too)."""
        src = self.source("p", v, blk)
        if src in ("const", "iv", "affine"):
            return True
        if src == "func" or src == "hoist":
            return True  # computed on every path through blk's dominator
        if src != "re" or depth > MAX_RECOMPUTE_DEPTH or v.opcode == "load":
            return False
        return all(self._pure(o, blk, depth + 1) for o in v.operands)

    @staticmethod
    def _reaches(start: Block, target: Block, dom: Block, blk: Block) -> bool:
        """Is `target` reachable from `start` without passing `dom` or `blk`?"""
        seen = {id(start)}
        stack = [start]
        while stack:
            n = stack.pop()
            if n is target:
                return True
            for x in n.successors:
                if id(x) not in seen and x is not dom and x is not blk:
                    seen.add(id(x))
                    stack.append(x)
        return False

    def counted_header(self, blk: Block) -> CountedLoop | None:
        return self.counted.get(id(blk))

    def iv_loop(self, v, blk: Block) -> CountedLoop | None:
        if isinstance(v, Instruction) and v.opcode == "phi":
            cl = self.counted.get(id(v.block))
            if cl is not None and cl.iv is v and blk in cl.loop:
                return cl
        return None

    def hoist_loop(self, v, blk: Block) -> CountedLoop | None:
        """The outermost counted loop around `blk` in which `v` is invariant: a value taped
        there is pushed once per execution of that loop (at its exit), not per iteration."""
        if not isinstance(v, Instruction) or v.block is None:
            return None
        best = None
        lp = self.li.loop_of(blk)
        while lp is not None and v.block not in lp:
            if id(lp.header) in self.counted:
                best = self.counted[id(lp.header)]
            lp = lp.parent
        return best

    def affine(self, v, blk: Block):
        """(loop, start, (add|gep, step), next) when `v` is an induction variable `start + k*step`
        of a counted loop around `blk` whose start is available there (k: the iteration counter);
        the step is a constant or a loop-invariant value available there too."""
        if not (isinstance(v, Instruction) and v.opcode == "phi"):
            return None
        cl = self.counted.get(id(v.block))
        if cl is None or blk not in cl.loop:
            return None
        inc = {id(b): x for x, b in v.incoming()}
        start, nxt = inc.get(id(cl.outside)), inc.get(id(cl.latch))
        if start is None or not isinstance(nxt, Instruction) or len(nxt.operands) != 2:
            return None
        ops = nxt.operands
        if nxt.opcode == "add" and ops[1] is v:
            ops = [ops[1], ops[0]]
        if ops[0] is not v or nxt.opcode not in ("add", "getelementptr"):
            return None
        how = "add" if nxt.opcode == "add" else "gep"
        inc_v = ops[1]
        if isinstance(inc_v, Constant) and inc_v.text.lstrip("-").isdigit():
            step = (how, int(inc_v.text))
        elif cl.loop.is_invariant(inc_v) and not isinstance(inc_v, Constant) \
                and self.source("p", inc_v, blk) != "tape":
            step = (how, inc_v)  # a loop-invariant step the reverse can materialize
        else:
            return None
        if self.source("p", start, blk) == "tape":
            return None
        return cl, start, step, nxt

    def _once(self, v) -> bool:
        return isinstance(v, Instruction) and v.block is not None and id(v.block) in self.once_blocks

    def source(self, kind: str, v, blk: Block, depth: int = 0) -> str:
        key = (kind, id(v), id(blk))
        got = self._memo.get(key)
        if got is not None:
            return got
        self._memo[key] = "tape"  # cycles (phis) end on the tape
        src = self._source(kind, v, blk, depth)
        self._memo[key] = src
        return src

    def _source(self, kind: str, v, blk: Block, depth: int) -> str:
        if kind in ("i", "c", "h", "x"):
            return "tape"
        if isinstance(v, Constant):
            return "const"
        if isinstance(v, Argument) or self._once(v):
            return "func"
        if kind == "p" and self.iv_loop(v, blk) is not None:
            return "iv"
        if kind == "p" and self.affine(v, blk) is not None:
            return "affine"
        if not isinstance(v, Instruction) or depth >= MAX_RECOMPUTE_DEPTH:
            return "tape"
        op = v.opcode
        if kind == "p":
            if op in PURE_OPS and all(self.source("p", o, blk, depth + 1) != "tape" or self._in_record(o, blk)
                                      for o in v.operands):
                return "re"  # (from operands available, or in this block's record anyway)
            if op == "load" and self._reloadable(v) and self.source("p", v.operands[0], blk, depth + 1) != "tape":
                return "re"
            if op == "call" and self._recomputable_call(v) and \
                    all(self.source("p", o, blk, depth + 1) != "tape" for o in v.operands):
                return "re"
        elif op in ("getelementptr", "bitcast", "addrspacecast") and \
                self.source("s", v.operands[0], blk, depth + 1) != "tape" and \
                all(self.source("p", o, blk, depth + 1) != "tape" for o in v.operands[1:]):
            return "re"  # shadows of pointer arithmetic follow the primal
        return "hoist" if self.hoist_loop(v, blk) is not None else "tape"

    def _in_record(self, v, blk: Block) -> bool:
        """Is primal value `v` a direct need of `blk` that its record holds (it is taped)? A
        pure operation of such values is recomputed from the record rather than taped beside
        them (`-0.5 * y` next to `y`)."""
        if id(blk) not in self._needed:
            self._needed[id(blk)] = {id(x) for k, x in self.s.needs[id(blk)] if k == "p"}
        return id(v) in self._needed[id(blk)] and self.source("p", v, blk) == "tape"

    def _recomputable_call(self, call: Instruction) -> bool:
        """A call the program declared `__enzyme_shouldrecompute`: the reverse pass calls the
        function again instead of taping its result (the program vouches that it may)."""
        from adcc.analysis.declarations import declarations_of
        return call.callee_name in declarations_of(self.s.module).recompute

    def _reloadable(self, load: Instruction) -> bool:
        """May the reverse pass re-execute this load (memory unchanged since)?"""
        if load.info.get("volatile") or load.info.get("atomic"):
            return False
        from adcc.analysis.memory import is_local_object, underlying_objects
        objs = underlying_objects(load.operands[0], self.s.module)
        heap = self.s.reload_heap
        if objs and all(id(o) in heap for o in objs):
            # this function's own heap memory, when nothing writes into it after the load
            return not any(self._later.may_run_after(load, w) for o in objs for w in heap[id(o)][1])
        if self.s.spec.readonly_memory:
            return not any(is_local_object(o, self.s.module) for o in objs)
        reload = self.s.spec.reload_args  # restrict arguments nothing writes (top level only)
        return bool(reload) and all(isinstance(o, Argument) and o.index in reload for o in objs)

    def _collect(self, kind: str, v, blk: Block, keys: list, seen: set) -> None:
        """Record what materializing (kind, v) in blk's reverse reads from the tape."""
        k = (kind, id(v))
        if k in seen:
            return
        seen.add(k)
        src = self.source(kind, v, blk)
        if src == "tape":
            keys.append((kind, v))
        elif src == "func":
            if k not in self._func_seen:
                self._func_seen.add(k)
                self.func_keys.append((kind, v))
        elif src == "hoist":
            cl = self.hoist_loop(v, blk)
            hk = (id(cl), kind, id(v))
            if hk not in self._hoist_seen:
                self._hoist_seen.add(hk)
                self.hoisted.setdefault(id(cl), []).append((kind, v))
        elif src == "affine":
            _, start, (_, step), _ = self.affine(v, blk)
            self._collect("p", start, blk, keys, seen)
            if isinstance(step, Value):
                self._collect("p", step, blk, keys, seen)
        elif src == "re":
            ops = v.operands
            if kind == "p":
                for o in ops:
                    self._collect("p", o, blk, keys, seen)
            else:
                self._collect("s", ops[0], blk, keys, seen)
                for o in ops[1:]:
                    self._collect("p", o, blk, keys, seen)


# --- tapes whose size is known at compile time ------------------------------------------

STACK_TAPE_LIMIT = 4096  # bytes: a gradient whose tape never exceeds this keeps it on the stack


def static_tape_bytes(module, aug, _open: frozenset = frozenset(), _memo: dict | None = None) -> int | None:
    """The most bytes augmented function `aug` (tape pointer first) pushes on any path, when
    that is known at compile time: an acyclic body whose only uses of the tape are pushes of
    constant size and calls of augmented functions that are bounded themselves. None otherwise
    (loops, reserves, recursion, a tape that escapes)."""
    memo = {} if _memo is None else _memo
    if aug.fname in memo:
        return memo[aug.fname]
    if aug.fname in _open or not aug.args:
        return None
    memo[aug.fname] = out = _static_tape_bytes(module, aug, _open | {aug.fname}, memo)
    return out


def _static_tape_bytes(module, aug, _open: frozenset, memo: dict) -> int | None:
    from adcc.ad.common import reverse_post_order
    tape = aug.args[0]
    order = reverse_post_order(aug)
    index = {id(b): k for k, b in enumerate(order)}
    most: dict[int, int] = {}
    for b in order:
        preds = [p for p in b.predecessors if id(p) in index]
        if any(index[id(p)] >= index[id(b)] for p in preds):
            return None  # a back edge
        here = max((most[id(p)] for p in preds), default=0)
        for inst in b.instructions:
            if not any(op is tape for op in inst.operands):
                continue
            name = inst.callee_name if inst.opcode == "call" else None
            if name is None or any(op is tape for op in inst.operands[inst.info["callee_slot"] + 2:]):
                return None
            if name == "adcc.tape.push":
                n = inst.args[1]
                if not isinstance(n, Constant) or not n.text.lstrip("-").isdigit():
                    return None
                here += int(n.text)
            elif module.is_defined(name) and inst.args and inst.args[0] is tape:
                inner = static_tape_bytes(module, module.function(name), _open, memo)
                if inner is None:
                    return None
                here += inner
            else:
                return None
        most[id(b)] = here
    return max((most[id(b)] for b in order if b.terminator is not None and b.terminator.opcode == "ret"),
               default=0)
