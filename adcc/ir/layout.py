"""x86-64 System V data layout (`e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128`).

Sizes are in bytes. `store_size` is what a load/store touches, `alloc_size` (= `size_of`)
is the stride between array elements and what `alloca`/`sizeof` reserve.
"""
from __future__ import annotations

import re
import weakref
from functools import lru_cache

from adcc.ir import types as T
from adcc.ir.values import Constant, Value

_INT_ALIGN = ((8, 1), (16, 2), (32, 4), (64, 8), (128, 16))  # (bits, ABI alignment)
_FLOAT_LAYOUT = {  # kind: (store size, alignment)
    "half": (2, 2), "bfloat": (2, 2), "float": (4, 4), "double": (8, 8),
    "x86_fp80": (10, 16), "fp128": (16, 16), "ppc_fp128": (16, 16),
}
_SMALL_POINTER_SPACES = (270, 271)  # 32-bit pointers (mixed-mode x86)


class LayoutError(ValueError):
    pass


def _round_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _int_align(bits: int) -> int:
    for b, a in _INT_ALIGN:
        if bits <= b:
            return a
    return _INT_ALIGN[-1][1]


def _resolve(module, ty: T.Type) -> T.Type:
    if isinstance(ty, T.NamedStructType):
        if module is None:
            raise LayoutError(f"named type {ty} needs a module")
        return module.resolve(ty)
    return ty


def _bits(module, ty: T.Type) -> int:
    """Size in bits without padding (LLVM's getTypeSizeInBits)."""
    ty = _resolve(module, ty)
    if isinstance(ty, T.IntType):
        return ty.bits
    if isinstance(ty, T.FloatType):
        return ty.bits
    if isinstance(ty, T.PointerType):
        return 32 if ty.addrspace in _SMALL_POINTER_SPACES else 64
    if isinstance(ty, T.VectorType):
        if ty.scalable:
            raise LayoutError(f"scalable vector {ty} has no fixed size")
        return ty.count * _bits(module, ty.elem)
    if isinstance(ty, (T.ArrayType, T.StructType)):
        return 8 * alloc_size(module, ty)
    raise LayoutError(f"type {ty} has no size")


def store_size(module, ty: T.Type) -> int:
    """Bytes written by a store of `ty` (x86_fp80: 10)."""
    ty = _resolve(module, ty)
    if isinstance(ty, T.FloatType):
        return _FLOAT_LAYOUT[ty.kind][0]
    if isinstance(ty, (T.ArrayType, T.StructType)):
        return alloc_size(module, ty)
    return (_bits(module, ty) + 7) // 8


def alloc_size(module, ty: T.Type) -> int:
    """Bytes between consecutive elements of an array of `ty` (x86_fp80: 16)."""
    ty = _resolve(module, ty)
    if isinstance(ty, T.ArrayType):
        return ty.count * alloc_size(module, ty.elem)
    if isinstance(ty, T.StructType):
        return _struct_layout(module, ty)[0]
    return _round_up(store_size(module, ty), align_of(module, ty))


size_of = alloc_size


def align_of(module, ty: T.Type) -> int:
    """ABI alignment in bytes."""
    ty = _resolve(module, ty)
    if isinstance(ty, T.IntType):
        return _int_align(ty.bits)
    if isinstance(ty, T.FloatType):
        return _FLOAT_LAYOUT[ty.kind][1]
    if isinstance(ty, T.PointerType):
        return 4 if ty.addrspace in _SMALL_POINTER_SPACES else 8
    if isinstance(ty, T.VectorType):
        n = max(1, (_bits(module, ty) + 7) // 8)
        return 1 << (n - 1).bit_length()
    if isinstance(ty, T.ArrayType):
        return align_of(module, ty.elem)
    if isinstance(ty, T.StructType):
        return _struct_layout(module, ty)[1]
    raise LayoutError(f"type {ty} has no alignment")


def access_alignment(module, inst) -> int:
    """The alignment a load, store or alloca claims: its `align N`, else its type's ABI alignment."""
    written = inst.alignment
    if written is not None:
        return written
    if inst.opcode == "alloca":
        return align_of(module, inst.info["alloc_type"])
    return align_of(module, inst.operands[0].type if inst.opcode == "store" else inst.type)


_MODULE_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _struct_layout(module, ty: T.StructType) -> tuple[int, int, tuple[int, ...]]:
    """(alloc size, alignment, field offsets); cached per module (named bodies may differ)."""
    if module is None:
        return _struct_layout_cached(ty)
    cache = _MODULE_CACHE.get(module)
    if cache is None:
        cache = _MODULE_CACHE[module] = {}
    r = cache.get(ty)
    if r is None:
        r = cache[ty] = _layout_uncached(module, ty)
    return r


@lru_cache(maxsize=4096)
def _struct_layout_cached(ty: T.StructType):
    return _layout_uncached(None, ty)


def _layout_uncached(module, ty: T.StructType):
    offset = 0
    align = 1
    offsets = []
    for e in ty.elems:
        a = 1 if ty.packed else align_of(module, e)
        offset = _round_up(offset, a)
        offsets.append(offset)
        offset += alloc_size(module, e)
        align = max(align, a)
    return _round_up(offset, align), align, tuple(offsets)


def struct_offsets(module, ty: T.Type) -> tuple[int, ...]:
    """Byte offset of every field of a (named or literal) struct type."""
    st = _resolve(module, ty)
    if not isinstance(st, T.StructType):
        raise LayoutError(f"{ty} is not a struct type")
    return _struct_layout(module, st)[2]


def constant_int(v) -> int | None:
    """The value of an integer index given as int or as an integer `Constant`, else None."""
    if isinstance(v, int):
        return v
    if isinstance(v, Constant) and isinstance(v.type, T.IntType):
        t = v.text
        if t == "true":
            return 1 if v.type.bits > 1 else -1
        if t in ("false", "0", "zeroinitializer", "null"):
            return 0
        try:
            return int(t)
        except ValueError:
            return None
    return None


def gep_offset(module, source_type: T.Type, indices: list) -> int | None:
    """Constant byte offset of `getelementptr source_type, base, indices...`, or None when
    an index is not a constant integer."""
    if not indices:
        return 0
    first = constant_int(indices[0])
    if first is None:
        return None
    offset = first * alloc_size(module, source_type)
    ty = source_type
    for ix in indices[1:]:
        k = constant_int(ix)
        if k is None:
            return None
        ty = _resolve(module, ty)
        if isinstance(ty, T.StructType):
            offset += _struct_layout(module, ty)[2][k]
            ty = ty.elems[k]
        elif isinstance(ty, (T.ArrayType, T.VectorType)):
            ty = ty.elem
            offset += k * alloc_size(module, ty)
        else:
            raise LayoutError(f"cannot index into {ty}")
    return offset


def gep_instruction_offset(module, inst) -> int | None:
    """`gep_offset` of a parsed getelementptr instruction (operands [base, idx...])."""
    return gep_offset(module, inst.info["source_type"], inst.operands[1:])


def gep_strides(module, source_type: T.Type, indices: list) -> tuple[int, list[tuple[Value, int]]] | None:
    """Split a GEP into a constant offset and (variable index, stride in bytes) pairs.
    None when a struct index is not constant (not valid IR)."""
    const = 0
    var: list[tuple[Value, int]] = []
    ty = source_type
    for pos, ix in enumerate(indices):
        if pos == 0:
            stride = alloc_size(module, source_type)
        else:
            ty = _resolve(module, ty)
            if isinstance(ty, T.StructType):
                k = constant_int(ix)
                if k is None:
                    return None
                const += _struct_layout(module, ty)[2][k]
                ty = ty.elems[k]
                continue
            if not isinstance(ty, (T.ArrayType, T.VectorType)):
                raise LayoutError(f"cannot index into {ty}")
            ty = ty.elem
            stride = alloc_size(module, ty)
        k = constant_int(ix)
        if k is None:
            var.append((ix, stride))
        else:
            const += k * stride
    return const, var


def shuffle_mask(mask: Value, count: int) -> list[int | None]:
    """The lanes of a shufflevector mask constant (None for poison/undef lanes)."""
    text = mask.text if isinstance(mask, Constant) else ""
    if text in ("zeroinitializer",):
        return [0] * count
    if text in ("poison", "undef"):
        return [None] * count
    if text.startswith("splat"):
        m = re.search(r"i32 (-?\d+)", text)
        return [int(m.group(1))] * count if m else [None] * count
    out: list[int | None] = []
    for part in text.strip("<>").split(","):
        part = part.strip()
        val = part.split()[-1]
        out.append(None if val in ("poison", "undef") else int(val))
    return out
