"""How reverse-mode functions are called: aug(tape, args, shadows) -> (primal result, shadow
result); rev(tape, adjoint of the result) -> adjoints of the active scalar arguments."""
from __future__ import annotations

from adcc.ad.common import Packing
from adcc.analysis.spec import Activity, FunctionSpec
from adcc.ir import types as T
from adcc.ir.values import Function


def signatures(module, fn: Function, spec: FunctionSpec):
    aug_params = [T.ptr]
    for a, act in zip(fn.args, spec.args):
        aug_params.append(a.type)
        if act.has_shadow:
            aug_params.append(a.type)
    aug_fields = []
    if not isinstance(fn.ret_type, T.VoidType):
        aug_fields.append(fn.ret_type)
        if spec.ret_shadow:
            aug_fields.append(fn.ret_type)
    rev_params = [T.ptr] + ([fn.ret_type] if spec.ret_active else [])
    rev_fields = [a.type for a, act in zip(fn.args, spec.args) if act is Activity.OUT]
    return aug_params, Packing(aug_fields), rev_params, Packing(rev_fields)
