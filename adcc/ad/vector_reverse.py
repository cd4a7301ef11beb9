"""Vector reverse mode: `__enzyme_autodiff(f, enzyme_width, N, ...)`, N adjoint seeds of one
evaluation of f (each duplicated argument has N shadows, lane k's seed in the k-th output shadow,
lane k's adjoint accumulated in the k-th input shadow; a Jacobian's rows in one call).

The gradient runs f's augmented forward pass once, then its reverse pass once per lane over the
same tape: before lane k the tape's top is put back where the forward pass left it and the
shadows of the arguments in the function record (the only place the reverse pass gets them from)
are replaced by lane k's. That is the same derivative as N separate reverse sweeps as long as the
lanes share nothing but the tape, which `lane_obstacle` checks on the synthesized pair: the forward
pass uses the argument shadows only to record them (no shadow memory of its own, no shadow pointers
stored anywhere), neither pass reaches a mutable global (its one shadow would mix the lanes), and
the reverse pass calls nothing but the tape helpers, adjoint helpers and math functions (no frees:
running it again must be harmless). A call where this does not hold is a located error; scalar
(`enzyme_out`) arguments and an active return value, whose adjoints Enzyme returns per lane, are too.
"""
from __future__ import annotations

import dataclasses

from adcc.ad import naming
from adcc.ad.calling import signatures
from adcc.ad.common import Packing
from adcc.ad.reverse import gradient_cache, new_tape
from adcc.ad.rules import lookup_call
from adcc.ad.tape import RecordLayout, key_type
from adcc.analysis.activity import global_is_active
from adcc.analysis.spec import Activity, FunctionSpec
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.symbols import global_refs
from adcc.ir.values import Argument, Constant, Function, GlobalRef, Value

# what a reverse pass may call and still run once per lane
_REPEATABLE_PREFIXES = ("adcc.tape.", "adcc.adjoint.", "adcc.passive", "llvm.")


def vector_gradient_function(ctx, spec: FunctionSpec, with_primal: bool, loc) -> tuple[Function, Packing]:
    """grad(args..., N shadows per duplicated argument...) for spec.width = N (see the module)."""
    module = ctx.module
    key = ("vgrad", spec, with_primal)
    cache = gradient_cache(ctx)
    if key in cache:
        return cache[key]
    width, name = spec.width, spec.name.strip('"')
    if spec.ret_active or Activity.OUT in spec.args:
        raise CompileError(f"enzyme_width {width} in reverse mode needs every active argument of '{name}' passed "
                           f"by pointer (enzyme_dup or enzyme_dupv) and an inactive return value: pass the "
                           f"scalars through memory or call __enzyme_autodiff once per seed", loc)
    lane = dataclasses.replace(spec, width=1)
    aug, rev = ctx.reverse_functions(lane)
    keys, returns = ctx.function_records[lane]
    obstacle = lane_obstacle(module, aug, rev, lane, keys, returns)
    if obstacle is not None:
        raise CompileError(f"enzyme_width {width} in reverse mode is not supported for '{name}' yet: {obstacle} "
                           f"(call __enzyme_autodiff once per seed, or use __enzyme_fwddiff with enzyme_width)", loc)
    fn = module.function(spec.name)
    aug_params, aug_pack, _, rev_pack = signatures(module, fn, lane)
    params: list[T.Type] = []
    for a, act in zip(fn.args, spec.args):
        params += [a.type] * (1 + (width if act.has_shadow else 0))
    out_pack = Packing(aug_pack.fields[:1]) if with_primal else Packing([])
    g = Function(module.unique_name(naming.gradient(spec)), out_pack.type, params, linkage="internal",
                 attributes=module.target_attributes(spec.name))
    module.add_function(g)
    b = Builder(module, g).position_at_end(g.add_block("entry"))
    primals, lanes = _split_parameters(g, fn, spec)
    tape, on_stack = new_tape(b, module, aug)
    primal = b.call(aug, aug_pack.type, [tape, *_aug_arguments(primals, lanes, spec, 0)])
    top = b.load(T.i64, b.byte_gep(tape, 8), align=8)
    b.call("adcc_tape_note", T.void, [top])
    layout = RecordLayout([key_type(k, v) for k, v in keys])
    tail = layout.size + (RecordLayout([T.i32]).size if returns > 1 else 0)
    deferred = getattr(ctx, "frees_deferred", False)
    mark = b.call("adcc_free_mark", T.i64, []) if deferred else None
    for k in range(width):
        if k:
            b.store(top, b.byte_gep(tape, 8), align=8)
            record = b.byte_gep(b.load(T.ptr, tape, align=8), b.sub(top, Builder.iconst(T.i64, tail)))
            for j, (kind, v) in enumerate(keys):
                if kind == "s":
                    b.store(_lane_shadow(b, v, lanes, k), b.byte_gep(record, layout.offsets[j]),
                            align=layout.align(j))
        b.call(rev, rev_pack.type, [tape])
    if deferred:
        b.call("adcc_free_flush", T.void, [mark])  # frees a call rule's reverse might still have read
    if not on_stack:
        b.call("adcc_tape_free", T.void, [tape])
    b.ret(out_pack.pack(b, aug_pack.unpack(b, primal)[:1]) if with_primal and out_pack.fields else None)
    cache[key] = (g, out_pack)
    return g, out_pack


def _split_parameters(g: Function, fn: Function, spec: FunctionSpec):
    """The gradient's parameters: each primal, and the N shadows of each duplicated argument."""
    primals, lanes, k = [], {}, 0
    for i, act in enumerate(spec.args):
        primals.append(g.args[k])
        k += 1
        if act.has_shadow:
            lanes[i] = list(g.args[k:k + spec.width])
            k += spec.width
    return primals, lanes


_ADDRESS_OPS = ("getelementptr", "bitcast", "addrspacecast")


def _argument_of(v: Value) -> Argument | None:
    """The argument `v` is (or a constant offset from), else None."""
    for _ in range(16):
        if isinstance(v, Argument):
            return v
        if getattr(v, "opcode", None) not in _ADDRESS_OPS or \
                not all(isinstance(o, Constant) for o in v.operands[1:]):
            return None
        v = v.operands[0]
    return None


def _lane_shadow(b: Builder, v: Value, lanes, k: int) -> Value:
    """Lane k's shadow of `v`, an argument or a constant offset from one."""
    if isinstance(v, Argument):
        return lanes[v.index][k]
    return b.clone(v, [_lane_shadow(b, v.operands[0], lanes, k), *v.operands[1:]])


def _recorded_only(v: Value) -> int | None:
    """How many tape record stores keep `v` or addresses computed from it; None when anything else
    uses them."""
    n = 0
    for u in v.users:
        if u.opcode == "store" and u.operands[0] is v and u.operands[1] is not v \
                and u.get_metadata("alias.scope") is not None:
            n += 1
        elif u.opcode in _ADDRESS_OPS and u.operands[0] is v:  # (an unused one: the optimizer drops it)
            more = _recorded_only(u)
            if more is None:
                return None
            n += more
        else:
            return None
    return n


def _aug_arguments(primals, lanes, spec: FunctionSpec, lane: int) -> list[Value]:
    out = []
    for i, act in enumerate(spec.args):
        out.append(primals[i])
        if act.has_shadow:
            out.append(lanes[i][lane])
    return out


def lane_obstacle(module, aug: Function, rev: Function, spec: FunctionSpec, keys, returns: int) -> str | None:
    """Why running `rev` once per lane (lane shadows patched into the function record) would not
    give each lane's derivative; None when it does (see the module docstring)."""
    if any(inst.opcode == "call" and inst.callee_name == "adcc_ckpt_reverse" for inst in rev.instructions()):
        return "it runs a checkpointed loop (__enzyme_checkpoint_for), whose reverse sweep runs once"
    recorded = {}
    for kind, v in keys:
        if kind == "s":
            arg = _argument_of(v)
            if arg is None:
                return "it keeps the shadow of a pointer it computes"
            recorded[arg.index] = recorded.get(arg.index, 0) + 1
    k = 1
    for i, act in enumerate(spec.args):
        k += 1
        if not act.has_shadow:
            continue
        shadow = aug.args[k]
        k += 1
        if _recorded_only(shadow) != recorded.get(i, 0) * max(returns, 1):
            return f"its forward pass uses the shadow of argument {i + 1} (shadow memory of its own or shadow " \
                   f"pointers stored in memory)"
    for fn in (aug, rev):
        for inst in fn.instructions():
            for o in inst.operands:
                names = [o.gname] if isinstance(o, GlobalRef) else \
                    global_refs(o.text) if isinstance(o, Constant) and "@" in o.text else []
                if any(global_is_active(module, n) for n in names):
                    return "it uses a mutable global, whose one shadow the lanes would share"
    for inst in rev.instructions():
        if inst.opcode in ("call", "invoke"):
            callee = (inst.callee_name or "").strip('"')
            if not callee.startswith(_REPEATABLE_PREFIXES) and lookup_call(callee) is None:
                return f"its reverse pass calls '{callee or 'a function pointer'}', which must not run once per lane"
    return None
