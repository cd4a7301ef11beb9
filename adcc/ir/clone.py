"""A deep copy of a parsed function: the same IR objects a print and re-parse would give.

Blocks, instructions and arguments are new objects with their own use-lists; every constant
operand is a new `Constant` (as the parser makes one per occurrence), so no use-list is
shared with the original. Templates, metadata and `info` are copied, since passes edit them
in place (`Instruction.set_alignment`)."""
from __future__ import annotations

from adcc.ir.values import Block, Constant, Function, GlobalRef, Instruction, Value


def clone_function(fn: Function) -> Function:
    """A private copy of `fn` (its header, arguments, blocks and instructions)."""
    new = Function(fn.fname, fn.ret_type, [a.type for a in fn.args], fn.vararg, fn.linkage, fn.attributes)
    new.header = fn.header
    new.source_text = fn.source_text
    new.param_attrs = list(fn.param_attrs)
    mapping: dict[int, Value] = {}
    for old, arg in zip(fn.args, new.args):
        arg.name, arg.attrs = old.name, old.attrs
        mapping[id(old)] = arg
    for b in fn.blocks:
        nb = Block(b.name, new)
        new.blocks.append(nb)
        mapping[id(b)] = nb
    pairs: list[tuple[Instruction, Instruction]] = []
    for b in fn.blocks:
        nb = mapping[id(b)]
        for inst in b.instructions:
            info = {k: list(v) if isinstance(v, list) else v for k, v in inst.info.items()}
            copy = Instruction(inst.opcode, inst.type, [], list(inst.template), inst.name,
                               list(inst.metadata), info)
            nb.append(copy)
            mapping[id(inst)] = copy
            pairs.append((inst, copy))
    for inst, copy in pairs:
        for k, op in enumerate(inst.operands):
            v = mapping.get(id(op))
            if v is None:
                v = _copy_operand(op)
            copy.operands.append(v)
            v.uses.append((copy, k))
    return new


def _copy_operand(op: Value) -> Value:
    if isinstance(op, GlobalRef):
        return GlobalRef(op.gname, op.type)
    if isinstance(op, Constant):
        return Constant(op.type, op.text)
    raise ValueError(f"operand {op!r} is not defined in the function")  # (a parse would fail too)
