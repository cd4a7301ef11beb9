"""Split mode: `__enzyme_augmentfwd`, `__enzyme_reverse` and `__enzyme_augmentsize` (split
forward mode, `__enzyme_fwdsplit` and the tapes it reads, is fwdsplit.py).

The augmented forward function and the reverse function of reverse mode (reverse.py) run apart:
`__enzyme_augmentfwd(f, args...)` records a tape, `__enzyme_reverse(f, args..., [d_result], tape)`
later accumulates the adjoints from it. A split tape is its own object (runtime/adcc_runtime.h,
`adcc_split_tape`): a header with the records' LIFO buffer, the tape's own shadow stack (the
shadows of stack objects, which combined mode keeps on its thread's stack) and a fingerprint of the
augmented pass that recorded it. Each call of either half runs with the tape's shadow stack
installed (`adcc_split_enter`/`adcc_split_leave`), so any number of tapes may be alive, reversed
in any order, on any thread. The header is allocated by `adcc_split_tape_new` (the tape is then
returned as a `void *`), or lives in the caller's buffer (`enzyme_allocated, size, enzyme_tape, p`;
its records too when the most the augmented pass can record is known at compile time and fits).

Between the two halves the caller may change memory, so the reverse pass re-reads no argument
memory (FunctionSpec.readonly_memory is off), as Enzyme assumes in split mode, unless the call
marks arguments `enzyme_not_overwritten`: then the reverse re-reads those the call tree does not
write (restrict arguments), or all memory, as combined mode does, when every pointer argument is
marked, the call tree writes nothing it did not allocate and reads no mutable global.

adcc's reverse pass takes f's arguments from the tape; those passed to `__enzyme_reverse` are
compared with the recorded ones at run time (Enzyme's convention requires the same ones; a
mismatch is `adcc_fatal`, never a silently wrong adjoint).
"""
from __future__ import annotations

import zlib

from adcc.ad import naming
from adcc.ad.callsite import CallSite
from adcc.ad.calling import signatures
from adcc.ad.common import convert, message_constant
from adcc.ad.results import deliver
from adcc.ad.srcloc import location_of
from adcc.ad.tape import RecordLayout, static_tape_bytes
from adcc.analysis.activity import is_floatish
from adcc.analysis.spec import FunctionSpec, Mode
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Function, Value

HEADER_BYTES = 48          # ADCC_SPLIT_TAPE_HEADER
INLINE_SIZE_LIMIT = 4096   # __enzyme_augmentsize counts records in the caller's buffer up to this
INLINE_HEAP_LIMIT = 65536  # a heap tape allocates its records with its header up to this


def rewrite_split(ctx, site: CallSite, arguments) -> None:
    """Replace one split-mode call (augmentfwd, reverse or augmentsize) by its implementation;
    `arguments(b)`: f's arguments and shadows as the synthesized functions take them."""
    from adcc.ad.fwdsplit import records_replay, rewrite_replay
    if site.api == "fwdsplit" or records_replay(ctx, site):
        return rewrite_replay(ctx, site, arguments)  # split forward mode
    module = ctx.module
    _check(module, site)
    spec = split_spec(module, site)
    pair = SplitPair.of(ctx, spec)
    b = Builder(module).position_before(site.inst)
    if site.api == "augmentsize":
        size = HEADER_BYTES + (pair.records if pair.records is not None and pair.records <= INLINE_SIZE_LIMIT else 0)
        rt = ctx.module.resolve(site.result_type)
        if not isinstance(rt, T.IntType):
            raise _error(module, site, "__enzyme_augmentsize returns the tape's size in bytes: declare it as an "
                                       "integer")
        deliver(b, site, [Builder.iconst(rt, size)])
    elif site.api == "augmentfwd":
        _augment(b, site, pair, arguments(b))
    else:
        from adcc.ad.check import count_unchecked
        count_unchecked(ctx, b, site, spec, "split mode (__enzyme_reverse) is not checked yet")
        _reverse(b, site, pair, arguments)


def split_spec(module, site: CallSite) -> FunctionSpec:
    """The spec both halves synthesize: equal for an augmentfwd and its reverse given the same markers."""
    from adcc.analysis.memory import reloadable_arguments
    fn = module.function(site.fn_name)
    ret = module.resolve(fn.ret_type)
    ret_active = site.return_activity != "const" and is_floatish(module, ret) and not isinstance(ret, T.VoidType)
    ret_shadow = isinstance(ret, T.PointerType) and site.return_activity in ("default", "dup")
    kept = {k for k, a in enumerate(site.args) if a.not_overwritten}
    pointers = {k for k, a in enumerate(fn.args) if isinstance(a.type, T.PointerType)}
    readonly = pointers <= kept and _unchanged_between_halves(module, fn)
    reload = () if readonly or not kept else tuple(k for k in reloadable_arguments(module, fn) if k in kept)
    acts = tuple(a.activity for a in site.args)
    return FunctionSpec(site.fn_name, acts, ret_active, ret_shadow, Mode.REVERSE, 1, readonly, reload,
                        strong_zero=site.strong_zero)


def _unchanged_between_halves(module, fn) -> bool:
    """With every pointer argument enzyme_not_overwritten, the reverse may re-read memory if the
    call tree writes nothing it did not allocate (as in combined mode) and reads no mutable global
    (the caller could change one between the halves)."""
    from adcc.ad.rewrite import call_tree
    from adcc.analysis.activity import global_is_active
    from adcc.analysis.memory import writes_nonlocal_memory
    if writes_nonlocal_memory(module, fn):
        return False
    return not any(r in module.globals and global_is_active(module, r)
                   for f in call_tree(module, fn.fname) for r in module.references(f))


def _check(module, site: CallSite) -> None:
    name = site.fn_name.strip('"')
    what = f"__enzyme_{site.api}"
    fn = module.function(site.fn_name)
    ret = module.resolve(fn.ret_type)
    refusals = (
        (site.width != 1, f"{what}: enzyme_width is not available in split mode"),
        (site.runtime_activity, f"{what}: enzyme_runtime_activity is not supported in split mode yet"),
        (site.target_sret is not None,
         f"{what} of '{name}', which returns a struct through memory, is not supported yet (return it through "
         f"a pointer argument passed with enzyme_dup)"),
        (site.primal_return,
         "enzyme_primal_return is not available in split mode: __enzyme_augmentfwd returns f's result by "
         "default (enzyme_noret drops it)"),
        (isinstance(ret, (T.StructType, T.ArrayType)) and is_floatish(module, ret) and site.return_activity != "const",
         f"{what} of '{name}', which returns an aggregate of floating-point values, is not supported (there is no "
         f"single adjoint to seed): pass enzyme_const_return or return the values through a pointer passed with "
         f"enzyme_dup"),
        (site.return_activity == "active" and not is_floatish(module, ret),
         f"enzyme_active_return given, but '{name}' does not return a floating-point value"),
        (site.api != "augmentsize" and site.allocated is not None and site.tape is None,
         f"{what}: enzyme_allocated needs enzyme_tape, ptr (the caller's buffer that holds the tape)"),
        (site.api == "augmentfwd" and site.nofree,
         "enzyme_nofree belongs to __enzyme_reverse (it keeps the tape after the reverse pass)"),
    )
    for refused, message in refusals:
        if refused:
            raise _error(module, site, message)


def _error(module, site: CallSite, message: str) -> CompileError:
    return CompileError(message, location_of(module, site.inst))


class SplitPair:
    """The two halves of one spec as the program calls them: `augment(tape, args, shadows)` and
    `reverse(tape, [d_result], args, shadows)` wrap the synthesized aug/rev with the tape's shadow
    stack and the argument check; `records` is the most bytes the augmented half records, when known."""

    def __init__(self, ctx, spec: FunctionSpec):
        module = ctx.module
        self.spec = spec
        self.fn = module.function(spec.name)
        self.aug, self.rev = ctx.reverse_functions(spec)
        self.aug_params, self.aug_pack, _, self.rev_pack = signatures(module, self.fn, spec)
        self.check = fingerprint(module, spec)
        args = self.aug_params[1:]
        self.checked = [k for k, t in enumerate(args) if isinstance(t, (T.IntType, T.FloatType, T.PointerType))]
        self.layout = RecordLayout([_bits_type(args[k]) for k in self.checked])
        bound = static_tape_bytes(module, self.aug)
        self.records = None if bound is None else bound + (self.layout.size if self.layout.types else 0)
        self.augment = self._augment_wrapper(module)
        self.reverse = self._reverse_wrapper(module)

    @staticmethod
    def of(ctx, spec: FunctionSpec) -> "SplitPair":
        cache = getattr(ctx, "split_cache", None)
        if cache is None:
            cache = ctx.split_cache = {}
        got = cache.get(spec)
        if got is None:
            got = cache[spec] = SplitPair(ctx, spec)
        return got

    def _augment_wrapper(self, module) -> Function:
        name = module.unique_name(naming.augmented(self.spec).replace("adcc.aug.", "adcc.split.aug.", 1))
        w = Function(name, self.aug_pack.type, self.aug_params, linkage="internal",
                     attributes=module.target_attributes(self.spec.name))
        module.add_function(w)
        b = Builder(module, w).position_at_end(w.add_block("entry"))
        tape, args = w.args[0], list(w.args[1:])
        token = b.call("adcc_split_enter", T.ptr, [tape])
        self.layout.push(b, tape, [_bits(b, args[k]) for k in self.checked])
        r = b.call(self.aug, self.aug_pack.type, [tape, *args])
        b.call("adcc_split_leave", T.void, [token])
        b.ret(r if self.aug_pack.fields else None)
        return w

    def _reverse_wrapper(self, module) -> Function:
        name = module.unique_name(naming.reverse(self.spec).replace("adcc.rev.", "adcc.split.rev.", 1))
        dret = [self.fn.ret_type] if self.spec.ret_active else []
        params = [T.ptr, *dret, *self.aug_params[1:]]
        w = Function(name, self.rev_pack.type, params, linkage="internal",
                     attributes=module.target_attributes(self.spec.name))
        module.add_function(w)
        entry = w.add_block("entry")
        b = Builder(module, w).position_at_end(entry)
        tape = w.args[0]
        args = list(w.args[1 + len(dret):])
        plain = self.spec.name.strip('"')
        b.call("adcc_split_tape_check", T.void, [tape, Builder.iconst(T.i32, self.check),
                                                  message_constant(module, f"__enzyme_reverse of '{plain}'")])
        token = b.call("adcc_split_enter", T.ptr, [tape])
        r = b.call(self.rev, self.rev_pack.type, [tape, *w.args[1:1 + len(dret)]])
        recorded = self.layout.pop(b, tape)
        differs: Value = Builder.iconst(T.i1, 0)
        for k, was in zip(self.checked, recorded):
            differs = b.or_(differs, b.icmp("ne", _bits(b, args[k]), was))
        b.call("adcc_split_leave", T.void, [token])
        bad, good = w.add_block("differs"), w.add_block("done")
        b.cond_br(differs, bad, good)
        b.position_at_end(bad)
        b.call("adcc_fatal", T.void, [message_constant(module, (
            f"__enzyme_reverse of '{plain}': its arguments differ from those the tape was recorded with by "
            f"__enzyme_augmentfwd (adcc's reverse pass uses the recorded arguments and shadows)"))])
        b.unreachable()
        b.position_at_end(good)
        b.ret(r if self.rev_pack.fields else None)
        return w


def _bits_type(ty: T.Type) -> T.Type:
    return T.IntType(ty.bits) if isinstance(ty, T.FloatType) else ty


def _bits(b: Builder, v: Value) -> Value:
    """A value as something icmp compares bit for bit (floats as integers: NaN equals itself)."""
    return b.cast("bitcast", v, T.IntType(v.type.bits)) if isinstance(v.type, T.FloatType) else v


def fingerprint(module, spec: FunctionSpec) -> int:
    """Which augmented pass recorded a tape: f's name, the activities, and the shape of f's code."""
    fn = module.function(spec.name)
    shape = " ".join(i.opcode for i in fn.instructions())
    return zlib.crc32(f"{spec!r}|{shape}".encode()) & 0x7FFFFFFF | 1  # 0 marks a shadow tape


# --- the two halves at their call sites ------------------------------------------------------

def _augment(b: Builder, site: CallSite, pair: SplitPair, args: list[Value]) -> None:
    module = b.module
    inline = pair.records if pair.records is not None else 0
    where = message_constant(module, f"__enzyme_augmentfwd of '{site.fn_name.strip(chr(34))}'")
    if site.allocated is not None:
        tape = convert(b, site.tape, T.ptr)
        _check_size(module, site)
        b.call("adcc_split_tape_init", T.void, [tape, convert(b, site.allocated, T.i64), Builder.iconst(T.i64, inline),
                                                Builder.iconst(T.i32, pair.check), where])
    else:
        heap_inline = inline if inline <= INLINE_HEAP_LIMIT else 0
        tape = b.call("adcc_split_tape_new", T.ptr, [Builder.iconst(T.i64, heap_inline),
                                                     Builder.iconst(T.i32, pair.check)])
        if site.tape is not None:  # enzyme_tape, p without enzyme_allocated: *p holds the tape
            b.store(tape, convert(b, site.tape, T.ptr), align=1)
    r = b.call(pair.augment, pair.aug_pack.type, [tape, *args])
    parts = pair.aug_pack.unpack(b, r)
    values = []
    returns_value = not isinstance(pair.fn.ret_type, T.VoidType)
    if returns_value and not site.noret:
        values.append(parts[0])
    if pair.spec.ret_shadow and returns_value:
        values.append(parts[1])
    if site.tape is None:
        values.insert(0, tape)
    if not site.inst.uses and site.sret is None:
        values = []  # a result nobody reads may be declared as anything (`void *`, `int`)
    deliver(b, site, _by_kind(module, site, values))


def _by_kind(module, site: CallSite, values: list[Value]) -> list[Value]:
    """Enzyme returns {tape, primal, shadow}; a program may declare the members in another order
    (`struct { double value; void *tape; }`). When the declared struct's members are the same
    kinds (pointer, floating-point, integer), each a different one, they are matched by kind."""
    rt = module.resolve(site.result_type)
    if site.sret is not None:
        from adcc.ad.callsite import sret_type
        rt = sret_type(module, site.inst.info.get("arg_attrs", [""])[0]) or rt
    if not isinstance(rt, T.StructType) or len(rt.elems) != len(values):
        return values
    kinds = [_kind(module, e) for e in rt.elems]
    have = [_kind(module, v.type) for v in values]
    if kinds == have or sorted(kinds) != sorted(have) or len(set(have)) != len(have) or None in have:
        return values
    return [values[have.index(k)] for k in kinds]


def _kind(module, ty: T.Type) -> str | None:
    ty = module.resolve(ty)
    for name, cls in (("float", T.FloatType), ("int", T.IntType), ("ptr", T.PointerType)):
        if isinstance(ty, cls):
            return name
    return None


def _reverse(b: Builder, site: CallSite, pair: SplitPair, arguments) -> None:
    dret, tape = _trailing(b, site, pair)
    if site.tape is not None:
        tape = convert(b, site.tape, T.ptr)
        if site.allocated is not None:
            _check_size(b.module, site)
        else:
            tape = b.load(T.ptr, tape, align=1)
    r = b.call(pair.reverse, pair.rev_pack.type, [tape, *dret, *arguments(b)])
    if not site.nofree:
        b.call("adcc_split_tape_free", T.void, [tape])
    deliver(b, site, pair.rev_pack.unpack(b, r))


def _trailing(b: Builder, site: CallSite, pair: SplitPair) -> tuple[list[Value], Value | None]:
    """The values after f's arguments: the adjoint of f's result (a float; 1.0 when left out, as
    Enzyme seeds it) and the tape (a pointer, unless enzyme_tape gives it)."""
    module, fn, name = b.module, pair.fn, site.fn_name.strip('"')
    ret = module.resolve(fn.ret_type)
    dret: list[Value] = []
    tape = None
    rest = list(site.trailing)
    if pair.spec.ret_active:
        if rest and not isinstance(rest[0].type, T.PointerType):
            d = rest.pop(0)
            if not isinstance(d.type, T.FloatType) or not isinstance(ret, T.FloatType):
                raise _error(module, site, f"__enzyme_reverse of '{name}': the adjoint of its result must be a {ret}")
            dret = [convert(b, d, ret)]
        else:
            dret = [Builder.fconst(ret, 1.0)]
    if site.tape is None:
        if not rest or not isinstance(rest[0].type, T.PointerType):
            need = f"the adjoint of its result ({ret}), then " if pair.spec.ret_active else ""
            raise _error(module, site, f"__enzyme_reverse of '{name}' needs, after f's arguments, {need}the tape "
                               f"__enzyme_augmentfwd returned (or enzyme_tape, ptr)")
        tape = rest.pop(0)
    if rest:
        raise _error(module, site, f"too many arguments to __enzyme_reverse for '{name}': {len(rest)} left over after "
                           f"f's arguments" + (", the adjoint of its result" if pair.spec.ret_active else "")
                           + (" and the tape" if site.tape is None else ""))
    return dret, tape


def _check_size(module, site: CallSite) -> None:
    """A constant enzyme_allocated size below the header is a compile error (the runtime checks others)."""
    size = site.allocated
    if isinstance(size, Constant) and size.text.lstrip("-").isdigit() and int(size.text) < HEADER_BYTES:
        raise _error(module, site, f"__enzyme_{site.api}: the tape buffer is too small: need {HEADER_BYTES} bytes, have "
                           f"{int(size.text)} bytes (enzyme_allocated; __enzyme_augmentsize gives the size)")

