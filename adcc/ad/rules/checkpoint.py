"""Derivative rules of a checkpointed loop (reverse mode): `adcc.checkpointed_loop(@body, state,
captured...)`, the marker adcc.ad.checkpoint_loops puts beside a long loop, and
`adcc.checkpoint_wanted(@body, n)`, which chooses between the two at the loop's entry: n steps at
the tape plan's bytes per iteration against the limit (the runtime's adcc_checkpoint_wanted).

The augmented pass calls `adcc.ckpt.aug.*`, which tapes the steps (the body's augmented function,
on the loop's own tape in the runtime's record) while that tape fits the limit
(`-fadcc-tape-limit`); past it the runtime restores the loop's entry state and the helper counts the
steps with the primal body. The record is saved on the caller's tape. The reverse pass calls
`adcc.ckpt.rev.*`, which asks the runtime for actions (adcc_revolve_next): reverse a taped step,
advance one primal step from a snapshot, or run one step's augmented function and reverse it at
once -- Griewank's binomial schedule, its snapshots taken by the runtime. The adjoints of active
scalars the body captured sum over the steps and go to the call's operands; the adjoint of the
state flows through the shadow of the caller's state buffer. runtime/adcc_revolve.c has the
schedule.
"""
from __future__ import annotations

from adcc.ad import naming
from adcc.ad.calling import signatures
from adcc.ad.checkpoint_loops import MARKER, WANTED, loop_blocks, state_bytes
from adcc.ad.rules.calls import AugmentSite, CallRule, ReverseSite
from adcc.analysis.activity import is_floatish
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Function

ADVANCE, STEP, REVERSE = 1, 2, 3  # adcc_revolve_next's actions (ADCC_REVOLVE_* in the header)


def _body_spec(view) -> FunctionSpec:
    acts = []
    for a in view.args[1:]:
        if isinstance(a.type, T.PointerType):
            acts.append(Activity.DUP if view.has_shadow(a) else Activity.CONST)
        elif view.varied(a) and is_floatish(view.module, a.type):
            acts.append(Activity.OUT)
        else:
            acts.append(Activity.CONST)
    return FunctionSpec(view.args[0].gname.strip('"'), tuple(acts), False, False, Mode.REVERSE,
                        strong_zero=view.strong_zero)


def _augment(site: AugmentSite) -> None:
    spec = _body_spec(site)
    aug, _ = site.ctx.reverse_functions(spec)
    helper = _aug_helper(site.module, spec, aug, _limit(site.ctx))
    args = []
    for a, act in zip(site.args[1:], spec.args):
        args.append(site.primal(a))
        if act.has_shadow:
            args.append(site.shadow(a))
    site.save(0, site.b.call(helper, T.ptr, args))


def _reverse(site: ReverseSite) -> None:
    spec = _body_spec(site)
    aug, rev = site.ctx.reverse_functions(spec)
    helper = _rev_helper(site.module, spec, aug, rev)
    b = site.b
    rv = site.saved(0)
    result = b.call(helper, helper.ret_type, [rv])
    outs = [a for a, act in zip(site.args[1:], spec.args) if act is Activity.OUT]
    if len(outs) == 1:
        site.add_adjoint(outs[0], result)
    else:
        for k, a in enumerate(outs):
            site.add_adjoint(a, b.extractvalue(result, k))
    b.call("adcc_revolve_free", T.void, [rv])


def _limit(ctx) -> int:
    limit = getattr(ctx.options, "tape_limit", 0) or 0
    return max(limit, 0)


def _arg_layout(module, types: list[T.Type]) -> tuple[list[int], int]:
    offsets, off = [], 0
    for ty in types:
        a = layout.align_of(module, ty)
        off = (off + a - 1) // a * a
        offsets.append(off)
        off += layout.alloc_size(module, ty)
    return offsets, max(off, 8)


def _aug_helper(module, spec: FunctionSpec, aug: Function, limit: int) -> Function:
    """ptr aug_helper(state, [dstate], captured and shadows...): tapes the steps while they fit,
    else counts them; returns the runtime's record of the loop."""
    name = naming.checkpoint_helper("aug", spec)
    if name in module.functions:
        return module.functions[name].parsed
    body = module.function(spec.name)
    params = list(aug.function_type.params[1:])
    fn = Function(name, T.ptr, params, linkage="internal", attributes="nounwind")
    module.add_function(fn)
    entry, taped, count, done = (fn.add_block(n) for n in ("entry", "taped", "count", "done"))
    b = Builder(module, fn).position_at_end(entry)
    offsets, nbytes = _arg_layout(module, params)
    rv = b.call("adcc_revolve_new", T.ptr, [Builder.iconst(T.i64, state_bytes(module, spec.name)),
                                            Builder.iconst(T.i64, nbytes), Builder.iconst(T.i64, limit)])
    buf = b.call("adcc_revolve_args", T.ptr, [rv])
    for a, off in zip(fn.args, offsets):
        b.store(a, b.byte_gep(buf, off))
    state = fn.args[0]
    b.call("adcc_revolve_begin", T.void, [rv, state])
    tape = b.call("adcc_revolve_tape", T.ptr, [rv])
    b.br(taped)
    b.position_at_end(taped)
    more = b.call(aug, aug.ret_type, [tape, *fn.args])
    k = b.call("adcc_revolve_taped", T.i32, [rv, b.cast("zext", more, T.i32), state])
    b.switch(k, done, [(1, taped), (2, count)])
    b.position_at_end(count)
    primal = _primal_args(fn.args, spec)
    more = b.call(body, T.i1, primal)
    again = b.call("adcc_revolve_counted", T.i32, [rv, b.cast("zext", more, T.i32), state])
    b.cond_br(b.icmp("ne", again, Builder.iconst(T.i32, 0)), count, done)
    b.position_at_end(done)
    b.ret(rv)
    return fn


def _primal_args(args, spec: FunctionSpec) -> list:
    out, k = [], 0
    for act in spec.args:
        out.append(args[k])
        k += 2 if act.has_shadow else 1
    return out


def _rev_helper(module, spec: FunctionSpec, aug: Function, rev: Function) -> Function:
    """rev_helper(record) -> the summed adjoints of the body's active scalars: the runtime's actions
    until it is done."""
    name = naming.checkpoint_helper("rev", spec)
    if name in module.functions:
        return module.functions[name].parsed
    body = module.function(spec.name)
    params = list(aug.function_type.params[1:])
    _, _, _, rev_pack = signatures(module, body, spec)
    fn = Function(name, rev_pack.type, [T.ptr], linkage="internal", attributes="nounwind")
    module.add_function(fn)
    entry, loop, advance, step, back, done = (fn.add_block(n) for n in
                                              ("entry", "loop", "advance", "step", "back", "done"))
    b = Builder(module, fn).position_at_end(entry)
    rv = fn.args[0]
    offsets, _ = _arg_layout(module, params)
    buf = b.call("adcc_revolve_args", T.ptr, [rv])
    args = [b.load(ty, b.byte_gep(buf, off)) for ty, off in zip(params, offsets)]
    tape = b.call("adcc_revolve_tape", T.ptr, [rv])
    sums = [b.alloca(ty) for ty in rev_pack.fields]
    for s, ty in zip(sums, rev_pack.fields):
        b.store(Builder.zero(ty), s)
    # the loop's state buffer was the caller's, in the augmented pass's frame: the reverse pass
    # advances the runtime's copy (the shadow, of the caller's reverse pass, lives on)
    args[0] = b.call("adcc_revolve_state", T.ptr, [rv])
    state = args[0]
    b.br(loop)
    b.position_at_end(loop)
    action = b.call("adcc_revolve_next", T.i32, [rv, state])
    b.switch(action, done, [(ADVANCE, advance), (STEP, step), (REVERSE, back)])
    b.position_at_end(advance)
    b.call(body, T.i1, _primal_args(args, spec))
    b.br(loop)
    b.position_at_end(step)
    b.call(aug, aug.ret_type, [tape, *args])
    b.br(back)
    b.position_at_end(back)
    result = b.call(rev, rev.ret_type, [tape])
    parts = [result] if len(rev_pack.fields) == 1 else \
        [b.extractvalue(result, k) for k in range(len(rev_pack.fields))]
    for s, ty, d in zip(sums, rev_pack.fields, parts):
        b.store(b.fadd(b.load(ty, s), d), s)
    b.br(loop)
    b.position_at_end(done)
    b.ret(rev_pack.pack(b, [b.load(ty, s) for s, ty in zip(sums, rev_pack.fields)]))
    return fn


def _wanted(site: AugmentSite) -> None:
    """`adcc.checkpoint_wanted(@body, n)`: whether n steps of the loop, taped as this function tapes
    them (its tape plan's records per iteration), would pass the limit."""
    from adcc.ad.tape import RecordLayout
    synth = site.synthesizer
    blocks = loop_blocks(site.module, site.args[0].gname.strip('"'))
    fast = [fl for fl in synth.fast.values() if fl.cl.loop.header is blocks[0]]
    if fast:
        per_step = fast[0].stride
    else:
        per_step = sum(RecordLayout(types).size for types in (synth.record_types(blk) for blk in blocks) if types)
    b = site.b
    wanted = b.call("adcc_checkpoint_wanted", T.i32, [site.primal(site.args[1]), Builder.iconst(T.i64, per_step),
                                                     Builder.iconst(T.i64, _limit(site.ctx))])
    site.set_result(b.icmp("ne", wanted, Builder.iconst(T.i32, 0)))


def _nothing(site) -> None:
    return None


RULES: tuple[CallRule, ...] = (
    CallRule("checkpoint", (WANTED,), augment=_wanted, reverse=_nothing, always=True, writes=lambda name: (),
             description="the choice of a loop's checkpointed version"),
    CallRule("checkpoint", (MARKER,), augment=_augment, reverse=_reverse, saved_types=lambda view: (T.ptr,),
             always=True, writes=lambda name: (1,), description="a checkpointed loop"),
)
