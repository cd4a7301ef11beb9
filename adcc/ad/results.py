"""Hand a derivative's results to the program as the `__enzyme_*` call declared them.

The results (primal first with enzyme_primal_return, then the tangents or the adjoints of the
enzyme_out arguments) are laid out as Enzyme lays them out: in order, as the fields of one
struct, which the program may declare with any type of that layout (a struct, an array, a
vector, clang's coerced `{<2 x float>, float}`, or memory behind a hidden sret pointer).
"""
from __future__ import annotations

from adcc.ad.callsite import CallSite, sret_type
from adcc.ad.common import convert, zero_of
from adcc.ad.srcloc import location_of
from adcc.analysis.spec import Mode
from adcc.diagnostics import CompileError
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Value


def deliver(b: Builder, site: CallSite, values: list[Value]) -> None:
    """Hand the derivatives to the program as the __enzyme_* call declared them, then drop it."""
    if site.sret is not None:
        if not _written_in_place(site):
            _store_results(b, site, site.sret, _sret_type(b.module, site), values)
        _replace(site, None)
    else:
        _replace(site, _shape_result(b, site, values))


def _written_in_place(site: CallSite) -> bool:
    """Forward mode of a struct-returning f: the derivative wrote into the call's result memory."""
    ts = site.target_sret
    return site.mode is Mode.FORWARD and ts is not None and (ts.shadow is not None or ts.primal_in_result)


def _shape_result(b: Builder, site: CallSite, values: list[Value]) -> Value | None:
    """Fit derivative values to the declared return type of the __enzyme_* call."""
    rt = site.result_type
    if isinstance(rt, T.VoidType):
        return None
    module = b.module
    rt_res = module.resolve(rt)
    if not values:
        return zero_of(rt)  # a lenient declaration (`int __enzyme_autodiff` of a void function)
    if len(values) == 1 and module.resolve(values[0].type) == rt_res:
        return values[0]
    if (rt_res.is_float() or isinstance(rt_res, T.PointerType)) and _fits(module, values[0].type, rt_res):
        return convert(b, values[0], rt_res)  # the first result (a split tape: `void *`), as Enzyme does
    if isinstance(rt_res, (T.StructType, T.ArrayType, T.VectorType)):
        memory = b.alloca_in_entry(rt, align=16)
        _store_results(b, site, memory, rt, values)
        return b.load(rt, memory)
    raise CompileError(f"the result of {_api_name(site)} is declared as '{rt}', which cannot hold the derivative "
                       f"({', '.join(str(v.type) for v in values)})", location_of(module, site.inst))


def _store_results(b: Builder, site: CallSite, memory: Value, ty: T.Type | None, values: list[Value]) -> None:
    """Store the results' scalars, in order, into the scalar slots of `ty` at `memory`."""
    module = b.module
    flat = _flatten(b, values)
    if ty is None:  # an sret of unknown type: consecutive 8-byte slots
        slots = [(v.type, 8 * k) for k, v in enumerate(flat)]
    else:
        slots = _leaves(module, ty, 0)
        b.store(zero_of(ty), memory)
    if len(flat) > len(slots):
        raise CompileError(f"the result of {_api_name(site)} is declared as '{ty}', which has room for "
                           f"{len(slots)} value(s); the call returns {len(flat)}", location_of(module, site.inst))
    for (ety, off), v in zip(slots, flat):
        if not _fits(module, v.type, ety):
            raise CompileError(f"the result of {_api_name(site)} is declared as '{ty}', which holds {ety} where "
                               f"the call returns {v.type}", location_of(module, site.inst))
        p = b.byte_gep(memory, off) if off else memory
        b.store(convert(b, v, ety) if v.type != ety else v, p)


def _fits(module, have: T.Type, slot: T.Type) -> bool:
    """A result converts into a declared slot of the same kind (float widths change)."""
    have, slot = module.resolve(have), module.resolve(slot)
    return have == slot or any(isinstance(have, c) and isinstance(slot, c)
                               for c in (T.FloatType, T.IntType, T.PointerType))


def _sret_type(module, site: CallSite) -> T.Type | None:
    return sret_type(module, site.inst.info.get("arg_attrs", [""])[0])


def _api_name(site: CallSite) -> str:
    return f"__enzyme_{site.api}"


def _leaves(module, ty: T.Type, base: int) -> list[tuple[T.Type, int]]:
    """Scalar members of an aggregate or vector type with their byte offsets."""
    ty = module.resolve(ty)
    if isinstance(ty, T.StructType):
        out = []
        for ety, off in zip(ty.elems, layout.struct_offsets(module, ty)):
            out.extend(_leaves(module, ety, base + off))
        return out
    if isinstance(ty, (T.ArrayType, T.VectorType)):
        step = layout.alloc_size(module, ty.elem)
        out = []
        for i in range(ty.count):
            out.extend(_leaves(module, ty.elem, base + i * step))
        return out
    return [(ty, base)]


def _flatten(b: Builder, values: list[Value]) -> list[Value]:
    """Scalars of the results in order (struct, array and vector results are taken apart)."""
    out: list[Value] = []
    for v in values:
        ty = b.module.resolve(v.type)
        if isinstance(ty, T.StructType):
            for k in range(len(ty.elems)):
                out.extend(_flatten(b, [b.extractvalue(v, k)]))
        elif isinstance(ty, T.ArrayType):
            for k in range(ty.count):
                out.extend(_flatten(b, [b.extractvalue(v, k)]))
        elif isinstance(ty, T.VectorType):
            out.extend(b.extractelement(v, k) for k in range(ty.count))
        else:
            out.append(v)
    return out


def _replace(site: CallSite, result: Value | None) -> None:
    inst = site.inst
    if inst.opcode == "invoke":
        # the derivative call cannot throw: continue at the normal destination
        normal, unwind = inst.operands[-2], inst.operands[-1]
        if any(src is inst.block for p in unwind.phis() for _, src in p.incoming()):
            raise CompileError("unsupported: __enzyme_* invoked with an unwind destination that has phis")
        Builder(None).position_before(inst).br(normal)
    if inst.uses:
        inst.replace_all_uses_with(result if result is not None else Constant(inst.type, "poison"))
    inst.erase()
