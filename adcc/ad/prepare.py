"""A private, canonicalized copy of a function to differentiate.

The synthesizers never touch the module's own definition: they work on a fresh
parse of it in which `invoke` becomes `call` + `br` to the normal destination
(a derivative is only defined along executions that do not throw, so landing
pads drop out), calls whose rule fixes their result (`CallRule.result`: an OpenMP
reduction always combines under its lock) have it folded into the branches on
it, `posix_memalign(&p, align, size)` becomes `aligned_alloc` (an allocation the
synthesizers know) storing its result through `&p`, vector lanes left poison (a shuffle
mask's, a float constant's) become zeros (the reverse pass multiplies a zero adjoint by
the primal's lane, and 0 * poison is poison, which the optimizer may turn into anything),
blocks unreachable from the entry are removed, `__enzyme_iter(a, b)` counts `a + b`
(adcc.ad.utility_calls), and loads that a loop cannot change move to its preheader
(adcc.ad.hoist).
"""
from __future__ import annotations

from adcc.ad.hoist import hoist_invariant_loads
from adcc.ad.utility_calls import advance_iterations
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder, add_incoming
from adcc.ir.clone import clone_function
from adcc.ir.parser import parse_function
from adcc.ir.printer import print_function
from adcc.ir.values import Constant, Function, Instruction


def prepared_function(module, name: str) -> Function:
    cache = getattr(module, "_adcc_prepared", None)
    if cache is None:
        cache = module._adcc_prepared = {}
    fn = cache.get(name)
    if fn is None:
        fn = cache[name] = fresh_prepared_function(module, name)
    return fn


def fresh_prepared_function(module, name: str) -> Function:
    """A new private copy, canonicalized as `prepared_function`'s (uncached: for a variant)."""
    entry = module.functions[name]
    fn = _private_copy(module, entry)
    _lower_invokes(module, fn)
    _fold_rule_results(module, fn)
    _lower_posix_memalign(module, fn)
    _define_poison_lanes(fn)
    _drop_unreachable(fn)
    advance_iterations(module, fn)
    hoist_invariant_loads(module, fn)
    return fn


def _private_copy(module, entry) -> Function:
    """The entry's function as new IR objects: a copy of the module's parsed definition (the
    same objects a print and re-parse of it give, a fifth of the cost), else a parse of its text."""
    if entry.parsed is None:
        return parse_function(module, entry.text)
    try:
        return clone_function(entry.parsed)
    except ValueError:  # an operand from outside the function: the parser reports it, located
        return parse_function(module, print_function(entry.parsed))


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


def _define_poison_lanes(fn: Function) -> None:
    """Poison lanes of float vector constants become 0.0, and a shuffle's poison mask lanes pick a
    zero (when its second operand is poison): refinements of poison, the same primal."""
    for inst in fn.instructions():
        for k, op in enumerate(inst.operands):
            if isinstance(op, Constant) and isinstance(op.type, T.VectorType) and op.type.elem.is_float() and \
                    op.text.startswith("<") and ("poison" in op.text or "undef" in op.text):
                lanes = [lane.strip() for lane in op.text[1:-1].split(",")]
                text = ", ".join(f"{op.type.elem} 0.0" if lane.split()[-1] in ("poison", "undef") else lane
                                 for lane in lanes)
                inst.set_operand(k, Constant(op.type, f"<{text}>"))
        if inst.opcode != "shufflevector":
            continue
        v1, v2, mask = inst.operands
        lanes = layout.shuffle_mask(mask, inst.type.count)
        if None in lanes and isinstance(v2, Constant) and v2.text in ("poison", "undef"):
            n = v1.type.count
            inst.set_operand(1, Constant(v2.type, "zeroinitializer"))
            text = ", ".join(f"i32 {n if m is None else m}" for m in lanes)
            inst.set_operand(2, Constant(mask.type, f"<{text}>"))


ENOMEM = 12


def _lower_posix_memalign(module, fn: Function) -> None:
    """`r = posix_memalign(pp, align, size)` -> `p = aligned_alloc(align, size); *pp = p ? p : *pp;
    r = p ? 0 : ENOMEM`: the same effects, through an allocation function every analysis knows."""
    from adcc.ad.common import convert
    for inst in list(fn.instructions()):
        if inst.opcode != "call" or inst.callee_name != "posix_memalign" or len(inst.args) != 3:
            continue
        b = Builder(module, fn).position_before(inst)
        pp, align, size = inst.args
        p = b.call("aligned_alloc", T.ptr, [convert(b, align, T.i64), convert(b, size, T.i64)])
        failed = b.icmp("eq", p, Constant(T.ptr, "null"))
        b.store(b.select(failed, b.load(T.ptr, pp), p), pp)
        if inst.uses:
            rt = inst.type
            inst.replace_all_uses_with(b.select(failed, Builder.iconst(rt, ENOMEM), Builder.iconst(rt, 0)))
        inst.erase()


def _fold_rule_results(module, fn: Function) -> None:
    """Uses of a call whose rule fixes its result become that constant; a switch or branch on it
    goes to the one successor it selects (the others may then become unreachable)."""
    from adcc.ad.rules.calls import rule_result
    for inst in list(fn.instructions()):
        if inst.opcode != "call" or not inst.uses or not isinstance(inst.type, T.IntType):
            continue
        value = rule_result(module, inst)
        if value is None:
            continue
        for user in inst.users:
            if user.is_terminator and user.opcode in ("switch", "br") and user.operands[0] is inst:
                _fold_branch(module, fn, user, value)
        if inst.uses:
            inst.replace_all_uses_with(Builder.iconst(inst.type, value))


def _fold_branch(module, fn: Function, term: Instruction, value: int) -> None:
    ops = term.operands
    if term.opcode == "br":
        target = ops[1] if value else ops[2]
    else:
        target = ops[1]
        for k in range(2, len(ops), 2):
            if int(ops[k].text) == value:
                target = ops[k + 1]
                break
    blk = term.block
    for succ in {id(x): x for x in term.successors}.values():
        for phi in succ.phis():  # one entry for blk in the kept target, none in the others
            keep, seen = [], False
            for v, src in phi.incoming():
                if src is blk:
                    if succ is not target or seen:
                        continue
                    seen = True
                keep.append((v, src))
            _rebuild_phi(fn, phi, keep)
    term.drop_operands()
    blk.instructions.remove(term)
    term.block = None
    Builder(module, fn).position_at_end(blk).br(target)


def _rebuild_phi(fn: Function, phi: Instruction, keep: list) -> None:
    new = Builder(None, fn).position_before(phi).phi(phi.type, name=phi.name)
    for v, src in keep:
        add_incoming(new, v, src)
    phi.replace_all_uses_with(new)
    phi.drop_operands()
    phi.block.instructions.remove(phi)
    phi.block = None


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
            _rebuild_phi(fn, phi, [(v, src) for v, src in phi.incoming() if id(src) not in dead_ids])
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
