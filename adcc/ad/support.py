"""What every part of the AD engine needs and nothing of it depends on: the located error for
code adcc cannot differentiate, and value conversions at call sites. (The rule families import
this, not adcc.ad.common, which sits above them.)"""
from __future__ import annotations

from adcc.ad.srcloc import location_of
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Instruction, Value


def unsupported(module, inst: Instruction, what: str) -> CompileError:
    fn = inst.block.function.fname if inst.block is not None and inst.block.function else "?"
    return CompileError(f"{what} (in function '{fn.strip(chr(34))}')", location_of(module, inst))


def convert(b: Builder, v: Value, to: T.Type) -> Value:
    """Convert a call-site argument to a parameter type (varargs promotion, int widths)."""
    fr = v.type
    if fr == to:
        return v
    if isinstance(fr, T.FloatType) and isinstance(to, T.FloatType):
        return b.cast("fptrunc" if fr.bits > to.bits else "fpext", v, to)
    if isinstance(fr, T.IntType) and isinstance(to, T.IntType):
        return b.cast("trunc" if fr.bits > to.bits else "sext", v, to)
    if isinstance(fr, T.IntType) and isinstance(to, T.PointerType):
        return b.cast("inttoptr", v, to)
    if isinstance(fr, T.PointerType) and isinstance(to, T.IntType):
        return b.cast("ptrtoint", v, to)
    if isinstance(fr, T.IntType) and isinstance(to, T.FloatType):
        return b.cast("sitofp", v, to)
    return b.cast("bitcast", v, to)
