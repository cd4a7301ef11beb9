"""A derivative rule (one per math function or opcode) and the forward/reverse emission derived from it.

Both modes use only `Rule.partial_exprs`: forward `ẏ = Σ ∂ᵢ·ẋᵢ`, reverse `x̄ᵢ += ȳ·∂ᵢ`. The rule
kinds that need a different shape (`cast`, `select`, `zero`) are described in `adcc.ad.rules`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from adcc.ad.rules.expr import Const, Emitter, Expr, Result, walk
from adcc.ad.rules.lowering import type_suffix
from adcc.ir import types as T
from adcc.ir.values import Constant

KINDS = ("pointwise", "cast", "select", "zero")


@dataclass(frozen=True)
class Rule:
    name: str                                  # canonical name: C base name, or the opcode
    kind: str                                  # one of KINDS
    arity: int
    partial_exprs: tuple[Expr | None, ...]     # None: no derivative through that operand
    domain: tuple[tuple[float, ...], ...]      # sample operand tuples where the rule is smooth
    c_names: tuple[str, ...] = ()              # every libm spelling: sin, sinf, sinl, sinf128
    intrinsic: str | None = None               # base of llvm.<intrinsic>.<suffixes>
    opcodes: tuple[str, ...] = ()              # IR opcodes sharing this rule (frem for fmod)
    inverse_cast: str | None = None            # cast kind: the opcode taking an adjoint back
    reference: Callable[..., float] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown rule kind {self.kind!r}")
        if len(self.partial_exprs) != self.arity:
            raise ValueError(f"{self.name}: {len(self.partial_exprs)} partials for arity {self.arity}")
        if any(len(point) != self.arity for point in self.domain):
            raise ValueError(f"{self.name}: a domain point does not have {self.arity} operands")
        if self.kind == "zero" and self.active_args:
            raise ValueError(f"{self.name}: a zero rule has no partials")

    @property
    def active_args(self) -> tuple[int, ...]:
        """Indices of the operands a derivative flows through."""
        return tuple(i for i, p in enumerate(self.partial_exprs) if p is not None)

    @property
    def is_zero(self) -> bool:
        """The whole derivative is zero: no tangent or adjoint code at all."""
        return not self.active_args

    @property
    def uses_result(self) -> bool:
        """Some partial reads the primal result (reverse mode must keep it available)."""
        return any(isinstance(n, Result) for p in self.partial_exprs if p is not None for n in walk(p))

    def spellings(self) -> tuple[str, ...]:
        """Every spelling that is not type-suffixed: libm names and opcodes."""
        return self.c_names + self.opcodes

    def emit_partials(self, builder, args: Sequence, result) -> list:
        """The partial ∂y/∂xᵢ per operand as IR values; None for operands without a derivative.

        A cast's partial is the constant 1 of the operand's type. `result` may be None when
        `not self.uses_result`.
        """
        if self.kind == "cast":
            return [builder.fconst(args[0].type, 1.0)]
        em = Emitter(builder, args, result, _float_type(args, result))
        return [None if p is None else em(p) for p in self.partial_exprs]


def emit_forward(builder, rule: Rule, args: Sequence, result, tangents: Sequence, known: dict | None = None,
                 strong_zero: bool = False):
    """The tangent ẏ = Σ ∂ᵢ·ẋᵢ over operands with a tangent (None = inactive); None if none.

    `result` is the primal result (a cast needs it for its type; None is fine for rules that do not
    `uses_result`). `known` maps partial subexpressions to values the primal computed already
    (see `rules.sibling_calls`). `strong_zero` (enzyme_strong_zero): a zero ẋᵢ contributes 0 even
    where ∂ᵢ is inf or NaN."""
    if rule.is_zero:
        return None
    if rule.kind == "cast":
        return None if tangents[0] is None else builder.cast(rule.name, tangents[0], result.type)
    if rule.kind == "select":
        # select(c, ȧ, ḃ), not c·ȧ + (1-c)·ḃ: the untaken tangent may be inf or NaN.
        a, b = tangents[1], tangents[2]
        if a is None and b is None:
            return None
        zero = None if a is not None and b is not None else builder.fconst(_float_type(args, result), 0.0)
        return builder.select(args[0], a if a is not None else zero, b if b is not None else zero)
    em = _emitter(builder, args, result, known)
    total = None
    for i in _carrying(rule, tangents):
        negate, term = _scaled(builder, em, rule.partial_exprs[i], tangents[i], strong_zero)
        if total is None:
            total = builder.fneg(term) if negate else term
        else:
            total = builder.fsub(total, term) if negate else builder.fadd(total, term)
    return total


def _emitter(builder, args: Sequence, result, known: dict | None) -> Emitter:
    """The partials' emitter, reusing what the primal computed already (`known`)."""
    em = Emitter(builder, args, result, _float_type(args, result))
    em.memo.update(known or {})
    return em


def _carrying(rule: Rule, values: Sequence) -> list[int]:
    """The operands a derivative flows through that carry a value (a tangent, an error)."""
    return [i for i in rule.active_args if values[i] is not None]


def emit_error(builder, rule: Rule, args: Sequence, result, errors: Sequence, known: dict | None = None):
    """Enzyme's floating-point error estimate of an operation (`__enzyme_error_estimate`, forward
    mode carrying errors): the operands' errors eᵢ through the condition numbers, at least the
    result's own rounding, `max(|y - y'|, Σ |(eᵢ·xᵢ / y)·∂ᵢ|)` where y' is y with its last bit flipped
    (one ulp); None if no operand has an error. Casts and selects move errors as tangents."""
    if rule.is_zero:
        return None
    if rule.kind in ("cast", "select"):
        return emit_forward(builder, rule, args, result, errors, known)
    em = _emitter(builder, args, result, known)
    total = None
    for i in _carrying(rule, errors):
        relative = builder.fdiv(builder.fmul(errors[i], args[i]), result)
        term = _intrinsic(builder, "fabs", [builder.fmul(relative, em(rule.partial_exprs[i]))])
        total = term if total is None else builder.fadd(total, term)
    if total is None:
        return None
    return _intrinsic(builder, "maxnum", [_ulp(builder, result), total])


def _ulp(builder, y):
    """|y - y'|, y' being y with the last bit of its significand flipped."""
    ty = y.type
    vector = isinstance(ty, T.VectorType)
    bits = T.IntType((ty.elem if vector else ty).bits)
    ity = T.VectorType(ty.count, bits) if vector else bits
    one = Constant(ity, f"splat ({bits} 1)") if vector else builder.iconst(bits, 1)
    flipped = builder.cast("bitcast", builder.xor(builder.cast("bitcast", y, ity), one), ty)
    return _intrinsic(builder, "fabs", [builder.fsub(y, flipped)])


def _intrinsic(builder, name: str, operands: Sequence):
    """`llvm.<name>` on floats (fabs, maxnum), suffixed by the operands' type."""
    ty = operands[0].type
    return builder.call(f"llvm.{name}.{type_suffix(ty)}", ty, list(operands))


def emit_reverse(builder, rule: Rule, args: Sequence, result, adjoint,
                 active: Sequence[bool] | None = None, known: dict | None = None, strong_zero: bool = False) -> list:
    """The contribution ȳ·∂ᵢ to each operand's adjoint; None for operands without a derivative
    or not marked in `active` (default: all operands). `result` may be None unless `rule.uses_result`.
    `strong_zero` (enzyme_strong_zero): a zero ȳ contributes 0 even where ∂ᵢ is inf or NaN."""
    wanted = [i in rule.active_args and (active is None or active[i]) for i in range(rule.arity)]
    out: list = [None] * rule.arity
    if rule.kind == "cast":
        if wanted[0]:
            out[0] = builder.cast(rule.inverse_cast, adjoint, args[0].type)
        return out
    if rule.kind == "select":
        zero = builder.fconst(_float_type(args, result), 0.0) if wanted[1] or wanted[2] else None
        if wanted[1]:
            out[1] = builder.select(args[0], adjoint, zero)
        if wanted[2]:
            out[2] = builder.select(args[0], zero, adjoint)
        return out
    em = Emitter(builder, args, result, _float_type(args, result))
    em.memo.update(known or {})
    for i, w in enumerate(wanted):
        if w:
            negate, term = _scaled(builder, em, rule.partial_exprs[i], adjoint, strong_zero)
            out[i] = builder.fneg(term) if negate else term
    return out


def _float_type(args: Sequence, result):
    """The type of the rule's floats: the result's, or (result not at hand) the first float operand's."""
    if result is not None:
        return result.type
    for a in args:
        if a.type.is_float_or_float_vector():
            return a.type
    raise ValueError("no float operand to take the derivative's type from")


def _scaled(builder, em: Emitter, partial: Expr, value, strong_zero: bool = False) -> tuple[bool, object]:
    """(negate, term) with term = |∂|·value; unit partials emit no multiplication. With
    `strong_zero`, term is 0 wherever value is 0 (0·inf and 0·NaN included)."""
    if partial == Const(1.0):
        return False, value
    if partial == Const(-1.0):
        return True, value
    return False, strong_product(builder, em(partial), value) if strong_zero else builder.fmul(em(partial), value)


def strong_product(builder, partial, value):
    """partial·value, but 0 where value is 0 (enzyme_strong_zero): `select(value == 0, 0, partial·value)`."""
    zero = builder.zero(value.type)
    return builder.select(builder.fcmp("oeq", value, zero), zero, builder.fmul(partial, value))


__all__ = ["Rule", "KINDS", "emit_forward", "emit_error", "emit_reverse", "strong_product"]
