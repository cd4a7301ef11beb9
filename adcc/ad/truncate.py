"""Enzyme's floating-point truncation: a function run in a reduced precision.

`__enzyme_truncate_op_func(fn, from, to)` (or `(fn, from, exponent_bits, mantissa_bits)`)
returns a pointer to a copy of `fn` whose operations on the `from`-bit type compute in the
narrower format (adcc/ad/rules/truncation.py says which instructions round), as do the functions
it calls that are defined in the module. `__enzyme_truncate_mem_func` is the same for values
that memory holds in the narrow format: adcc's representation of a narrow value is the double
(or float) it rounds to, so the function is the same copy, `__enzyme_truncate_mem_value(x,
from, to)` rounds x and `__enzyme_expand_mem_value(x, from, to)` returns it. Lowered before
differentiation, so a truncated function can itself be differentiated.
"""
from __future__ import annotations

import re
import struct

from adcc.ad import enzyme_names as names
from adcc.ad.common import convert
from adcc.ad.rules import lookup_call
from adcc.ad.rules import truncation as rules
from adcc.ad.srcloc import location_of
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.parser import parse_function
from adcc.ir.printer import print_function
from adcc.ir.values import Constant, Function, GlobalRef, Instruction, Value

FUNC = ("__enzyme_truncate_op_func", "__enzyme_truncate_mem_func")
VALUE = ("__enzyme_truncate_mem_value", "__enzyme_expand_mem_value")


def _entry(symbol: str | None) -> str | None:
    if not symbol or "__enzyme_" not in symbol:
        return None
    info = names.entry_point(symbol.strip('"'))
    return info.name if info is not None and info.name in FUNC + VALUE else None


def lower_truncations(module) -> bool:
    """Replace every truncation call of the module; True when there was one."""
    found = False
    clones: dict[tuple, str] = {}
    for name in module.defined_function_names():
        e = module.functions[name]
        if e.parsed is None and "__enzyme_" not in e.text:
            continue
        for inst in list(module.function(name).instructions()):
            if inst.opcode not in ("call", "invoke"):
                continue
            which = _entry(inst.callee_name)
            if which is None:
                continue
            if inst.opcode == "invoke":
                raise CompileError(f"{which} called where an exception may unwind through it (declare it noexcept)",
                                   location_of(module, inst))
            if which in FUNC:
                _lower_function(module, inst, which, clones)
            else:
                _lower_value(module, inst, which)
            found = True
    return found


def _format(module, inst: Instruction, which: str, first: int) -> tuple[int, int, int]:
    """(source bits, exponent bits, mantissa bits) from the call's arguments `first`.. ."""
    where = location_of(module, inst)
    given = inst.args[first:]
    if len(given) not in (2, 3):
        raise CompileError(f"{which} takes the source width and then the target width (16, 32) or its exponent "
                           f"and mantissa bits; this call passes {len(given)} value(s) after the "
                           f"{'function' if which in FUNC else 'value'}", where)
    values = []
    for v in given:
        if not isinstance(v, Constant) or not isinstance(v.type, T.IntType) or not re.fullmatch(r"-?\d+", v.text):
            raise CompileError(f"{which}: the widths must be integer constants", where)
        values.append(int(v.text))
    source = values[0]
    if source not in rules.SOURCE_TYPES:
        raise CompileError(f"{which}: source width {source} is not one of 16, 32, 64 (half, float, double)", where)
    if len(values) == 2:
        if values[1] not in rules.IEEE_FORMATS or values[1] > source:
            raise CompileError(f"{which}: target width {values[1]} is not an IEEE width (16, 32, 64) no wider "
                               f"than the source's {source}", where)
        exponent, mantissa = rules.IEEE_FORMATS[values[1]]
    else:
        exponent, mantissa = values[1], values[2]
        if not rules.valid_format(source, exponent, mantissa):
            se, sm = rules.IEEE_FORMATS[source]
            raise CompileError(f"{which}: a format of {exponent} exponent and {mantissa} mantissa bits does not fit "
                               f"the {source}-bit source (2..{se} exponent bits, 1..{sm} mantissa bits)", where)
    return source, exponent, mantissa


def _lower_function(module, inst: Instruction, which: str, clones: dict) -> None:
    where = location_of(module, inst)
    target = inst.args[0] if inst.args else None
    if not isinstance(target, GlobalRef) or not module.is_defined(target.gname):
        raise CompileError(f"{which} needs a function defined in this translation unit as its first argument", where)
    fmt = _format(module, inst, which, 1) + (which == "__enzyme_truncate_mem_func",)
    clone = _truncated(module, target.gname, fmt, clones)
    if inst.uses:
        inst.replace_all_uses_with(GlobalRef(clone))
    inst.erase()


def _lower_value(module, inst: Instruction, which: str) -> None:
    where = location_of(module, inst)
    value = inst.args[0] if inst.args else None
    if value is None or not isinstance(value.type, T.FloatType) or not isinstance(inst.type, (T.FloatType, T.VoidType)):
        raise CompileError(f"{which} takes a floating-point value first and returns one", where)
    source, exponent, mantissa = _format(module, inst, which, 1)
    b = Builder(module, inst.block.function).position_before(inst)
    if inst.uses:
        v = _round(b, value, (exponent, mantissa)) if which == "__enzyme_truncate_mem_value" else value
        inst.replace_all_uses_with(convert(b, v, inst.type))
    inst.erase()


def _truncated(module, name: str, fmt: tuple[int, int, int, bool], clones: dict) -> str:
    """The name of `name`'s copy computing in `fmt` (source bits, exponent bits, mantissa bits,
    memory mode), made once per function and format."""
    key = (name, fmt)
    if key in clones:
        return clones[key]
    source, exponent, mantissa, memory = fmt
    new = module.unique_name(f"{name.strip(chr(34))}.adcc.trunc{'.mem' if memory else ''}.{source}.{exponent}_{mantissa}")
    clones[key] = new
    header, body = print_function(module.function(name)).split("\n", 1)
    fn = parse_function(module, _private_header(header, new) + "\n" + body)
    for inst in list(fn.instructions()):
        if inst.opcode == "#dbg" or (inst.opcode == "call" and (inst.callee_name or "").startswith("llvm.dbg.")):
            inst.erase()
            continue
        inst.metadata = [(k, v) for k, v in inst.metadata if k != "dbg"]
    module.add_function(fn)
    _round_operations(module, fn, rules.SOURCE_TYPES[source], (exponent, mantissa), fmt, clones)
    if memory:
        _round_moved_constants(fn, rules.SOURCE_TYPES[source], (exponent, mantissa))
    return new


_HEADER_PREFIX = re.compile(r"^define\s+((private|internal|available_externally|linkonce_odr|linkonce|weak_odr|weak|common|"
                            r"extern_weak|external|dso_local|dso_preemptable|hidden|protected|default|unnamed_addr|"
                            r"local_unnamed_addr)\s+)*")
_HEADER_NAME = re.compile(r'@("(?:[^"\\]|\\.)*"|[-\w.$]+)\(')


def _private_header(header: str, name: str) -> str:
    """The original's `define` line for an internal copy named `name` (its personality and
    attributes kept; no comdat, no debug subprogram: those belong to the original)."""
    header = _HEADER_PREFIX.sub("define internal ", header, count=1)
    quoted = name if re.fullmatch(r"[-\w.$]+", name) else '"' + name + '"'
    header = _HEADER_NAME.sub(lambda m: f"@{quoted}(", header, count=1)
    header = re.sub(r"\s+comdat(\(\$[^)]*\))?", "", header)
    return re.sub(r"\s+!dbg\s+![0-9]+", "", header)


def _is_source(ty: T.Type, source: T.Type) -> bool:
    return ty == source or (isinstance(ty, T.VectorType) and ty.elem == source)


def _round_operations(module, fn: Function, source: T.Type, fmt: tuple[int, int], key, clones: dict) -> None:
    for inst in list(fn.instructions()):
        op = inst.opcode
        if op in ("call", "invoke"):
            callee = inst.callee_name
            if callee is not None and module.is_defined(callee):
                inst.set_operand(inst.info["callee_slot"], GlobalRef(_truncated(module, callee, key, clones)))
                continue
            if op == "invoke" or callee is None or lookup_call(callee) is None or not _is_source(inst.type, source):
                continue  # an external function: called as it is (Enzyme does not follow it either)
            _round_operands(module, fn, inst, source, fmt, range(inst.info["callee_slot"] + 1, len(inst.operands)))
            _round_result(module, fn, inst, fmt)
        elif op in rules.ROUNDED_OPERATIONS and _is_source(inst.type, source):
            _round_operands(module, fn, inst, source, fmt, range(len(inst.operands)))
            _round_result(module, fn, inst, fmt)
        elif op in rules.ROUNDED_OPERANDS:
            _round_operands(module, fn, inst, source, fmt, range(len(inst.operands)))
        elif op in rules.ROUNDED_RESULTS and _is_source(inst.type, source):
            _round_result(module, fn, inst, fmt)


def _round_moved_constants(fn: Function, source: T.Type, fmt) -> None:
    for inst in fn.instructions():
        if inst.opcode in rules.MEMORY_CONSTANT_USERS:
            for k, v in enumerate(inst.operands):
                if isinstance(v, Constant) and v.type == source:
                    folded = _fold(v, fmt)
                    if folded is not None:
                        inst.set_operand(k, folded)


def _round_operands(module, fn: Function, inst: Instruction, source: T.Type, fmt, slots) -> None:
    b = Builder(module, fn).position_before(inst)
    for k in slots:
        v = inst.operands[k]
        if _is_source(v.type, source):
            inst.set_operand(k, _round(b, v, fmt))


def _round_result(module, fn: Function, inst: Instruction, fmt) -> None:
    blk = inst.block
    b = Builder(module, fn).position_before(blk.instructions[blk.instructions.index(inst) + 1])
    users = list(inst.uses)
    rounded = _round(b, inst, fmt)
    for user, k in users:
        user.set_operand(k, rounded)


def _round(b: Builder, v: Value, fmt: tuple[int, int]) -> Value:
    """v rounded to `fmt`, in v's own type."""
    ty = v.type
    if isinstance(ty, T.VectorType):
        native = rules.NATIVE_FORMATS.get(fmt)
        if native is not None and ty.elem.bits > native.bits:
            narrow = T.VectorType(ty.count, native)
            return b.cast("fpext", b.cast("fptrunc", v, narrow), ty)
        out: Value = Builder.poison(ty)
        for lane in range(ty.count):
            out = b.insertelement(out, _round(b, b.extractelement(v, lane), fmt), lane)
        return out
    if rules.IEEE_FORMATS.get(ty.bits) == fmt and ty.kind != "bfloat":
        return v  # already that format
    if isinstance(v, Constant):
        folded = _fold(v, fmt)
        if folded is not None:
            return folded
    native = rules.NATIVE_FORMATS.get(fmt)
    if native is not None and ty.bits > native.bits:
        return b.cast("fpext", b.cast("fptrunc", v, native), ty)
    wide = convert(b, v, T.f64)
    r = b.call(rules.ROUND_FUNCTION, T.f64, [wide, Builder.iconst(T.i32, fmt[0]), Builder.iconst(T.i32, fmt[1])],
               attrs="nounwind")
    return convert(b, r, ty)


def _fold(c: Constant, fmt: tuple[int, int]) -> Constant | None:
    """A floating-point constant rounded at compile time (None for a form not read here)."""
    text = c.text
    try:
        if re.fullmatch(r"0x[0-9A-Fa-f]{16}", text):
            x = struct.unpack(">d", bytes.fromhex(text[2:]))[0]
        elif re.fullmatch(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?", text):
            x = float(text)
        else:
            return None
    except ValueError:
        return None
    r = rules.round_to_format(x, *fmt)
    return Constant(c.type, "0x" + struct.pack(">d", r).hex().upper())
