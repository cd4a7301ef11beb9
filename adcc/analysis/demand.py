"""Shadow demands: memory is possibly active unless proven inactive.

A pointer through which active data is stored, that is merged with or stored into shadowed memory,
or passed to an active call *demands* a shadow, and every origin that can have one gets one: a
stack object, a pointer loaded from memory (the memory then holds shadow pointers: an
out-parameter slot), the result of a call (the callee returns a shadow), an integer round trip of a
shadowed pointer. Reading floats through a pointer demands one weakly (stack objects keep the
analysis' verdict: what they hold is known to it). Only what the program declares inactive stays
without: `enzyme_const` arguments and memory reached through them, constant and inactive globals,
results of inactive functions (and external functions, whose memory adcc cannot see: the
synthesizers refuse to use such memory as active).
"""
from __future__ import annotations

from adcc.analysis.calls import CallKind, classify_call
from adcc.ir.values import Argument, Constant, Instruction, Value


def int_pointer_base(v: Value) -> Value | None:
    """For an integer computed from one pointer by offset arithmetic (`ptrtoint p`, plus, minus,
    masks: an aligned address), that pointer; None otherwise."""
    seen = 0
    base = None
    stack = [v]
    while stack and seen < 32:
        x = stack.pop()
        seen += 1
        if isinstance(x, Constant):
            continue
        if not isinstance(x, Instruction):
            return None
        if x.opcode == "ptrtoint":
            if base is not None and base is not x.operands[0]:
                return None
            base = x.operands[0]
        elif x.opcode in ("add", "sub", "and", "or", "xor") and len(x.operands) == 2:
            # one operand carries the address, the other is an offset or a mask (no pointer)
            stack.extend(x.operands)
        elif x.opcode in ("zext", "sext", "trunc", "freeze"):
            stack.append(x.operands[0])
        elif x.opcode in ("mul", "shl", "lshr", "ashr", "udiv", "sdiv", "urem", "srem", "load",
                          "phi", "select", "call", "sitofp", "uitofp", "fptosi", "fptoui", "icmp"):
            if _mentions_ptrtoint(x):
                return None
        else:
            return None
    return base if not stack else None


OFFSET_OPS = ("add", "sub", "and", "or", "xor")


def offset_shadow_base(v: Value, has_shadow) -> Value | None:
    """For an integer that is offset arithmetic on a shadowed pointer's address, that pointer."""
    base = int_pointer_base(v)
    return base if base is not None and has_shadow(base) else None


def int_to_pointer_users(v: Value) -> list[Instruction]:
    out, seen, stack = [], set(), [v]
    while stack and len(seen) < 64:
        x = stack.pop()
        for u in x.users:
            if id(u) in seen:
                continue
            seen.add(id(u))
            if u.opcode == "inttoptr":
                out.append(u)
            elif u.opcode in ("add", "sub", "and", "or", "xor", "zext", "sext", "trunc", "freeze"):
                stack.append(u)
    return out


def _mentions_ptrtoint(v: Value, depth: int = 6) -> bool:
    if not isinstance(v, Instruction) or depth == 0:
        return False
    if v.opcode == "ptrtoint":
        return True
    if v.opcode in ("load", "call", "phi"):
        return False
    return any(_mentions_ptrtoint(o, depth - 1) for o in v.operands)


class ShadowDemands:
    """The demand walk of `ActivityAnalysis` (which owns `shadowed`, `_shadow` and the queries)."""

    def _demand(self, ptr: Value, weak: bool = False) -> None:
        """`ptr` needs a shadow: give one to each of its origins that can have one (see the
        module docstring); the forward propagation then shadows `ptr` itself. A `weak` demand
        (floats are only read through `ptr`) leaves stack objects alone: what they hold is known
        to the analysis (they get a shadow when active data reaches them); but a stack slot that
        holds the pointer itself must hold its shadow too."""
        from adcc.analysis.activity import is_pointer, pointer_aggregate
        from adcc.analysis.memory import escapes, stack_object, stored_pointers
        stack = [(ptr, weak)]
        while stack:
            v, weak = stack.pop()
            seen = self._demanded_weak if weak else self._demanded
            if id(v) in seen or not isinstance(v, Instruction) or id(v) in self.shadowed:
                continue
            seen.add(id(v))
            op = v.opcode
            if op == "alloca" and self.closed_inactive(v):
                continue  # filled with inactive contents only, by code adcc sees whole
            if op == "alloca" and self.closed_inactive(v, merges=False):
                # the same, but a pointer from it meets active memory (a phi, a select): the shadow
                # this merge needs does not exist (a shadow of the object would hold null there)
                self.unshadowable[id(v)] = ("an object whose pointers into memory passed without a shadow "
                                            "(enzyme_const) have none")
                continue
            if op == "alloca" or id(v) in self._private_heap:  # (a heap object used like one)
                if not weak:
                    self._shadow(v)
            elif op in ("getelementptr", "bitcast", "addrspacecast", "freeze"):
                if isinstance(v.operands[0], Constant):
                    if not weak:
                        self._shadow(v)  # over null or a global: the same arithmetic on its shadow
                else:
                    stack.append((v.operands[0], weak))
            elif op in ("phi", "select"):
                stack.extend((o, weak) for o in v.operands if is_pointer(o.type) or pointer_aggregate(self.module, o.type))
            elif op == "load" and is_pointer(v.type) and self.inactive_field(v):
                continue  # read from a field that only ever holds pointers into inactive memory
            elif op == "load" and is_pointer(v.type):
                # the memory it comes from must hold shadow pointers; a stack slot that no call
                # can write holds only what this function stores into it
                obj = stack_object(v.operands[0])
                if obj is not None and not escapes(obj):
                    stack.extend((x, weak) for x in stored_pointers(obj))
                else:
                    stack.append((v.operands[0], False))
            elif op == "inttoptr":
                base = int_pointer_base(v.operands[0])
                if base is None:
                    self.unshadowable[id(v)] = "a pointer computed from an integer adcc cannot trace to one pointer"
                else:
                    stack.append((base, weak))
            elif op == "extractvalue" and is_pointer(v.type) and pointer_aggregate(self.module, v.operands[0].type):
                stack.append((v.operands[0], weak))
            elif op == "insertvalue" and pointer_aggregate(self.module, v.type):
                stack.extend((o, weak) for o in v.operands if is_pointer(o.type) or pointer_aggregate(self.module, o.type))
            elif op == "call" and (is_pointer(v.type) or pointer_aggregate(self.module, v.type)):
                kind = classify_call(self.module, v)
                if kind in (CallKind.DEFINED, CallKind.INDIRECT):
                    self._shadow(v)  # the callee returns the shadow too
                elif kind is CallKind.UNKNOWN and not weak:
                    name = (v.callee_name or "?").strip('"')
                    self.unshadowable[id(v)] = f"memory returned by external function '{name}', whose shadow adcc cannot know"
                elif kind in (CallKind.MEMCPY, CallKind.MEMSET):
                    stack.append((v.args[0], weak))

    def closed_inactive(self, obj: Instruction, merges: bool = True) -> bool:
        """Does stack object `obj` hold inactive contents for good (adcc.analysis.contents)? Then
        neither it nor what its pointers point to needs a shadow. (`merges` false: pointers from
        it may meet active ones.)"""
        from adcc.analysis.contents import closed_object
        key = (id(obj), merges)
        if key not in self._closed:
            self._closed[key] = closed_object(self.module, self.fn, obj, self._arg_classes(), merges)
        return self._closed[key]

    def _arg_classes(self) -> tuple[str, ...]:
        from adcc.analysis.activity import is_pointer
        from adcc.analysis.contents import CLEAN, INACTIVE, OTHER
        from adcc.analysis.spec import Activity
        return tuple(OTHER if act is not Activity.CONST else INACTIVE if is_pointer(a.type) else CLEAN
                     for a, act in zip(self.fn.args, self.spec.args))

    def inactive_field(self, load: Instruction) -> bool:
        """Is pointer `load` read from a field of a stack object that only ever holds pointers into
        inactive memory (adcc.analysis.contents.inactive_field)? It then has no shadow, even where
        the object has one."""
        from adcc.analysis.contents import inactive_field
        if id(load) not in self._fields:
            self._fields[id(load)] = inactive_field(self.module, self.fn, load, self._arg_classes(), self._field_cache)
        return self._fields[id(load)]

    def _demand_loaded(self, ptr: Value) -> None:
        """Floats are read through `ptr`, which has no shadow: unless its memory is proven
        inactive, it may hold active data, so it demands a shadow (weakly)."""
        if not self.has_shadow(ptr):
            self._demand(ptr, weak=True)

    def inactive_argument(self, v: Value) -> Argument | None:
        """The argument (passed without a shadow) whose memory pointer `v` points into, if that is
        all `v` is: the argument through address arithmetic."""
        for _ in range(32):
            if not isinstance(v, Instruction) or v.opcode not in ("getelementptr", "bitcast", "addrspacecast",
                                                                 "freeze"):
                break
            v = v.operands[0]
        return v if isinstance(v, Argument) else None

    def describe_inactive(self, v: Value) -> str:
        """What memory pointer `v` (without a shadow) points into, for messages."""
        seen = 0
        while isinstance(v, Instruction) and seen < 32:
            seen += 1
            reason = self.unshadowable.get(id(v))
            if reason is not None:
                return reason
            if v.opcode in ("getelementptr", "bitcast", "addrspacecast", "freeze"):
                v = v.operands[0]
            elif v.opcode == "load":
                return f"memory reached through {self.describe_inactive(v.operands[0])}"
            elif v.opcode == "call":
                name = (v.callee_name or "?").strip('"')
                return f"memory returned by '{name}', which adcc treats as inactive"
            else:
                break
        if isinstance(v, Argument):
            return f"memory of argument {v.index + 1} of '{self.fn.fname.strip(chr(34))}', passed without a shadow (enzyme_const)"
        return "memory without a shadow"

    def unshadowable_origin(self, ptr: Value) -> str | None:
        """For a pointer without a shadow: the memory adcc cannot see that it may point into (an
        external function's, an untraceable integer's), described; None when its origins are all
        declared inactive (storing active data there drops a derivative the program chose to drop)."""
        seen: set[int] = set()
        stack = [ptr]
        while stack and len(seen) < 256:
            v = stack.pop()
            if id(v) in seen or not isinstance(v, Instruction):
                continue
            seen.add(id(v))
            reason = self.unshadowable.get(id(v))
            if reason is not None:
                return reason
            op = v.opcode
            if op in ("getelementptr", "bitcast", "addrspacecast", "freeze", "load"):
                stack.append(v.operands[0])
            elif op in ("phi", "select"):
                stack.extend(o for o in v.operands if isinstance(o.type, type(ptr.type)))
            elif op == "inttoptr" and int_pointer_base(v.operands[0]) is None:
                return "a pointer computed from an integer adcc cannot trace to one pointer"
            elif op == "call" and classify_call(self.module, v) is CallKind.UNKNOWN:
                name = (v.callee_name or "?").strip('"')
                return f"memory returned by external function '{name}', whose shadow adcc cannot know"
        return None
