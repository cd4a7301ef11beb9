"""Derivative rules for BLAS (levels 1-3, CBLAS and Fortran spellings, single and double precision,
LP64 and ILP64 `*64_`): the derivative of a BLAS call is a sequence of BLAS calls.

One entry per routine in `BLAS_RULES` (grep a spelling, e.g. `cblas_dgemm`, to find its entry and
then `_gemm_reverse`). Each routine has a forward rule (tangents, W lanes; it emits the primal call
itself, after the tangent calls that read operands the call overwrites), an augmented rule (primal,
and copies of what the reverse reads from memory that may change before it runs) and a reverse rule
(adjoints; every adjoint write accumulates, and an output's shadow is then scaled by beta: the
adjoint of the value it overwrote). Operands the reverse reads are read in place unless the call
itself overwrites them or `view.may_be_overwritten` says something later may; then a copy is saved
(a heap buffer the reverse frees). Transposes, storage orders, triangles, strides and negative
increments are passed through to the BLAS calls of the derivative, which follow the same
conventions; only what BLAS has no routine for goes through column-loop helpers
(`blas_interface`): inner products and scalings of whole matrices and triangles, rank-1 updates of
a triangle, and the elementwise sign of asum.
"""
from __future__ import annotations

from adcc.ad.rules import blas_level1, blas_level2, blas_level3
from adcc.ad.rules.blas_call import BlasCall, Routine
from adcc.ad.rules.blas_interface import kind_of, parse_spelling, spellings
from adcc.ad.rules.calls import CallRule
from adcc.ir import types as T
from adcc.ir.values import Value

# routine -> its rules; each entry lists its double-precision spellings (grep cblas_dgemm finds it)
ROUTINE_TABLE: dict[str, Routine] = {**blas_level1.ROUTINES, **blas_level2.ROUTINES, **blas_level3.ROUTINES}


# --- call-rule glue --------------------------------------------------------------------------------

def _entry(view) -> Routine:
    return ROUTINE_TABLE[parse_spelling(view.inst.callee_name)[1]]


def _forward(site) -> None:
    entry = _entry(site)
    entry.forward(BlasCall(site, entry, "forward"))


def _augment(site) -> None:
    c = BlasCall(site, _entry(site), "augment")
    c.save_copies(("in", "old"))
    c.primal_call()
    c.save_copies(("out",))


def _reverse(site) -> None:
    entry = _entry(site)
    c = BlasCall(site, entry, "reverse")
    entry.reverse(c)
    c.release()  # the copies the augmented pass saved


def _saved_types(view) -> list[T.Type]:
    return BlasCall(view, _entry(view)).saved_types()


def _reverse_reads(view) -> list[tuple[str, Value]]:
    c = BlasCall(view, _entry(view))
    out = [("p", view.args[i]) for i, p in enumerate(c.params)
           if not c.iface.fortran or kind_of(p) == "pointer"]
    out += [("s", a) for a in view.args if view.has_shadow(a)]
    if c.routine == "nrm2":
        out.append(("p", view.inst))  # the norm itself
    return out


def _writes(name: str) -> tuple[int, ...]:
    iface, routine = parse_spelling(name)
    params = iface.parameters(routine)
    return tuple(params.index(p) for p in ROUTINE_TABLE[routine].writes)


def _rule(routine: str) -> CallRule:
    return CallRule(family="blas", callees=spellings(routine), forward=_forward, augment=_augment,
                    reverse=_reverse, saved_types=_saved_types, reverse_reads=_reverse_reads,
                    reverse_reads_memory=True, writes=_writes,
                    description=f"BLAS {routine} ({ROUTINE_TABLE[routine].spelled}, single precision, *64_)")


BLAS_RULES: tuple[CallRule, ...] = tuple(_rule(r) for r in ROUTINE_TABLE)
