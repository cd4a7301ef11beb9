"""A private, canonicalized copy of a function to differentiate.

The synthesizers never touch the module's own definition: they work on a fresh
parse of it in which `invoke` becomes `call` + `br` to the normal destination
(a derivative is only defined along executions that do not throw, so landing
pads drop out) and blocks unreachable from the entry are removed.
"""
from __future__ import annotations

from adcc.ir.builder import Builder, add_incoming
from adcc.ir.parser import parse_function
from adcc.ir.printer import print_function
from adcc.ir.values import Function, Instruction


def prepared_function(module, name: str) -> Function:
    cache = getattr(module, "_adcc_prepared", None)
    if cache is None:
        cache = module._adcc_prepared = {}
    fn = cache.get(name)
    if fn is None:
        entry = module.functions[name]
        text = print_function(entry.parsed) if entry.parsed is not None else entry.text
        fn = parse_function(module, text)
        _lower_invokes(module, fn)
        _drop_unreachable(fn)
        cache[name] = fn
    return fn


def _lower_invokes(module, fn: Function) -> None:
    for blk in fn.blocks:
        term = blk.terminator
        if term is None or term.opcode != "invoke":
            continue
        normal = term.operands[-2]
        template: list = []
        for piece in term.template:
            if isinstance(piece, str):
                if not template and piece.lstrip().startswith("invoke"):
                    piece = piece.replace("invoke", "call", 1)
                cut = piece.find(" to label")
                if cut >= 0:
                    template.append(piece[:cut])
                    break
            template.append(piece)
        call = Instruction("call", term.type, list(term.operands[:-2]), template, term.name,
                           list(term.metadata), dict(term.info))
        blk.insert(blk.instructions.index(term), call)
        if term.uses:
            term.replace_all_uses_with(call)
        term.erase()
        Builder(module, fn).position_at_end(blk).br(normal)


def _drop_unreachable(fn: Function) -> None:
    seen: set[int] = {id(fn.entry)}
    stack = [fn.entry]
    while stack:
        for s in stack.pop().successors:
            if id(s) not in seen:
                seen.add(id(s))
                stack.append(s)
    dead = [b for b in fn.blocks if id(b) not in seen]
    if not dead:
        return
    dead_ids = {id(b) for b in dead}
    for b in fn.blocks:
        if id(b) in dead_ids:
            continue
        for phi in b.phis():
            if not any(id(src) in dead_ids for _, src in phi.incoming()):
                continue
            keep = [(v, src) for v, src in phi.incoming() if id(src) not in dead_ids]
            new = Builder(None, fn).position_before(phi).phi(phi.type, name=phi.name)
            for v, src in keep:
                add_incoming(new, v, src)
            phi.replace_all_uses_with(new)
            phi.erase()
    for b in dead:
        for inst in b.instructions:
            inst.drop_operands()
    for b in dead:
        for inst in list(b.instructions):
            if inst.uses:
                inst.replace_all_uses_with(Builder.poison(inst.type))
            inst.drop_operands()
        b.instructions = []
    fn.blocks = [b for b in fn.blocks if id(b) not in dead_ids]
