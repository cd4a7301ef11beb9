"""Rules for adcc's own runtime (runtime/adcc_runtime.h), met when a derivative is differentiated
again (higher-order AD: `__enzyme_fwddiff` of a function that calls `__enzyme_autodiff`).

A reverse-mode tape is memory like any other: its records hold active values, so it gets a
shadow tape that grows in step with it (same offsets), and its release waits for the reverse
pass that still reads the shadow. Shadow allocations of the inner derivative are allocations
too (`adcc.analysis.calls.ALLOC_FUNCTIONS`); the tape-size note is inactive. A split-mode tape
(`adcc_split_tape_new`, an allocation; `adcc_split_tape_init` in a caller's buffer) gets a shadow tape
of its own (check 0: records zeroed), released with it (`adcc_split_tape_free`).
"""
from __future__ import annotations

from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite
from adcc.ir import types as T
from adcc.ir.builder import Builder


def _grow_forward(site: ForwardSite) -> None:
    tape, n = site.args
    b = site.b
    block = b.call("adcc_tape_grow", T.ptr, [site.primal(tape), site.primal(n)])
    site.set_result(block)
    shadows = site.shadows(tape)
    if shadows is not None:  # the shadow tape follows (same offsets; its top and capacity too)
        site.set_shadows([b.call("adcc_tape_mirror", T.ptr, [s, site.primal(tape), block, Builder.iconst(T.i32, 0)])
                          for s in shadows])


def _grow_augment(site: AugmentSite) -> None:
    tape, n = site.args
    b = site.b
    block = b.call("adcc_tape_grow", T.ptr, [site.primal(tape), site.primal(n)])
    site.set_result(block)
    s = site.shadow(tape)
    if s is not None:  # an adjoint accumulator in reverse mode: what it gains starts at zero
        site.set_shadow(b.call("adcc_tape_mirror", T.ptr, [s, site.primal(tape), block, Builder.iconst(T.i32, 1)]))


def _mirror_forward(site: ForwardSite) -> None:
    """A shadow tape following its primal, differentiated again (third order): the shadow of the
    shadow tape follows the shadow tape the same way."""
    shadow, primal, block, zeroed = site.args
    b = site.b
    r = b.call("adcc_tape_mirror", T.ptr, [site.primal(a) for a in site.args])
    site.set_result(r)
    shadows = site.shadows(shadow)
    if shadows is not None:
        site.set_shadows([b.call("adcc_tape_mirror", T.ptr, [s, site.primal(shadow), r, site.primal(zeroed)])
                          for s in shadows])


def _mirror_augment(site: AugmentSite) -> None:
    shadow, primal, block, zeroed = site.args
    b = site.b
    r = b.call("adcc_tape_mirror", T.ptr, [site.primal(a) for a in site.args])
    site.set_result(r)
    s = site.shadow(shadow)
    if s is not None:
        site.set_shadow(b.call("adcc_tape_mirror", T.ptr, [s, site.primal(shadow), r, Builder.iconst(T.i32, 1)]))


def _nothing(site) -> None:
    return None


def _free_forward(site: ForwardSite) -> None:
    """A tape's release (or deferred release), and its shadows' the same way."""
    (tape,) = site.args
    name = site.inst.callee_name
    site.b.call(name, T.void, [site.primal(tape)])
    for s in site.shadows(tape) or ():
        site.b.call(name, T.void, [s])


def _free_reverse(site: ReverseSite) -> None:
    """The release of a tape and of its shadow, deferred from the augmented pass to the reverse
    pass, and there to its end (adcc_free_flush in the gradient): the reverses of the inner
    reverse pass that read the tape's records and add into its shadow's run after this point."""
    (tape,) = site.args
    site.b.call("adcc_tape_free_later", T.void, [site.primal(tape)])
    s = site.shadow(tape)
    if s is not None:
        site.b.call("adcc_tape_free_later", T.void, [s])
    site.ctx.frees_deferred = True


def _free_reads(view):
    (tape,) = view.args
    return [("p", tape)] + ([("s", tape)] if view.has_shadow(tape) else [])


def _split_init_forward(site: ForwardSite) -> None:
    """A split tape in the caller's buffer: the buffer's shadow holds the shadow tape (check 0)."""
    buf, size, inline, check, where = site.args
    vals = [site.primal(a) for a in site.args]
    site.b.call("adcc_split_tape_init", T.void, vals)
    for s in site.shadows(buf) or ():
        site.b.call("adcc_split_tape_init", T.void, [s, vals[1], vals[2], Builder.iconst(T.i32, 0), vals[4]])


def _split_init_augment(site: AugmentSite) -> None:
    buf = site.args[0]
    vals = [site.primal(a) for a in site.args]
    site.b.call("adcc_split_tape_init", T.void, vals)
    s = site.shadow(buf)
    if s is not None:
        site.b.call("adcc_split_tape_init", T.void, [s, vals[1], vals[2], Builder.iconst(T.i32, 0), vals[4]])


def _split_free_forward(site: ForwardSite) -> None:
    (tape,) = site.args
    site.b.call("adcc_split_tape_free", T.void, [site.primal(tape)])
    for s in site.shadows(tape) or ():
        site.b.call("adcc_split_tape_free", T.void, [s])


def _split_free_reverse(site: ReverseSite) -> None:
    """The release of a split tape and of its shadow tape, deferred to here."""
    (tape,) = site.args
    site.b.call("adcc_split_tape_free", T.void, [site.primal(tape)])
    s = site.shadow(tape)
    if s is not None:
        site.b.call("adcc_split_tape_free", T.void, [s])


RULES = (
    CallRule("runtime", ("adcc_tape_grow",), forward=_grow_forward, augment=_grow_augment, reverse=_nothing,
             description="adcc's tape growth"),
    CallRule("runtime", ("adcc_tape_free", "adcc_tape_free_later"), forward=_free_forward, augment=_nothing,
             reverse=_free_reverse, reverse_reads=_free_reads, reverse_reads_memory=True,
             description="adcc's tape release"),
    CallRule("runtime", ("adcc_tape_mirror",), forward=_mirror_forward, augment=_mirror_augment, reverse=_nothing,
             description="adcc's shadow tape"),
    CallRule("runtime", ("adcc_split_tape_init",), forward=_split_init_forward, augment=_split_init_augment,
             reverse=_nothing, description="adcc's split tape in a caller's buffer"),
    CallRule("runtime", ("adcc_split_tape_free",), forward=_split_free_forward, augment=_nothing,
             reverse=_split_free_reverse, reverse_reads=_free_reads, reverse_reads_memory=True,
             description="adcc's split tape release"),
)
