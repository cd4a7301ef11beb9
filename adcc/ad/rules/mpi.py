"""Derivative rules for MPI (Open MPI's C ABI): point-to-point, non-blocking and collective calls in
differentiated code. README "Gradients of an MPI program" describes the scheme; the run-time half
is runtime/adcc_mpi.c, built only for programs that use it (adcc.driver.mpi_runtime).

Every call becomes a call of its runtime helper, with each buffer followed by its shadow (null
where it has none):
- reverse mode: `rec = adcc_mpi_<routine>_aug(...)` makes the call and returns a record of what
  its reverse needs (saved on the tape); the reverse pass calls `adcc_mpi_reverse(rec)`. The
  reverse of a send receives the adjoint and adds it into the send buffer's shadow; the reverse of
  a receive sends the receive buffer's shadow back and zeroes it; Bcast reverses to a sum Reduce
  to the root, Reduce/Allreduce (sum) to a Bcast/Allreduce of adjoints, min/max to the winner's
  adjoint, Gather(v)/Scatter(v) to each other, Allgather to Reduce_scatter_block. A Wait/Waitall's
  reverse starts the reverse communication of the Isend/Irecv it completed, whose reverse
  finishes it;
- forward mode: `adcc_mpi_<routine>_fwd(...)` makes the call and the same call on the tangents
  (one lane: `enzyme_width` > 1 is refused).

Messages of MPI_DOUBLE and MPI_FLOAT carry derivatives whether or not this rank's buffers have
shadows (the rules apply to every call, `always`), so that both sides of each message take part
in its reverse; integer datatypes carry none. Any other datatype or reduction operation on a
buffer that holds derivatives, and any other MPI routine in differentiated code, is a located
error (a routine without a rule is refused by adcc.ad.rules.calls.is_library_routine).
"""
from __future__ import annotations

from dataclasses import dataclass

from adcc.ad.support import unsupported
from adcc.ad.rules.calls import CallRule
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, GlobalRef, Value

NULL = Constant(T.ptr, "null")

# Open MPI's predefined handles are the addresses of its globals (MPI_DOUBLE is &ompi_mpi_double)
FLOAT_TYPES = frozenset({"ompi_mpi_double", "ompi_mpi_float"})
INTEGER_TYPES = frozenset("ompi_mpi_" + t for t in """
int unsigned long unsigned_long long_long long_long_int unsigned_long_long short unsigned_short char
signed_char unsigned_char wchar int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t c_bool
cxx_bool aint offset count""".split())
OPERATIONS = frozenset({"ompi_mpi_op_sum", "ompi_mpi_op_min", "ompi_mpi_op_max"})


def is_runtime_global(name: str) -> bool:
    """Open MPI's predefined objects (datatypes, operations, communicators, MPI_REQUEST_NULL):
    globals of the MPI library that hold no derivative."""
    return name.strip('"').startswith(("ompi_mpi_", "ompi_request_null", "ompi_message_"))


@dataclass(frozen=True)
class Routine:
    helper: str                                  # adcc_mpi_<helper>_aug / _fwd
    buffers: tuple[tuple[int, int, str], ...]    # (buffer, its datatype argument, "in" | "out" | "inout")
    writes: tuple[int, ...]                      # arguments the call writes through
    op: int | None = None                        # the reduction operation's argument


# routine -> its parameters as the helpers take them (grep MPI_Isend finds its entry)
ROUTINES: dict[str, Routine] = {
    "MPI_Send": Routine("send", ((0, 2, "in"),), ()),                     # buf count type dest tag comm
    "MPI_Recv": Routine("recv", ((0, 2, "out"),), (0, 6)),                # buf count type src tag comm status
    "MPI_Isend": Routine("isend", ((0, 2, "in"),), (6,)),                 # ... request
    "MPI_Irecv": Routine("irecv", ((0, 2, "out"),), (0, 6)),
    "MPI_Wait": Routine("wait", (), (0, 1)),                              # request status
    "MPI_Waitall": Routine("waitall", (), (1, 2)),                        # n requests statuses
    "MPI_Sendrecv": Routine("sendrecv", ((0, 2, "in"), (5, 7, "out")), (5, 11)),
    "MPI_Bcast": Routine("bcast", ((0, 2, "inout"),), (0,)),              # buf count type root comm
    "MPI_Reduce": Routine("reduce", ((0, 3, "in"), (1, 3, "inout")), (1,), op=4),  # s r count type op root comm
    "MPI_Allreduce": Routine("allreduce", ((0, 3, "in"), (1, 3, "inout")), (1,), op=4),
    "MPI_Gather": Routine("gather", ((0, 2, "in"), (3, 5, "inout")), (3,)),        # s sc st r rc rt root comm
    "MPI_Gatherv": Routine("gatherv", ((0, 2, "in"), (3, 6, "inout")), (3,)),      # s sc st r rcs displs rt ...
    "MPI_Scatter": Routine("scatter", ((0, 2, "in"), (3, 5, "out")), (3,)),
    "MPI_Scatterv": Routine("scatterv", ((0, 3, "in"), (4, 6, "out")), (4,)),      # s scs displs st r rc rt ...
    "MPI_Allgather": Routine("allgather", ((0, 2, "in"), (3, 5, "inout")), (3,)),
    "MPI_Barrier": Routine("barrier", (), ()),
}

# calls without derivatives: the call itself in every pass
# (creating communicators is collective, but moves no floating-point data; freeing one inside
# differentiated code would leave its messages' reverse without it, so MPI_Comm_free stays refused)
QUERIES = tuple("MPI_" + n for n in """
Comm_rank Comm_size Wtime Wtick Init Init_thread Finalize Initialized Finalized Abort Get_processor_name
Query_thread Get_count Get_version Is_thread_main Type_size Comm_dup Comm_split Dims_create Cart_create
Cart_shift Cart_coords Cart_rank Cart_get""".split())


# --- what the rules check before any code exists ---------------------------------------------------

def _name(v: Value) -> str | None:
    return v.gname.strip('"') if isinstance(v, GlobalRef) else None


def _spelled(name: str) -> str:
    """The C spelling of an Open MPI handle's global: ompi_mpi_op_prod is MPI_PROD."""
    for prefix in ("ompi_mpi_op_", "ompi_mpi_"):
        if name.startswith(prefix):
            return "MPI_" + name[len(prefix):].upper()
    return name


def _carries_derivatives(view, buffer: int, datatype: int) -> bool:
    """Does buffer argument `buffer` hold derivatives the call must move? A located error when it
    has a shadow and its datatype is neither a float type adcc handles nor an integer type."""
    if not view.has_shadow(view.args[buffer]):
        return False
    kind = _name(view.args[datatype])
    if kind in FLOAT_TYPES:
        return True
    if kind in INTEGER_TYPES:
        return False
    spelled = f"'{_spelled(kind)}'" if kind else "a datatype not spelled at the call"
    if isinstance(view.args[datatype], Constant) and isinstance(view.args[datatype].type, T.IntType):
        spelled = "an integer datatype handle (adcc knows Open MPI's handles, not MPICH's)"
    raise unsupported(view.module, view.inst, f"cannot differentiate '{view.inst.callee_name.strip(chr(34))}' of "
                                              f"{spelled} on a buffer that holds derivatives: adcc's MPI rules move "
                                              f"derivatives of MPI_DOUBLE and MPI_FLOAT only")


def _check(view) -> None:
    routine = ROUTINES[view.inst.callee_name.strip('"')]
    active = [_carries_derivatives(view, buf, dt) for buf, dt, _ in routine.buffers]
    if routine.op is not None and any(active):
        op = _name(view.args[routine.op])
        if op not in OPERATIONS:
            spelled = f"'{_spelled(op)}'" if op else "an operation not spelled at the call"
            raise unsupported(view.module, view.inst, f"cannot differentiate '{view.inst.callee_name.strip(chr(34))}' "
                                                      f"with {spelled} on a buffer that holds derivatives: adcc "
                                                      f"differentiates MPI_SUM, MPI_MIN and MPI_MAX")


def incoming_args(inst) -> tuple[int, ...]:
    """The buffers a call receives floating-point data into from other ranks (or data of a datatype
    not spelled at the call): such data may carry derivatives, so they get shadows
    (adcc.analysis.activity), and a datatype adcc cannot place is then a located error."""
    routine = ROUTINES.get((inst.callee_name or "").strip('"'))
    if routine is None:
        return ()
    return tuple(buf for buf, dt, way in routine.buffers
                 if way != "in" and _name(inst.args[dt]) not in INTEGER_TYPES)  # a float type, or not known here


# --- code --------------------------------------------------------------------------------------------

def _helper_args(site, companions) -> list[Value]:
    """The call's arguments with each buffer followed by `companions(buffer)` (a shadow or tangent,
    null when there is none)."""
    buffers = {buf for buf, _, _ in ROUTINES[site.inst.callee_name.strip('"')].buffers}
    out: list[Value] = []
    for k, a in enumerate(site.args):
        out.append(a if isinstance(a, GlobalRef) else site.primal(a))
        if k in buffers:
            out.append(companions(a) or NULL)
    return out


def _success(site) -> None:
    """The call's result: MPI_SUCCESS (MPI errors abort under the default error handler)."""
    if not isinstance(site.inst.type, T.VoidType):
        site.set_result(Builder.iconst(site.inst.type, 0))


def _augment(site) -> None:
    _check(site)
    routine = ROUTINES[site.inst.callee_name.strip('"')]
    rec = site.b.call(f"adcc_mpi_{routine.helper}_aug", T.ptr, _helper_args(site, site.shadow))
    site.save(0, rec)
    _success(site)


def _reverse(site) -> None:
    site.b.call("adcc_mpi_reverse", T.void, [site.saved(0)])


def _forward(site) -> None:
    _check(site)
    if site.width != 1:
        raise unsupported(site.module, site.inst, f"cannot differentiate '{site.inst.callee_name.strip(chr(34))}' in "
                                                  f"vector forward mode (enzyme_width {site.width}): adcc's MPI rules "
                                                  f"move one tangent per message")
    routine = ROUTINES[site.inst.callee_name.strip('"')]

    def tangent(a: Value) -> Value | None:
        shadows = site.shadows(a) if site.has_shadow(a) else None
        return shadows[0] if shadows else None

    site.b.call(f"adcc_mpi_{routine.helper}_fwd", T.void, _helper_args(site, tangent))
    _success(site)


def _primal(site) -> None:
    new = site.b.clone(site.inst, [o if isinstance(o, GlobalRef) else site.primal(o) for o in site.inst.operands])
    if not isinstance(site.inst.type, T.VoidType):
        site.set_result(new)


def _rule(name: str, routine: Routine) -> CallRule:
    return CallRule("mpi", (name,), forward=_forward, augment=_augment, reverse=_reverse,
                    saved_types=lambda view: (T.ptr,), writes=lambda callee: routine.writes, always=True,
                    incoming=incoming_args, shadows_result=False, description=f"MPI ({name})")


RULES: tuple[CallRule, ...] = (
    *(_rule(name, routine) for name, routine in ROUTINES.items()),
    CallRule("mpi", QUERIES, forward=_primal, augment=_primal, reverse=lambda site: None, shadows_result=False,
             description="MPI queries (no derivative)"),
)
