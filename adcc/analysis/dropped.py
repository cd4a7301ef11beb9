"""Derivatives the program's own annotations drop: active values stored into memory reachable
only through an `enzyme_const` argument (or a global declared inactive) and read back into the
result. adcc honours the annotation (that memory gets no shadow), so the derivative flowing
through the store is lost without a trace; this analysis finds the store and the load.

It follows the memory from the differentiated function into the functions it calls (with the
activities those calls would be differentiated with), and reports a root only when a load that
influences an active output (the result, or a store into memory with a shadow) may execute after
an active store into the same root's memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from adcc.analysis.activity import FLOAT_OPS, ActivityAnalysis, call_activities, is_floatish
from adcc.analysis.calls import CallKind, classify_call
from adcc.analysis.declarations import declarations_of
from adcc.analysis.spec import Activity, FunctionSpec
from adcc.ir import types as T
from adcc.ir.symbols import global_refs
from adcc.ir.values import Constant, GlobalRef, Instruction, Value

_DERIVED = frozenset({"getelementptr", "bitcast", "addrspacecast", "freeze", "phi", "select"})
_SLICE_OPS = FLOAT_OPS | {"fptrunc", "fpext", "uitofp", "sitofp"}
_MAX_FUNCTIONS = 64


@dataclass(frozen=True)
class DroppedDerivative:
    root: int | str         # argument index of the differentiated function, or a global's name
    store: Instruction      # an active value is stored into the root's memory here
    load: Instruction       # and read back here, on its way into the result


@dataclass
class _Summary:
    """What one function (with the functions it calls) does to each tracked root's memory."""
    stores: dict = field(default_factory=dict)      # root -> an active store into it
    loads: dict = field(default_factory=dict)       # root -> a load whose value reaches an active output
    returns: dict = field(default_factory=dict)     # root -> a load whose value reaches the return
    dropped: dict = field(default_factory=dict)     # root -> (store, load), the load after the store


def dropped_derivatives(module, fn, spec: FunctionSpec) -> list[DroppedDerivative]:
    """The roots of `fn` (differentiated with `spec`) through which a derivative is dropped."""
    roots: dict[int, int | str] = {id(a): k for k, (a, act) in enumerate(zip(fn.args, spec.args))
                                   if act is Activity.CONST and isinstance(a.type, T.PointerType)}
    inactive = declarations_of(module).inactive_globals
    if not roots and not inactive:
        return []
    walk = _Walk(module, inactive)
    summary = walk.function(fn, spec, roots, top=True)
    return [DroppedDerivative(root, store, load) for root, (store, load) in summary.dropped.items()]


class _Walk:
    def __init__(self, module, inactive_globals):
        self.module = module
        self.inactive = inactive_globals
        self.memo: dict = {}
        self._touching: set[str] | None = None

    def touching_inactive(self) -> set[str]:
        """Defined functions that (through the functions they call) refer to an inactive global."""
        if self._touching is None:
            names = self.module.defined_function_names()
            refs = {n: self.module.references(n) for n in names} if self.inactive else {}
            touching = {n for n, r in refs.items() if r & self.inactive}
            changed = True
            while changed:
                grown = {n for n, r in refs.items() if n not in touching and r & touching}
                touching |= grown
                changed = bool(grown)
            self._touching = touching
        return self._touching

    def function(self, fn, spec: FunctionSpec, roots: dict, top: bool = False) -> _Summary:
        key = (fn.fname, spec, tuple(sorted(roots.items())))
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = _Summary()  # recursion and the size limit see nothing
        if len(self.memo) > _MAX_FUNCTIONS:
            return self.memo[key]
        summary = _FunctionScan(self, fn, spec, roots, top).run()
        self.memo[key] = summary
        return summary


class _FunctionScan:
    def __init__(self, walk: _Walk, fn, spec: FunctionSpec, roots: dict, top: bool):
        self.walk, self.module, self.fn, self.spec, self.top = walk, walk.module, fn, spec, top
        self.act: ActivityAnalysis | None = None  # computed only when root memory may be written
        self.roots = roots                # id(argument) -> root
        self.based: dict[int, object] = {}  # id(pointer) -> root of the memory it reaches
        self.summary = _Summary()
        self.store_events: dict = {}      # root -> [store, or call whose callee stores]
        self.load_events: dict = {}       # root -> [(load or call, the load it stands for)]
        self.inner_stores: dict = {}      # (id(call), root) -> the store inside the callee

    def run(self) -> _Summary:
        self._propagate()  # first without activities: every pointer that may reach a root
        if self.top and not self._may_write_roots():  # nothing can be dropped anywhere below
            return self.summary
        self.act = ActivityAnalysis(self.module, self.fn, self.spec)
        self.based = {}
        self._propagate()
        for inst in self.fn.instructions():
            self._visit(inst)
        for root, stores in self.store_events.items():
            for s in stores:
                for load_event, load in self.load_events.get(root, []):
                    if _may_follow(s, load_event):
                        self.summary.dropped.setdefault(root, (self.inner_stores[(id(s), root)], load))
        return self.summary

    # --- which pointers reach a root's memory ---------------------------------------------------
    def root_of(self, v: Value):
        if id(v) in self.based:
            return self.based[id(v)]
        if isinstance(v, GlobalRef) and v.gname in self.walk.inactive:
            return v.gname
        if isinstance(v, Constant) and "@" in v.text:
            names = [n for n in global_refs(v.text) if n in self.walk.inactive]
            return names[0] if names else None
        return None

    def _propagate(self) -> None:
        work: list[Value] = []
        for a in self.fn.args:
            if id(a) in self.roots:
                self.based[id(a)] = self.roots[id(a)]
                work.append(a)
        if self.walk.inactive:  # pointers computed from inactive globals
            for inst in self.fn.instructions():
                if any(isinstance(o, Constant) and self.root_of(o) is not None for o in inst.operands):
                    self._mark(inst, work)
        while work:
            for u in work.pop().users:
                self._mark(u, work)

    def _mark(self, inst: Instruction, work: list) -> None:
        if inst.opcode == "store" and isinstance(inst.operands[0].type, T.PointerType):
            # a pointer into a root's memory kept in a stack object without a shadow (an array
            # descriptor built over a section of it): what reaches that object reaches the root
            from adcc.analysis.memory import stack_object
            obj = stack_object(inst.operands[1])
            root = self.root_of(inst.operands[0])
            if obj is not None and root is not None and id(obj) not in self.based and \
                    not (self.act and self.act.has_shadow(obj)):
                self.based[id(obj)] = root
                work.append(obj)
            return
        root = self._derived_root(inst)
        if root is not None and id(inst) not in self.based and not (self.act and self.act.has_shadow(inst)):
            self.based[id(inst)] = root
            work.append(inst)

    def _derived_root(self, inst: Instruction):
        if not isinstance(inst.type, T.PointerType):
            return None
        if inst.opcode in _DERIVED:
            for o in inst.operands:
                if isinstance(o.type, T.PointerType) and self.root_of(o) is not None:
                    return self.root_of(o)
        if inst.opcode == "load":  # a pointer kept in the root's memory reaches it too
            return self.root_of(inst.operands[0])
        return None

    def _may_write_roots(self) -> bool:
        """Does the function store into a root's memory, or hand it to a call that may?"""
        for inst in self.fn.instructions():
            if inst.opcode == "store" and self.root_of(inst.operands[1]) is not None:
                return True
            if inst.opcode not in ("call", "invoke"):
                continue
            kind = classify_call(self.module, inst)
            if kind in (CallKind.INACTIVE, CallKind.MATH):
                continue
            pointers = [a for a in inst.args if isinstance(a.type, T.PointerType) and self.root_of(a) is not None]
            if kind is CallKind.MEMCPY:
                pointers = pointers[:1] if inst.args and pointers[:1] == inst.args[:1] else []
            if pointers or inst.callee_name in self.walk.touching_inactive():
                return True
        return False

    # --- events ---------------------------------------------------------------------------
    def _visit(self, inst: Instruction) -> None:
        op = inst.opcode
        if op == "store":
            val, ptr = inst.operands
            root = self.root_of(ptr)
            if root is not None and (self.act.is_varied(val) or self.act.has_int_shadow(val)):
                self._store(root, inst, inst)
        elif op == "load":
            root = self.root_of(inst.operands[0])
            if root is not None and self.act.carries_float(inst):
                self._slice(inst, root, inst)
        elif op in ("call", "invoke"):
            self._visit_call(inst)

    def _visit_call(self, inst: Instruction) -> None:
        kind = classify_call(self.module, inst)
        args = inst.args
        if kind is CallKind.MEMCPY and len(args) > 1:
            dst, src = self.root_of(args[0]), self.root_of(args[1])
            if dst is not None and self.act.has_shadow(args[1]):
                self._store(dst, inst, inst)
            if src is not None and self.act.has_shadow(args[0]):
                self._load(src, inst, inst)
            return
        if kind is not CallKind.DEFINED:
            return
        tracked = {k: self.root_of(a) for k, a in enumerate(args)
                   if isinstance(a.type, T.PointerType) and self.root_of(a) is not None}
        if not tracked and inst.callee_name not in self.walk.touching_inactive():
            return
        callee = self.module.function(inst.callee_name)
        acts = call_activities(self.act, inst, self.spec.mode)
        if len(acts) != len(callee.args):
            return
        spec = FunctionSpec(callee.fname, acts, self.act.is_varied(inst) and is_floatish(self.module, inst.type),
                            False, self.spec.mode, self.spec.width)
        inner = self.walk.function(callee, spec, {id(callee.args[k]): r for k, r in tracked.items()})
        for root, store in inner.stores.items():
            self._store(root, inst, store)
        for root, load in inner.loads.items():
            self._load(root, inst, load)
        for root, load in inner.returns.items():
            self._slice(inst, root, load)
        for root, pair in inner.dropped.items():
            self.summary.dropped.setdefault(root, pair)

    def _store(self, root, at: Instruction, store: Instruction) -> None:
        self.store_events.setdefault(root, []).append(at)
        self.inner_stores[(id(at), root)] = store
        self.summary.stores.setdefault(root, store)

    def _load(self, root, at: Instruction, load: Instruction) -> None:
        self.load_events.setdefault(root, []).append((at, load))
        self.summary.loads.setdefault(root, load)

    # --- does a loaded value reach an active output? -------------------------------------------
    def _slice(self, source: Instruction, root, load: Instruction) -> None:
        seen: set[int] = set()
        work = [source]
        while work and len(seen) < 4096:
            v = work.pop()
            if id(v) in seen:
                continue
            seen.add(id(v))
            for u in v.users:
                out = self._output_use(u, v)
                if out == "output":
                    self._load(root, source, load)
                    return
                if out == "return":
                    self.summary.returns.setdefault(root, load)
                elif out == "continue":
                    work.append(u)

    def _output_use(self, u: Instruction, v: Value) -> str | None:
        op = u.opcode
        if op == "ret":
            return "output" if self.top and self.spec.ret_active else "return"
        if op == "store":
            return "output" if u.operands[0] is v and self.act.has_shadow(u.operands[1]) else None
        if op in ("call", "invoke"):
            kind = classify_call(self.module, u)
            if kind is CallKind.MATH:
                return "continue"
            if kind in (CallKind.DEFINED, CallKind.INDIRECT, CallKind.RULE, CallKind.UNKNOWN) and \
                    any(isinstance(a.type, T.PointerType) and self.act.has_shadow(a) for a in u.args):
                return "output"  # passed along with active memory
            return "continue" if is_floatish(self.module, u.type) else None
        if op in _SLICE_OPS and is_floatish(self.module, u.type):
            return "continue"
        return None


def _may_follow(first: Instruction, then: Instruction) -> bool:
    """May `then` execute after `first` in one call of their function? (The same call: when it
    is in a loop; its callee ordered what it does inside.)"""
    block = first.block
    if first is not then and then.block is block and \
            block.instructions.index(first) < block.instructions.index(then):
        return True
    seen: set[int] = set()
    work = list(block.successors)
    while work:
        b = work.pop()
        if b is then.block:
            return True
        if id(b) not in seen:
            seen.add(id(b))
            work.extend(b.successors)
    return False
