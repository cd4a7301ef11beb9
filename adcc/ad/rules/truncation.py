"""What Enzyme's floating-point truncation rounds (`__enzyme_truncate_op_func`,
`__enzyme_truncate_mem_func`; adcc/ad/truncate.py applies it): the formats, and which
instructions of a truncated function compute in the reduced format.

A format is (exponent bits, stored mantissa bits), as Enzyme's FloatRepresentation; a width
alone (16, 32, 64) names the IEEE format of that width. In a truncated function every operation
of the source type rounds its floating-point operands and its result to the format (so it computes
as the narrow format would: for + - * / and sqrt exactly, since double holds more than twice the
digits of every narrower format); a math call (a function of the rule table) rounds its arguments
and its result; a comparison rounds its operands; a conversion into the source type rounds its
result. Loads, stores, phis and selects move values unchanged.
"""
from __future__ import annotations

from adcc.ad.rules.calls import CallRule, augment_primal_only, call_primal
from adcc.ir import types as T

IEEE_FORMATS = {16: (5, 10), 32: (8, 23), 64: (11, 52)}
SOURCE_TYPES = {16: T.f16, 32: T.f32, 64: T.f64}

ROUNDED_OPERATIONS = frozenset({"fadd", "fsub", "fmul", "fdiv", "frem", "fneg"})  # operands and result
ROUNDED_OPERANDS = frozenset({"fcmp"})                                            # operands only
ROUNDED_RESULTS = frozenset({"sitofp", "uitofp", "fptrunc", "fpext"})              # result only
# memory mode (values held in the narrow format): also the constants the function moves without
# arithmetic (stores, returns, passes on, selects) are narrow values
MEMORY_CONSTANT_USERS = frozenset({"phi", "select", "store", "ret", "insertvalue", "insertelement", "call",
                                   "invoke"})

# the format computed natively by converting to an LLVM type and back (others: the runtime's adcc_fp_round)
NATIVE_FORMATS = {(8, 23): T.f32}
ROUND_FUNCTION = "adcc_fp_round"  # double adcc_fp_round(double, i32 exponent_bits, i32 mantissa_bits)


def valid_format(source_bits: int, exponent: int, mantissa: int) -> bool:
    """A format no wider than the source's in either field (the rounding is exact in double)."""
    se, sm = IEEE_FORMATS[source_bits]
    return 2 <= exponent <= se and 1 <= mantissa <= sm


def round_to_format(x: float, exponent: int, mantissa: int) -> float:
    """Python's twin of the runtime's adcc_fp_round (constants are rounded at compile time)."""
    import math
    if x == 0 or math.isinf(x) or math.isnan(x):
        return x
    emax = (1 << (exponent - 1)) - 1
    e = max(math.frexp(abs(x))[1] - 1, 1 - emax)
    quantum = math.ldexp(1.0, e - mantissa)
    r = round(abs(x) / quantum) * quantum  # round(): ties to even
    if r > (math.ldexp(1.0, mantissa + 1) - 1) * math.ldexp(1.0, emax - mantissa):
        r = math.inf
    return math.copysign(r, x)


# A truncated function differentiated: the rounding passes derivatives through unchanged, as the
# float format's fptrunc/fpext pair does (the derivative of the computation done in that format).
def _round_forward(site) -> None:
    site.set_result(call_primal(site))
    site.set_tangents(site.tangents(site.args[0]))


def _round_reverse(site) -> None:
    d = site.result_adjoint()
    if d is not None:
        site.add_adjoint(site.args[0], d)


RULES = (
    CallRule("truncation", (ROUND_FUNCTION,), forward=_round_forward, augment=augment_primal_only,
             reverse=_round_reverse, description="a rounding of Enzyme's truncation"),
)
