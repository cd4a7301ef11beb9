"""Call rules: derivatives of calls that are themselves call sequences (one generic hook).

A `CallRule` says how to differentiate a call to an external (or customized) function without
looking at its body: the program's own custom rules (`__enzyme_register_gradient_*`), and rule
families such as BLAS, libc's callback functions, MPI or the Fortran runtime, each a module of this
package that lists its rules as data. The synthesizers know only this interface:

- forward mode: `rule.forward(site)` emits the primal call and the tangents (`ForwardSite`);
- reverse mode: `rule.augment(site)` runs in the augmented forward pass (primal, shadow results, and
  `site.save(k, v)` of the values the reverse reads, typed by `rule.saved_types`); `rule.reverse(site)`
  runs in the reverse pass (`ReverseSite`: saved values, primal operands listed by
  `rule.reverse_reads`, shadows, the result's adjoint, `add_adjoint`).

`rule.reverse_reads` lists the primal operands and shadows the reverse reads; the tape plan decides
for each whether it is recomputed or taped, as for any instruction. A rule whose code pushes onto the
reverse-mode tape itself (it calls synthesized functions) sets `uses_tape`.

Memory a rule's reverse reads through a primal pointer (a matrix operand) is either read in place or
saved by its augmented pass; `view.may_be_overwritten(ptr)` says whether anything may write that
memory between the call and its reverse (adcc.analysis.memory.may_be_written_after; always True in
forward mode, where nothing is saved). `rule.writes(name)` lists the arguments through which the
callee writes memory (None: any pointer argument), so that the analyses know what a later call of
the family leaves unchanged.

Five fields serve families whose calls matter beyond their operands' activity (OpenMP, in
adcc.ad.rules.openmp): `always` applies the rule to every call in differentiated code, active or not
(synchronization, whose reverse must run too; constructs adcc refuses); `thread_safe` says its reverse
may run in several threads at once (in a parallel region: `FunctionSpec.parallel`; other rules are
refused there); `callback_arg` names the argument holding a function the callee runs (the outlined
body of a parallel region), so that the analyses see the globals it uses; `result` fixes the call's
integer result in both modes (a reduction's method), which `adcc.ad.prepare` folds into the branches
on it; `chunk` names the arguments through which the call writes the first and last index of the
chunk of a worksharing loop this thread runs (disjoint from other threads' chunks: adcc.ad.parallel).

`call_rule_for(module, name)` is the one lookup: the program's declarations first, then the families.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from adcc.analysis.calls import effective_callee
from adcc.ir import types as T
from adcc.ir.values import Instruction, Value


@dataclass(frozen=True)
class CallRule:
    family: str                                   # "custom", "blas", "libc", ...
    callees: tuple[str, ...]                      # every spelling it covers
    forward: Callable | None = None               # (ForwardSite) -> None
    augment: Callable | None = None               # (AugmentSite) -> None
    reverse: Callable | None = None               # (ReverseSite) -> None
    saved_types: Callable[..., Sequence[T.Type]] = field(default=lambda view: ())
    reverse_reads: Callable[..., Sequence[tuple[str, Value]]] = field(default=lambda view: ())
    uses_tape: bool = False
    reverse_reads_memory: bool = False           # the reverse dereferences primal pointer operands
    writes: Callable[[str], tuple[int, ...] | None] | None = None  # callee -> written argument positions
    description: str = ""                         # for messages: "custom gradient of f (registration ...)"
    always: bool = False                          # applies to inactive calls too (synchronization)
    thread_safe: bool = False                     # its reverse may run in several threads at once
    callback_arg: int | None = None               # argument holding a function the callee runs
    result: int | None = None                     # the integer result the rule gives the call, always
    chunk: tuple[int, int] | None = None          # pointer arguments it writes a worksharing chunk through
    prefixes: tuple[str, ...] = ()                # also every callee whose name starts with one of these
    shadows_result: bool = True                   # a pointer result has a shadow (False: never active memory)
    incoming: Callable[[Instruction], tuple[int, ...]] | None = None  # arguments it writes data from elsewhere into

    def supports(self, reverse: bool) -> bool:
        return (self.augment is not None and self.reverse is not None) if reverse else self.forward is not None


class CallView:
    """What a rule may ask about the call before any code exists: its operands' activity, and (in
    reverse mode, `memory` being the synthesizer) whether memory behind an operand may change
    before the reverse pass."""

    def __init__(self, module, inst: Instruction, activity, memory=None):
        self.module = module
        self.inst = inst
        self.act = activity
        self._memory = memory

    def may_be_overwritten(self, ptr: Value) -> bool:
        """May the memory `ptr` (a pointer operand of the call) points into be written after the
        call, before its reverse runs? The call's own writes are not counted (the rule knows them),
        unless the call runs again in a loop. Conservative: True when unsure."""
        return self._memory is None or self._memory.may_be_overwritten(self.inst, ptr)

    def dies_before_reverse(self, ptr: Value) -> bool:
        """Reverse mode: does `ptr` point into a stack object of this function that is gone by the
        time the call's reverse runs (one `reverse_reads_memory` does not keep alive: variable-length
        or over-aligned)?"""
        from adcc.analysis.memory import underlying_objects
        kept = getattr(self._memory, "kept_alive", None)
        return kept is not None and any(isinstance(o, Instruction) and o.opcode == "alloca" and id(o) not in kept
                                        for o in underlying_objects(ptr, self.module))

    @property
    def args(self) -> list[Value]:
        return self.inst.args

    @property
    def strong_zero(self) -> bool:
        """Reverse mode: enzyme_strong_zero (`FunctionSpec.strong_zero`): 0 times a partial is 0."""
        return self._memory is not None and self._memory.spec.strong_zero

    @property
    def parallel(self) -> bool:
        """Reverse mode: does the function run in several threads at once (`FunctionSpec.parallel`)?"""
        return self._memory is not None and self._memory.spec.parallel

    def varied(self, v: Value) -> bool:
        return self.act.is_varied(v)

    def has_shadow(self, v: Value) -> bool:
        return isinstance(v.type, T.PointerType) and self.act.has_shadow(v)


class SavedValue:
    """A tape field of a call rule: value `index` its augment saves (key kind "x")."""

    def __init__(self, inst: Instruction, index: int, ty: T.Type):
        self.inst = inst
        self.index = index
        self.type = ty

    def __repr__(self) -> str:
        return f"SavedValue({self.index}, {self.type})"


class ForwardSite(CallView):
    """A call in forward mode, as a rule sees it (wraps the forward synthesizer)."""

    def __init__(self, synth, inst: Instruction):
        super().__init__(synth.module, inst, synth.act)
        self._s = synth
        self.b = synth.b
        self.width = synth.W
        self.ctx = synth.ctx

    @property
    def strong_zero(self) -> bool:
        return self._s.spec.strong_zero

    def primal(self, v: Value) -> Value:
        return self._s.p(v)

    def tangents(self, v: Value) -> list[Value | None]:
        """W tangents of a float value (None: zero)."""
        return self._s.t(v)

    def shadows(self, v: Value) -> list[Value] | None:
        """W shadows of a pointer, or None when it has none."""
        return self._s.s(v)

    def set_result(self, v: Value) -> None:
        self._s.vmap[id(self.inst)] = v

    def set_tangents(self, ts: list[Value | None]) -> None:
        self._s.tmap[id(self.inst)] = list(ts)

    def set_shadows(self, ss: list[Value]) -> None:
        self._s.smap[id(self.inst)] = list(ss)


class AugmentSite(CallView):
    """A call in the augmented forward pass of reverse mode."""

    def __init__(self, builder, inst: Instruction, saves: list[SavedValue]):
        super().__init__(builder.module, inst, builder.act, builder.s)
        self._a = builder
        self.b = builder.b
        self.ctx = builder.s.ctx
        self.tape = builder.tape
        self._saves = saves

    def primal(self, v: Value) -> Value:
        return self._a.p(v)

    def shadow(self, v: Value) -> Value | None:
        return self._a.sh(v) if self.has_shadow(v) else None

    def set_result(self, v: Value) -> None:
        self._a.vmap[id(self.inst)] = v

    def set_shadow(self, v: Value) -> None:
        self._a.smap[id(self.inst)] = v

    def save(self, index: int, v: Value) -> None:
        self._a.extra[id(self._saves[index])] = v

    @property
    def synthesizer(self):
        """The reverse synthesizer of the caller, for a rule that sizes what its tape plan records
        (adcc.ad.rules.checkpoint)."""
        return self._a.s


class ReverseSite(CallView):
    """A call in the reverse pass of reverse mode."""

    def __init__(self, builder, inst: Instruction, saves: list[SavedValue]):
        super().__init__(builder.module, inst, builder.act, builder.s)
        self._r = builder
        self.b = builder.b
        self.ctx = builder.s.ctx
        self.tape = builder.tape
        self._saves = saves

    def primal(self, v: Value) -> Value:
        """A primal operand listed in the rule's `reverse_reads`."""
        return self._r.rp(v)

    def shadow(self, v: Value) -> Value | None:
        return self._r.rs(v) if self.has_shadow(v) else None

    def saved(self, index: int) -> Value:
        return self._r.value("x", self._saves[index])

    def result_adjoint(self) -> Value | None:
        """The adjoint of the call's result (read and reset), or None when it carries none."""
        if not self.act.is_varied(self.inst):
            return None
        return self._r.take_adj(self.inst)

    def add_adjoint(self, v: Value, d: Value) -> None:
        self._r.add_adj(v, d)


# --- helpers for rule families ------------------------------------------------------------------

def call_primal(site, primal=None) -> Value:
    """The call itself again, on primal operands (`primal`: the site's own by default)."""
    from adcc.ir.values import GlobalRef
    primal = primal or site.primal
    fty = site.inst.info["fn_type"]
    return site.b.call(GlobalRef(site.inst.callee_name), fty.ret, [primal(a) for a in site.args], fnty=fty)


def augment_primal_only(site: "AugmentSite") -> None:
    """An augmented pass that is just the primal call (the reverse needs no tape of its own)."""
    site.set_result(call_primal(site))


def reads_operands_and_result(view) -> list[tuple[str, Value]]:
    """`reverse_reads` of a rule whose reverse reads the call's operands and its result."""
    return [("p", a) for a in view.args] + [("p", view.inst)]


# --- the one lookup ------------------------------------------------------------------------------

def _families() -> tuple[CallRule, ...]:
    """Built-in rule families (each module lists its rules; frozen at import)."""
    from adcc.ad.rules import (checkpoint, checkpoint_api, complex_arith, fortran, fortran_elemental, libc,
                               libm_calls, libstdcxx, mpi, openmp, runtime, truncation)
    from adcc.ad.rules.blas import BLAS_RULES
    return (*runtime.RULES, *BLAS_RULES, *openmp.RULES, *checkpoint_api.RULES, *fortran.RULES, *fortran_elemental.RULES,
            *complex_arith.RULES, *libm_calls.RULES, *libc.RULES, *libstdcxx.RULES, *mpi.RULES, *truncation.RULES,
            *checkpoint.RULES)


# Libraries a rule family covers: a routine of theirs without a rule has no definition anywhere
# adcc could differentiate (their objects carry no bitcode), so it is an error at once, never left
# for the link step. Families add their libraries' name shapes here.
LIBRARY_NAMES = re.compile(
    r"(cblas_|catlas_|MPI_|PMPI_|__kmpc_|omp_|_Fortran)\w*"          # CBLAS, MPI, OpenMP, flang runtime
    r"|[sdcz](?:[a-z]{2,6})_(?:64_)?"                                  # Fortran BLAS/LAPACK: dgemm_, dtrsm_64_
)


def is_library_routine(name: str) -> bool:
    return LIBRARY_NAMES.fullmatch(name) is not None


_BY_NAME: dict[str, CallRule] | None = None
_BY_PREFIX: tuple[tuple[str, CallRule], ...] = ()


def _family_index() -> dict[str, CallRule]:
    global _BY_NAME, _BY_PREFIX
    if _BY_NAME is None:
        out: dict[str, CallRule] = {}
        for rule in _families():
            for name in rule.callees:
                if name in out:
                    raise ValueError(f"callee {name!r} claimed by two call rules ({out[name].family}, {rule.family})")
                out[name] = rule
        _BY_PREFIX = tuple((p, rule) for rule in _families() for p in rule.prefixes)
        _BY_NAME = out
    return _BY_NAME


def _family_rule(name: str) -> CallRule | None:
    rule = _family_index().get(name)
    if rule is None:
        rule = next((r for p, r in _BY_PREFIX if name.startswith(p)), None)
    return rule


def call_rule_for(module, name: str | None) -> CallRule | None:
    """The call rule for callee `name` in `module`: a custom rule the program registered, else a
    family's rule for the name (or for the function it is declared like); None if there is none."""
    if name is None:
        return None
    from adcc.ad.rules.custom import custom_rule
    rule = custom_rule(module, name)
    if rule is not None:
        return rule
    return _family_rule(effective_callee(module, name) or name)


def is_family_callee(name: str) -> bool:
    return _family_rule(name) is not None


def family_shadows_result(name: str) -> bool:
    rule = _family_rule(name)
    return rule is None or rule.shadows_result


def always_applies(module, inst: Instruction) -> bool:
    """Is `inst` a call whose rule applies even when no operand is active (`CallRule.always`), or a
    call of a defined function that reaches an MPI call (its messages must be reversed too)?"""
    name = inst.callee_name
    rule = _family_index().get(effective_callee(module, name) or name) if name is not None else None
    if rule is None and name is not None and module.is_defined(name):
        return name in _communicating(module)
    return rule is not None and rule.always


def _communicating(module) -> frozenset[str]:
    """The defined functions of `module` whose call trees reach an MPI call (computed once)."""
    cached = getattr(module, "_adcc_communicating", None)
    if cached is not None:
        return cached
    index = _family_index()
    calls = {n: module.references(n) for n in module.defined_function_names()}
    reach = {n for n, refs in calls.items() if any(r in index and index[r].family == "mpi" and index[r].always
                                                   for r in refs)}
    changed = True
    while changed:
        grown = {n for n, refs in calls.items() if n not in reach and refs & reach}
        reach |= grown
        changed = bool(grown)
    module._adcc_communicating = frozenset(reach)
    return module._adcc_communicating


def rule_result(module, inst: Instruction) -> int | None:
    """The result a family rule fixes for the call (`CallRule.result`), or None."""
    name = inst.callee_name
    rule = _family_index().get(effective_callee(module, name) or name) if name is not None else None
    return rule.result if rule is not None else None


def chunk_arguments(module, inst: Instruction) -> tuple[int, int] | None:
    """`CallRule.chunk` of the call's family rule, or None."""
    name = inst.callee_name
    rule = _family_index().get(effective_callee(module, name) or name) if name is not None else None
    return rule.chunk if rule is not None else None


def family_callback_arg(name: str) -> int | None:
    rule = _family_index().get(name)
    return rule.callback_arg if rule is not None else None


def family_incoming_args(inst: Instruction) -> tuple[int, ...]:
    """`CallRule.incoming` of the call's family rule: arguments through which it writes data that
    comes from elsewhere (another MPI rank) and may carry derivatives."""
    rule = _family_rule(inst.callee_name) if inst.callee_name is not None else None
    return rule.incoming(inst) if rule is not None and rule.incoming is not None else ()


def family_written_args(name: str) -> tuple[int, ...] | None:
    """The argument positions a family callee writes through (None: unknown, any pointer)."""
    rule = _family_rule(name)
    return rule.writes(name) if rule is not None and rule.writes is not None else None
