"""Rules for adcc's own runtime (runtime/adcc_runtime.h), met when a derivative is differentiated
again (higher-order AD: `__enzyme_fwddiff` of a function that calls `__enzyme_autodiff`).

A reverse-mode tape is memory like any other: its records hold active values, so it gets a
shadow tape that grows in step with it (same offsets), and its release waits for the reverse
pass that still reads the shadow. Shadow allocations of the inner derivative are allocations
too (`adcc.analysis.calls.ALLOC_FUNCTIONS`); the tape-size note is inactive.
"""
from __future__ import annotations

from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite
from adcc.ir import types as T


def _grow_forward(site: ForwardSite) -> None:
    tape, n = site.args
    b = site.b
    site.set_result(b.call("adcc_tape_grow", T.ptr, [site.primal(tape), site.primal(n)]))
    shadows = site.shadows(tape)
    if shadows is not None:  # the shadow tape grows with the same sizes, so offsets agree
        site.set_shadows([b.call("adcc_tape_grow", T.ptr, [s, site.primal(n)]) for s in shadows])


def _grow_augment(site: AugmentSite) -> None:
    tape, n = site.args
    b = site.b
    site.set_result(b.call("adcc_tape_grow", T.ptr, [site.primal(tape), site.primal(n)]))
    s = site.shadow(tape)
    if s is not None:  # an adjoint accumulator in reverse mode: it starts at zero
        site.set_shadow(b.call("adcc_tape_grow_zeroed", T.ptr, [s, site.primal(n)]))


def _nothing(site) -> None:
    return None


def _free_forward(site: ForwardSite) -> None:
    (tape,) = site.args
    site.b.call("adcc_tape_free", T.void, [site.primal(tape)])
    for s in site.shadows(tape) or ():
        site.b.call("adcc_tape_free", T.void, [s])


def _free_reverse(site: ReverseSite) -> None:
    """The release of a tape and of its shadow, deferred from the augmented pass to here."""
    (tape,) = site.args
    site.b.call("adcc_tape_free", T.void, [site.primal(tape)])
    s = site.shadow(tape)
    if s is not None:
        site.b.call("adcc_tape_free", T.void, [s])


def _free_reads(view):
    (tape,) = view.args
    return [("p", tape)] + ([("s", tape)] if view.has_shadow(tape) else [])


RULES = (
    CallRule("runtime", ("adcc_tape_grow",), forward=_grow_forward, augment=_grow_augment, reverse=_nothing,
             description="adcc's tape growth"),
    CallRule("runtime", ("adcc_tape_free",), forward=_free_forward, augment=_nothing, reverse=_free_reverse,
             reverse_reads=_free_reads, reverse_reads_memory=True, description="adcc's tape release"),
)
