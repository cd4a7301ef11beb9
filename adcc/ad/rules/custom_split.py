"""The program's split forward rules: `__enzyme_register_splitderivative_*` = {f, aug, split}.

Used by split forward mode (adcc/ad/replay.py) for calls to f inside a function given to
`__enzyme_fwdsplit`, as in Enzyme's ForwardModeSplit tests:
- `aug(x, y, ...)` takes f's arguments and returns the rule's tape: a pointer, or a struct whose
  first member is the tape and second f's result ({tape, primal, ...}); it runs in the recorded
  pass (`__enzyme_augmentfwd`), and f itself runs there too when aug does not return the primal;
- `split(x, dx, y, dy, ..., tape)` takes each argument followed by its tangent, then that tape, and
  returns the tangent of f's result, or {primal, tangent}; it runs in the tangent pass, once per
  recorded call (the rule owns its tape: release it in `split`).
adcc supports rules on floating-point scalars returning a floating-point scalar (width 1); any
other signature is a compile error naming the registration.
"""
from __future__ import annotations

from dataclasses import dataclass

from adcc.analysis.declarations import CustomSplitDerivative, declarations_of
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Value


@dataclass(frozen=True)
class SplitRule:
    declared: CustomSplitDerivative
    params: tuple[T.Type, ...]      # f's parameters
    result: T.Type                  # f's result
    augment_returns: T.Type
    split_returns: T.Type

    def augment(self, b: Builder, args: list[Value]) -> tuple[Value, Value | None]:
        """(the rule's tape, f's result or None when aug does not return it)."""
        r = b.call(self.declared.augment, self.augment_returns, args)
        if isinstance(self.augment_returns, T.PointerType):
            return r, None
        return b.extractvalue(r, 0), b.extractvalue(r, 1)

    def tangent(self, b: Builder, args: list[Value], tangents: list[Value], tape: Value) -> Value:
        interleaved = [v for pair in zip(args, tangents) for v in pair]
        r = b.call(self.declared.split, self.split_returns, [*interleaved, tape])
        return r if self.split_returns == self.result else b.extractvalue(r, 1)


def split_rule(module, name: str, where) -> SplitRule | None:
    """The validated split rule of f (None without one); `where`: the call, for errors without
    the registration's line."""
    d = declarations_of(module).split_derivatives.get(name)
    if d is None:
        return None
    loc = d.location or where
    fty = module.function_header(name).function_type
    result, params = fty.ret, tuple(fty.params)
    if not isinstance(result, T.FloatType) or not all(isinstance(p, T.FloatType) for p in params):
        raise CompileError(f"registration '{d.registration}': adcc supports split forward rules of functions on "
                           f"floating-point scalars that return one (not {fty})", loc)
    aug = module.function_header(d.augment).function_type
    tape_and_primal = T.StructType((T.ptr, result))
    aug_ok = isinstance(aug.ret, T.PointerType) or \
        isinstance(aug.ret, T.StructType) and len(aug.ret.elems) >= 2 and aug.ret.elems[:2] == tape_and_primal.elems
    if tuple(aug.params) != params or not aug_ok:
        raise CompileError(f"registration '{d.registration}': the augmented forward pass '{_plain(d.augment)}' must "
                           f"take f's arguments ({', '.join(map(str, params))}) and return the tape (a pointer) or "
                           f"{{tape, primal, ...}}; it is {aug}", loc)
    split = module.function_header(d.split).function_type
    want = tuple(p for p in params for _ in (0, 1)) + (T.ptr,)
    ret_ok = split.ret == result or split.ret == T.StructType((result, result))
    if tuple(split.params) != want or not ret_ok:
        raise CompileError(f"registration '{d.registration}': the split derivative '{_plain(d.split)}' must take each "
                           f"argument followed by its tangent, then the tape ({', '.join(map(str, want))}) and "
                           f"return the tangent or {{primal, tangent}}; it is {split}", loc)
    return SplitRule(d, params, result, aug.ret, split.ret)


def _plain(name: str) -> str:
    return name.strip('"')
