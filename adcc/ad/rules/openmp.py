"""Derivative rules for OpenMP (`-fopenmp`): clang's outlined parallel regions and the libomp
runtime calls inside them (the `__kmpc_*` ABI clang's code generation targets). docs/openmp.md
describes the scheme and what it costs.

A `#pragma omp parallel` region is an outlined function, the microtask, that clang starts with
`__kmpc_fork_call(loc, nargs, microtask, captured...)`: each thread of the team calls
`microtask(&gtid, &tid, captured...)`. The derivative of the fork is a fork of the microtask's
derivative, synthesized for the activities of the captured variables:
- forward mode: `__kmpc_fork_call(loc, n, fwd, captured each followed by its shadows)`; the forward
  derivative of a microtask is a microtask itself;
- reverse mode: the augmented pass forks `adcc.omp.aug.*`, which runs the augmented microtask on the
  thread's own tape, taken from a team record (`adcc_omp_team_*` in the runtime) that the caller
  saves on its tape; the reverse pass forks `adcc.omp.rev.*` in a team of the same size, thread k
  running the reverse of what thread k did. Both are synthesized with `FunctionSpec.parallel`:
  adjoints of memory the threads share accumulate atomically (adcc.ad.adjoint).
Inside a region:
- worksharing (`__kmpc_for_static_init_*`, `__kmpc_dispatch_*`) is the primal call: the bounds of
  each chunk a thread ran are loads of memory the call wrote, so they are on the thread's tape and
  its reverse pass runs the same iterations backwards, for static and dynamic schedules alike;
- synchronization has a reverse (`always`: even when nothing around it is active): a barrier is a
  barrier, a critical section's reverse is a critical section (enter and exit swap), as are the
  reverses of serialized regions and OpenMP locks;
- reductions (`__kmpc_reduce[_nowait]`) always take libomp's critical-section method, in both
  modes: each thread combines its partial result under the reduction's lock, in code adcc
  differentiates (the tree method would combine inside the runtime, out of sight);
- constructs adcc cannot differentiate yet (tasks, ordered, copyprivate, teams, cancellation) are
  located errors wherever they appear in differentiated code.
"""
from __future__ import annotations

from adcc.ad import naming
from adcc.ad.support import unsupported
from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite
from adcc.analysis.calls import callback_callee
from adcc.analysis.spec import Activity, FunctionSpec, Mode
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Function, GlobalRef, Value

FORK = "__kmpc_fork_call"


def is_runtime_global(name: str) -> bool:
    """Globals clang creates for the runtime's use: the locks of named critical sections and of
    reductions (`.gomp_critical_user_<name>.var`). They hold no derivative."""
    return name.strip('"').startswith(".gomp_critical_user_")


# --- parallel regions --------------------------------------------------------------------------

def _region_spec(view, mode: Mode, width: int = 1) -> FunctionSpec:
    """The spec of the microtask a fork runs: thread ids constant, captured pointers duplicated
    where the caller has shadows (reverse mode: synthesized for several threads at once)."""
    module, inst = view.module, view.inst
    name = callback_callee(module, inst)
    if name is None:
        raise unsupported(module, inst, "cannot differentiate an OpenMP parallel region whose outlined "
                                        "function is not defined in this module")
    captured = view.args[3:]
    if len(module.function(name).args) != 2 + len(captured):
        raise unsupported(module, inst, f"cannot differentiate an OpenMP parallel region: '{name}' does not "
                                        f"take the {len(captured)} captured variables it is forked with")
    acts = [Activity.CONST, Activity.CONST]
    for a in captured:
        if isinstance(a.type, T.PointerType):
            acts.append(Activity.DUP if view.has_shadow(a) else Activity.CONST)
        elif view.varied(a) or view.act.float_view(a) is not None:
            raise unsupported(module, inst, "cannot differentiate an OpenMP parallel region that captures a "
                                            "floating-point variable by value (firstprivate) yet")
        else:
            acts.append(Activity.CONST)
    return FunctionSpec(name, tuple(acts), False, False, mode, width, parallel=mode is Mode.REVERSE,
                        strong_zero=view.strong_zero)


def _fork(b: Builder, inst, microtask: str, args: list[Value]) -> None:
    loc = inst.args[0]
    b.call(FORK, T.void, [loc, Builder.iconst(T.i32, len(args)), GlobalRef(microtask), *args],
           fnty=inst.info["fn_type"])


def _fork_forward(site: ForwardSite) -> None:
    spec = _region_spec(site, Mode.FORWARD, site.width)
    fwd = site.ctx.forward_function(spec)
    args: list[Value] = []
    for a, act in zip(site.args[3:], spec.args[2:]):
        args.append(site.primal(a))
        if act.has_shadow:
            args.extend(site.shadows(a))
    _fork(site.b, site.inst, fwd.fname, args)


def _fork_augment(site: AugmentSite) -> None:
    spec = _region_spec(site, Mode.REVERSE)
    aug, _ = site.ctx.reverse_functions(spec)
    b = site.b
    team = b.call("adcc_omp_team_new", T.ptr, [])
    args: list[Value] = [team]
    for a, act in zip(site.args[3:], spec.args[2:]):
        args.append(site.primal(a))
        if act.has_shadow:
            args.append(site.shadow(a))
    _fork(b, site.inst, _team_entry(site.module, spec, aug, reverse=False), args)
    site.save(0, team)


def _fork_reverse(site: ReverseSite) -> None:
    spec = _region_spec(site, Mode.REVERSE)
    _, rev = site.ctx.reverse_functions(spec)
    b, loc = site.b, site.args[0]
    team = site.saved(0)
    # the same number of threads as the forward pass: thread k resumes thread k's tape
    gtid = b.call("__kmpc_global_thread_num", T.i32, [loc])
    b.call("__kmpc_push_num_threads", T.void, [loc, gtid, b.call("adcc_omp_team_size", T.i32, [team])])
    _fork(b, site.inst, _team_entry(site.module, spec, rev, reverse=True), [team])
    b.call("adcc_omp_team_free", T.void, [team])


def _team_entry(module, spec: FunctionSpec, target: Function, reverse: bool) -> str:
    """A microtask that runs `target` (the augmented or reverse function of the region) on this
    thread's slot of the team record: `entry(&gtid, &tid, team, [captured and shadows])`."""
    name = naming.openmp_entry("rev" if reverse else "aug", spec)
    if name in module.functions:
        return name
    rest = [] if reverse else list(target.function_type.params[1:])  # aug: tape, gtid, tid, captured...
    params = [T.ptr, T.ptr, T.ptr] + rest[2:]
    fn = Function(name, T.void, params, linkage="internal", attributes="nounwind")
    module.add_function(fn)
    b = Builder(module, fn).position_at_end(fn.add_block("entry"))
    gtid, tid_p, team = fn.args[:3]
    tid = b.load(T.i32, tid_p, align=4)
    n = b.call("omp_get_num_threads", T.i32, [])
    mode = Builder.iconst(T.i32, int(reverse))
    tape = b.call("adcc_omp_team_enter", T.ptr, [team, tid, n, mode])
    if reverse:
        b.call(target, target.ret_type, [tape])
    else:
        b.call(target, target.ret_type, [tape, gtid, tid_p, *fn.args[3:]])
    b.call("adcc_omp_team_leave", T.void, [team, tid, mode])
    b.ret()
    return name


# --- calls inside regions ----------------------------------------------------------------------

def _primal(site) -> None:
    """The call itself (forward and augmented pass)."""
    new = site.b.clone(site.inst, [o if isinstance(o, GlobalRef) else site.primal(o) for o in site.inst.operands])
    if not isinstance(site.inst.type, T.VoidType):
        site.set_result(new)


def _nothing(site) -> None:
    return None


# Synchronization: callee -> (the actions of its forward and augmented pass, None: the call itself;
# the actions of its reverse; the position of its lock argument). "enter" and "exit" a critical
# section with the call's lock; a reduction enters its lock and answers 1 ("combine here": the
# critical-section method). In a parallel spec the reverses of a lock's sections run in the
# reverse order of the forward pass (they need not commute: a product, a max), by turns: each
# thread takes a ticket at "exit" in the augmented pass and waits for its turn in the reverse pass.
SYNC: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...], int | None]] = {
    "__kmpc_barrier": (None, ("barrier",), None),
    "__kmpc_critical": (None, ("exit",), 2),
    "__kmpc_critical_with_hint": (None, ("exit",), 2),
    "__kmpc_end_critical": (("exit",), ("enter",), 2),
    "__kmpc_reduce_nowait": (("enter",), ("exit",), 6),
    "__kmpc_reduce": (("enter",), ("exit",), 6),
    "__kmpc_end_reduce_nowait": (("exit",), ("enter",), 2),
    "__kmpc_end_reduce": (("exit", "barrier"), ("barrier", "enter"), 2),
    "__kmpc_serialized_parallel": (None, ("end_serialized",), None),
    "__kmpc_end_serialized_parallel": (None, ("serialized",), None),
}
REDUCTIONS = {"__kmpc_reduce_nowait": 1, "__kmpc_reduce": 1}  # 1: the critical-section method
RUNTIME_CALLS = {"barrier": "__kmpc_barrier", "serialized": "__kmpc_serialized_parallel",
                 "end_serialized": "__kmpc_end_serialized_parallel"}


def _sync_actions(site, actions: tuple[str, ...], gtid: Value, reverse: bool) -> None:
    b, loc, at = site.b, site.args[0], SYNC[site.inst.callee_name][2]
    lock = site.args[at] if at is not None else None
    if lock is not None and not isinstance(lock, GlobalRef):
        lock = site.primal(lock)
    ordered = site.parallel  # a reverse-mode spec run by a team: sections take turns in reverse
    for action in actions:
        if action in RUNTIME_CALLS:
            b.call(RUNTIME_CALLS[action], T.void, [loc, gtid])
        elif action == "enter":
            if reverse and ordered:
                b.call("adcc_omp_turn_wait", T.void, [site.tape, lock, site.saved(0)])
            b.call("__kmpc_critical", T.void, [loc, gtid, lock])
        else:  # exit
            if ordered and not reverse:
                site.save(0, b.call("adcc_omp_ticket", T.i64, [site.tape, lock]))
            b.call("__kmpc_end_critical", T.void, [loc, gtid, lock])
            if reverse and ordered:
                b.call("adcc_omp_turn_pass", T.void, [site.tape, lock])


def _sync_forward(site) -> None:
    actions = SYNC[site.inst.callee_name][0]
    if actions is None:
        return _primal(site)
    _sync_actions(site, actions, site.primal(site.args[1]), reverse=False)
    if site.inst.callee_name in REDUCTIONS:  # "combine here" (adcc.ad.prepare folded it already)
        site.set_result(Builder.iconst(site.inst.type, REDUCTIONS[site.inst.callee_name]))


def _sync_reverse(site: ReverseSite) -> None:
    # the thread's id in the reverse pass (the forward pass's may have been another OS thread's)
    gtid = site.b.call("__kmpc_global_thread_num", T.i32, [site.args[0]])
    _sync_actions(site, SYNC[site.inst.callee_name][1], gtid, reverse=True)


def _sync_reads(view):
    at = SYNC[view.inst.callee_name][2]
    return [("p", view.args[at])] if at is not None else []


def _sync_saves(view):
    """A section's exit in a parallel spec saves its ticket."""
    return (T.i64,) if view.parallel and "exit" in (SYNC[view.inst.callee_name][0] or ()) else ()


def _flush_reverse(site: ReverseSite) -> None:
    site.b.call("__kmpc_flush", T.void, [site.args[0]])


# Runtime calls whose primal is all their derivative: worksharing (each thread's chunks reach its
# tape as the loads of the bounds the call wrote), thread ids, single and master regions (the
# thread that ran one takes the same branch in reverse, from its own tape). The calls that write
# a chunk: argument positions of its first and last index (adcc.ad.parallel).
WIDTHS = ("4", "4u", "8", "8u")
CHUNKS = {**{f"__kmpc_for_static_init_{w}": (4, 5) for w in WIDTHS},     # (loc, gtid, schedule, plast, plower,
          **{f"__kmpc_dispatch_next_{w}": (3, 4) for w in WIDTHS}}      # pupper, ...); (loc, gtid, plast, plower, ...)
PRIMAL_ONLY = tuple(f"__kmpc_{kind}_{w}" for kind in ("dispatch_init", "dispatch_fini") for w in WIDTHS) + (
    "__kmpc_for_static_fini", "__kmpc_dispatch_deinit", "__kmpc_push_num_threads", "__kmpc_push_proc_bind",
    "__kmpc_global_thread_num", "__kmpc_single", "__kmpc_end_single", "__kmpc_master", "__kmpc_end_master",
    "__kmpc_masked", "__kmpc_end_masked", "__kmpc_ok_to_fork")

# Constructs adcc cannot differentiate yet: construct -> runtime entry points that reveal it.
REFUSED: dict[str, tuple[str, ...]] = {
    "OpenMP tasks (task, taskloop, taskwait, taskgroup)": (
        "__kmpc_omp_task_alloc", "__kmpc_omp_target_task_alloc", "__kmpc_omp_task", "__kmpc_omp_task_with_deps",
        "__kmpc_omp_taskwait", "__kmpc_omp_taskwait_deps_51", "__kmpc_omp_taskyield", "__kmpc_taskgroup",
        "__kmpc_end_taskgroup", "__kmpc_taskloop", "__kmpc_taskloop_5", "__kmpc_task_reduction_init",
        "__kmpc_taskred_init", "__kmpc_taskred_modifier_init", "__kmpc_task_reduction_modifier_init",
        "__kmpc_task_reduction_get_th_data", "__kmpc_omp_task_begin_if0", "__kmpc_omp_task_complete_if0"),
    "OpenMP ordered regions (ordered, doacross loops)": (
        "__kmpc_ordered", "__kmpc_end_ordered", "__kmpc_doacross_init", "__kmpc_doacross_wait",
        "__kmpc_doacross_post", "__kmpc_doacross_fini"),
    "OpenMP teams and distribute constructs": (
        "__kmpc_fork_teams", "__kmpc_push_num_teams", "__kmpc_push_num_teams_51", "__kmpc_distribute_static_init_4",
        "__kmpc_distribute_static_init_4u", "__kmpc_distribute_static_init_8", "__kmpc_distribute_static_init_8u",
        "__kmpc_dist_for_static_init_4", "__kmpc_dist_for_static_init_4u", "__kmpc_dist_for_static_init_8",
        "__kmpc_dist_for_static_init_8u", "__kmpc_dist_dispatch_init_4", "__kmpc_dist_dispatch_init_8"),
    "OpenMP copyprivate clauses": ("__kmpc_copyprivate",),
    "OpenMP cancellation": ("__kmpc_cancel", "__kmpc_cancellationpoint", "__kmpc_cancel_barrier"),
    "OpenMP locks (omp_set_lock; a critical section is differentiable)": (
        "omp_set_lock", "omp_unset_lock", "omp_test_lock", "omp_set_nest_lock", "omp_unset_nest_lock",
        "omp_test_nest_lock"),
    "parallel regions with an if clause lowered to __kmpc_fork_call_if": ("__kmpc_fork_call_if",),
}


def _refuse(construct: str):
    def refuse(site) -> None:
        name = (site.inst.callee_name or "?").strip('"')
        raise unsupported(site.module, site.inst, f"cannot differentiate {construct} yet ('{name}' "
                                                  f"in differentiated code)")
    return refuse


RULES: tuple[CallRule, ...] = (
    CallRule("openmp", (FORK,), forward=_fork_forward, augment=_fork_augment, reverse=_fork_reverse,
             saved_types=lambda view: (T.ptr,), always=True, thread_safe=True, callback_arg=2,
             description="an OpenMP parallel region"),
    *(CallRule("openmp", (name,), forward=_sync_forward, augment=_sync_forward, reverse=_sync_reverse,
               reverse_reads=_sync_reads, saved_types=_sync_saves, always=True, thread_safe=True,
               result=REDUCTIONS.get(name),
               description="OpenMP synchronization") for name in SYNC),
    CallRule("openmp", ("__kmpc_flush",), forward=_primal, augment=_primal, reverse=_flush_reverse,
             always=True, thread_safe=True, description="an OpenMP flush"),
    CallRule("openmp", PRIMAL_ONLY, forward=_primal, augment=_primal, reverse=_nothing, thread_safe=True,
             description="OpenMP worksharing and thread queries"),
    *(CallRule("openmp", (name,), forward=_primal, augment=_primal, reverse=_nothing, thread_safe=True,
               chunk=chunk, description="OpenMP worksharing") for name, chunk in CHUNKS.items()),
    *(CallRule("openmp", names, forward=_refuse(construct), augment=_refuse(construct), reverse=_nothing,
               always=True, thread_safe=True, description=construct) for construct, names in REFUSED.items()),
)


# --- before differentiation --------------------------------------------------------------------

# A parameter of a region that receives, at every fork, a local variable of the caller that nothing
# else reaches and that the region only reads and writes through (a shared reduction variable, a
# shared scalar result): no other pointer of the region reaches its memory (adcc.ad.parallel).
# Not `noalias`: the threads write it, and LLVM would move its loads across their critical sections.
SEPARATE = '"adcc.separate"'


def mark_private_captures(module) -> tuple[int, int]:
    """Parameters of outlined regions whose memory no other pointer of the region reaches: at every
    fork (or serialized call) of the region, a local variable of the caller that nothing else
    reaches (used only by loads, stores into it and that one argument).
    - `noalias` where the region only loads from it (a read-only private capture), so that the
      pre-AD optimization hoists its loads out of loops (a coefficient read in every iteration would
      otherwise be an adjoint that all threads accumulate into, on every iteration);
    - SEPARATE where the region also stores into it (a shared reduction variable), which the
      exclusive additions of adcc.ad.parallel need to know apart from the loops' arrays.
    Returns how many parameters got each mark."""
    calls: dict[str, list] = {}  # region -> [(call, argument index of parameter k) - k]
    other: set[str] = set()      # regions whose address has another use
    scanned: set[str] = set()
    for name in module.defined_function_names():
        entry = module.functions[name]
        if entry.parsed is None and FORK not in entry.text:
            continue
        scanned.add(name)
        for inst in module.function(name).instructions():
            for op in inst.operands:
                region = getattr(op, "gname", None)
                if region is None or not module.is_defined(region):
                    continue
                if inst.opcode == "call" and inst.callee_name == FORK and inst.args[2] is op:
                    calls.setdefault(region, []).append((inst, 1))  # (loc, n, region, captured...)
                elif inst.opcode == "call" and inst.callee is op:
                    calls.setdefault(region, []).append((inst, 0))  # a serialized region, called directly
                else:
                    other.add(region)
    noalias = separate = 0
    for region, uses in calls.items():
        if region in other or any(region in module.references(n) for n in module.defined_function_names()
                                  if n not in scanned):
            continue
        fn = module.function(region)
        for k in range(2, len(fn.args)):
            if not all(_private_object(call.args[k + shift], call) for call, shift in uses):
                continue
            if _only_loaded(fn.args[k]):
                module.add_parameter_attribute(region, k, "noalias")
                noalias += 1
            elif _only_accessed(fn.args[k]):
                module.add_parameter_attribute(region, k, SEPARATE)
                separate += 1
    return noalias, separate


def _private_object(v: Value, call) -> bool:
    from adcc.analysis.memory import pointer_uses
    from adcc.ir.values import Instruction
    if not (isinstance(v, Instruction) and v.opcode == "alloca"):
        return False
    for user, p in pointer_uses(v):
        if p is not v:
            return False
        if user.opcode == "load" or (user.opcode == "store" and user.operands[1] is v and user.operands[0] is not v):
            continue
        if user.opcode == "call" and ((user.callee_name or "").startswith("llvm.lifetime.") or
                                      (user is call and sum(a is v for a in call.args) == 1)):
            continue
        return False
    return True


def _only_loaded(param: Value) -> bool:
    from adcc.analysis.memory import pointer_uses
    return all(user.opcode == "load" or (user.opcode == "call" and
                                         (user.callee_name or "").startswith("llvm.lifetime."))
               for user, _ in pointer_uses(param))


def _only_accessed(param: Value) -> bool:
    """Only the address of loads, stores and atomic updates: the pointer goes nowhere else."""
    from adcc.analysis.memory import pointer_uses
    for user, p in pointer_uses(param):
        op = user.opcode
        if op == "load" or (op == "store" and user.operands[0] is not p) or (
                op in ("atomicrmw", "cmpxchg") and all(o is not p for o in user.operands[1:])):
            continue
        if op == "call" and (user.callee_name or "").startswith("llvm.lifetime."):
            continue
        return False
    return True


def split_reduction_copies(module) -> int:
    """A reduction's private copy is captured by the store of its address into the list that
    `__kmpc_reduce*` receives, after the loop that accumulates into it; LLVM then keeps the loop's
    store into the copy in every iteration (LICM promotes no captured object), and the reverse pass
    reads and clears the copy's adjoint in every iteration: a scalar loop. Up to that capture the
    copy's loads and stores go to a fresh local instead, copied into the copy right before the
    capture, which the pre-AD pipeline then keeps in a register. Returns how many copies were split."""
    from adcc.analysis.cfg import DominatorTree
    split = 0
    for name in module.defined_function_names():
        entry = module.functions[name]
        if entry.parsed is None and not any(r in entry.text for r in REDUCTIONS):
            continue
        fn = module.function(name)
        dt = None
        for priv in [i for i in fn.instructions() if i.opcode == "alloca" and not i.operands]:
            if not reduction_private(priv):
                continue
            dt = dt or DominatorTree(fn)
            before = _uses_before_capture(priv, dt)
            if not before:
                continue
            capture, uses = before
            b = Builder(module, fn)
            fresh = b.alloca_in_entry(priv.info["alloc_type"], align=_align(priv) or None)
            for user, k in uses:
                user.set_operand(k, fresh)
            b.position_before(capture)
            b.store(b.load(priv.info["alloc_type"], fresh, align=_align(priv) or None), priv, _align(priv) or None)
            split += 1
    return split


def _align(inst) -> int:
    import re
    m = re.search(r"\balign (\d+)", "".join(p for p in inst.template if isinstance(p, str)))
    return int(m.group(1)) if m else 0


def _uses_before_capture(priv, dt):
    """(the store of `priv`'s address into the reduction list, [(load or store, operand index)]
    of `priv` that run before it and never after it), or None where the copy's uses are not that
    simple (through a derived pointer, or reachable from the capture without it dominating them)."""
    captures = [u for u in priv.users if u.opcode == "store" and u.operands[0] is priv]
    if len(captures) != 1 or captures[0].operands[1] is priv:
        return None
    capture = captures[0]
    after = _reachable_after(capture)
    uses = []
    for user, k in list(priv.uses):
        if user is capture or (user.opcode == "call" and (user.callee_name or "").startswith("llvm.lifetime.")):
            continue
        if user.opcode == "#dbg":
            continue
        if not ((user.opcode == "load" and k == 0) or (user.opcode == "store" and k == 1)):
            return None
        if dt.instruction_dominates(capture, user):
            continue  # after the capture: the combine reads the copy
        if user.block in after:
            return None
        uses.append((user, k))
    return (capture, uses) if any(u.opcode == "store" for u, _ in uses) else None


def _reachable_after(inst) -> set:
    """The blocks control may reach after `inst` (its own block only if a path returns to it)."""
    seen: set = set()
    stack = list(inst.block.successors)
    while stack:
        blk = stack.pop()
        if blk in seen:
            continue
        seen.add(blk)
        stack.extend(blk.successors)
    return seen


REDUCE_LIST = 4  # __kmpc_reduce[_nowait](loc, gtid, nvars, size, list, combiner, lock)


def reduction_private(obj: Value) -> bool:
    """Is `obj` (a local of a region that escapes) a private copy of a reduction variable whose
    address only goes into the list a `__kmpc_reduce*` call receives? adcc's rules never pass that
    list on (the threads combine in a critical section, SYNC), so no other thread reaches it."""
    from adcc.analysis.memory import pointer_uses, stack_object
    escaped = False
    for user, p in pointer_uses(obj):
        if user.opcode == "store" and user.operands[0] is p:
            listed = stack_object(user.operands[1])
            if listed is None or not _reduce_list(listed):
                return False
            escaped = True
        elif user.opcode in ("call", "invoke") and any(a is p for a in user.args):
            if not (user.callee_name or "").startswith("llvm.lifetime."):
                return False
        elif user.opcode not in ("load", "store"):
            return False
    return escaped


def _reduce_list(listed: Value) -> bool:
    """A local used only to hold pointers stored into it and as the list of reduction calls."""
    from adcc.analysis.memory import pointer_uses
    for user, p in pointer_uses(listed):
        if user.opcode == "store" and user.operands[1] is p and user.operands[0] is not p:
            continue
        if user.opcode == "call" and (user.callee_name or "").startswith("llvm.lifetime."):
            continue
        if user.opcode == "call" and user.callee_name in REDUCTIONS and \
                [k for k, a in enumerate(user.args) if a is p] == [REDUCE_LIST]:
            continue
        return False
    return True
