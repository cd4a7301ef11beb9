"""Every Enzyme name adcc knows, with its status: the one table behind the README's
"Enzyme interface" section (a test keeps the two equal) and behind the errors for names adcc
does not implement.

A name is one of: an entry point (`__enzyme_autodiff`; matched as a substring of the symbol,
as Enzyme does, so `__enzyme_autodiff1` and C++-mangled templates count), a registration
global (`__enzyme_register_gradient_f`, `__enzyme_inactivefn`; matched as a prefix), a marker
(`enzyme_dup`; the name of a global passed to an entry point), a hook (`enzymeLogGrad`; a
function the program defines and derivatives call), or an attribute (spelled
`__attribute__((enzyme_inactive))`, lowered to an `llvm.global.annotations` string by
adcc/include/enzyme/adcc_attributes.h). Implementing a name flips its `status` here.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from adcc.analysis.spec import Activity


class Status(enum.Enum):
    IMPLEMENTED = "implemented"
    PLANNED = "not supported yet"     # someone implements it (see `issue`)
    UNSUPPORTED = "not supported"     # outside adcc's scope for now


class Kind(enum.Enum):
    FUNCTION = "function"
    GLOBAL = "global"
    MARKER = "marker"
    ATTRIBUTE = "attribute"
    HOOK = "hook"


class Role(enum.Enum):
    """How a marker is read at a call site."""
    ACTIVITY = "activity"      # the next argument's activity (dupv: after a byte stride)
    FLAG = "flag"              # a call-wide option; `values` arguments follow it
    MODIFIER = "modifier"      # changes how the next argument is read
    INTERLEAVE = "interleave"  # the shadows of all duplicated arguments follow, in order


@dataclass(frozen=True)
class Name:
    name: str
    kind: Kind
    meaning: str
    status: Status
    issue: int | None = None            # the issue that implements a PLANNED name
    role: Role | None = None            # markers only
    activity: Activity | None = None    # Role.ACTIVITY markers
    values: int = 0                     # arguments consumed after the marker (stride, width, size)

    @property
    def status_text(self) -> str:
        if self.status is Status.PLANNED and self.issue is not None:
            return f"{self.status.value} (#{self.issue})"
        return self.status.value


I, P, U = Status.IMPLEMENTED, Status.PLANNED, Status.UNSUPPORTED
F, G, M, A, H = Kind.FUNCTION, Kind.GLOBAL, Kind.MARKER, Kind.ATTRIBUTE, Kind.HOOK

ENTRY_POINTS = (
    Name("__enzyme_autodiff", F, "reverse mode: adjoints of the `enzyme_out` arguments, accumulated into shadows", I),
    Name("__enzyme_fwddiff", F, "forward mode: tangent of the return value (vector mode with `enzyme_width`)", I),
    Name("__enzyme_augmentfwd", F, "split mode, forward half: primal run that returns its tape", I),
    Name("__enzyme_augmentsize", F, "split mode: size of the tape `__enzyme_augmentfwd` returns", I),
    Name("__enzyme_reverse", F, "split mode, reverse half: adjoints from a tape", I),
    Name("__enzyme_fwdsplit", F, "split forward mode: tangents from the tape `__enzyme_augmentfwd` recorded (the primal is not rerun)", I),
    Name("__enzyme_batch", F, "evaluate a function on N argument sets at once", I),
    Name("__enzyme_virtualreverse", F, "shadow of a function pointer (adcc differentiates indirect and virtual calls through the real callee, so it returns the pointer)", I),
    Name("__enzyme_float", F, "type hint: the memory holds floats (adcc's type analysis needs no hints)", I),
    Name("__enzyme_double", F, "type hint: the memory holds doubles", I),
    Name("__enzyme_integer", F, "type hint: the memory holds integers", I),
    Name("__enzyme_pointer", F, "type hint: the memory holds pointers", I),
    Name("__enzyme_error_estimate", F, "`(fn, x, err_x, ...)`: forward mode carrying floating-point error estimates; returns the result's", I),
    Name("__enzyme_fp_optimize", F, "floating-point expression rewriting", U),
    Name("__enzyme_truncate_mem_func", F, "`(fn, from, to)` or `(fn, from, exponent_bits, mantissa_bits)`: fn computing in a narrower format, on values memory holds in that format", I),
    Name("__enzyme_truncate_op_func", F, "`(fn, from, to)` or `(fn, from, exponent_bits, mantissa_bits)`: fn with every floating-point operation rounded to a narrower format", I),
    Name("__enzyme_truncate_mem_value", F, "`(x, from, to)`: x in the narrow format of `__enzyme_truncate_mem_func` (adcc: x rounded to it)", I),
    Name("__enzyme_expand_mem_value", F, "`(x, from, to)`: a narrow-format value back in the source type", I),
    Name("__enzyme_trace", F, "probabilistic programming: trace a function", U),
    Name("__enzyme_condition", F, "probabilistic programming: condition on a trace", U),
    Name("__enzyme_likelihood", F, "probabilistic programming: likelihood", U),
    Name("__enzyme_sample", F, "probabilistic programming: sample", U),
    Name("__enzyme_observe", F, "probabilistic programming: observe", U),
    Name("__enzyme_todense", F, "sparse derivatives", U),
    Name("__enzyme_iter", F, "`__enzyme_iter(a, b)`: an iteration count, `a` in the primal and `a + n*b` in a derivative of order n", I),
    Name("__enzyme_call_inactive", F, "`__enzyme_call_inactive(fn, args...)`: calls `fn(args...)` with no derivative through that call", I),
    Name("__enzyme_checkpoint_for", F, "`(step, start, n, enzyme_scheme, &scheme, &config, [enzyme_checkpoint_region, p, bytes,]... args...)`: the loop `step(i, args...)` for i in [start, start+n); reverse mode keeps one step's tape at a time, snapshots as the scheme says (<enzyme/checkpoint.h>)", I),
    Name("__enzyme_checkpoint_while", F, "`(step, markers..., args...)`: the loop `while (step(i++, args...));` from i = 0, checkpointed as `__enzyme_checkpoint_for` (schemes with set_nsteps: EnzymeCkptStoreAll)", I),
    Name("__enzyme_set_checkpointing", F, "`(schedule, budget)` at the top of a loop body (what "
         "`[[enzyme::checkpoint]]` emits): checkpoint that loop. A memory/time trade-off only: adcc keeps "
         "the loop's tape whole, which gives the same derivatives, and drops the call", I),
    Name("__enzyme_fixed_point", F, "a fixed-point loop whose adjoint is iterated to convergence at the converged "
         "state (enzyme/fixed_point.h)", U),
    Name("__enzyme_set_fixed_point", F, "marks the enclosing loop as a fixed-point iteration (enzyme/fixed_point.h)",
         U),
    Name("__enzyme_context", F, "`(W)`: a context holding W lanes of shadows of every global (`enzyme_context, "
         "ctx` at __enzyme_autodiff (W = 1) or __enzyme_fwddiff (vector mode of width W): the derivative uses "
         "them, unreset); one per call, resolved at compile time", I),
    Name("__enzyme_shadow", F, "`(ctx, &g, lane)`: the shadow of global g (or of a part of it) in a context", I),
    Name("__enzyme_zero_shadows", F, "`(ctx)`: zero the floating-point contents of every shadow of a context "
         "(and the heap shadows it gave globals pointing to heap memory)", I),
    Name("__enzyme_set_mincut", F, "`(enable)` in a loop body: Enzyme's cache/recompute min-cut on or off "
         "for that loop. Performance only: adcc chooses what to tape itself, and drops the call", I),
    Name("__enzyme_ptr_size_hint", F, "`(p, bytes[, space])`: the extent of memory a checkpointed loop "
         "writes through p, for its snapshots. Performance only (adcc tapes, it takes no snapshots "
         "of such memory): dropped", I),
)

REGISTRATIONS = (
    Name("__enzyme_register_gradient_", G, "custom reverse rule: {f, augmented forward, reverse}", I),
    Name("__enzyme_register_derivative_", G, "custom forward rule: {f, forward derivative}", I),
    Name("__enzyme_register_splitderivative_", G, "custom split forward rule: {f, augmented forward, split derivative}", I),
    Name("__enzyme_function_like", G, "{f, \"name\"}: f behaves like a known function (log1p, malloc, free)", I),
    Name("__enzyme_allocation_like", G, "{f, size argument, \"-1\" or free index, free function}", I),
    Name("__enzyme_inactivefn", G, "{f}: calls to f have no derivative", I),
    Name("__enzyme_inactivenoblockfn", G, "{f}: calls to f have no derivative (non-blocking)", I),
    Name("__enzyme_inactive_global", G, "{&g}: the global g is inactive", I),
    Name("__enzyme_nofree", G, "{f}: f frees no memory", I),
    Name("__enzyme_shouldrecompute", G, "{f}: recompute calls to f in the reverse pass (a hint)", I),
    Name("__enzyme_sparse_accumulate", G, "{f}: f accumulates a sparse derivative, for the loop "
         "sparsification of `__enzyme_todense` (refused itself); elsewhere it changes no value: f is "
         "called and differentiated as any function", I),
    Name("__enzyme_emptyfnconst", G, "the mere presence of this global (Enzyme's "
         "-enzyme-emptyfn-inactive): calls of functions that no object of the link defines and that "
         "have no derivative rule are inactive (instead of an error)", I),
)

MARKERS = (
    Name("enzyme_dup", M, "pointer (or forward-mode scalar) followed by its shadow(s)", I,
         role=Role.ACTIVITY, activity=Activity.DUP),
    Name("enzyme_dupnoneed", M, "like enzyme_dup; the primal result need not be computed", I,
         role=Role.ACTIVITY, activity=Activity.DUPNONEED),
    Name("enzyme_const", M, "no derivative for the next argument", I, role=Role.ACTIVITY, activity=Activity.CONST),
    Name("enzyme_out", M, "reverse mode: active scalar by value, its adjoint is returned", I,
         role=Role.ACTIVITY, activity=Activity.OUT),
    Name("enzyme_dupv", M, "`enzyme_dupv, stride, x, dx`: with enzyme_width N, shadow k is dx + k*stride bytes", I,
         role=Role.ACTIVITY, activity=Activity.DUP, values=1),
    Name("enzyme_dupnoneedv", M, "enzyme_dupv for an argument whose primal result is not needed", I,
         role=Role.ACTIVITY, activity=Activity.DUPNONEED, values=1),
    Name("enzyme_width", M, "`enzyme_width, N`: vector mode (forward, and reverse for pointer arguments) with N shadows per duplicated argument", I,
         role=Role.FLAG, values=1),
    Name("enzyme_primal_return", M, "the call also returns f's result: {primal, derivatives...}", I, role=Role.FLAG),
    Name("enzyme_const_return", M, "f's return value has no derivative (reverse: not seeded)", I, role=Role.FLAG),
    Name("enzyme_active_return", M, "f's (floating-point) return value is active (the default)", I, role=Role.FLAG),
    Name("enzyme_dup_return", M, "forward mode: the tangent (or shadow pointer) of f's return value is returned", I,
         role=Role.FLAG),
    Name("enzyme_noret", M, "the primal result is not returned (the default of combined modes)", I, role=Role.FLAG),
    Name("enzyme_not_overwritten", M, "the next argument's memory is not overwritten (a hint; adcc checks itself)",
         I, role=Role.MODIFIER),
    Name("enzyme_nocache", M, "the next argument's memory is unchanged between the passes: re-read, not cached "
         "(as enzyme_not_overwritten)", I, role=Role.MODIFIER),
    Name("enzyme_byref", M, "`enzyme_byref, size, p`: the next argument is passed through a pointer to it", I,
         role=Role.MODIFIER, values=1),
    Name("enzyme_interleave", M, "the primals come first; the shadows follow this marker, in argument order", I,
         role=Role.INTERLEAVE),
    Name("enzyme_runtime_activity", M, "a duplicated pointer whose shadow is its primal is inactive at run time", I,
         role=Role.FLAG),
    Name("enzyme_strong_zero", M, "derivatives treat 0 * inf and 0 * NaN as 0 (a zero tangent or adjoint contributes 0)", I,
         role=Role.FLAG),
    Name("enzyme_nofree", M, "split mode: do not free the tape (__enzyme_reverse, __enzyme_fwdsplit)", I, role=Role.FLAG),
    Name("enzyme_allocated", M, "`enzyme_allocated, size`: split mode with a caller-allocated tape", I,
         role=Role.FLAG, values=1),
    Name("enzyme_tape", M, "`enzyme_tape, ptr`: split mode: the tape to read or write", I,
         role=Role.FLAG, values=1),
    Name("enzyme_scalar", M, "__enzyme_batch: the argument is shared by all lanes", I, role=Role.ACTIVITY,
         activity=Activity.CONST),
    Name("enzyme_vector", M, "__enzyme_batch: one value per lane", I, role=Role.ACTIVITY,
         activity=Activity.DUP),
    Name("enzyme_buffer", M, "__enzyme_batch: `enzyme_buffer, stride, p` lanes in one buffer", I,
         role=Role.ACTIVITY, activity=Activity.DUP, values=1),
    Name("enzyme_scheme", M, "`__enzyme_checkpoint_for`: `enzyme_scheme, &scheme, &config`, the checkpointing scheme and its configuration", I,
         role=Role.FLAG, values=2),
    Name("enzyme_checkpoint_region", M, "`__enzyme_checkpoint_for`: `enzyme_checkpoint_region, p, bytes`, memory the loop's snapshots hold", I,
         role=Role.FLAG, values=2),
    Name("enzyme_context", M, "`enzyme_context, ctx`: the derivative uses the shadows of globals that context "
         "ctx holds (__enzyme_autodiff, __enzyme_fwddiff)", I, role=Role.FLAG, values=1),
    Name("enzyme_interface", M, "probabilistic programming", U, role=Role.FLAG, values=1),
    Name("enzyme_trace", M, "probabilistic programming", U, role=Role.FLAG, values=1),
    Name("enzyme_duptrace", M, "probabilistic programming", U, role=Role.FLAG, values=1),
    Name("enzyme_likelihood", M, "probabilistic programming", U, role=Role.FLAG, values=1),
    Name("enzyme_duplikelihood", M, "probabilistic programming", U, role=Role.FLAG, values=2),
    Name("enzyme_observations", M, "probabilistic programming", U, role=Role.FLAG, values=1),
    Name("enzyme_active_rand_var", M, "probabilistic programming", U, role=Role.FLAG, values=1),
)

# Attribute spellings of Enzyme's clang plugin (GNU form; adcc maps them onto annotate("...")
# strings, the `name` here, in adcc/include/enzyme/adcc_attributes.h).
ATTRIBUTES = (
    Name("enzyme_inactive", A, "`__attribute__((enzyme_inactive))` on a function or global: no derivative", I),
    Name("enzyme_function_like", A, "`__attribute__((enzyme_function_like(\"log1p\")))`: behaves like that function",
         I),
    Name("enzyme_shouldrecompute", A, "`__attribute__((enzyme_shouldrecompute))`: recompute in the reverse pass", I),
    Name("enzyme_sparse_accumulate", A, "`__attribute__((enzyme_sparse_accumulate))` on a function: "
         "as the registration `__enzyme_sparse_accumulate`", I),
    Name("enzyme_inactivefn", A, "annotation: the function and its body are inactive", I),
    Name("enzyme_inactivenoblockfn", A, "annotation: like enzyme_inactivefn", I),
    Name("enzyme_nofree", A, "annotation: the function frees no memory", I),
    Name("enzyme_inactive_noblock", A, "annotation: like enzyme_inactive", I),
    Name("enzyme_inactive_global", A, "annotation: the global is inactive", I),
    Name("enzyme_shadow", A, "`__attribute__((enzyme_shadow(dg)))` on a global g: dg is g's shadow", I),
    Name("enzyme_elementwise_read", A, "a hint for Enzyme's analyses (accepted; adcc needs no use of it)", I),
    Name("enzyme_notypeanalysis", A, "a hint for Enzyme's type analysis (accepted; adcc needs no use of it)", I),
    Name("enzyme_no_escaping_allocation", A, "a hint: the function lets no allocation escape (accepted; "
         "adcc needs no use of it)", I),
)

# Functions the program defines and Enzyme's derivatives call (adcc.ad.log_hooks)
HOOKS = (
    Name("enzymeLogGrad", H, "`void enzymeLogGrad(double grad, const char *opcode, const char *callee, "
         "const char *module, const char *function, unsigned block, unsigned instruction)`: called by "
         "reverse passes with the adjoint of each active floating-point operation", I),
    Name("enzymeLogValue", H, "called by Enzyme's floating-point profiling builds with each operation's value "
         "(its signature differs between Enzyme versions)", U),
)

ALL = ENTRY_POINTS + REGISTRATIONS + MARKERS + ATTRIBUTES + HOOKS

_MARKERS = {n.name: n for n in MARKERS}
_ATTRIBUTES = {n.name: n for n in ATTRIBUTES}
# longest first, so `__enzyme_augmentsize` is not taken for a shorter family
_ENTRY_BY_LENGTH = sorted(ENTRY_POINTS, key=lambda n: -len(n.name))
_REGISTRATION_BY_LENGTH = sorted(REGISTRATIONS, key=lambda n: -len(n.name))


def entry_point(symbol: str) -> Name | None:
    """The entry point a function symbol stands for (substring match, as Enzyme does)."""
    return next((n for n in _ENTRY_BY_LENGTH if n.name in symbol), None)


def registration(symbol: str) -> Name | None:
    """The registration family of a global (`__enzyme_register_gradient_f`, `__enzyme_inactivefn3`)."""
    s = symbol.strip('"')
    return next((n for n in _REGISTRATION_BY_LENGTH if s.startswith(n.name)), None)


def marker(name: str) -> Name | None:
    return _MARKERS.get(name)


def attribute(annotation: str) -> Name | None:
    """The attribute an annotation string stands for (`enzyme_function_like=log1p` included)."""
    return _ATTRIBUTES.get(annotation.split("=", 1)[0])


def refusal(n: Name, spelled: str | None = None) -> str:
    """Why a known name is refused (for names not IMPLEMENTED); `spelled`: as the program wrote it."""
    what = {Kind.FUNCTION: "Enzyme entry point", Kind.GLOBAL: "Enzyme registration",
            Kind.MARKER: "Enzyme marker", Kind.ATTRIBUTE: "Enzyme attribute", Kind.HOOK: "Enzyme hook"}[n.kind]
    name = spelled or n.name
    if n.status is Status.PLANNED:
        issue = f"; issue #{n.issue}" if n.issue is not None else ""
        return f"{what} '{name}' is not supported yet ({n.meaning}{issue})"
    return f"{what} '{name}' is not supported by adcc ({n.meaning})"
