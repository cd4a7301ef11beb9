"""Enzyme's utility entry points that are not derivatives: `__enzyme_iter` and
`__enzyme_call_inactive`.

`__enzyme_iter(a, b)` is an iteration count: `a` in the primal; each time a function that
calls it is differentiated, the copy adcc differentiates counts `a + b` (prepare.py calls
`advance_iterations` on that copy), so a derivative of order n sees `a + n*b` (a Taylor
series that needs one more term per derivative). `__enzyme_call_inactive(fn, args...)` calls
`fn(args...)` with no derivative through that one call. Both stay calls through
differentiation (the analyses read them as inactive calls, adcc.analysis.calls) and become
what they stand for once every derivative is built (`lower_utility_calls`).
"""
from __future__ import annotations

from adcc.ad import enzyme_names as names
from adcc.ad.srcloc import location_of
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Function, GlobalRef, Instruction

ITER = "__enzyme_iter"
CALL_INACTIVE = "__enzyme_call_inactive"


def utility_of(symbol: str | None) -> str | None:
    """ITER or CALL_INACTIVE when `symbol` is (a spelling of) that entry point."""
    if not symbol or "__enzyme_" not in symbol:
        return None
    info = names.entry_point(symbol.strip('"'))
    return info.name if info is not None and info.name in (ITER, CALL_INACTIVE) else None


def _utility_calls(module, fn: Function, which: str | None = None):
    for inst in list(fn.instructions()):
        if inst.opcode == "call" and utility_of(inst.callee_name) in ((which,) if which else (ITER, CALL_INACTIVE)):
            yield inst


def _functions_calling(module, needle: str):
    for name in module.defined_function_names():
        e = module.functions[name]
        if e.parsed is None and needle not in e.text:
            continue
        yield module.function(name)


def check_utility_calls(module) -> None:
    """Each `__enzyme_iter` and `__enzyme_call_inactive` call has the form Enzyme gives it, or
    is a located error."""
    for fn in _functions_calling(module, "__enzyme_"):
        for inst in fn.instructions():
            if inst.opcode == "invoke" and utility_of(inst.callee_name):
                raise CompileError(f"{utility_of(inst.callee_name)} called where an exception may unwind "
                                   "through it (declare it noexcept, or call it outside the try block)",
                                   location_of(module, inst))
        for inst in _utility_calls(module, fn):
            if utility_of(inst.callee_name) == ITER:
                _check_iter(module, inst)
            else:
                _check_call_inactive(module, inst)


def _check_iter(module, inst: Instruction) -> None:
    args = inst.args
    if len(args) != 2 or not all(isinstance(a.type, T.IntType) for a in args) or args[0].type != args[1].type \
            or inst.type != args[0].type:
        got = ", ".join(str(a.type) for a in args)
        raise CompileError(f"{ITER} takes two integers of one type (the count and its step per derivative "
                           f"order) and returns that type; this call passes ({got}) and returns {inst.type}",
                           location_of(module, inst))


def _check_call_inactive(module, inst: Instruction) -> None:
    args = inst.args
    where = location_of(module, inst)
    if not args or not isinstance(args[0].type, T.PointerType):
        raise CompileError(f"{CALL_INACTIVE} takes the function to call first, then its arguments", where)
    target = _target(args[0])
    if target is None or target not in module.functions:
        return  # a function pointer known only at run time: called with the arguments as passed
    fnty = _function_type(module, target)
    passed = tuple(a.type for a in args[1:])
    if fnty is None:
        return
    fixed = fnty.params
    if len(passed) < len(fixed) or (len(passed) > len(fixed) and not fnty.vararg) \
            or any(p != f for p, f in zip(passed, fixed)):
        want = ", ".join(str(t) for t in fixed) + (", ..." if fnty.vararg else "")
        raise CompileError(f"{CALL_INACTIVE}: '{_source(module, target)}' takes ({want}) but the call passes "
                           f"({', '.join(str(t) for t in passed)})", where)
    if inst.uses and fnty.ret != inst.type:
        raise CompileError(f"{CALL_INACTIVE}: '{_source(module, target)}' returns {fnty.ret} but the call's "
                           f"result is used as {inst.type}", where)


def _target(v) -> str | None:
    return v.gname if isinstance(v, GlobalRef) else None


def _function_type(module, name: str) -> T.FunctionType | None:
    try:
        return module.function_type_of(name)
    except KeyError:
        return None


def _source(module, name: str) -> str:
    from adcc.ad.common import source_name
    return source_name(name.strip('"'))


def advance_iterations(module, fn: Function) -> None:
    """In a copy of a function about to be differentiated, `__enzyme_iter(a, b)` counts `a + b`."""
    for inst in _utility_calls(module, fn, ITER):
        slot = inst.info["callee_slot"] + 1
        a, step = inst.args
        inst.set_operand(slot, Builder(module, fn).position_before(inst).add(a, step))


def lower_utility_calls(module) -> bool:
    """Once every derivative is built: `__enzyme_iter(a, b)` is `a`, `__enzyme_call_inactive(fn,
    args...)` is `fn(args...)`. True when a call was lowered."""
    lowered = False
    for fn in _functions_calling(module, "__enzyme_"):
        for inst in _utility_calls(module, fn):
            if utility_of(inst.callee_name) == ITER:
                if inst.uses:
                    inst.replace_all_uses_with(inst.args[0])
            else:
                _lower_call_inactive(module, fn, inst)
            inst.erase()
            lowered = True
    return lowered


def _lower_call_inactive(module, fn: Function, inst: Instruction) -> None:
    callee, args = inst.args[0], inst.args[1:]
    target = _target(callee)
    fnty = _function_type(module, target) if target is not None else None
    if fnty is None:
        fnty = T.FunctionType(inst.type, tuple(a.type for a in args), False)
    b = Builder(module, fn).position_before(inst)
    call = b.call(target if target is not None else callee, fnty.ret, list(args), fnty=fnty, declare=False)
    call.metadata = [(k, v) for k, v in inst.metadata if k == "dbg"]
    if inst.uses:
        inst.replace_all_uses_with(call)
