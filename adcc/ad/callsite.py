"""Decode an `__enzyme_*` call: target function, markers, Enzyme's defaults, width.

Markers are recognised however the program spells them: a load of the marker
global (`int enzyme_dup;` defined or only declared `extern`), the global's
address, or a C++-mangled name in a namespace.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from adcc.analysis.spec import Activity, Mode
from adcc.ad.srcloc import location_of
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.values import Constant, GlobalRef, Instruction, Value

MARKER_NAMES = {"enzyme_dupnoneed": Activity.DUPNONEED, "enzyme_dup": Activity.DUP,
                "enzyme_const": Activity.CONST, "enzyme_out": Activity.OUT,
                "enzyme_width": "width", "enzyme_dupv": "dupv", "enzyme_scalar": "scalar"}
_MANGLED_PART = re.compile(r"(\d+)")


@dataclass
class ArgSpec:
    activity: Activity
    primal: Value
    shadows: list[Value] = field(default_factory=list)


@dataclass
class CallSite:
    inst: Instruction
    api: str                 # autodiff | fwddiff
    mode: Mode
    fn_name: str
    args: list[ArgSpec]
    width: int = 1
    sret: Value | None = None
    result_type: T.Type = T.void


def marker_name(v: Value) -> str | None:
    """The enzyme_* marker a call argument stands for, or None."""
    if isinstance(v, Instruction) and v.opcode == "load" and isinstance(v.operands[0], GlobalRef):
        name = v.operands[0].gname
    elif isinstance(v, GlobalRef):
        name = v.gname
    else:
        return None
    name = name.strip('"')
    if name in MARKER_NAMES:
        return name
    if name.startswith("_Z"):
        # _ZN2ns10enzyme_dupE: take the last length-prefixed identifier
        k, last = 0, None
        while k < len(name):
            m = _MANGLED_PART.match(name, k)
            if m:
                n = int(m.group(1))
                last = name[m.end():m.end() + n]
                k = m.end() + n
            else:
                k += 1
        if last in MARKER_NAMES:
            return last
    return None


def api_of(callee: str) -> str | None:
    m = re.search(r"__enzyme_(autodiff|fwddiff)", callee)
    return m.group(1) if m else None


def parse_call_site(module, inst: Instruction) -> CallSite:
    callee = inst.callee_name or ""
    api = api_of(callee)
    loc = location_of(module, inst)
    if api is None:
        raise CompileError(f"'{callee}' is not supported yet (only __enzyme_autodiff and __enzyme_fwddiff)", loc)
    mode = Mode.REVERSE if api == "autodiff" else Mode.FORWARD
    args = list(inst.args)
    attrs = inst.info.get("arg_attrs", [""] * len(args))
    sret = None
    if args and "sret" in attrs[0]:
        sret = args[0]
        args = args[1:]
    if not args:
        raise CompileError(f"__enzyme_{api} needs the function to differentiate as its first argument", loc)
    target = args[0]
    if not isinstance(target, GlobalRef):
        raise CompileError(f"the first argument of __enzyme_{api} must be a function known at compile time", loc)
    name = target.gname
    if name in module.globals:
        raise CompileError(f"the first argument of __enzyme_{api} is the data object '{_demangle_hint(name)}', "
                           f"not a function", loc)
    if name not in module.functions:
        raise CompileError(f"the first argument of __enzyme_{api} is not a function", loc)
    if not module.is_defined(name):
        raise CompileError(f"cannot differentiate '{_demangle_hint(name)}': its definition is not available "
                           f"(compile its translation unit with adcc and link with adcc)", loc)
    fn = module.function(name)
    rest = args[1:]
    width = 1
    j = 0
    if rest and marker_name(rest[0]) == "enzyme_width":
        if len(rest) < 2 or not isinstance(rest[1], Constant) or not rest[1].text.lstrip("-").isdigit():
            raise CompileError("enzyme_width must be followed by an integer constant", loc)
        width = int(rest[1].text)
        if width < 1:
            raise CompileError("enzyme_width must be at least 1", loc)
        j = 2
    specs: list[ArgSpec] = []
    for k, param in enumerate(fn.args):
        if j >= len(rest):
            raise CompileError(
                f"too few arguments to __enzyme_{api} for '{_demangle_hint(name)}': it takes {len(fn.args)} "
                f"argument(s), the call supplies {len(specs)}", loc)
        m = marker_name(rest[j])
        if m is not None and m in ("width", "enzyme_width", "enzyme_dupv", "enzyme_scalar"):
            raise CompileError(f"marker '{m}' is not supported in this position", loc)
        if m is not None:
            act = MARKER_NAMES[m]
            j += 1
        else:
            act = _default_activity(module, param.type, mode)
        if j >= len(rest):
            raise CompileError(f"too few arguments to __enzyme_{api} for '{_demangle_hint(name)}': "
                               f"missing argument {k + 1} after its marker", loc)
        primal = rest[j]
        j += 1
        shadows: list[Value] = []
        if act.has_shadow:
            if j + width > len(rest):
                raise CompileError(f"too few arguments to __enzyme_{api}: argument {k + 1} of "
                                   f"'{_demangle_hint(name)}' is duplicated but has no shadow", loc)
            shadows = rest[j:j + width]
            j += width
        if act is Activity.OUT and mode is Mode.FORWARD:
            raise CompileError("enzyme_out is not valid in forward mode (use enzyme_dup with a tangent)", loc)
        if act is Activity.OUT and not param.type.is_float_or_float_vector():
            raise CompileError(f"enzyme_out given for argument {k + 1} of '{_demangle_hint(name)}', "
                               f"which is not a floating-point scalar", loc)
        if act.has_shadow and mode is Mode.REVERSE and not isinstance(param.type, T.PointerType):
            raise CompileError(f"argument {k + 1} of '{_demangle_hint(name)}' is passed with enzyme_dup "
                               f"but is not a pointer (use enzyme_out for scalars in reverse mode)", loc)
        specs.append(ArgSpec(act, primal, shadows))
    if j != len(rest):
        raise CompileError(
            f"too many arguments to __enzyme_{api} for '{_demangle_hint(name)}': it takes {len(fn.args)} "
            f"argument(s), {len(rest) - j} argument(s) left over", loc)
    return CallSite(inst, api, mode, name, specs, width, sret, inst.type)


def _default_activity(module, ty: T.Type, mode: Mode) -> Activity:
    if isinstance(ty, T.PointerType):
        return Activity.DUP
    if ty.is_float_or_float_vector():
        return Activity.OUT if mode is Mode.REVERSE else Activity.DUP
    return Activity.CONST


def _demangle_hint(name: str) -> str:
    return name.strip('"')
