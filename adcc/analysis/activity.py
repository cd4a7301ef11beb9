"""Activity analysis: which values carry derivatives and which pointers have shadows.

A value is *varied* when it is floating (scalar, vector or aggregate with float
members) and depends on an active input, directly or through memory reachable from
a shadowed pointer. A pointer is *shadowed* when it may point into memory that
holds active data: derived from a duplicated argument, a fresh allocation, a
mutable global, or loaded from shadowed memory. Everything else is executed as in
the primal and gets no derivative code. The analysis errs on the active side:
a value wrongly deemed active costs time, one wrongly deemed inactive costs a
wrong gradient.

Memory is possibly active unless proven otherwise: pointers that need a shadow *demand* one
from their origins (adcc.analysis.demand).
"""
from __future__ import annotations

from adcc.analysis.calls import CallKind, callback_callee, classify_call, rule_names
from adcc.analysis.declarations import declarations_of
from adcc.analysis.demand import OFFSET_OPS, ShadowDemands, int_pointer_base, int_to_pointer_users, offset_shadow_base
from adcc.analysis.fortran import fresh_memory_arguments
from adcc.analysis.signbits import INT_OPS, keeps_only_sign, lane_bits, moved_bits_reenter, moves_words, sign_operand
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ir import types as T
from adcc.ir.symbols import global_refs
from adcc.ir.values import Argument, Constant, Function, GlobalRef, Instruction, Value

FLOAT_OPS = frozenset({"fadd", "fsub", "fmul", "fdiv", "frem", "fneg", "fpext", "fptrunc", "select",
                       "phi", "extractvalue", "insertvalue", "extractelement", "insertelement",
                       "shufflevector", "freeze", "bitcast"})
_FLOAT_OF_WIDTH = {16: T.FloatType("half"), 32: T.f32, 64: T.f64}
POINTER_OPS = frozenset({"getelementptr", "phi", "select", "bitcast", "addrspacecast", "freeze"})


def _same_lanes(ty: T.Type, elem: T.Type) -> T.Type:
    """`elem`, or a vector of it with as many lanes as vector type `ty`."""
    return T.VectorType(ty.count, elem) if isinstance(ty, T.VectorType) else elem


def is_floatish(module, ty: T.Type) -> bool:
    """Float scalar/vector, or an aggregate with a float member."""
    if ty.is_float_or_float_vector():
        return True
    if isinstance(ty, T.NamedStructType):
        ty = module.resolve(ty)
    if isinstance(ty, T.StructType):
        return any(is_floatish(module, e) for e in ty.elems)
    if isinstance(ty, T.ArrayType):
        return is_floatish(module, ty.elem)
    return False


def is_pointer(ty: T.Type) -> bool:
    return isinstance(ty, T.PointerType)


def pointer_aggregate(module, ty: T.Type) -> bool:
    """A struct/array of pointers and integers (no floats) with a pointer in it: its shadow is the
    same aggregate over the pointers' shadows (`std::pair` of iterators returned by value)."""
    if isinstance(ty, T.NamedStructType):
        ty = module.resolve(ty)
    if isinstance(ty, T.ArrayType):
        return pointer_aggregate(module, ty.elem) or is_pointer(ty.elem)
    if not isinstance(ty, T.StructType) or is_floatish(module, ty):
        return False
    return any(is_pointer(e) or pointer_aggregate(module, e) for e in ty.elems)


# the C and C++ libraries' standard streams: mutable, but never hold derivatives
STREAM_GLOBALS = frozenset({"stdin", "stdout", "stderr", "_ZSt3cin", "_ZSt4cout", "_ZSt4cerr", "_ZSt4clog",
                            "_ZSt4wcin", "_ZSt5wcout", "_ZSt5wcerr", "_ZSt5wclog"})


def global_is_active(module, name: str) -> bool:
    """Mutable globals may hold active data; constants, functions and the standard streams do not."""
    g = module.globals.get(name)
    if g is None:
        return False
    decls = declarations_of(module)
    if name in decls.shadows:
        return True  # the program gave it a shadow
    if g.is_constant or name.startswith(("enzyme_", "adcc.ctxheap.")) or "__enzyme" in name \
            or name in STREAM_GLOBALS \
            or rule_names(module).inactive_global(name):
        return False
    return name not in decls.inactive_globals and name not in decls.shadows.values()


def _stack_derived(v: Value) -> bool:
    seen = 0
    while isinstance(v, Instruction) and seen < 16:
        if v.opcode == "alloca":
            return True
        if v.opcode not in ("getelementptr", "bitcast", "addrspacecast"):
            return False
        v = v.operands[0]
        seen += 1
    return False


def private_heap_object(module, inst: Instruction) -> bool:
    """A heap allocation (malloc, calloc, new, ...) whose address never leaves the function's
    loads, stores, copies and its `free`: every access to it is visible here, so, like a stack
    object, it needs a shadow only once active data reaches it (a scratch buffer filled with
    constants needs none, and loads from it are constants)."""
    from adcc.analysis.memory import pointer_uses
    if inst.opcode != "call" or classify_call(module, inst) is not CallKind.ALLOC:
        return False
    for u, v in pointer_uses(inst):
        op = u.opcode
        if op == "load" or op == "icmp":
            continue
        if op == "store" and u.operands[1] is v and u.operands[0] is not v:
            continue
        if op == "call" and classify_call(module, u) in (CallKind.FREE, CallKind.MEMCPY, CallKind.MEMSET):
            continue
        if op == "call" and (u.callee_name or "").startswith("llvm.lifetime."):
            continue
        return False
    return True


class ActivityAnalysis(ShadowDemands):
    def __init__(self, module, fn: Function, spec: FunctionSpec):
        self.module = module
        self.fn = fn
        self.spec = spec
        self.varied: set[int] = set()
        self.shadowed: set[int] = set()
        self.int_shadowed: set[int] = set()  # integer loads from shadowed memory (copies)
        self._views: dict[int, T.FloatType | None] = {}
        self._types = None
        self._demanded: set[int] = set()
        self._demanded_weak: set[int] = set()
        self._closed: dict[tuple, bool] = {}  # (stack object, merges) -> closed with inactive contents
        self._fields: dict[int, bool] = {}  # pointer loads -> from a field holding inactive pointers only
        self._field_cache: dict = {}
        self.unshadowable: dict[int, str] = {}  # pointers that demand a shadow none can give -> why
        self._read_only_args: dict[tuple[str, int], bool] = {}  # (callee, argument) -> the callee only reads it
        # heap allocations treated like stack objects: a shadow only when active data reaches them
        self._private_heap = {id(i) for i in fn.instructions() if private_heap_object(module, i)}
        self._run()

    # --- queries --------------------------------------------------------------------
    def is_varied(self, v: Value) -> bool:
        return id(v) in self.varied

    def has_shadow(self, v: Value) -> bool:
        if isinstance(v, GlobalRef):
            return global_is_active(self.module, v.gname)
        if isinstance(v, Constant):
            return "@" in v.text and any(global_is_active(self.module, n) for n in global_refs(v.text))
        return id(v) in self.shadowed

    def allocation_has_shadow(self, alloc: Instruction) -> bool:
        """Does this allocation call get a shadow allocated beside it? Every one does but a private
        heap object (`private_heap_object`) that active data never reaches."""
        return id(alloc) in self.shadowed or id(alloc) not in self._private_heap

    def has_int_shadow(self, v: Value) -> bool:
        return id(v) in self.int_shadowed

    def float_view(self, v: Value) -> T.Type | None:
        """The float type an integer value really holds, per type analysis: the same lanes (a
        double moved as i64; an SSE packet of doubles viewed as <2 x i64>) or, where the integer's
        lanes are not the floats' width, the floats of the same size (two doubles loaded as
        <4 x i32>, as Eigen's packet swizzles do; two floats moved as one i64). A reshaped view
        (`view_keeps_lanes` false) has no lane-wise meaning: the synthesizers move it whole or
        refuse the operation."""
        bits = lane_bits(v.type)
        if bits is None:
            return None
        key = id(v)
        if key in self._views:
            return self._views[key]
        view = None
        if not isinstance(v, Constant):
            from adcc.analysis.types import Float
            kind = self.types.scalar_kind(v)
            width = T.FLOAT_BITS.get(kind.kind) if isinstance(kind, Float) else None
            total = bits * (v.type.count if isinstance(v.type, T.VectorType) else 1)
            if width == bits:
                view = _same_lanes(v.type, T.FloatType(kind.kind))
            elif width is not None and total % width == 0 and not \
                    (isinstance(v.type, T.VectorType) and v.type.scalable):
                n = total // width
                view = T.FloatType(kind.kind) if n == 1 else T.VectorType(n, T.FloatType(kind.kind))
        self._views[key] = view
        return view

    def view_keeps_lanes(self, v: Value) -> bool:
        """Whether an integer's float view (if any) has the integer's own lanes: lane k of the
        integer is float k, so lane-wise operations (shuffles, element access, sign bits) carry over."""
        view = self.float_view(v)
        if view is None:
            return True
        lanes = v.type.count if isinstance(v.type, T.VectorType) else None
        return lanes == (view.count if isinstance(view, T.VectorType) else None)

    def adjoint_type(self, v: Value) -> T.Type:
        """The type a value's adjoint has: its own, or its float view (an active integer that type
        analysis cannot place holds the float of its width)."""
        view = self.float_view(v)
        if view is None and id(v) in self.varied and lane_bits(v.type) in _FLOAT_OF_WIDTH:
            view = _same_lanes(v.type, _FLOAT_OF_WIDTH[lane_bits(v.type)])
        return view or v.type

    def carries_float(self, v: Value) -> bool:
        return is_floatish(self.module, v.type) or self.float_view(v) is not None

    @property
    def types(self):
        if self._types is None:
            from adcc.analysis.types import cached_types
            self._types = cached_types(self.module, self.fn, self.spec.arg_types)
        return self._types

    def is_active_call(self, inst: Instruction) -> bool:
        return any(self.is_varied(a) or (is_pointer(a.type) and self.has_shadow(a)) for a in inst.args)

    # --- fixpoint ---------------------------------------------------------------------
    def _run(self) -> None:
        fn, module = self.fn, self.module
        work: list[Value] = []
        for a, act in zip(fn.args, self.spec.args):
            if act is Activity.CONST:
                continue
            if is_pointer(a.type) and act.has_shadow:
                self.shadowed.add(id(a)); work.append(a)
            elif is_floatish(module, a.type) or isinstance(a.type, T.IntType):
                self.varied.add(id(a)); work.append(a)  # an active integer holds a float's bits
        self._woken: list[Value] = []
        for inst in fn.instructions():
            if self._is_source(inst):
                self.shadowed.add(id(inst)); work.append(inst)
            elif self._visit(inst):
                work.append(inst)
            work.extend(self._woken); self._woken.clear()
        if self.spec.ret_shadow:  # the caller needs the shadow of what this function returns
            for inst in fn.instructions():
                if inst.opcode == "ret" and inst.operands:
                    self._demand(inst.operands[0])
            work.extend(self._woken); self._woken.clear()
        while work:
            v = work.pop()
            for u in v.users:
                if self._visit(u):
                    work.append(u)
                work.extend(self._woken); self._woken.clear()

    def _shadow(self, v: Value) -> None:
        if id(v) not in self.shadowed:
            self.shadowed.add(id(v))
            self._woken.append(v)

    def _is_source(self, inst: Instruction) -> bool:
        if inst.opcode == "call" and id(inst) not in self._private_heap:
            k = classify_call(self.module, inst)
            return k in (CallKind.ALLOC, CallKind.REALLOC)
        return False

    def _visit(self, inst: Instruction) -> bool:
        """Update `inst`'s activity from its operands; True when it changed."""
        module = self.module
        op = inst.opcode
        before = (id(inst) in self.varied, id(inst) in self.shadowed, id(inst) in self.int_shadowed)
        ty = inst.type
        if op == "load":
            floats = is_floatish(module, ty) or self.float_view(inst) is not None
            if not self.has_shadow(inst.operands[0]) and floats:
                self._demand_loaded(inst.operands[0])
            if self.has_shadow(inst.operands[0]):
                if floats:
                    self.varied.add(id(inst))
                elif is_pointer(ty):
                    if not self.inactive_field(inst):
                        self.shadowed.add(id(inst))
                elif isinstance(ty, (T.IntType, T.VectorType, T.ArrayType, T.StructType)):
                    self.int_shadowed.add(id(inst))
        elif op == "store":
            val, ptr = inst.operands
            if id(val) in self.varied or id(val) in self.int_shadowed or \
                    (is_pointer(val.type) and (self.has_shadow(val) or _stack_derived(val))):
                self._demand(ptr)
            if is_pointer(val.type) and self.has_shadow(ptr) and not self.has_shadow(val):
                self._demand(val)  # escapes into active memory: its shadow goes there too
            elif isinstance(val.type, T.IntType) and self.has_shadow(ptr):
                # an address kept as an integer in shadowed memory (a closure's environment, as
                # std::function keeps its captures): its memory gets a shadow too (a zero one when
                # it is inactive), since code reading it back cannot tell it from active memory
                base = int_pointer_base(val)
                if base is not None and not self.has_shadow(base):
                    self._demand(base)
        elif op == "atomicrmw":  # a store of its value and a load of the old one
            val, ptr = inst.operands[1], inst.operands[0]
            if id(val) in self.varied:
                self._demand(ptr)
            if self.has_shadow(ptr) and self.carries_float(inst):
                self.varied.add(id(inst))
        elif op == "call":
            kind = classify_call(module, inst)
            if kind is CallKind.MEMCPY and len(inst.args) > 1 and self.has_shadow(inst.args[1]):
                self._demand(inst.args[0])
            elif kind is CallKind.MEMCPY and len(inst.args) > 1 and self.has_shadow(inst.args[0]):
                self._demand_loaded(inst.args[1])
            elif kind in (CallKind.DEFINED, CallKind.INDIRECT, CallKind.UNKNOWN, CallKind.RULE) and \
                    (self.is_active_call(inst) or self._callee_uses_active_globals(inst)):
                # a rule callee that says what it writes (BLAS, MPI) only reads its other pointer
                # operands: a stack object among them needs a shadow only if active data reaches it
                # otherwise (flang's `1d0` passed to dgemm_ as alpha is no active operand); a
                # defined callee that only reads a constant stack object receives it as constant
                written = rule_names(module).written_args(inst.callee_name or "") \
                    if kind is CallKind.RULE and not is_pointer(ty) else None
                for k, a in enumerate(inst.args):
                    if is_pointer(a.type) and not self._read_only_stack_argument(inst, kind, k, a):
                        self._demand(a, weak=written is not None and k not in written)
            if kind is CallKind.RULE:  # flang's runtime: descriptors pointed at fresh memory; MPI receives
                for k in fresh_memory_arguments(inst.callee_name) + rule_names(module).incoming_args(inst):
                    if k < len(inst.args) and is_pointer(inst.args[k].type):
                        self._demand(inst.args[k])
            if kind in (CallKind.ALLOC, CallKind.REALLOC):
                if id(inst) not in self._private_heap:
                    self.shadowed.add(id(inst))
            elif kind in (CallKind.MATH,):
                if any(id(a) in self.varied for a in inst.args) and is_floatish(module, ty):
                    self.varied.add(id(inst))
            elif kind in (CallKind.DEFINED, CallKind.INDIRECT, CallKind.UNKNOWN, CallKind.RULE):
                if self.is_active_call(inst) or self._callee_uses_active_globals(inst):
                    if self.carries_float(inst):
                        self.varied.add(id(inst))
                    elif (is_pointer(ty) or pointer_aggregate(module, ty)) and \
                            (kind is not CallKind.RULE or rule_names(module).rule_shadows_result(inst.callee_name)):
                        self.shadowed.add(id(inst))
        elif op in POINTER_OPS and (is_pointer(ty) or (op in ("phi", "select") and pointer_aggregate(module, ty))):
            pointers = [o for o in inst.operands if is_pointer(o.type) or pointer_aggregate(module, o.type)]
            if any(self.has_shadow(o) for o in pointers):
                self.shadowed.add(id(inst))
                if op in ("phi", "select"):
                    # adjoints of loads through the merged pointer land in the shadow of whichever
                    # object it points to: every one of them needs a real one
                    for o in pointers:
                        if not self.has_shadow(o):
                            self._demand(o)
        elif op == "extractvalue" and is_pointer(ty):
            agg = inst.operands[0]
            if self.has_shadow(agg) or id(agg) in self.int_shadowed:
                self.shadowed.add(id(inst))
        elif op == "insertvalue" and pointer_aggregate(module, ty):
            if any(self.has_shadow(o) or id(o) in self.int_shadowed for o in inst.operands
                   if is_pointer(o.type) or pointer_aggregate(module, o.type)):
                self.shadowed.add(id(inst))
        elif op == "inttoptr":
            # offset arithmetic on a shadowed pointer's address (the same offset into its shadow), or
            # an integer that carries a shadow pointer's bits (loaded from shadowed memory)
            base = int_pointer_base(inst.operands[0])
            if (base is not None and self.has_shadow(base)) or id(inst.operands[0]) in self.int_shadowed:
                self.shadowed.add(id(inst))
        elif op == "ptrtoint" and self.has_shadow(inst.operands[0]):
            # a pointer moved through an integer (LLVM stores a pointer field as i64: std::function's
            # captures, Eigen's expression objects): the integer carries the shadow pointer's bits
            # alongside, and inttoptr, or a load as a pointer from memory it was stored into, turns
            # them back into a shadow
            self.int_shadowed.add(id(inst))
            for x in int_to_pointer_users(inst):  # an integer round trip of a shadowed pointer
                if self._visit(x):
                    self._woken.append(x)
        elif op in INT_OPS and lane_bits(ty) is not None:
            # bits of a float: a sign change has a derivative; anything else that is a float
            # again is marked active so that the synthesizers refuse it (never a silent zero)
            if any(id(o) in self.varied for o in inst.operands) and not keeps_only_sign(inst, self.is_varied):
                if sign_operand(inst, self.is_varied) is not None or self.carries_float(inst) or \
                        (moves_words(inst) and moved_bits_reenter(inst)):
                    self.varied.add(id(inst))
            elif op in OFFSET_OPS and isinstance(ty, T.IntType) and \
                    any(id(o) in self.int_shadowed for o in inst.operands) and \
                    offset_shadow_base(inst, self.has_shadow) is not None:
                # an address computed from a shadowed pointer's (an aligned buffer kept as uintptr_t):
                # its shadow is the shadow's address at the same offset
                self.int_shadowed.add(id(inst))
        elif op in FLOAT_OPS and (self.carries_float(inst) or (op == "bitcast" and lane_bits(ty) is not None) or
                                  any(id(o) in self.varied and not self.view_keeps_lanes(o) for o in inst.operands)):
            # (the bits of an active float as integers type analysis cannot place, or lanes of an
            # integer that split its floats: active, so that what they become is differentiated or
            # refused, never a silent zero)
            if any(id(o) in self.varied for o in inst.operands):
                self.varied.add(id(inst))
        elif op in ("trunc", "zext", "sext") and (self.carries_float(inst) or
                                                  (moves_words(inst) and moved_bits_reenter(inst))):
            # floats cut out of (or widened into) an integer that holds them (one float of two
            # moved as i64, also where the words go on to another function by value): active, so
            # that the synthesizers refuse it rather than drop it
            if any(id(o) in self.varied for o in inst.operands):
                self.varied.add(id(inst))
        elif op in ("phi", "select", "freeze") and id(inst) not in self.int_shadowed:
            if any(id(o) in self.int_shadowed for o in inst.operands):
                self.int_shadowed.add(id(inst))
        after = (id(inst) in self.varied, id(inst) in self.shadowed, id(inst) in self.int_shadowed)
        return before != after

    def _read_only_stack_argument(self, inst: Instruction, kind: CallKind, k: int, a: Value) -> bool:
        """Is argument `k` of an active call a stack object that holds only integers, constants and
        pointers into memory the program declared inactive, and that no callee stores into? It
        then needs no shadow and the callee receives it as constant: an array descriptor built
        over an enzyme_const array (a section of it) keeps that array out of the derivative,
        instead of getting a shadow descriptor whose data is nowhere."""
        from adcc.analysis.memory import pointer_uses, stack_object
        if kind is not CallKind.DEFINED or self.has_shadow(a):
            return False
        obj = stack_object(a)
        if obj is None or self.has_shadow(obj):
            return False
        for u, v in pointer_uses(obj):
            op = u.opcode
            if op in ("load", "icmp"):
                continue
            if op == "store" and u.operands[1] is v and u.operands[0] is not v:
                if not self._inactive_contents(u.operands[0]):
                    return False
            elif op == "call" and (u.callee_name or "").startswith(("llvm.lifetime.", "llvm.dbg.")):
                continue
            elif op != "call" or classify_call(self.module, u) is not CallKind.DEFINED or \
                    not all(self._only_reads(u.callee_name, j) for j, x in enumerate(u.args) if x is v):
                return False
        return True

    def _only_reads(self, callee: str, k: int) -> bool:
        from adcc.analysis.memory import stores_into_argument
        key = (callee, k)
        if key not in self._read_only_args:
            self._read_only_args[key] = not stores_into_argument(self.module, callee, k)
        return self._read_only_args[key]

    def _inactive_contents(self, v: Value) -> bool:
        """Is `v`, stored into a stack object, inactive data for good: an integer or a float that
        is not active, or a pointer into memory the program declared inactive (an enzyme_const
        argument's, memory reached through one, null, a constant global)?"""
        if id(v) in self.varied or id(v) in self.int_shadowed:
            return False
        if isinstance(v, Instruction) and v.opcode == "ptrtoint":
            return False  # an address kept as an integer
        if not is_pointer(v.type):
            return not pointer_aggregate(self.module, v.type) and not isinstance(v.type, T.VectorType)
        stack, seen = [(v, False)], set()
        while stack:
            x, loaded = stack.pop()
            if (id(x), loaded) in seen:
                continue
            seen.add((id(x), loaded))
            if len(seen) > 64:
                return False
            if isinstance(x, Argument):
                if self.has_shadow(x):
                    return False
            elif isinstance(x, (Constant, GlobalRef)):
                if (loaded and not (isinstance(x, Constant) and x.text == "null")) or self.has_shadow(x):
                    return False   # (what a global holds may point anywhere)
            elif isinstance(x, Instruction) and x.opcode in ("getelementptr", "bitcast", "addrspacecast", "freeze"):
                stack.append((x.operands[0], loaded))
            elif isinstance(x, Instruction) and x.opcode in ("phi", "select"):
                stack.extend((o, loaded) for o in x.operands if is_pointer(o.type))
            elif isinstance(x, Instruction) and x.opcode == "load":
                stack.append((x.operands[0], True))
            else:
                return False
        return True

    def _callee_uses_active_globals(self, inst: Instruction) -> bool:
        name = inst.callee_name
        if name is not None and not self.module.is_defined(name):
            name = callback_callee(self.module, inst)
        if name is None or not self.module.is_defined(name):
            return False
        return name in _functions_touching_active_globals(self.module)

    # --- printer ------------------------------------------------------------------------
    def format(self) -> str:
        from adcc.ir.printer import Namer, print_instruction
        namer = Namer(self.fn)
        lines = [f"activity of @{self.fn.fname} ({', '.join(a.value for a in self.spec.args)}):"]
        for a in self.fn.args:
            lines.append(f"  arg {namer.ref(a)}: {self._tag(a)}")
        for inst in self.fn.instructions():
            if inst.opcode == "#dbg":
                continue
            lines.append(f"  [{self._tag(inst)}] {print_instruction(inst, namer, False).strip()}")
        return "\n".join(lines)

    def _tag(self, v: Value) -> str:
        if id(v) in self.varied:
            return "active"
        if id(v) in self.shadowed:
            return "shadow"
        if id(v) in self.int_shadowed:
            return "copy"
        return "const"


def call_activities(analysis: ActivityAnalysis, inst: Instruction, mode: Mode) -> tuple[Activity, ...]:
    """The argument activities a call to a defined function is differentiated with, from the
    caller's activity analysis."""
    acts = []
    for a in inst.args:
        if isinstance(a.type, T.PointerType) and analysis.has_shadow(a):
            acts.append(Activity.DUP)
        elif analysis.is_varied(a) and (is_floatish(analysis.module, a.type) or isinstance(a.type, T.IntType)):
            acts.append(Activity.DUP if mode is Mode.FORWARD else Activity.OUT)  # (an integer: a float's bits)
        else:
            acts.append(Activity.CONST)
    return tuple(acts)


def _functions_touching_active_globals(module) -> set[str]:
    """Defined functions that (transitively) reference a mutable global (cached on the module)."""
    cached = getattr(module, "_adcc_global_touch", None)
    if cached is not None:
        return cached
    direct: dict[str, set[str]] = {}
    touches: set[str] = set()
    for name in module.defined_function_names():
        names = module.references(name) - {name}
        direct[name] = names
        if any(global_is_active(module, n) for n in names):
            touches.add(name)
    changed = True
    while changed:
        changed = False
        for name, callees in direct.items():
            if name not in touches and callees & touches:
                touches.add(name)
                changed = True
    module._adcc_global_touch = touches
    return touches
