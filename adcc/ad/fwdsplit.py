"""Split forward mode at its call sites: `__enzyme_fwdsplit`, and the `__enzyme_augmentfwd` /
`__enzyme_augmentsize` calls that record its tapes.

`__enzyme_augmentfwd(f, args...)` of a function this module also passes to `__enzyme_fwdsplit`
records a replay log (replay.py) in a split tape (runtime/adcc_runtime.h): f's arguments, then
what f's call tree loads and the results of the calls it does not enter. `__enzyme_fwdsplit(f,
args and shadows..., tape)` (or `enzyme_tape, p` with or without `enzyme_allocated, size`)
computes f's tangent from that log: f's primal arguments given to it are not read (Enzyme's
tests pass NULL), the recorded ones are used; the primal does not run again and its memory is not
touched. The tape is released afterwards unless `enzyme_nofree` is given (then it may be replayed
again, e.g. for another direction). The log does not depend on the activities, so one recording
serves any `__enzyme_fwdsplit` activities and widths.

A tape holds either a replay log or reverse-mode records: a module that passes f to both
`__enzyme_fwdsplit` and `__enzyme_reverse` is refused (located error), and a tape recorded for the
other kind (e.g. in another translation unit) is caught at run time by the tape's fingerprint.
"""
from __future__ import annotations

import dataclasses
import zlib

from adcc.ad.callsite import CallSite, api_of
from adcc.ad.common import convert, message_constant
from adcc.ad.replay import log_value, read_value, record_spec
from adcc.ad.results import deliver
from adcc.ad.split import HEADER_BYTES, _by_kind, _check_size, _error
from adcc.analysis.spec import FunctionSpec
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Function, GlobalRef, Value


STATE_TYPE = T.ArrayType(4, T.i64)  # adcc_replay_state (runtime/adcc_runtime.h)


def fwdsplit_targets(ctx) -> tuple[set[str], set[str]]:
    """(functions passed to __enzyme_fwdsplit, functions passed to __enzyme_reverse) in the module,
    read before the first split-mode call is rewritten."""
    got = getattr(ctx, "fwdsplit_targets", None)
    if got is None:
        got = ctx.fwdsplit_targets = (set(), set())
        from adcc.ad.rewrite import find_call_sites
        for inst in find_call_sites(ctx.module):
            api = api_of(inst.callee_name or "")
            target = inst.args[0] if inst.args else None
            if api in ("fwdsplit", "reverse") and isinstance(target, GlobalRef):
                got[0 if api == "fwdsplit" else 1].add(target.gname)
    return got


def records_replay(ctx, site: CallSite) -> bool:
    """Whether this split-mode call's tapes are replay logs (f is passed to __enzyme_fwdsplit)."""
    replayed, reversed_ = fwdsplit_targets(ctx)
    if site.fn_name not in replayed:
        return False
    if site.fn_name in reversed_:
        raise _error(ctx.module, site, f"'{_plain(site.fn_name)}' is passed to both __enzyme_fwdsplit and "
                                       f"__enzyme_reverse in this translation unit: one function's tapes serve one of "
                                       f"them in adcc (not supported yet; give one of them a wrapper function that "
                                       f"calls '{_plain(site.fn_name)}')")
    return True


def rewrite_replay(ctx, site: CallSite, arguments) -> None:
    """An augmentfwd, augmentsize or fwdsplit call of a function whose tapes are replay logs."""
    module = ctx.module
    _check(module, site)
    b = Builder(module).position_before(site.inst)
    if site.api == "augmentsize":
        rt = module.resolve(site.result_type)
        if not isinstance(rt, T.IntType):
            raise _error(module, site, "__enzyme_augmentsize returns the tape's size in bytes: declare it as an "
                                       "integer")
        deliver(b, site, [Builder.iconst(rt, HEADER_BYTES)])  # (the log grows on the heap)
    elif site.api == "augmentfwd":
        _record(ctx, b, site)
    else:
        _replay(ctx, b, site, arguments(b))


def _check(module, site: CallSite) -> None:
    what = f"__enzyme_{site.api}"
    fn = module.function(site.fn_name)
    refusals = (
        (site.api != "fwdsplit" and site.width != 1, f"{what}: enzyme_width is not available here (give it to "
                                                     f"__enzyme_fwdsplit)"),
        (site.runtime_activity, f"{what}: enzyme_runtime_activity is not supported in split forward mode yet"),
        (site.target_sret is not None,
         f"{what} of '{_plain(site.fn_name)}', which returns a struct through memory, is not supported in split "
         f"forward mode yet (return it through a pointer argument passed with enzyme_dup)"),
        (site.api == "augmentfwd" and site.primal_return,
         "enzyme_primal_return is not available in split mode: __enzyme_augmentfwd returns f's result by "
         "default (enzyme_noret drops it)"),
        (site.api == "augmentfwd" and isinstance(module.resolve(fn.ret_type), T.PointerType) and
         site.return_activity != "const" and _wants_shadow(module, site),
         f"__enzyme_augmentfwd of '{_plain(site.fn_name)}' for __enzyme_fwdsplit returns no shadow of its pointer "
         f"result (pass enzyme_const_return; __enzyme_fwdsplit returns the shadow)"),
        (site.allocated is not None and site.tape is None,
         f"{what}: enzyme_allocated needs enzyme_tape, ptr (the caller's buffer that holds the tape)"),
        (site.api == "augmentfwd" and site.nofree,
         "enzyme_nofree belongs to __enzyme_fwdsplit (it keeps the tape after the tangent pass)"),
    )
    for refused, message in refusals:
        if refused:
            raise _error(module, site, message)


def _wants_shadow(module, site: CallSite) -> bool:
    """An augmentfwd declared to return {tape, primal, shadow of the pointer result}."""
    rt = module.resolve(site.result_type)
    if site.sret is not None:  # (a struct returned through memory)
        from adcc.ad.callsite import sret_type
        rt = sret_type(module, site.inst.info.get("arg_attrs", [""])[0]) or rt
    elif not site.inst.uses:
        return False
    return isinstance(rt, T.StructType) and len(rt.elems) >= 3


def replay_check(module, name: str) -> int:
    """The fingerprint of f's replay logs: f's name and the shape of its code (never a reverse tape's)."""
    shape = " ".join(i.opcode for i in module.function(name).instructions())
    return zlib.crc32(f"replay|{name}|{shape}".encode()) & 0x7FFFFFFF | 1


# --- __enzyme_augmentfwd: record ---------------------------------------------------------

def _record(ctx, b: Builder, site: CallSite) -> None:
    module = ctx.module
    fn = module.function(site.fn_name)
    check = replay_check(module, site.fn_name)
    where = message_constant(module, f"__enzyme_augmentfwd of '{_plain(site.fn_name)}'")
    if site.allocated is not None:
        tape = convert(b, site.tape, T.ptr)
        _check_size(module, site)
        b.call("adcc_split_tape_init", T.void, [tape, convert(b, site.allocated, T.i64), Builder.iconst(T.i64, 0),
                                                Builder.iconst(T.i32, check), where])
    else:
        tape = b.call("adcc_split_tape_new", T.ptr, [Builder.iconst(T.i64, 0), Builder.iconst(T.i32, check)])
        if site.tape is not None:  # enzyme_tape, p without enzyme_allocated: *p holds the tape
            b.store(tape, convert(b, site.tape, T.ptr), align=1)
    primals = [b.load(p.type, a.primal) if a.byref else convert(b, a.primal, p.type)
               for p, a in zip(fn.args, site.args)]
    r = b.call(_record_wrapper(ctx, fn), fn.ret_type, [tape, *primals])
    values: list[Value] = []
    if not isinstance(fn.ret_type, T.VoidType) and not site.noret:
        values.append(r)
    if site.tape is None:
        values.insert(0, tape)
    if not site.inst.uses and site.sret is None:
        values = []  # a result nobody reads may be declared as anything
    deliver(b, site, _by_kind(module, site, values))


def _record_wrapper(ctx, fn: Function) -> Function:
    """`(tape, args...) -> f's result`: f's arguments, then f's run, into the tape's log."""
    module = ctx.module
    cache = _cache(ctx, "record")
    if fn.fname in cache:
        return cache[fn.fname]
    record = ctx.forward_function(record_spec(fn.fname, len(fn.args)))
    w = cache[fn.fname] = _wrapper(module, f"adcc.split.record.{_plain(fn.fname)}", fn.ret_type,
                                   [T.ptr, *(a.type for a in fn.args)], fn.fname)
    b = Builder(module, w).position_at_end(w.add_block("entry"))
    state = b.alloca_in_entry(STATE_TYPE, align=8)
    b.call("adcc_replay_begin", T.void, [state, w.args[0], Builder.iconst(T.i32, 0)])
    for a in w.args[1:]:
        log_value(b, a)
    r = b.call(record, fn.ret_type, list(w.args[1:]))
    b.call("adcc_replay_end", T.void, [state, message_constant(module, f"__enzyme_augmentfwd of '{_plain(fn.fname)}'")])
    b.ret(None if isinstance(fn.ret_type, T.VoidType) else r)
    return w


# --- __enzyme_fwdsplit: replay -----------------------------------------------------------

def _replay(ctx, b: Builder, site: CallSite, args: list[Value]) -> None:
    from adcc.ad.rewrite import _check_return, _results, _site_spec
    module = ctx.module
    fn = module.function(site.fn_name)
    _check_return(module, site)
    spec = dataclasses.replace(_site_spec(module, site), replay="replay")
    from adcc.ad.check import count_unchecked
    count_unchecked(ctx, b, site, spec, "split forward mode (__enzyme_fwdsplit) is not checked yet")
    tape = _tape(b, site)
    wrapper, packing = _replay_wrapper(ctx, fn, spec)
    r = b.call(wrapper, packing.type, [tape, *args])
    if not site.nofree:
        b.call("adcc_split_tape_free", T.void, [tape])
    deliver(b, site, _results(site, spec, fn, packing.unpack(b, r)))


def _tape(b: Builder, site: CallSite) -> Value:
    module, name = b.module, _plain(site.fn_name)
    rest = list(site.trailing)
    if site.tape is not None:
        if rest:
            raise _error(module, site, f"too many arguments to __enzyme_fwdsplit for '{name}': {len(rest)} left over "
                                       f"after f's arguments (the tape is given by enzyme_tape)")
        tape = convert(b, site.tape, T.ptr)
        if site.allocated is not None:
            _check_size(module, site)
            return tape
        return b.load(T.ptr, tape, align=1)
    if len(rest) != 1 or not isinstance(rest[0].type, T.PointerType):
        raise _error(module, site, f"__enzyme_fwdsplit of '{name}' needs, after f's arguments and shadows, the tape "
                                   f"__enzyme_augmentfwd returned (or enzyme_tape, ptr)"
                                   + ("" if len(rest) < 2 else f": {len(rest) - 1} argument(s) left over"))
    return rest[0]


def _replay_wrapper(ctx, fn: Function, spec: FunctionSpec):
    """`(tape, args and shadows as __enzyme_fwddiff passes them) -> f's derivative's result`, with
    f's primal arguments taken from the log."""
    from adcc.ad.forward import forward_signature
    module = ctx.module
    params, packing = forward_signature(module, fn, spec)
    cache = _cache(ctx, "replay")
    if spec in cache:
        return cache[spec], packing
    tangent = ctx.forward_function(spec)
    w = cache[spec] = _wrapper(module, f"adcc.split.replay.{_plain(fn.fname)}", packing.type, [T.ptr, *params],
                               fn.fname)
    b = Builder(module, w).position_at_end(w.add_block("entry"))
    tape, given = w.args[0], list(w.args[1:])
    where = message_constant(module, f"__enzyme_fwdsplit of '{_plain(fn.fname)}'")
    b.call("adcc_split_tape_check", T.void, [tape, Builder.iconst(T.i32, replay_check(module, fn.fname)), where])
    state = b.alloca_in_entry(STATE_TYPE, align=8)
    b.call("adcc_replay_begin", T.void, [state, tape, Builder.iconst(T.i32, 1)])
    args, k = [], 0
    for a, act in zip(fn.args, spec.args):
        args.append(read_value(b, a.type))  # the recorded primal, not the one given
        n = spec.width if act.has_shadow else 0
        args.extend(given[k + 1:k + 1 + n])
        k += 1 + n
    r = b.call(tangent, packing.type, args)
    b.call("adcc_replay_end", T.void, [state, where])
    b.ret(r if packing.fields else None)
    return w, packing


def _wrapper(module, name: str, ret: T.Type, params: list[T.Type], target: str) -> Function:
    w = Function(module.unique_name(name), ret, params, linkage="internal", attributes=module.target_attributes(target))
    module.add_function(w)
    return w


def _cache(ctx, kind: str) -> dict:
    caches = getattr(ctx, "replay_wrappers", None)
    if caches is None:
        caches = ctx.replay_wrappers = {"record": {}, "replay": {}}
    return caches[kind]


def _plain(name: str) -> str:
    return name.strip('"')
