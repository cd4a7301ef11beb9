"""Enzyme's explicit loop checkpointing, `__enzyme_checkpoint_for` and `__enzyme_checkpoint_while`
(<enzyme/checkpoint.h>): a call whose derivative is a call sequence over the step function's
derivative, driven by the runtime (runtime/adcc_checkpoint.c) and the scheme the program passes.

    __enzyme_checkpoint_for(step, start, n, enzyme_scheme, scheme, config,
                            [enzyme_checkpoint_region, ptr, bytes,]... args...)
    __enzyme_checkpoint_while(step, markers..., args...)    (until step returns 0, from i = 0)

- primal code (after differentiation, `lower_checkpoint_calls`): a loop function over the step;
- forward mode (vector mode too): a loop function over the step's forward derivative, a function
  like any other (reverse over forward mode differentiates it, taping its loop);
- reverse mode: the step's arguments after `i` (with their shadows, and the adjoint accumulators
  of scalars passed by value) are packed into an environment the runtime owns; functions of
  (i, env) unpack it and call the step's primal or its gradient. The augmented pass runs the
  forward sweep (the steps' primal, snapshots as the scheme says; a while loop's until its step
  returns 0, then the scheme is told the number of steps), the reverse pass the reverse sweep,
  each turn one call of the step's gradient (its augmented and reverse pass with a tape of its
  own: no tape outlives a step).
A snapshot holds the marked regions and every mutable global the step's code mentions. Reverse
vector mode (adcc.ad.vector_reverse: the reverse sweep cannot run once per lane) and
differentiating the reverse-mode driver again (forward over reverse) are located errors.
"""
from __future__ import annotations

from dataclasses import dataclass

from adcc.ad import naming
from adcc.ad.support import convert, unsupported
from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Function, GlobalRef, Instruction, Value

FOR = "__enzyme_checkpoint_for"
WHILE = "__enzyme_checkpoint_while"
SCHEME_MARKER = "enzyme_scheme"
REGION_MARKER = "enzyme_checkpoint_region"


def is_checkpoint_call(name: str | None) -> bool:
    return bool(name) and (FOR in name.strip('"') or WHILE in name.strip('"'))


@dataclass(frozen=True)
class CheckpointCall:
    """A decoded `__enzyme_checkpoint_for` or `__enzyme_checkpoint_while` call."""
    step: str
    start: Value
    count: Value | None                        # None: __enzyme_checkpoint_while (until step returns 0)
    scheme: Value
    config: Value
    regions: tuple[tuple[Value, Value], ...]   # (pointer, bytes)
    args: tuple[Value, ...]                    # the step's arguments after i, as passed
    params: tuple[T.Type, ...]                 # the step's parameter types for them


def decode(module, inst: Instruction) -> CheckpointCall:
    """The parts of the call, or a located error naming what is wrong."""
    from adcc.ad.callsite import marker_name
    args = list(inst.args)
    loop = WHILE if WHILE in (inst.callee_name or "") else FOR
    counted = loop == FOR
    if len(args) < (3 if counted else 1):
        raise unsupported(module, inst, f"{loop} takes the step function" +
                          (", the first index and the number of steps" if counted else "") +
                          ", then its markers and the step's arguments")
    step = args[0].gname if isinstance(args[0], GlobalRef) else None
    if step is None or not module.is_defined(step):
        raise unsupported(module, inst, f"{loop}: the step must be a function defined in this file "
                                        "(a function pointer known only at run time is not supported yet)")
    if counted:
        for what, v in (("first index", args[1]), ("number of steps", args[2])):
            if not isinstance(v.type, T.IntType):
                raise unsupported(module, inst, f"{FOR}: the {what} must be an integer, not {v.type}")
    elif not isinstance(module.function_type_of(step).ret, T.IntType):
        raise unsupported(module, inst, f"{WHILE}: '{_source(step)}' must return whether to go on (an integer), "
                                        f"not {module.function_type_of(step).ret}")
    scheme = config = None
    regions: list[tuple[Value, Value]] = []
    rest = args[3:] if counted else args[1:]
    k = 0
    while k < len(rest):
        m = marker_name(rest[k])
        if m is None:
            break
        if m not in (SCHEME_MARKER, REGION_MARKER):
            raise unsupported(module, inst, f"{loop}: marker '{m}' is not one it takes (enzyme_scheme, "
                                            "enzyme_checkpoint_region)")
        if k + 2 >= len(rest):
            raise unsupported(module, inst, f"{loop}: '{m}' must be followed by two values")
        a, b = rest[k + 1], rest[k + 2]
        if m == SCHEME_MARKER:
            if scheme is not None:
                raise unsupported(module, inst, f"{loop}: '{SCHEME_MARKER}' given twice")
            if not (isinstance(a.type, T.PointerType) and isinstance(b.type, T.PointerType)):
                raise unsupported(module, inst, f"{loop}: '{SCHEME_MARKER}' must be followed by a pointer to "
                                                "the scheme and a pointer to its configuration")
            scheme, config = a, b
        else:
            if not (isinstance(a.type, T.PointerType) and isinstance(b.type, T.IntType)):
                raise unsupported(module, inst, f"{loop}: '{REGION_MARKER}' must be followed by a pointer and "
                                                "its size in bytes")
            regions.append((a, b))
        k += 3
    if scheme is None:
        raise unsupported(module, inst, f"{loop}: the call names no scheme ('{SCHEME_MARKER}, &scheme, "
                                        "&config' before the step's arguments)")
    step_args = tuple(rest[k:])
    fnty = module.function_type_of(step)
    if fnty.vararg or len(fnty.params) != 1 + len(step_args) or not isinstance(fnty.params[0], T.IntType):
        raise unsupported(module, inst, f"{loop}: '{_source(step)}' must take the step index (an integer) "
                                        f"and the {len(step_args)} argument(s) the call passes after the markers")
    for a, p in zip(step_args, fnty.params[1:]):
        if isinstance(a.type, T.PointerType) != isinstance(p, T.PointerType) or \
                isinstance(a.type, T.FloatType) != isinstance(p, T.FloatType) or \
                not isinstance(p, (T.PointerType, T.IntType, T.FloatType)):
            raise unsupported(module, inst, f"{loop}: '{_source(step)}' takes {p} where the call passes {a.type} "
                              "(arguments must be pointers, integers or floating-point scalars)")
    start, count = (args[1], args[2]) if counted else (Builder.iconst(T.i64, 0), None)
    return CheckpointCall(step, start, count, scheme, config, tuple(regions), step_args, tuple(fnty.params[1:]))


def _source(name: str) -> str:
    return name.strip('"')


def size_of_const(ty: T.Type) -> Value:
    """`sizeof(ty)` as an i64 constant expression."""
    return Constant(T.i64, f"ptrtoint (ptr getelementptr ({ty}, ptr null, i32 1) to i64)")


# --- the environment and the functions of (i, env) ---------------------------------------------

@dataclass(frozen=True)
class Field:
    arg: int           # which step argument
    kind: str          # "value", "shadow" (of a pointer), "adjoint" (of a scalar passed by value)
    type: T.Type


def _layout(call: CheckpointCall, acts: tuple[Activity, ...]) -> tuple[Field, ...]:
    """Each argument, followed by its shadow or tangent; then the adjoint accumulators of the
    scalars passed by value (the order save_state/load_state of a scheme expects)."""
    fields = []
    for k, (p, act) in enumerate(zip(call.params, acts)):
        fields.append(Field(k, "value", p))
        if act.has_shadow:
            fields.append(Field(k, "shadow", p))
    fields += [Field(k, "adjoint", p) for k, (p, act) in enumerate(zip(call.params, acts)) if act is Activity.OUT]
    return tuple(fields)


def _env_type(fields) -> T.Type:
    return T.StructType(tuple(f.type for f in fields)) if fields else T.StructType((T.i8,))


def _fill_env(b: Builder, call: CheckpointCall, fields, value_of) -> Value:
    """`adcc_ckpt_new` with the environment filled from `value_of(field)`; returns the handle."""
    ety = _env_type(fields)
    h = b.call("adcc_ckpt_new", T.ptr, [size_of_const(ety)])
    env = b.call("adcc_ckpt_env", T.ptr, [h])
    for k, f in enumerate(fields):
        v = value_of(f)
        b.store(v, b.gep(ety, env, [Builder.iconst(T.i32, 0), Builder.iconst(T.i32, k)]))
    return h


def _thunk(module, kind: str, step: str, fields, body, ret: T.Type = T.void) -> str:
    """`ret name(i64 i, ptr env)`: loads the environment's fields and returns `body(b, i, loaded)`."""
    fn = Function(module.unique_name(naming.checkpoint_step(kind, step)), ret, [T.i64, T.ptr],
                  linkage="internal", attributes=module.target_attributes(step))
    module.add_function(fn)
    b = Builder(module, fn).position_at_end(fn.add_block("entry"))
    i, env = fn.args
    ety = _env_type(fields)
    ptrs = [b.gep(ety, env, [Builder.iconst(T.i32, 0), Builder.iconst(T.i32, k)]) for k in range(len(fields))]
    loaded = {(f.arg, f.kind): (b.load(f.type, p), p) for f, p in zip(fields, ptrs)}
    index = convert(b, i, module.function_type_of(step).params[0])
    result = body(b, index, loaded)
    b.ret(result)
    return fn.fname


def _go_on(b: Builder, r: Value | None) -> Value:
    """The step's result as the runtime's "go on" flag (an i32; 1 for a step returning nothing)."""
    if r is None or not isinstance(r.type, T.IntType):
        return Builder.iconst(T.i32, 1)
    return b.cast("zext", b.icmp("ne", r, Builder.zero(r.type)), T.i32)


def _step_args(call: CheckpointCall, acts, loaded) -> list[Value]:
    out: list[Value] = []
    for k, act in enumerate(acts):
        out.append(loaded[(k, "value")][0])
        if act.has_shadow:
            out.append(loaded[(k, "shadow")][0])
    return out


def _primal_thunk(module, call: CheckpointCall, fields) -> str:
    fnty = module.function_type_of(call.step)

    def body(b, i, loaded):
        r = b.call(call.step, fnty.ret, [i] + [loaded[(k, "value")][0] for k in range(len(call.args))], fnty=fnty,
                   declare=False)
        return _go_on(b, r if not isinstance(fnty.ret, T.VoidType) else None)
    return _thunk(module, "primal", call.step, fields, body, T.i32)


def _regions(b: Builder, call: CheckpointCall, h: Value, primal, shadow) -> None:
    for ptr, nbytes in call.regions:
        s = shadow(ptr)
        b.call("adcc_ckpt_region", T.void, [h, primal(ptr), convert(b, primal(nbytes), T.i64),
                                             s if s is not None else Builder.null()])
    for g, ty in snapshot_globals(b.module, call.step):
        b.call("adcc_ckpt_region", T.void, [h, GlobalRef(g), size_of_const(ty), Builder.null()])


def snapshot_globals(module, step: str) -> list[tuple[str, T.Type]]:
    """The mutable globals the step's code (the step and the functions it calls, directly or
    not) mentions: a snapshot holds them besides the marked regions, so that recomputed steps see
    the values the forward pass saw (those it only reads too: code after the loop may change
    them before the reverse sweep recomputes steps). Not the standard streams, nor a global of
    a type without a size (declared elsewhere, opaque: C code cannot write it)."""
    from adcc.analysis.activity import STREAM_GLOBALS
    from adcc.analysis.declarations import declarations_of
    from adcc.ir.layout import LayoutError, alloc_size
    shadows = set(declarations_of(module).shadows.values())
    seen, todo, out = {step}, [step], []
    while todo:
        name = todo.pop()
        for ref in sorted(module.references(name)):
            if ref in module.functions:
                if ref not in seen and module.is_defined(ref):
                    seen.add(ref)
                    todo.append(ref)
                continue
            g = module.globals.get(ref)
            plain = ref.strip('"')
            if g is None or g.is_constant or g.value_type is None or ref in shadows or plain in STREAM_GLOBALS or \
                    plain.startswith(("enzyme_", "__enzyme_", "llvm.", "adcc.")) or \
                    any(x == ref for x, _ in out):
                continue
            try:
                alloc_size(module, g.value_type)
            except LayoutError:
                continue
            out.append((ref, g.value_type))
    return out


# --- the call in each mode ----------------------------------------------------------------------

def _activities(site, call: CheckpointCall, mode: Mode) -> tuple[Activity, ...]:
    acts = []
    for a, p in zip(call.args, call.params):
        if isinstance(p, T.PointerType):
            acts.append(Activity.DUP if site.has_shadow(a) else Activity.CONST)
        elif isinstance(p, T.FloatType) and (site.varied(a) or site.act.float_view(a) is not None):
            acts.append(Activity.DUP if mode is Mode.FORWARD else Activity.OUT)
        else:
            acts.append(Activity.CONST)
    return tuple(acts)


def _spec(site, call: CheckpointCall, acts, mode: Mode, width: int = 1) -> FunctionSpec:
    return FunctionSpec(call.step, (Activity.CONST,) + acts, False, False, mode, width, strong_zero=site.strong_zero)


def _value_of(site, call: CheckpointCall, b: Builder):
    """Reverse mode: each field of the environment from the augmented pass's values."""
    def value_of(f: Field) -> Value:
        a = call.args[f.arg]
        if f.kind == "value":
            return convert(b, site.primal(a), f.type)
        if f.kind == "adjoint":
            return Builder.zero(f.type)
        return site.shadow(a)  # a pointer with a shadow (DUP)
    return value_of


def _forward(site: ForwardSite) -> None:
    """The loop over the step's tangent, W tangents (or shadows) per active argument."""
    module, b, W = site.module, site.b, site.width
    call = decode(module, site.inst)
    acts = _activities(site, call, Mode.FORWARD)
    fwd = site.ctx.forward_function(_spec(site, call, acts, Mode.FORWARD, W))
    args: list[Value] = []
    for a, p, act in zip(call.args, call.params, acts):
        args.append(convert(b, site.primal(a), p))
        if not act.has_shadow:
            continue
        if isinstance(p, T.PointerType):
            args.extend(site.shadows(a))
        else:
            args.extend(convert(b, t, p) if t is not None else Builder.zero(p) for t in site.tangents(a))
    loop = _loop_function(module, "fwd", call, fwd.fname, fwd.ret_type, [a.type for a in args])
    b.call(loop, T.void, [*_bounds(b, call, site.primal), *args])


def _bounds(b: Builder, call: CheckpointCall, primal) -> list[Value]:
    if call.count is None:
        return []
    return [convert(b, primal(call.start), T.i64), convert(b, primal(call.count), T.i64)]


def _loop_function(module, kind: str, call: CheckpointCall, callee: str, ret: T.Type, types: list[T.Type]) -> str:
    """`void loop(i64 start, i64 n, args...)`: callee(i, args...) for i in [start, start + n); for
    a while loop `void loop(args...)`: callee(i, args...) for i = 0, 1, ... until its first result
    (the step's) is 0. A function like any other for a derivative of it (reverse over forward mode
    tapes its loop)."""
    step, counted = call.step, call.count is not None
    index_type = module.function_type_of(step).params[0]
    fn = Function(module.unique_name(naming.checkpoint_step("loop." + kind, step)), T.void,
                  [T.i64, T.i64, *types] if counted else list(types), linkage="internal",
                  attributes=module.target_attributes(step))
    module.add_function(fn)
    entry, body, done = fn.add_block("entry"), fn.add_block("step"), fn.add_block("done")
    b = Builder(module, fn).position_at_end(entry)
    args = fn.args[2:] if counted else fn.args
    start = fn.args[0] if counted else Builder.iconst(T.i64, 0)
    counter = b.alloca(T.i64, align=8)
    b.store(start, counter, align=8)
    if counted:
        end = b.add(start, fn.args[1])
        b.cond_br(b.icmp("slt", start, end), body, done)
    else:
        b.br(body)
    b.position_at_end(body)
    i = b.load(T.i64, counter, align=8)
    r = b.call(callee, ret, [convert(b, i, index_type), *args], fnty=T.FunctionType(ret, (index_type, *types), False),
               declare=False)
    following = b.add(i, Builder.iconst(T.i64, 1))
    b.store(following, counter, align=8)
    if counted:
        b.cond_br(b.icmp("slt", following, end), body, done)
    else:
        result = r if not isinstance(r.type, T.StructType) else b.extractvalue(r, [0])
        b.cond_br(b.icmp("ne", result, Builder.zero(result.type)), body, done)
    b.position_at_end(done)
    b.ret()
    return fn.fname


def _thunks(site, call: CheckpointCall):
    """The reverse-mode functions of (i, env) for the step and the activities of its arguments,
    made once (the augmented and the reverse pass of a call share them)."""
    acts = _activities(site, call, Mode.REVERSE)
    key = (call.step, acts, site.strong_zero)
    cache = site.ctx.__dict__.setdefault("checkpoint_thunks", {})
    if key in cache:
        return cache[key]
    module = site.module
    fields = _layout(call, acts)
    grad, pack = site.ctx.gradient_function(_spec(site, call, acts, Mode.REVERSE))
    outs = [k for k, act in enumerate(acts) if act is Activity.OUT]

    def body(b, i, loaded):
        r = b.call(grad, pack.type, [i] + _step_args(call, acts, loaded))
        if outs:
            for k, d in zip(outs, pack.unpack(b, r)):
                acc, p = loaded[(k, "adjoint")]
                b.store(b.fadd(acc, d), p)
    cache[key] = (acts, fields, _primal_thunk(module, call, fields), _thunk(module, "grad", call.step, fields, body))
    return cache[key]


def _augment(site: AugmentSite) -> None:
    b = site.b
    call = decode(site.module, site.inst)
    for p in (call.scheme, call.config, *(r for r, _ in call.regions), *call.args):
        if isinstance(p.type, T.PointerType) and site.dies_before_reverse(p):
            raise unsupported(site.module, site.inst, f"{site.inst.callee_name.strip(chr(34))} is given a pointer to a local array its reverse "
                                                      "pass cannot keep alive (variable-length or over-aligned): "
                                                      "allocate it with malloc")
    acts, fields, primal, _ = _thunks(site, call)
    h = _fill_env(b, call, fields, _value_of(site, call, b))
    _regions(b, call, h, site.primal, site.shadow)
    if call.count is None:
        b.call("adcc_ckpt_forward_while", T.void, [h, site.primal(call.scheme), site.primal(call.config),
                                                   GlobalRef(primal)])
    else:
        b.call("adcc_ckpt_forward", T.void, [h, site.primal(call.scheme), site.primal(call.config),
                                             *_bounds(b, call, site.primal), GlobalRef(primal)])
    site.save(0, h)


def _reverse(site: ReverseSite) -> None:
    b = site.b
    call = decode(site.module, site.inst)
    acts, fields, primal, grad = _thunks(site, call)
    h = site.saved(0)
    b.call("adcc_ckpt_reverse", T.void, [h, GlobalRef(primal), GlobalRef(grad)])
    if any(f.kind == "adjoint" for f in fields):
        ety = _env_type(fields)
        env = b.call("adcc_ckpt_env", T.ptr, [h])
        for k, f in enumerate(fields):
            if f.kind == "adjoint":
                d = b.load(f.type, b.gep(ety, env, [Builder.iconst(T.i32, 0), Builder.iconst(T.i32, k)]))
                a = call.args[f.arg]
                site.add_adjoint(a, convert(b, d, a.type))
    b.call("adcc_ckpt_free", T.void, [h])


DRIVER = ("adcc_ckpt_new", "adcc_ckpt_env", "adcc_ckpt_region", "adcc_ckpt_forward", "adcc_ckpt_forward_while",
          "adcc_ckpt_reverse", "adcc_ckpt_free")


def _refuse_again(site) -> None:
    raise unsupported(site.module, site.inst, f"the reverse sweep of {FOR} cannot be differentiated again yet: "
                                              "forward or reverse mode over its reverse mode")


RULES: tuple[CallRule, ...] = (
    CallRule("checkpoint", DRIVER, forward=_refuse_again, augment=_refuse_again, reverse=lambda site: None,
             always=True, description="the driver of a checkpointed loop (a derivative differentiated again)"),
    CallRule("checkpoint", (FOR, WHILE), forward=_forward, augment=_augment, reverse=_reverse,
             saved_types=lambda view: (T.ptr,), always=True, callback_arg=0, reverse_reads_memory=True,
             description="a checkpointed loop (__enzyme_checkpoint_for, __enzyme_checkpoint_while)"),
)


# --- primal code --------------------------------------------------------------------------------

def lower_checkpoint_calls(module) -> bool:
    """Once every derivative is built: each `__enzyme_checkpoint_for` call left (in primal code) is
    the plain loop over the step. True when a call was lowered."""
    lowered = False
    for name in list(module.defined_function_names()):
        e = module.functions[name]
        if e.parsed is None and FOR not in e.text and WHILE not in e.text:
            continue
        fn = module.function(name)
        for inst in list(fn.instructions()):
            if inst.opcode == "invoke" and is_checkpoint_call(inst.callee_name):
                raise unsupported(module, inst, f"{inst.callee_name.strip(chr(34))} called where an exception may unwind through it "
                                                "(declare it noexcept, or call it outside the try block)")
            if inst.opcode != "call" or not is_checkpoint_call(inst.callee_name):
                continue
            call = decode(module, inst)
            b = Builder(module, fn).position_before(inst)
            fnty = module.function_type_of(call.step)
            loop = _loop_function(module, "primal", call, call.step, fnty.ret, list(call.params))
            b.call(loop, T.void, [*_bounds(b, call, lambda v: v),
                                  *[convert(b, a, p) for a, p in zip(call.args, call.params)]])
            markers = [a for a in inst.args if isinstance(a, Instruction) and a.opcode == "load"]
            inst.erase()
            for m in markers:  # the marker loads (`enzyme_scheme` names no object of the program)
                if not m.uses and isinstance(m.operands[0], GlobalRef) and \
                        m.operands[0].gname.strip('"').startswith("enzyme_"):
                    m.erase()
            lowered = True
    return lowered
