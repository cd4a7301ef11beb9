"""Values, use-lists, instructions, blocks and functions of adcc's IR model.

Every operand slot of an instruction is a `Value`; `Value.uses` lists the
(instruction, slot) pairs that read it, kept exact by `set_operand`,
`replace_all_uses_with` and `erase`. An instruction prints from a template of
text pieces and operand slots, so details adcc does not model (flags,
attributes, alignment) survive a round trip unchanged.
"""
from __future__ import annotations

import re
from typing import Iterator

from adcc.ir import types as T

_ALIGN = re.compile(r", align (\d+)")


class Value:
    __slots__ = ("type", "name", "uses", "__weakref__")

    def __init__(self, type: T.Type, name: str | None = None):
        self.type = type
        self.name = name  # None: unnamed (numbered when printed)
        self.uses: list[tuple["Instruction", int]] = []

    def replace_all_uses_with(self, new: "Value") -> None:
        for user, idx in list(self.uses):
            user.set_operand(idx, new)

    @property
    def users(self) -> list["Instruction"]:
        seen: dict[int, Instruction] = {}
        for u, _ in self.uses:
            seen.setdefault(id(u), u)
        return list(seen.values())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type} {self.name or ''}>"


class Constant(Value):
    """A constant kept as its LLVM text (`1.0`, `zeroinitializer`, `<double 1.0, ...>`, constant expressions)."""
    __slots__ = ("text",)

    def __init__(self, type: T.Type, text: str):
        super().__init__(type, None)
        self.text = text

    def is_zero(self) -> bool:
        t = self.text
        if t in ("zeroinitializer", "null", "false", "0", "0.0", "0.000000e+00", "-0.000000e+00"):
            return True
        if t.startswith("0x") and len(t) > 2 and t[2] not in "KLMHR" and int(t[2:], 16) & ~(1 << 63) == 0:
            return True
        return False

    def is_undef(self) -> bool:
        return self.text in ("undef", "poison")


class GlobalRef(Constant):
    """A reference to a global variable or function, `@name`."""
    __slots__ = ("gname",)

    def __init__(self, name: str, type: T.Type = T.ptr):
        super().__init__(type, "@" + name)
        self.gname = name


class Argument(Value):
    __slots__ = ("function", "index", "attrs")

    def __init__(self, type: T.Type, name: str | None, function: "Function | None", index: int, attrs: str = ""):
        super().__init__(type, name)
        self.function = function
        self.index = index
        self.attrs = attrs  # parameter attributes text (kept for existing functions)


class Instruction(Value):
    __slots__ = ("opcode", "operands", "template", "metadata", "block", "info")

    def __init__(self, opcode: str, type: T.Type, operands: list[Value], template: list,
                 name: str | None = None, metadata: list[tuple[str, str]] | None = None,
                 info: dict | None = None):
        super().__init__(type, name)
        self.opcode = opcode
        self.operands: list[Value] = list(operands)
        self.template = template  # list of str pieces and int operand slots
        self.metadata = metadata or []  # [(kind, text)], e.g. ("dbg", "!12")
        self.block: Block | None = None
        self.info = info or {}
        for i, v in enumerate(self.operands):
            v.uses.append((self, i))

    # --- use-list maintenance -------------------------------------------------
    def set_operand(self, idx: int, new: Value) -> None:
        old = self.operands[idx]
        if old is new:
            return
        try:
            old.uses.remove((self, idx))
        except ValueError:
            pass
        self.operands[idx] = new
        new.uses.append((self, idx))

    def drop_operands(self) -> None:
        for i, v in enumerate(self.operands):
            try:
                v.uses.remove((self, i))
            except ValueError:
                pass

    def erase(self) -> None:
        """Remove from the block; the instruction must have no remaining uses."""
        if self.uses:
            raise ValueError(f"erasing {self.opcode} that still has {len(self.uses)} use(s)")
        self.drop_operands()
        if self.block is not None:
            self.block.instructions.remove(self)
            self.block = None

    # --- metadata ---------------------------------------------------------------
    def get_metadata(self, kind: str) -> str | None:
        for k, v in self.metadata:
            if k == kind:
                return v
        return None

    # --- alignment (load, store, alloca) ------------------------------------------
    @property
    def alignment(self) -> int | None:
        """The `align N` written on a load, store or alloca; None when none is written (LLVM then
        assumes the ABI alignment of the accessed type: `layout.access_alignment`)."""
        m = _ALIGN.search(self.template[-1]) if self.template and isinstance(self.template[-1], str) else None
        return int(m.group(1)) if m else None

    def set_alignment(self, n: int) -> None:
        """Write `align n` on a load, store or alloca (replacing the one there is)."""
        last = self.template[-1] if self.template and isinstance(self.template[-1], str) else None
        if last is not None and _ALIGN.search(last):
            self.template[-1] = _ALIGN.sub(f", align {n}", last, count=1)
        elif last is not None:
            self.template[-1] = last + f", align {n}"
        else:
            self.template.append(f", align {n}")

    # --- structured views (valid per opcode) ------------------------------------
    @property
    def is_terminator(self) -> bool:
        return self.opcode in TERMINATORS

    @property
    def successors(self) -> list["Block"]:
        return [v for v in self.operands if isinstance(v, Block)] if self.opcode in TERMINATORS else []

    def incoming(self) -> Iterator[tuple[Value, "Block"]]:
        """Phi: (value, predecessor block) pairs."""
        ops = self.operands
        for i in range(0, len(ops), 2):
            yield ops[i], ops[i + 1]  # type: ignore[misc]

    @property
    def callee(self) -> Value:
        return self.operands[self.info["callee_slot"]]

    @property
    def callee_name(self) -> str | None:
        c = self.callee
        return c.gname if isinstance(c, GlobalRef) else None

    @property
    def calls_inline_asm(self) -> bool:
        """A call whose callee is inline assembly (`call void asm sideeffect "cpuid", ...`)."""
        c = self.callee
        return isinstance(c, Constant) and not isinstance(c, GlobalRef) and c.text.startswith("asm")

    @property
    def args(self) -> list[Value]:
        s = self.info["callee_slot"]
        return self.operands[s + 1: s + 1 + self.info["nargs"]]

    def __repr__(self) -> str:
        return f"<Instruction {self.opcode} {self.type} {self.name or ''}>"


TERMINATORS = frozenset({"ret", "br", "switch", "indirectbr", "invoke", "resume", "unreachable",
                         "cleanupret", "catchret", "catchswitch", "callbr"})


class Block(Value):
    __slots__ = ("instructions", "function")

    def __init__(self, name: str | None = None, function: "Function | None" = None):
        super().__init__(T.label, name)
        self.instructions: list[Instruction] = []
        self.function = function

    def append(self, inst: Instruction) -> Instruction:
        inst.block = self
        self.instructions.append(inst)
        return inst

    def insert(self, index: int, inst: Instruction) -> Instruction:
        inst.block = self
        self.instructions.insert(index, inst)
        return inst

    @property
    def terminator(self) -> Instruction | None:
        if self.instructions and self.instructions[-1].is_terminator:
            return self.instructions[-1]
        return None

    @property
    def successors(self) -> list["Block"]:
        t = self.terminator
        if t is None:
            return []
        out: list[Block] = []
        for s in t.successors:
            if s not in out:
                out.append(s)
        return out

    @property
    def predecessors(self) -> list["Block"]:
        out: list[Block] = []
        for inst, _ in self.uses:
            if inst.is_terminator and inst.block is not None and inst.block not in out:
                out.append(inst.block)
        return out

    def phis(self) -> list[Instruction]:
        out = []
        for i in self.instructions:
            if i.opcode != "phi":
                break
            out.append(i)
        return out

    def first_non_phi_index(self) -> int:
        for k, i in enumerate(self.instructions):
            if i.opcode != "phi":
                return k
        return len(self.instructions)


class Function(Value):
    """A function definition. Existing functions keep their header text verbatim."""
    __slots__ = ("fname", "ret_type", "args", "blocks", "header", "vararg", "linkage",
                 "attributes", "source_text", "param_attrs")

    def __init__(self, name: str, ret_type: T.Type, arg_types: list[T.Type],
                 vararg: bool = False, linkage: str = "internal", attributes: str = ""):
        super().__init__(T.ptr, None)
        self.fname = name
        self.ret_type = ret_type
        self.args = [Argument(t, None, self, i) for i, t in enumerate(arg_types)]
        self.blocks: list[Block] = []
        self.header: str | None = None  # verbatim `define ... {` line of a parsed function
        self.vararg = vararg
        self.linkage = linkage
        self.attributes = attributes  # text after the parameter list for new functions
        self.source_text: str | None = None
        self.param_attrs: list[str] = ["" for _ in arg_types]

    @property
    def function_type(self) -> T.FunctionType:
        return T.FunctionType(self.ret_type, tuple(a.type for a in self.args), self.vararg)

    @property
    def entry(self) -> Block:
        return self.blocks[0]

    def add_block(self, name: str | None = None, after: Block | None = None) -> Block:
        b = Block(name, self)
        if after is None:
            self.blocks.append(b)
        else:
            self.blocks.insert(self.blocks.index(after) + 1, b)
        return b

    def instructions(self) -> Iterator[Instruction]:
        for b in self.blocks:
            yield from b.instructions

    def __repr__(self) -> str:
        return f"<Function @{self.fname}>"
