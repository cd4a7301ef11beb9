"""Argument activities and the key under which a synthesized function is cached."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Activity(enum.Enum):
    CONST = "const"          # no derivative
    DUP = "dup"              # pointer with shadow memory / forward-mode scalar with tangent
    DUPNONEED = "dupnoneed"  # like DUP; the primal result need not be computed
    OUT = "out"              # reverse mode: active scalar passed by value, adjoint returned

    @property
    def is_active(self) -> bool:
        return self is not Activity.CONST

    @property
    def has_shadow(self) -> bool:
        return self in (Activity.DUP, Activity.DUPNONEED)


class Mode(enum.Enum):
    FORWARD = "forward"
    REVERSE = "reverse"


@dataclass(frozen=True)
class FunctionSpec:
    """What to synthesize: function, argument activities, return activity, mode, vector width."""
    name: str
    args: tuple[Activity, ...]
    ret_active: bool        # float return that carries a tangent / receives an adjoint
    ret_shadow: bool        # pointer return whose shadow the caller needs
    mode: Mode
    width: int = 1
    readonly_memory: bool = False  # reverse: memory reachable from arguments/globals is never written
    reload_args: tuple[int, ...] = ()  # reverse, top level: pointer arguments whose memory no write
                                       # can reach (restrict), so their loads are re-executed
    top_level: bool = False  # reverse: the function __enzyme_autodiff names (its reverse runs right
                             # after it returns: nobody writes its arguments' memory in between)
    parallel: bool = False   # reverse: runs in several threads at once (an OpenMP region and what it
                             # calls): adjoints of memory other threads may read accumulate atomically
    strong_zero: bool = False  # enzyme_strong_zero: a zero tangent or adjoint times a partial is zero,
                               # even where the partial is inf or NaN (and in every callee)
    replay: str = ""         # forward, split forward mode (__enzyme_fwdsplit): "record" (the primal,
                             # logging what it loads) or "replay" (tangents from that log)
    error: bool = False  # forward mode carries floating-point error estimates, not tangents
                         # (__enzyme_error_estimate; adcc.ad.rules.rule.emit_error), in every callee
    apart: frozenset = frozenset()  # reverse, top level: pairs of (("p" | "s"), parameter index), a
                                    # parameter's primal or shadow, that the call site proves point into
                                    # different objects (adcc.analysis.memory.distinct_arguments)
    arg_types: tuple = ()  # reverse: what the caller's type analysis knows of each argument (a frozen
                           # TypeTree per argument, in order), for a callee that copies memory of a
                           # type it cannot tell itself (adcc.ad.copies.has_untyped_copy); () if none
