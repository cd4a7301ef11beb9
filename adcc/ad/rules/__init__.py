"""The derivative rule table shared by forward and reverse mode (see `table` for the entries).

`lookup_call` / `lookup_opcode` resolve every spelling of a math function or instruction to one
`Rule`. Its `kind` tells the synthesizers how to use it:
- `pointwise`: operands and result share one float (vector) type; forward ẏ = Σ ∂ᵢ·ẋᵢ, reverse
  x̄ᵢ += ȳ·∂ᵢ, with ∂ᵢ from `Rule.partial_exprs` (None: no derivative through operand i, e.g. the
  integer exponent of powi/ldexp).
- `cast` (fpext, fptrunc): the partial is 1 but the type changes: forward ẏ = cast(ẋ) to the result
  type, reverse x̄ += `Rule.inverse_cast`(ȳ) to the operand type.
- `select` (cond, a, b): forward ẏ = select(cond, ȧ, ḃ), reverse ā += select(cond, ȳ, 0),
  b̄ += select(cond, 0, ȳ); the condition gets no derivative.
- `zero` (floor, fptosi, sitofp, ...): no derivative at all; the tangent is zero, nothing flows back.
`emit_forward` / `emit_reverse` implement exactly this; `uses_result` says whether the partials read
the primal result (reverse mode must then keep it).
"""
from __future__ import annotations

import re

from adcc.ad.rules.expr import evaluate
from adcc.ad.rules.lowering import (LLVM_MATH_INTRINSICS, TYPE_SUFFIX_RE, emit_math, math_function_name,
                                    type_suffix)
from adcc.ad.rules.rule import KINDS, Rule, emit_error, emit_forward, emit_reverse
from adcc.ad.rules.table import BY_C_NAME, BY_INTRINSIC, BY_NAME, BY_OPCODE, RULES

_GLIBC_FINITE = re.compile(r"__(\w+)_finite")


def lookup_call(callee_name: str) -> Rule | None:
    """The rule for a called function: libm (`sin`, `sinf`, `sinl`, `sinf128`, `__sin_finite`) or
    intrinsic (`llvm.sin.f64`, `llvm.sin.v4f32`, `llvm.powi.f64.i32`); None if there is none."""
    if callee_name.startswith("llvm."):
        base, *suffixes = callee_name[5:].split(".")
        if not suffixes or not all(TYPE_SUFFIX_RE.fullmatch(s) for s in suffixes):
            return None
        return BY_INTRINSIC.get(base)
    m = _GLIBC_FINITE.fullmatch(callee_name)
    return BY_C_NAME.get(m.group(1) if m else callee_name)


def lookup_opcode(opcode: str) -> Rule | None:
    """The rule for an IR instruction opcode (fadd, frem, fpext, select, ...); None if there is none."""
    return BY_OPCODE.get(opcode)


def sibling_calls(rule: Rule, inst, operands) -> dict:
    """Partial terms the primal computes already: for d sin(x) = cos(x), a `cos(x)` call on the
    same operand in the same block. Maps each `Call(name, (Arg(i),))` node of the partials to that
    primal instruction, so the derivative reuses it instead of calling the function again."""
    if rule.kind != "pointwise" or inst.block is None:
        return {}
    out: dict = {}
    for node, index in _sibling_candidates(rule):
        x = operands[index]
        for other in inst.block.instructions:
            if (other is not inst and other.opcode == "call" and other.type == inst.type
                    and other.callee_name is not None and other.info.get("nargs") == 1
                    and other.args[0] is x):
                r = lookup_call(other.callee_name)
                if r is not None and r.name == node.name:
                    out[node] = other
                    break
    return out


_CANDIDATES: dict[int, tuple] = {}  # id(rule) -> (rule, candidates); rules live as long as the table


def _sibling_candidates(rule: Rule) -> tuple:
    """The `Call(name, (Arg(i),))` nodes of the rule's partials, each once, with i (the rule is
    frozen: computed once rather than walked for every instruction)."""
    got = _CANDIDATES.get(id(rule))
    if got is None or got[0] is not rule:
        from adcc.ad.rules.expr import Arg, Call, walk
        found: dict = {}
        for expr in rule.partial_exprs:
            for node in walk(expr) if expr is not None else ():
                if isinstance(node, Call) and len(node.args) == 1 and isinstance(node.args[0], Arg):
                    found.setdefault(node, node.args[0].index)
        got = _CANDIDATES[id(rule)] = (rule, tuple(found.items()))
    return got[1]


def rule_named(name: str) -> Rule:
    """The rule with canonical name `name` (KeyError if none)."""
    return BY_NAME[name]


__all__ = ["Rule", "KINDS", "RULES", "lookup_call", "lookup_opcode", "rule_named", "sibling_calls", "emit_forward", "emit_error", "emit_reverse",
           "emit_math", "math_function_name", "type_suffix", "evaluate", "LLVM_MATH_INTRINSICS"]
