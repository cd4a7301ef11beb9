"""The adcc_ad Fortran module's entry points (`call autodiff(f, ...)`, `call fwddiff(f, ...)`) turned
into Enzyme calls (`__enzyme_autodiff(f, ...)`), each argument passed as f receives it.

The module declares both as bind(C) procedures whose arguments are all assumed-type,
assumed-rank: every argument arrives as a descriptor. In two steps:
- before pre-AD optimization (`prepare`), each call gets its own callee and, next to every
  descriptor, loads of its base address, type code and rank, which optimization folds into
  constants (markers are then the addresses of `enzyme_dup`, ...);
- when differentiating (`lower`), the markers are read and each argument is passed as f expects it
  (adcc.analysis.fortran.dummy_convention): the descriptor itself, the address of its data (a
  packed copy when it is not contiguous), or the value. Adjoints of VALUE dummies come back from
  __enzyme_autodiff and go into their shadows.
A call whose procedure is defined in another unit waits for the link step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from adcc.analysis.fortran import (BASE_ADDR, COMPLEX_TYPES, FLOAT_TYPES, RANK, TYPE_CODE, TYPE_NAMES,
                                   Convention, dummy_convention, reaches_undefined)
from adcc.ad.srcloc import location_of
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, GlobalRef, Instruction, Value

ENTRY_POINTS = {"__enzyme_fortran_autodiff": "autodiff", "__enzyme_fortran_fwddiff": "fwddiff"}
PREPARED = re.compile(r"__enzyme_fortran_(autodiff|fwddiff)\.adcc\.\d+")
MARKERS = {"enzyme_dup": "dup", "enzyme_dupnoneed": "dupnoneed", "enzyme_const": "const", "enzyme_out": "out"}
TANGENT_POSITION = 41   # the `tangent=` argument of fwddiff (after a01..a40)
_GROUP = 5              # per argument: position, descriptor, base address, type code, rank


# --- step 1: before optimization ----------------------------------------------------------------

def prepare(module) -> int:
    """Give each entry-point call its own callee and its descriptors' fields; returns how many."""
    k = 0
    for name in module.defined_function_names():
        if "__enzyme_fortran_" not in module.functions[name].text:
            continue
        for inst in list(module.function(name).instructions()):
            api = ENTRY_POINTS.get((inst.callee_name or "").strip('"')) if inst.opcode == "call" else None
            if api is not None:
                _prepare_call(module, inst, api, k)
                k += 1
    return k


def _prepare_call(module, inst: Instruction, api: str, k: int) -> None:
    b = Builder(module).position_before(inst)
    args: list[Value] = [inst.args[0]]
    for pos, d in enumerate(inst.args[1:], start=1):
        if isinstance(d, Constant) and d.text == "null":
            continue  # an absent optional argument
        base = _stored_field(d, BASE_ADDR, T.ptr) or b.load(T.ptr, d)
        type_code = _stored_field(d, TYPE_CODE, T.i8) or b.load(T.i8, b.byte_gep(d, TYPE_CODE))
        rank = _stored_field(d, RANK, T.i8) or b.load(T.i8, b.byte_gep(d, RANK))
        args += [Builder.iconst(T.i32, pos), d, base, type_code, rank]
    name = f"__enzyme_fortran_{api}.adcc.{k}"
    fnty = T.FunctionType(T.void, (T.ptr,), True)
    module.ensure_declaration(name, fnty)
    call = b.call(name, T.void, args, fnty=fnty)
    call.metadata = [m for m in inst.metadata if m[0] == "dbg"]
    inst.erase()


def _stored_field(d: Value, offset: int, ty: T.Type) -> Value | None:
    """The value the one store into field `offset` of descriptor alloca `d` put there (flang builds
    each descriptor it passes with one store per field; calls between may not be assumed to keep
    it, but the module's own entry points never write descriptors). None when not that simple."""
    if not (isinstance(d, Instruction) and d.opcode == "alloca"):
        return None
    found = []
    for u, slot in d.uses:
        if u.opcode == "store" and slot == 1:
            found.append((0, u))
        elif u.opcode == "getelementptr" and len(u.operands) == 2 and u.info.get("source_type") == T.i8:
            off = _const_int(u.operands[1])
            found += [(off, s) for s, sl in u.uses if s.opcode == "store" and sl == 1] if off is not None else []
    covering = [(off, st) for off, st in found if off is not None and off <= offset < off + _size(st.operands[0].type)]
    if len(covering) != 1:
        return None
    off, st = covering[0]
    v = st.operands[0]
    if v.type == ty and off == offset:
        return v
    if isinstance(v, Constant) and isinstance(v.type, T.VectorType) and v.type.elem == T.i8 and ty == T.i8:
        items = re.findall(r"i8 (-?\d+)", v.text)
        return Builder.iconst(T.i8, int(items[offset - off])) if len(items) == v.type.count else None
    return None


def _size(ty: T.Type) -> int:
    if isinstance(ty, T.VectorType):
        return ty.count * _size(ty.elem)
    if isinstance(ty, T.IntType):
        return max(1, ty.bits // 8)
    return 8


# --- step 2: when differentiating ----------------------------------------------------------------

@dataclass
class Actual:
    """One argument of the Fortran call: its descriptor and the fields step 1 loaded."""
    position: int
    desc: Value
    base: Value
    type_code: int | None
    rank: int | None

    @property
    def marker(self) -> str | None:
        return MARKERS.get(self.base.gname) if isinstance(self.base, GlobalRef) else None

    def describe(self) -> str:
        return f"argument {self.position}"


def lower(module, defer_unresolved: bool) -> int:
    """Replace each prepared call by an Enzyme call; returns how many were left for the link step."""
    left = 0
    for name in module.defined_function_names():
        if "__enzyme_fortran_" not in module.functions[name].text and module.functions[name].parsed is None:
            continue
        for inst in list(module.function(name).instructions()):
            m = PREPARED.fullmatch((inst.callee_name or "").strip('"')) if inst.opcode == "call" else None
            if m is None:
                continue
            if not _lower_call(module, inst, m.group(1), defer_unresolved):
                left += 1
    return left


def _actuals(inst: Instruction) -> list[Actual]:
    args = inst.args[1:]
    return [Actual(_const_int(args[i]), args[i + 1], args[i + 2], _const_int(args[i + 3]), _const_int(args[i + 4]))
            for i in range(0, len(args) - _GROUP + 1, _GROUP)]


def _const_int(v: Value) -> int | None:
    if isinstance(v, Constant) and re.fullmatch(r"-?\d+", v.text):
        return int(v.text)
    return None


def _target(module, inst: Instruction) -> tuple[str | None, Value | None]:
    """The procedure to differentiate and, for an internal procedure, its host link (`nest`)."""
    f = inst.args[0]
    if isinstance(f, GlobalRef):
        return f.gname, None
    if isinstance(f, Instruction) and f.opcode == "call" and (f.callee_name or "") == "llvm.adjust.trampoline":
        tramp = f.args[0]
        for u, _ in tramp.uses:
            if u.opcode == "call" and u.callee_name == "llvm.init.trampoline" and isinstance(u.args[1], GlobalRef):
                return u.args[1].gname, u.args[2]
    return None, None


def _lower_call(module, inst: Instruction, api: str, defer_unresolved: bool) -> bool:
    loc = location_of(module, inst)
    target, host = _target(module, inst)
    if target is None:
        raise CompileError(f"{api}: the procedure to differentiate must be named directly (not a procedure "
                           f"pointer or dummy procedure)", loc)
    if not module.is_defined(target):
        if defer_unresolved:
            return False
        raise CompileError(f"{api}: the definition of '{_fortran_name(target)}' is not available", loc)
    actuals = _actuals(inst)
    if any(a.position is None for a in actuals):
        raise CompileError(f"{api}: internal error reading the call's arguments", loc)
    tangent = next((a for a in actuals if a.position == TANGENT_POSITION), None)
    actuals = [a for a in actuals if a.position != TANGENT_POSITION]
    call = _Lowering(module, inst, api, target, loc)
    try:
        call.arguments(actuals, host)
    except _Unresolved:
        if defer_unresolved and reaches_undefined(module, target):
            return False
        raise
    call.emit(tangent)
    return True


class _Unresolved(CompileError):
    pass


def _fortran_name(symbol: str) -> str:
    """`_QMmodelPloss` -> `loss` (flang's mangling of module and internal procedures)."""
    m = re.search(r"P([a-z0-9_$]+)$", symbol.strip('"'))
    return m.group(1) if m and symbol.startswith(("_QM", "_QF", "_QP")) else symbol.strip('"')


class _Lowering:
    """The Enzyme call for one Fortran call, built argument by argument."""

    def __init__(self, module, inst: Instruction, api: str, target: str, loc):
        self.module, self.inst, self.api, self.target, self.loc = module, inst, api, target, loc
        self.fty = module.function_type_of(target)
        self.b = Builder(module).position_before(inst)
        self.args: list[Value] = [GlobalRef(target)]
        self.outs: list[tuple[T.Type, Value, bool]] = []   # (type, shadow address, accumulate)
        self.after: list = []                               # emitted after the call (copy-backs)

    def error(self, message: str, cls=CompileError) -> CompileError:
        return cls(f"{self.api} of '{_fortran_name(self.target)}': {message}", self.loc)

    def arguments(self, actuals: list[Actual], host: Value | None) -> None:
        params = list(self.fty.params)
        if host is not None:
            params = params[:-1]
        k = 0
        for index, pty in enumerate(params):
            if k >= len(actuals):
                raise self.error(f"it takes {len(params)} argument(s); the call gives {index}")
            activity = actuals[k].marker
            if activity is not None:
                k += 1
                if k >= len(actuals):
                    raise self.error(f"enzyme_{activity} must be followed by an argument")
            data = actuals[k]
            k += 1
            shadow = None
            if activity in ("dup", "dupnoneed", "out"):
                if k >= len(actuals) or actuals[k].marker is not None:
                    raise self.error(f"{data.describe()} needs a shadow after it (enzyme_{activity}, x, dx)")
                shadow = actuals[k]
                k += 1
                self._check_shadow(data, shadow)
            self._argument(index, pty, activity or "const", data, shadow)
        if k < len(actuals):
            raise self.error(f"it takes {len(params)} argument(s); the call gives more")
        if host is not None:
            self.args += [GlobalRef("enzyme_const"), host]

    def _check_shadow(self, data: Actual, shadow: Actual) -> None:
        if None in (data.type_code, shadow.type_code):
            return
        if data.type_code != shadow.type_code or data.rank != shadow.rank:
            raise self.error(f"the shadow of {data.describe()} is {_type_name(shadow)}, not {_type_name(data)}")

    def _argument(self, index: int, pty: T.Type, activity: str, data: Actual, shadow: Actual | None) -> None:
        conv = dummy_convention(self.module, self.target, index)
        if data.type_code == 42 and data.rank == 0 and conv in (Convention.DESCRIPTOR, Convention.UNKNOWN):
            conv = dummy_convention(self.module, self.target, index, scalar_object=True)
        if conv is Convention.UNKNOWN:
            raise self.error(f"cannot tell how it receives argument {index + 1} (it passes it on to code "
                             f"adcc cannot see)", _Unresolved)
        if activity != "const" and data.type_code is not None and data.type_code not in FLOAT_TYPES \
                and data.type_code not in COMPLEX_TYPES and data.type_code != 42:
            raise self.error(f"{data.describe()} is {_type_name(data)}: only REAL, COMPLEX and derived-type "
                             f"data can be enzyme_{activity}")
        if conv is Convention.VALUE:
            return self._value(pty, activity, data, shadow)
        if activity == "out":  # by reference: its shadow, zeroed, receives the adjoint
            self._zero_scalar(data, shadow)
            activity = "dup"
        marker = {"dup": "enzyme_dup", "dupnoneed": "enzyme_dupnoneed", "const": "enzyme_const"}[activity]
        self.args += [GlobalRef(marker), self._pass(conv, data)]
        if shadow is not None:
            self.args.append(self._pass(conv, shadow))

    def _pass(self, conv: Convention, a: Actual) -> Value:
        if conv is Convention.DESCRIPTOR or conv is Convention.UNUSED:
            return a.desc
        if a.rank == 0:
            return a.base
        address = self.b.call("adcc_fortran_arg_address", T.ptr, [a.desc])
        self.after.append(lambda b: b.call("adcc_fortran_arg_done", T.void, [a.desc, address]))
        return address

    def _scalar_type(self, a: Actual, pty: T.Type | None = None) -> T.Type:
        if a.type_code in FLOAT_TYPES:
            return FLOAT_TYPES[a.type_code]
        return pty if pty is not None else T.f64

    def _zero_scalar(self, data: Actual, shadow: Actual) -> None:
        if data.rank not in (0, None):
            raise self.error(f"enzyme_out applies to scalars; {data.describe()} is an array (use enzyme_dup)")
        ty = self._scalar_type(data)
        n = 2 if data.type_code in COMPLEX_TYPES else 1
        for c in range(n):
            p = shadow.base if c == 0 else self.b.byte_gep(shadow.base, ty.bits // 8)
            self.b.store(Builder.zero(ty), p)

    def _value(self, pty: T.Type, activity: str, data: Actual, shadow: Actual | None) -> None:
        if data.type_code is not None and data.type_code in FLOAT_TYPES and isinstance(pty, T.FloatType) \
                and FLOAT_TYPES[data.type_code] != pty:
            raise self.error(f"{data.describe()} is {_type_name(data)} but the procedure takes "
                             f"{_fortran_type(pty)} by value")
        value = self.b.load(pty, data.base)
        if activity == "const" or not isinstance(pty, T.FloatType):
            if activity != "const":
                raise self.error(f"{data.describe()}: only REAL values can be enzyme_{activity}")
            self.args += [GlobalRef("enzyme_const"), value]
            return
        if self.api == "fwddiff":
            if activity == "out":
                raise self.error("enzyme_out is for reverse mode (autodiff)")
            self.args += [value, self.b.load(pty, shadow.base)]
            return
        self.args += [GlobalRef("enzyme_out"), value]
        self.outs.append((pty, shadow.base, activity != "out"))

    def _module_variables(self) -> None:
        """Module variables the procedure reaches start each derivative with zero shadows (their
        derivatives stay inside the call): a descriptor's shadow gets data shaped like its primal's."""
        from adcc.ad.globals import shadow_of_global
        from adcc.analysis.activity import global_is_active
        module, seen, stack = self.module, {self.target}, [self.target]
        names: set[str] = set()
        while stack:
            for r in module.references(stack.pop()):
                if r in module.globals:
                    names.add(r)
                elif r not in seen and module.is_defined(r):
                    seen.add(r)
                    stack.append(r)
        for name in sorted(names):
            g = module.globals[name]
            if not global_is_active(module, name) or g.value_type is None:
                continue
            shadow = shadow_of_global(module, name)
            if _is_descriptor_type(module.resolve(g.value_type)):
                self.b.call("adcc_fortran_global_shadow", T.void, [GlobalRef(name), shadow])
            else:
                from adcc.ir.layout import alloc_size
                self.b.memset(shadow, 0, Builder.iconst(T.i64, alloc_size(module, g.value_type)))

    def emit(self, tangent: Actual | None) -> None:
        b, module = self.b, self.module
        self._module_variables()
        if self.api == "autodiff":
            fields = [t for t, _, _ in self.outs]
            ret = T.void if not fields else fields[0] if len(fields) == 1 else T.StructType(tuple(fields))
            name = module.unique_name("__enzyme_autodiff.fortran")
        else:
            ret = self.fty.ret
            name = module.unique_name("__enzyme_fwddiff.fortran")
        fnty = T.FunctionType(ret, (T.ptr,), True)
        module.ensure_declaration(name, fnty)
        call = b.call(name, ret, self.args, fnty=fnty)
        call.metadata = list(self.inst.metadata)
        if self.api == "autodiff":
            for k, (ty, address, accumulate) in enumerate(self.outs):
                d = call if len(self.outs) == 1 else b.extractvalue(call, k)
                b.store(b.fadd(b.load(ty, address), d) if accumulate else d, address)
        elif tangent is not None:
            if isinstance(ret, T.VoidType):
                raise self.error("tangent= is for functions; a subroutine's tangents are in its arguments' shadows")
            if tangent.type_code is not None and isinstance(ret, T.FloatType) and \
                    FLOAT_TYPES.get(tangent.type_code) not in (None, ret):
                raise self.error(f"tangent= is {_type_name(tangent)}, the result is {_fortran_type(ret)}")
            b.store(call, tangent.base)
        for emit_after in self.after:
            emit_after(b)
        self.inst.erase()


def _is_descriptor_type(ty: T.Type) -> bool:
    """flang's descriptor: {ptr, i64, i32, i8, i8, i8, i8, ...}."""
    head = (T.ptr, T.i64, T.i32, T.i8, T.i8, T.i8, T.i8)
    return isinstance(ty, T.StructType) and tuple(ty.elems[:7]) == head


def _fortran_type(ty: T.Type) -> str:
    return {T.f32: "REAL(4)", T.f64: "REAL(8)"}.get(ty, str(ty))


def _type_name(a: Actual) -> str:
    name = TYPE_NAMES.get(a.type_code, "data of another type")
    return name if not a.rank else f"a rank-{a.rank} array of {name}"
