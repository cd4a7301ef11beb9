"""Enzyme's gradient logging hook: a program that defines

    void enzymeLogGrad(double grad, const char *opcode, const char *callee, const char *module,
                       const char *function, unsigned block, unsigned instruction);

has it called by each reverse pass, once per active floating-point operation (arithmetic and
math calls) with that operation's adjoint, as Enzyme's logging build does. What adcc passes:
the LLVM opcode ("fmul", "call"), the callee of a call (else ""), the source file, the primal
function's symbol, and the operation's block and instruction indices (from 0) in the IR adcc
differentiates. `enzymeLogValue`, and a hook with another signature, are refused (rewrite.py).
"""
from __future__ import annotations

from adcc.ir import types as T
from adcc.ir.values import Instruction, Value

GRAD_HOOK = "enzymeLogGrad"
_GRAD_PARAMS = (T.f64, T.ptr, T.ptr, T.ptr, T.ptr, T.i32, T.i32)


def hook_definitions(module, hook: str) -> list[str]:
    """The program's definitions of `hook`: with C linkage, or a C++ function of that name."""
    mangled = f"_Z{len(hook)}{hook}"
    return [n for n in module.functions
            if (n.strip('"') == hook or n.strip('"').startswith(mangled)) and module.is_defined(n)]


def grad_hook(module) -> str | None:
    """The program's enzymeLogGrad, when it has the signature adcc calls (else None)."""
    for name in hook_definitions(module, GRAD_HOOK):
        fty = module.function_type_of(name)
        if isinstance(fty.ret, T.VoidType) and not fty.vararg and tuple(fty.params) == _GRAD_PARAMS:
            return name
    return None


class GradLogger:
    """Emits the hook's calls for one reverse pass (of `primal`, the code of function `function`)."""

    def __init__(self, module, hook: str, primal, function: str):
        from adcc.ad.common import message_constant
        self.module, self.hook, self.primal, self.function = module, hook, primal, function.strip('"')
        self._strings = message_constant
        self._index: dict[int, tuple[int, int]] = {}
        for bi, blk in enumerate(primal.blocks):
            for ii, inst in enumerate(i for i in blk.instructions if i.opcode != "#dbg"):
                self._index[id(inst)] = (bi, ii)

    def log(self, b, inst: Instruction, adjoint: Value) -> None:
        if not adjoint.type.is_float():
            return  # (vector lanes: not logged)
        d = adjoint if adjoint.type == T.f64 else b.cast("fpext" if _narrower(adjoint.type) else "fptrunc",
                                                             adjoint, T.f64)
        callee = (inst.callee_name or "").strip('"') if inst.opcode == "call" else ""
        source = _source_file(self.module)
        bi, ii = self._index.get(id(inst), (0, 0))
        s = self._strings
        b.call(self.hook, T.void, [d, s(self.module, inst.opcode), s(self.module, callee), s(self.module, source),
                                   s(self.module, self.function), b.iconst(T.i32, bi),
                                   b.iconst(T.i32, ii)],
               fnty=T.FunctionType(T.void, _GRAD_PARAMS, False), declare=False)


def _narrower(t: T.Type) -> bool:
    return T.FLOAT_BITS.get(getattr(t, "kind", ""), 64) < 64


def _source_file(module) -> str:
    from adcc.ad.enzyme_uses import _source_file as source_file
    return source_file(module)
