"""Tape records: what a block's reverse needs, laid out as one 16-byte-aligned tape block.

Design (v1): every executed block whose reverse needs primal values, shadows or
the identity of its predecessor pushes one record at its end; the reverse pass
pops records in LIFO order. This is exact for any control flow, loops of unknown
trip count, calls and recursion. Values of the same block are read back from its
record, so nothing is recomputed across blocks yet (see issue #5 for the
cache-or-recompute work).
"""
from __future__ import annotations

from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Value

TAPE_TYPE = T.StructType((T.ptr, T.i64, T.i64))

TAPE_HELPERS = """
define internal ptr @adcc.tape.push(ptr %t, i64 %n) alwaysinline nounwind {
  %topp = getelementptr inbounds i8, ptr %t, i64 8
  %top = load i64, ptr %topp, align 8
  %capp = getelementptr inbounds i8, ptr %t, i64 16
  %cap = load i64, ptr %capp, align 8
  %nt = add i64 %top, %n
  %ok = icmp ule i64 %nt, %cap
  br i1 %ok, label %fast, label %slow
fast:
  %base = load ptr, ptr %t, align 8
  %p = getelementptr inbounds i8, ptr %base, i64 %top
  store i64 %nt, ptr %topp, align 8
  ret ptr %p
slow:
  %q = call ptr @adcc_tape_grow(ptr %t, i64 %n)
  ret ptr %q
}

define internal ptr @adcc.tape.pop(ptr %t, i64 %n) alwaysinline nounwind {
  %topp = getelementptr inbounds i8, ptr %t, i64 8
  %top = load i64, ptr %topp, align 8
  %nt = sub i64 %top, %n
  store i64 %nt, ptr %topp, align 8
  %base = load ptr, ptr %t, align 8
  %p = getelementptr inbounds i8, ptr %base, i64 %nt
  ret ptr %p
}

define internal void @adcc.adjoint.copy.f64(ptr %dd, ptr %ds, i64 %n) nounwind {
entry:
  %cnt = lshr i64 %n, 3
  %z = icmp eq i64 %cnt, 0
  br i1 %z, label %done, label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i1, %loop ]
  %pd = getelementptr inbounds double, ptr %dd, i64 %i
  %ps = getelementptr inbounds double, ptr %ds, i64 %i
  %vd = load double, ptr %pd, align 8
  store double 0.0, ptr %pd, align 8
  %vs = load double, ptr %ps, align 8
  %a = fadd double %vs, %vd
  store double %a, ptr %ps, align 8
  %i1 = add i64 %i, 1
  %c = icmp eq i64 %i1, %cnt
  br i1 %c, label %done, label %loop
done:
  ret void
}

define internal void @adcc.adjoint.copy.f32(ptr %dd, ptr %ds, i64 %n) nounwind {
entry:
  %cnt = lshr i64 %n, 2
  %z = icmp eq i64 %cnt, 0
  br i1 %z, label %done, label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i1, %loop ]
  %pd = getelementptr inbounds float, ptr %dd, i64 %i
  %ps = getelementptr inbounds float, ptr %ds, i64 %i
  %vd = load float, ptr %pd, align 4
  store float 0.0, ptr %pd, align 4
  %vs = load float, ptr %ps, align 4
  %a = fadd float %vs, %vd
  store float %a, ptr %ps, align 4
  %i1 = add i64 %i, 1
  %c = icmp eq i64 %i1, %cnt
  br i1 %c, label %done, label %loop
done:
  ret void
}
"""


def ensure_tape_helpers(module) -> None:
    if "adcc.tape.push" in module.functions:
        return
    from adcc.ir.module import FunctionEntry
    from adcc.ir import types as TT
    module.ensure_declaration("adcc_tape_grow", TT.FunctionType(TT.ptr, (TT.ptr, TT.i64)))
    module.ensure_declaration("adcc_tape_free", TT.FunctionType(TT.void, (TT.ptr,)))
    module.add_text(TAPE_HELPERS)
    for name in ("adcc.tape.push", "adcc.tape.pop", "adcc.adjoint.copy.f64", "adcc.adjoint.copy.f32"):
        module.functions[name] = FunctionEntry(name, "", False)  # name reserved; body is in the text


def store_size(ty: T.Type) -> int:
    if isinstance(ty, T.IntType):
        n = max(1, (ty.bits + 7) // 8)
        p = 1
        while p < n:
            p *= 2
        return p
    if isinstance(ty, T.FloatType):
        return {"half": 2, "bfloat": 2, "float": 4, "double": 8, "x86_fp80": 16, "fp128": 16, "ppc_fp128": 16}[ty.kind]
    if isinstance(ty, T.PointerType):
        return 8
    if isinstance(ty, T.VectorType):
        return ty.count * store_size(ty.elem)
    if isinstance(ty, T.ArrayType):
        return ty.count * store_size(ty.elem)
    if isinstance(ty, T.StructType):
        off = 0
        for e in ty.elems:
            a = min(8, store_size(e))
            off = (off + a - 1) // a * a + store_size(e)
        return (off + 7) // 8 * 8
    raise ValueError(f"cannot size {ty}")


class RecordLayout:
    """Byte offsets of a record's fields (largest first), total size rounded to 16."""

    def __init__(self, types: list[T.Type]):
        order = sorted(range(len(types)), key=lambda k: -min(8, store_size(types[k])))
        self.offsets = [0] * len(types)
        off = 0
        for k in order:
            sz = store_size(types[k])
            a = min(8, sz) if sz & (sz - 1) == 0 else 8
            off = (off + a - 1) // a * a
            self.offsets[k] = off
            off += sz
        self.size = (off + 15) // 16 * 16
        self.types = types

    def align(self, k: int) -> int:
        sz = store_size(self.types[k])
        return min(8, sz) if sz & (sz - 1) == 0 else 8

    def push(self, b: Builder, tape: Value, values: list[Value]) -> None:
        if not self.types:
            return
        p = b.call("adcc.tape.push", T.ptr, [tape, b.iconst(T.i64, self.size)], declare=False)
        for k, v in enumerate(values):
            q = b.byte_gep(p, self.offsets[k]) if self.offsets[k] else p
            b.store(v, q, align=self.align(k))

    def pop(self, b: Builder, tape: Value) -> list[Value]:
        if not self.types:
            return []
        p = b.call("adcc.tape.pop", T.ptr, [tape, b.iconst(T.i64, self.size)], declare=False)
        out = []
        for k, ty in enumerate(self.types):
            q = b.byte_gep(p, self.offsets[k]) if self.offsets[k] else p
            out.append(b.load(ty, q, align=self.align(k)))
        return out
