"""Control-flow analyses over a parsed `Function`: reverse post-order, dominator and
post-dominator trees (Cooper-Harvey-Kennedy), natural loops with nesting, canonical
induction variables and simple trip counts. Blocks unreachable from the entry are
ignored by every analysis; results never mutate the IR.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from adcc.ir import types as T
from adcc.ir.types import IntType
from adcc.ir.values import Block, Constant, Function, Instruction, Value


def reverse_post_order(fn: Function) -> list[Block]:
    """Blocks reachable from the entry, in reverse post-order."""
    return _rpo(fn.entry, lambda b: b.successors)


def reachable(fn: Function) -> set[Block]:
    return set(reverse_post_order(fn))


def _rpo(root, succs: Callable) -> list:
    seen = {root}
    post: list = []
    stack = [(root, iter(succs(root)))]
    while stack:
        node, it = stack[-1]
        for s in it:
            if s not in seen:
                seen.add(s)
                stack.append((s, iter(succs(s))))
                break
        else:
            stack.pop()
            post.append(node)
    post.reverse()
    return post


def _idoms(order: list, preds: Callable) -> dict:
    """Cooper-Harvey-Kennedy: immediate dominators of `order` (RPO from its first node)."""
    index = {n: k for k, n in enumerate(order)}
    root = order[0]
    idom = {root: root}

    def intersect(a, b):
        while a is not b:
            while index[a] > index[b]:
                a = idom[a]
            while index[b] > index[a]:
                b = idom[b]
        return a

    changed = True
    while changed:
        changed = False
        for n in order[1:]:
            new = None
            for p in preds(n):
                if p in idom and p in index:
                    new = p if new is None else intersect(p, new)
            if new is not None and idom.get(n) is not new:
                idom[n] = new
                changed = True
    return idom


class _Tree:
    """A dominator-style tree with O(1) ancestor queries (DFS interval numbering)."""

    def __init__(self, order: list, idom: dict, root):
        self.root = root
        self._idom = idom
        self.children: dict = {n: [] for n in order if n in idom}
        for n in order:
            if n in idom and n is not root:
                self.children[idom[n]].append(n)
        self._pre: dict = {}
        self._post: dict = {}
        self.depth: dict = {root: 0}
        clock = 0
        stack = [(root, iter(self.children[root]))]
        self._pre[root] = clock
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                stack.pop()
                clock += 1
                self._post[node] = clock
            else:
                clock += 1
                self._pre[child] = clock
                self.depth[child] = self.depth[node] + 1
                stack.append((child, iter(self.children[child])))

    def idom(self, n):
        """Immediate dominator, None for the root and for nodes outside the tree."""
        d = self._idom.get(n)
        return None if d is None or n is self.root else d

    def contains(self, n) -> bool:
        return n in self._pre

    def dominates(self, a, b) -> bool:
        """a dominates b (reflexive). False when either is outside the tree."""
        if a not in self._pre or b not in self._pre:
            return False
        return self._pre[a] <= self._pre[b] and self._post[b] <= self._post[a]


class DominatorTree(_Tree):
    def __init__(self, fn: Function):
        order = reverse_post_order(fn)
        self.order = order
        super().__init__(order, _idoms(order, lambda b: b.predecessors), fn.entry)

    def instruction_dominates(self, a: Instruction, b: Instruction) -> bool:
        """Definition `a` dominates the use position of instruction `b` (strictly before it)."""
        if a.block is b.block:
            ins = a.block.instructions
            return ins.index(a) < ins.index(b)
        return self.dominates(a.block, b.block)

    def value_dominates(self, v: Value, b: Instruction) -> bool:
        if isinstance(v, Instruction):
            return self.instruction_dominates(v, b)
        return True  # arguments, constants, globals


VIRTUAL_EXIT = "<exit>"


class PostDominatorTree(_Tree):
    """Post-dominators with one virtual exit joining every block without successors.
    Blocks that cannot reach an exit (infinite loops) are joined to the virtual exit
    too, so that nothing outside such a loop post-dominates a block that may enter it."""

    def __init__(self, fn: Function):
        blocks = reverse_post_order(fn)
        live = set(blocks)
        exits = [b for b in blocks if not b.successors]
        reaches = set(exits)
        stack = list(exits)
        while stack:
            for p in stack.pop().predecessors:
                if p in live and p not in reaches:
                    reaches.add(p)
                    stack.append(p)
        exits += [b for b in blocks if b not in reaches]
        fake_exits = set(exits)

        def rsuccs(n):
            return exits if n is VIRTUAL_EXIT else [p for p in n.predecessors if p in live]

        def rpreds(n):
            if n is VIRTUAL_EXIT:
                return []
            return n.successors + [VIRTUAL_EXIT] if n in fake_exits else n.successors

        order = _rpo(VIRTUAL_EXIT, rsuccs)
        super().__init__(order, _idoms(order, rpreds), VIRTUAL_EXIT)

    def ipdom(self, b: Block) -> Block | None:
        d = self.idom(b)
        return None if d is VIRTUAL_EXIT else d


# --- loops --------------------------------------------------------------------------

@dataclass(eq=False)
class Loop:
    header: Block
    blocks: list[Block]                  # in reverse post-order, header first
    latches: list[Block]
    exits: list[Block] = field(default_factory=list)          # outside blocks entered from the loop
    exiting: list[Block] = field(default_factory=list)        # inside blocks with an exit edge
    preheader: Block | None = None
    parent: "Loop | None" = None
    children: list["Loop"] = field(default_factory=list)
    depth: int = 1

    def __contains__(self, b: Block) -> bool:
        return b in self._set

    def __post_init__(self):
        self._set = set(self.blocks)

    def is_invariant(self, v: Value) -> bool:
        """Defined outside the loop (or not an instruction)."""
        return not isinstance(v, Instruction) or v.block not in self._set


class LoopInfo:
    """All natural loops of a function, outermost first within each nest."""

    def __init__(self, fn: Function, dt: DominatorTree | None = None):
        self.fn = fn
        self.dt = dt or DominatorTree(fn)
        order = self.dt.order
        rpo_index = {b: k for k, b in enumerate(order)}
        latches: dict[Block, list[Block]] = {}
        for b in order:
            for s in b.successors:
                if self.dt.dominates(s, b):
                    latches.setdefault(s, []).append(b)
        loops = []
        for h, ls in latches.items():
            body = {h}
            stack = [l for l in ls if l is not h]
            body.update(stack)
            while stack:
                n = stack.pop()
                for p in n.predecessors:
                    if p not in body and p in rpo_index:
                        body.add(p)
                        stack.append(p)
            blocks = sorted(body, key=rpo_index.__getitem__)
            loops.append(Loop(h, blocks, ls))
        loops.sort(key=lambda l: len(l.blocks))
        self.block_loop: dict[Block, Loop] = {}  # innermost loop of each block
        for lp in loops:
            for b in lp.blocks:
                self.block_loop.setdefault(b, lp)
        for lp in loops:
            outer = [o for o in loops if o is not lp and lp.header in o and len(o.blocks) > len(lp.blocks)]
            if outer:
                lp.parent = min(outer, key=lambda o: len(o.blocks))
                lp.parent.children.append(lp)
            self._exits(lp)
        self.loops = sorted(loops, key=lambda l: rpo_index[l.header])
        for lp in self.loops:
            d, p = 1, lp.parent
            while p is not None:
                d, p = d + 1, p.parent
            lp.depth = d
        self.top_level = [l for l in self.loops if l.parent is None]

    @staticmethod
    def _exits(lp: Loop) -> None:
        for b in lp.blocks:
            for s in b.successors:
                if s not in lp:
                    if s not in lp.exits:
                        lp.exits.append(s)
                    if b not in lp.exiting:
                        lp.exiting.append(b)
        outside = [p for p in lp.header.predecessors if p not in lp]
        if len(outside) == 1 and outside[0].successors == [lp.header]:
            lp.preheader = outside[0]

    def loop_of(self, b: Block) -> Loop | None:
        """Innermost loop containing `b`."""
        return self.block_loop.get(b)


def find_loops(fn: Function) -> list[Loop]:
    return LoopInfo(fn).loops


# --- induction variables and trip counts --------------------------------------------

@dataclass(frozen=True)
class TripCount:
    """Number of times the loop header executes: `bound + offset` (bound None: a constant), less
    `start` when there is one (a loop from a variable start to a bound)."""
    bound: Value | None
    offset: int
    start: Value | None = None

    def constant(self) -> int | None:
        if self.bound is None:
            return self.offset
        return None


def _const_int(v: Value) -> int | None:
    if isinstance(v, Constant):
        try:
            return int(v.text)
        except ValueError:
            return {"false": 0, "true": 1}.get(v.text)
    return None


def _is_increment(inst: Value, phi: Instruction) -> bool:
    if not isinstance(inst, Instruction) or inst.opcode != "add":
        return False
    a, b = inst.operands
    return (a is phi and _const_int(b) == 1) or (b is phi and _const_int(a) == 1)


def canonical_induction(loop: Loop) -> Instruction | None:
    """A header phi starting at 0 on entry and incremented by 1 on every back edge."""
    for phi in loop.header.phis():
        ok = True
        for v, b in phi.incoming():
            if b in loop:
                ok = ok and _is_increment(v, phi) and v.block in loop
            else:
                ok = ok and _const_int(v) == 0
        if ok and any(b in loop for _, b in phi.incoming()):
            return phi
    return None


_SWAP = {"eq": "eq", "ne": "ne", "slt": "sgt", "sgt": "slt", "sle": "sge", "sge": "sle",
         "ult": "ugt", "ugt": "ult", "ule": "uge", "uge": "ule"}
_NEGATE = {"eq": "ne", "ne": "eq", "slt": "sge", "sge": "slt", "sle": "sgt", "sgt": "sle",
           "ult": "uge", "uge": "ult", "ule": "ugt", "ugt": "ule"}


def _exit_compare(loop: Loop, iv: Instruction, dt: DominatorTree | None,
                  offset_of: Callable[[Value], int | None] | None = None,
                  narrow: bool = False) -> tuple[str, int, Value] | None:
    """The loop's single exit test, an `icmp` of `iv` (or iv + 1; `offset_of` tells other
    offsets) against a loop-invariant bound, as (pred, offset, bound): the loop exits at the first
    iteration k with pred(iv_k + offset, bound). With `narrow`, the test may compare a truncation
    of iv (or iv + 1) with a narrower bound."""
    if len(loop.exiting) != 1:
        return None
    offset_of = offset_of or (lambda v: _iv_offset(v, iv, narrow))
    exiting = loop.exiting[0]
    term = exiting.terminator
    if term is None or term.opcode != "br" or len(term.operands) != 3:
        return None
    if dt is not None and not all(dt.dominates(exiting, l) for l in loop.latches):
        return None
    cond, t_true, _ = term.operands
    if not isinstance(cond, Instruction) or cond.opcode != "icmp":
        return None
    pred = cond.info["predicate"]
    a, b = cond.operands
    off, bound = offset_of(a), b
    if off is None:
        off, bound, pred = offset_of(b), a, _SWAP[pred]
    if off is None or not loop.is_invariant(bound):
        return None
    if t_true in loop:  # exit when the condition is false
        pred = _NEGATE[pred]
    return pred, off, bound


def trip_count(loop: Loop, dt: DominatorTree | None = None) -> TripCount | None:
    """Header executions of a loop with a canonical induction variable and a single exit
    test `icmp` of the iv (or iv + 1) against a loop-invariant bound, or else with an induction
    variable of step +1 from a constant or step -1 towards a constant (`_stepped_trip_count`);
    None otherwise. Assumes the bound is reached (no wrap-around), as for loops clang emits from
    `for` and flang from `do`."""
    iv = canonical_induction(loop)
    test = _exit_compare(loop, iv, dt) if iv is not None else None
    if test is None:
        return _stepped_trip_count(loop, dt)
    pred, off, bound = test
    # exit at the first iteration k with pred(k + off, bound)
    if pred in ("eq", "sge", "uge"):
        first = -off
    elif pred in ("sgt", "ugt"):
        first = 1 - off
    else:
        return None
    c = _const_int(bound)
    if c is not None:
        return TripCount(None, max(c + first, 0) + 1)
    return TripCount(bound, first + 1)


def _step(v: Value, phi: Instruction) -> int | None:
    """+1 or -1 when v is phi plus that constant."""
    if isinstance(v, Instruction) and v.opcode == "add":
        a, b = v.operands
        c = _const_int(b) if a is phi else _const_int(a) if b is phi else None
        return c if c in (1, -1) else None
    return None


def _stepped_trip_count(loop: Loop, dt: DominatorTree | None) -> TripCount | None:
    """Header executions of a loop whose single exit test compares an induction variable (or
    its next value) with a loop-invariant bound, the variable counting up by 1 from a constant
    (flang's `do i = 1, n`: bound - start + ...) or down by 1 from an invariant value towards a
    constant (flang's iteration counter: start - bound + ...)."""
    if len(loop.exiting) != 1:
        return None
    for iv in loop.header.phis():
        starts = [v for v, b in iv.incoming() if b not in loop]
        nexts = [v for v, b in iv.incoming() if b in loop]
        if len(starts) != 1 or len(nexts) != 1 or not isinstance(iv.type, T.IntType):
            continue
        step = _step(nexts[0], iv)
        if step is None or not (isinstance(nexts[0], Instruction) and nexts[0].block in loop):
            continue
        offsets = {id(iv): 0, id(nexts[0]): step}
        test = _exit_compare(loop, iv, dt, lambda v: offsets.get(id(v)))
        if test is None:
            continue
        pred, off, bound = test      # exit at the first k with pred(iv_k + off, bound)
        start = starts[0]
        if step == 1 and pred == "eq":                               # k = bound - start - off
            if _const_int(start) is not None:
                return _trip(bound, 1 - off - _const_int(start))
            if not isinstance(start, Instruction) or start.block not in loop:
                return TripCount(bound, 1 - off, start)
        if step == -1 and _const_int(bound) is not None and pred == "eq" and \
                (not isinstance(start, Instruction) or start.block not in loop):
            return _trip(start, 1 + off - _const_int(bound))        # k = start + off - bound
    return None


def _trip(v: Value, offset: int) -> TripCount:
    c = _const_int(v)
    return TripCount(None, max(c + offset, 1)) if c is not None else TripCount(v, offset)


@dataclass(frozen=True)
class ExitCount:
    """Header executions `bound - start + offset` (start None: 0); with `clamp`, at least 1."""
    bound: Value
    start: Value | None
    offset: int
    clamp: bool  # the exit test is an inequality: the count is at least 1


def exit_count(loop: Loop, dt: DominatorTree | None = None) -> ExitCount | None:
    """Like `trip_count`, for an induction variable with any loop-invariant start: a header phi
    start, start+1, ... whose value (or increment) the single exit test compares with a
    loop-invariant bound. Assumes the bound is reached without wrapping."""
    for iv in loop.header.phis():
        starts = [v for v, b in iv.incoming() if b not in loop]
        steps = [v for v, b in iv.incoming() if b in loop]
        if len(starts) != 1 or not steps or not all(_is_increment(v, iv) and v.block in loop for v in steps):
            continue
        test = _exit_compare(loop, iv, dt)
        if test is None:
            continue
        pred, off, bound = test
        start = None if _const_int(starts[0]) == 0 else starts[0]
        # exit at the first iteration k with pred(start + k + off, bound): the header runs k + 1 times
        if pred == "eq":
            return ExitCount(bound, start, 1 - off, False)
        if pred in ("sge", "uge"):
            return ExitCount(bound, start, 1 - off, True)
        if pred in ("sgt", "ugt"):
            return ExitCount(bound, start, 2 - off, True)
        return None
    return None


def _iv_offset(v: Value, iv: Instruction, narrow: bool = False) -> int | None:
    if narrow and isinstance(v, Instruction) and v.opcode == "trunc":
        v = v.operands[0]
    if v is iv:
        return 0
    if _is_increment(v, iv):
        return 1
    return None


@dataclass(frozen=True)
class EqualityCount:
    """Header executions of a loop left when `iv + offset == bound` (any start, the test in the
    iv's type or a `bits`-wide truncation of it, as LLVM's LFTR writes it for a 32-bit counter whose
    start is not 0): `((bound - start - offset) mod 2^bits) + 1`, exact in modular arithmetic."""
    bound: Value
    start: Value
    offset: int
    bits: int


def equality_count(loop: Loop, dt: DominatorTree | None = None) -> EqualityCount | None:
    """The header executions of a loop whose single exit test is an equality of its induction
    variable (start, start+1, ...) with a loop-invariant bound, known when the loop is entered."""
    for iv in loop.header.phis():
        if not isinstance(iv.type, IntType):
            continue
        starts = [v for v, b in iv.incoming() if b not in loop]
        steps = [v for v, b in iv.incoming() if b in loop]
        if len(starts) != 1 or not steps or not all(_is_increment(v, iv) and v.block in loop for v in steps):
            continue
        test = _exit_compare(loop, iv, dt, narrow=True)
        if test is None or test[0] != "eq" or not isinstance(test[2].type, IntType):
            continue
        return EqualityCount(test[2], starts[0], test[1], test[2].type.bits)
    return None


# --- printer ------------------------------------------------------------------------

def format_loops(fn: Function) -> str:
    from adcc.ir.printer import Namer
    namer = Namer(fn)
    info = LoopInfo(fn)

    def nm(v):
        return namer.ref(v) if v is not None else "none"

    def names(vs: Iterable):
        return "[" + ", ".join(nm(v) for v in vs) + "]"

    lines = [f"loops of @{fn.fname}: {len(info.loops)}"]
    for lp in info.loops:
        iv = canonical_induction(lp)
        tc = trip_count(lp, info.dt)
        if tc is None:
            trip = "unknown"
        elif tc.bound is None:
            trip = str(tc.offset)
        else:
            trip = nm(tc.bound) + (f" + {tc.offset}" if tc.offset > 0 else f" - {-tc.offset}" if tc.offset else "")
            trip += f" - {nm(tc.start)}" if tc.start is not None else ""
        lines.append(f"{'  ' * (lp.depth - 1)}loop {nm(lp.header)}: depth {lp.depth}, "
                     f"parent {nm(lp.parent.header) if lp.parent else 'none'}, blocks {names(lp.blocks)}, "
                     f"latches {names(lp.latches)}, exits {names(lp.exits)}, preheader {nm(lp.preheader)}, "
                     f"iv {nm(iv)}, trip {trip}")
    return "\n".join(lines)
