"""Builder: creates instructions (with their print templates) at an insertion point."""
from __future__ import annotations

import math
import struct

from adcc.ir import types as T
from adcc.ir.values import Block, Constant, Function, GlobalRef, Instruction, Value

KEEP_ON_CLONE = ("tbaa", "tbaa.struct")


def float_text(ty: T.Type, x: float) -> str:
    """Exact LLVM spelling of a floating constant of scalar type `ty`."""
    kind = ty.kind  # type: ignore[attr-defined]
    if kind == "double":
        return "0x%016X" % struct.unpack("<Q", struct.pack("<d", x))[0]
    if kind == "float":
        y = struct.unpack("<f", _pack_rounded("<f", x))[0]
        return "0x%016X" % struct.unpack("<Q", struct.pack("<d", y))[0]
    if kind == "half":
        return "0xH%04X" % struct.unpack("<H", _pack_rounded("<e", x))[0]
    if kind == "bfloat":
        bits = struct.unpack("<I", _pack_rounded("<f", x))[0]
        if (bits & 0x7F800000) == 0x7F800000 and bits & 0x7FFFFF:  # NaN: keep it quiet
            return "0xR%04X" % ((bits >> 16) | 0x40)
        bits += 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
        return "0xR%04X" % ((bits >> 16) & 0xFFFF)
    if kind == "x86_fp80":
        return "0xK" + _fp80_hex(x)
    if kind in ("fp128",):
        return "0xL" + _fp128_hex(x)
    raise ValueError(f"no constant spelling for {kind}")


def _pack_rounded(fmt: str, x: float) -> bytes:
    """struct.pack that rounds out-of-range finite values to infinity, as LLVM does."""
    try:
        return struct.pack(fmt, x)
    except OverflowError:
        return struct.pack(fmt, math.copysign(math.inf, x))


def _fp80_hex(x: float) -> str:
    if x == 0.0:
        sign = 1 if math.copysign(1.0, x) < 0 else 0
        return "%04X%016X" % (sign << 15, 0)
    if math.isinf(x) or math.isnan(x):
        sign = 1 if x < 0 else 0
        mant = 0x8000000000000000 if math.isinf(x) else 0xC000000000000000
        return "%04X%016X" % ((sign << 15) | 0x7FFF, mant)
    sign = 1 if x < 0 else 0
    m, e = math.frexp(abs(x))  # abs(x) = m * 2**e, 0.5 <= m < 1
    mant = int(m * (1 << 64))  # exact: 53-bit mantissa
    exp = e - 1 + 16383
    return "%04X%016X" % ((sign << 15) | exp, mant)


def _fp128_hex(x: float) -> str:
    # fp128 hex form in LLVM is low 64 bits then high 64 bits
    if x == 0.0:
        sign = 1 if math.copysign(1.0, x) < 0 else 0
        return "%016X%016X" % (0, sign << 63)
    sign = 1 if x < 0 else 0
    m, e = math.frexp(abs(x))
    frac = int((m * 2 - 1) * (1 << 112))
    exp = e - 1 + 16383
    hi = (sign << 63) | (exp << 48) | (frac >> 64)
    lo = frac & ((1 << 64) - 1)
    return "%016X%016X" % (lo, hi)


class Builder:
    def __init__(self, module, function: Function | None = None):
        self.module = module
        self.function = function
        self.block: Block | None = None
        self.index: int | None = None  # insertion index in block; None = at end

    # --- positioning --------------------------------------------------------------
    def position_at_end(self, block: Block) -> "Builder":
        self.block = block
        self.function = block.function or self.function
        self.index = None
        return self

    def position_before(self, inst: Instruction) -> "Builder":
        self.block = inst.block
        self.function = inst.block.function or self.function
        self.index = inst.block.instructions.index(inst)
        return self

    def position_after_phis(self, block: Block) -> "Builder":
        self.block = block
        self.function = block.function or self.function
        self.index = block.first_non_phi_index()
        return self

    def insert(self, inst: Instruction) -> Instruction:
        assert self.block is not None, "builder has no insertion point"
        if self.index is None:
            self.block.append(inst)
        else:
            self.block.insert(self.index, inst)
            self.index += 1
        return inst

    def _emit(self, opcode: str, ty: T.Type, pieces: list, name: str | None = None,
              info: dict | None = None, metadata=None) -> Instruction:
        """`pieces`: str text or Value operands, concatenated into a template."""
        ops: list[Value] = []
        template: list = []
        for p in pieces:
            if isinstance(p, str):
                template.append(p)
            else:
                template.append(len(ops))
                ops.append(p)
        return self.insert(Instruction(opcode, ty, ops, template, name, metadata, info))

    # --- constants ----------------------------------------------------------------
    @staticmethod
    def fconst(ty: T.Type, value: float) -> Constant:
        if isinstance(ty, T.VectorType):
            return Constant(ty, f"splat ({ty.elem} {float_text(ty.elem, value)})")
        return Constant(ty, float_text(ty, value))

    @staticmethod
    def iconst(ty: T.Type, value: int) -> Constant:
        if isinstance(ty, T.VectorType):
            return Constant(ty, f"splat ({ty.elem} {value})")
        if ty == T.i1:
            return Constant(ty, "true" if value else "false")
        return Constant(ty, str(value))

    @staticmethod
    def zero(ty: T.Type) -> Constant:
        if isinstance(ty, (T.FloatType,)):
            return Builder.fconst(ty, 0.0)
        if isinstance(ty, T.IntType):
            return Builder.iconst(ty, 0)
        if isinstance(ty, T.PointerType):
            return Constant(ty, "null")
        return Constant(ty, "zeroinitializer")

    @staticmethod
    def poison(ty: T.Type) -> Constant:
        return Constant(ty, "poison")

    @staticmethod
    def null() -> Constant:
        return Constant(T.ptr, "null")

    # --- arithmetic ---------------------------------------------------------------
    def _bin(self, op: str, a: Value, b: Value, name=None, flags: str = "") -> Instruction:
        f = f" {flags}" if flags else ""
        return self._emit(op, a.type, [f"{op}{f} {a.type} ", a, ", ", b], name)

    def fadd(self, a, b, name=None, flags=""): return self._bin("fadd", a, b, name, flags)
    def fsub(self, a, b, name=None, flags=""): return self._bin("fsub", a, b, name, flags)
    def fmul(self, a, b, name=None, flags=""): return self._bin("fmul", a, b, name, flags)
    def fdiv(self, a, b, name=None, flags=""): return self._bin("fdiv", a, b, name, flags)
    def frem(self, a, b, name=None, flags=""): return self._bin("frem", a, b, name, flags)
    def add(self, a, b, name=None, flags=""): return self._bin("add", a, b, name, flags)
    def sub(self, a, b, name=None, flags=""): return self._bin("sub", a, b, name, flags)
    def mul(self, a, b, name=None, flags=""): return self._bin("mul", a, b, name, flags)
    def udiv(self, a, b, name=None): return self._bin("udiv", a, b, name)
    def urem(self, a, b, name=None): return self._bin("urem", a, b, name)
    def and_(self, a, b, name=None): return self._bin("and", a, b, name)
    def or_(self, a, b, name=None): return self._bin("or", a, b, name)
    def xor(self, a, b, name=None): return self._bin("xor", a, b, name)
    def shl(self, a, b, name=None): return self._bin("shl", a, b, name)
    def lshr(self, a, b, name=None): return self._bin("lshr", a, b, name)

    def fneg(self, a: Value, name=None) -> Instruction:
        return self._emit("fneg", a.type, [f"fneg {a.type} ", a], name)

    def fcmp(self, pred: str, a: Value, b: Value, name=None) -> Instruction:
        rt = T.VectorType(a.type.count, T.i1) if isinstance(a.type, T.VectorType) else T.i1
        return self._emit("fcmp", rt, [f"fcmp {pred} {a.type} ", a, ", ", b], name, {"predicate": pred})

    def icmp(self, pred: str, a: Value, b: Value, name=None) -> Instruction:
        rt = T.VectorType(a.type.count, T.i1) if isinstance(a.type, T.VectorType) else T.i1
        return self._emit("icmp", rt, [f"icmp {pred} {a.type} ", a, ", ", b], name, {"predicate": pred})

    def select(self, c: Value, a: Value, b: Value, name=None) -> Instruction:
        return self._emit("select", a.type, [f"select {c.type} ", c, f", {a.type} ", a, f", {b.type} ", b], name)

    def cast(self, op: str, v: Value, to: T.Type, name=None) -> Value:
        if v.type == to and op in ("bitcast", "fpext", "fptrunc", "zext", "sext", "trunc"):
            return v
        return self._emit(op, to, [f"{op} {v.type} ", v, f" to {to}"], name)

    def freeze(self, v: Value, name=None) -> Instruction:
        return self._emit("freeze", v.type, [f"freeze {v.type} ", v], name)

    # --- aggregates and vectors -----------------------------------------------------
    def extractvalue(self, agg: Value, indices, name=None) -> Instruction:
        from adcc.ir.parser import aggregate_member
        idx = (indices,) if isinstance(indices, int) else tuple(indices)
        ty = aggregate_member(self.module, agg.type, idx)
        return self._emit("extractvalue", ty, [f"extractvalue {agg.type} ", agg, ", " + ", ".join(map(str, idx))],
                          name, {"indices": idx})

    def insertvalue(self, agg: Value, v: Value, indices, name=None) -> Instruction:
        idx = (indices,) if isinstance(indices, int) else tuple(indices)
        return self._emit("insertvalue", agg.type, [f"insertvalue {agg.type} ", agg, f", {v.type} ", v,
                                                    ", " + ", ".join(map(str, idx))], name, {"indices": idx})

    def extractelement(self, vec: Value, index, name=None) -> Instruction:
        iv = self.iconst(T.i64, index) if isinstance(index, int) else index
        return self._emit("extractelement", vec.type.elem, [f"extractelement {vec.type} ", vec, f", {iv.type} ", iv], name)

    def insertelement(self, vec: Value, elem: Value, index, name=None) -> Instruction:
        iv = self.iconst(T.i64, index) if isinstance(index, int) else index
        return self._emit("insertelement", vec.type, [f"insertelement {vec.type} ", vec, f", {elem.type} ", elem,
                                                      f", {iv.type} ", iv], name)

    # --- memory -----------------------------------------------------------------------
    def load(self, ty: T.Type, p: Value, name=None, align: int | None = None, metadata=None) -> Instruction:
        a = f", align {align}" if align else ""
        return self._emit("load", ty, [f"load {ty}, {p.type} ", p, a], name, metadata=metadata)

    def atomic_load(self, ty: T.Type, p: Value, align: int, ordering: str = "monotonic") -> Instruction:
        return self._emit("load", ty, [f"load atomic {ty}, {p.type} ", p, f" {ordering}, align {align}"],
                          info={"atomic": True})

    def store(self, v: Value, p: Value, align: int | None = None, metadata=None) -> Instruction:
        a = f", align {align}" if align else ""
        return self._emit("store", T.void, [f"store {v.type} ", v, f", {p.type} ", p, a], metadata=metadata)

    def atomic_rmw(self, operation: str, p: Value, v: Value, align: int, ordering: str = "monotonic") -> Instruction:
        """`atomicrmw <operation> ptr p, v <ordering>` (fadd, fsub, add, xchg, ...); returns the old value."""
        return self._emit("atomicrmw", v.type, [f"atomicrmw {operation} ptr ", p, f", {v.type} ", v,
                                                f" {ordering}, align {align}"], info={"operation": operation})

    def gep(self, source_type: T.Type, base: Value, indices: list, name=None, inbounds: bool = False) -> Instruction:
        pieces: list = [f"getelementptr {'inbounds ' if inbounds else ''}{source_type}, {base.type} ", base]
        for ix in indices:
            iv = self.iconst(T.i64, ix) if isinstance(ix, int) else ix
            pieces += [f", {iv.type} ", iv]
        return self._emit("getelementptr", base.type, pieces, name,
                          {"source_type": source_type, "flags": ("inbounds",) if inbounds else ()})

    def byte_gep(self, base: Value, offset, name=None) -> Instruction:
        return self.gep(T.i8, base, [offset], name)

    def alloca(self, ty: T.Type, count: Value | None = None, name=None, align: int | None = None) -> Instruction:
        pieces: list = [f"alloca {ty}"]
        if count is not None:
            pieces += [f", {count.type} ", count]
        if align:
            pieces.append(f", align {align}")
        return self._emit("alloca", T.ptr, pieces, name, {"alloc_type": ty})

    def alloca_in_entry(self, ty: T.Type, name=None, align: int | None = None) -> Instruction:
        saved = (self.block, self.index)
        fn = self.function
        self.position_before(fn.entry.instructions[0]) if fn.entry.instructions else self.position_at_end(fn.entry)
        self.index = 0
        a = self.alloca(ty, None, name, align)
        self.block, self.index = saved
        if self.block is fn.entry and self.index is not None:
            self.index += 1
        return a

    # --- calls ------------------------------------------------------------------------
    def call(self, callee, ret_type: T.Type, args: list[Value], name=None,
             fnty: T.FunctionType | None = None, declare: bool = True, attrs: str = "",
             arg_attrs: list[str] | None = None) -> Instruction:
        """Call a function by name (declared automatically) or through a pointer Value;
        `arg_attrs`: parameter attributes per argument (`sret(%T)`, `byval(%T)`)."""
        if fnty is None:
            fnty = T.FunctionType(ret_type, tuple(a.type for a in args), False)
        if isinstance(callee, str):
            if declare and self.module is not None:
                self.module.ensure_declaration(callee, fnty)
            callee_v: Value = GlobalRef(callee)
        elif isinstance(callee, Function):
            callee_v = GlobalRef(callee.fname)
        else:
            callee_v = callee
        head = f"call {fnty}" if fnty.vararg else f"call {ret_type}"
        pieces: list = [head + " ", callee_v, "("]
        for k, a in enumerate(args):
            extra = arg_attrs[k] + " " if arg_attrs and k < len(arg_attrs) and arg_attrs[k] else ""
            pieces += [(", " if k else "") + f"{a.type} {extra}", a]
        pieces.append(")" + (f" {attrs}" if attrs else ""))
        rt = ret_type
        return self._emit("call", rt, pieces, None if isinstance(rt, T.VoidType) else name,
                          {"callee_slot": 0, "nargs": len(args), "fn_type": fnty})

    def memset(self, p: Value, byte: int, nbytes: Value) -> Instruction:
        name = f"llvm.memset.p0.{nbytes.type}"
        fnty = T.FunctionType(T.void, (T.ptr, T.i8, nbytes.type, T.i1))
        return self.call(name, T.void, [p, self.iconst(T.i8, byte), nbytes, self.iconst(T.i1, 0)], fnty=fnty)

    def memcpy(self, dst: Value, src: Value, nbytes: Value) -> Instruction:
        name = f"llvm.memcpy.p0.p0.{nbytes.type}"
        fnty = T.FunctionType(T.void, (T.ptr, T.ptr, nbytes.type, T.i1))
        return self.call(name, T.void, [dst, src, nbytes, self.iconst(T.i1, 0)], fnty=fnty)

    # --- control flow -------------------------------------------------------------------
    def phi(self, ty: T.Type, incoming: list[tuple[Value, Block]] | None = None, name=None) -> Instruction:
        pieces: list = [f"phi {ty} "]
        for k, (v, b) in enumerate(incoming or []):
            pieces += [(", " if k else "") + "[ ", v, ", ", b, " ]"]
        return self._emit("phi", ty, pieces, name)

    def br(self, target: Block) -> Instruction:
        return self._emit("br", T.void, ["br label ", target])

    def cond_br(self, c: Value, t: Block, f: Block) -> Instruction:
        return self._emit("br", T.void, ["br i1 ", c, ", label ", t, ", label ", f])

    def switch(self, v: Value, default: Block, cases: list[tuple[int, Block]]) -> Instruction:
        pieces: list = [f"switch {v.type} ", v, ", label ", default, " ["]
        for val, b in cases:
            pieces += [f" {v.type} {val}, label ", b]
        pieces.append(" ]")
        return self._emit("switch", T.void, pieces)

    def ret(self, v: Value | None = None) -> Instruction:
        if v is None:
            return self._emit("ret", T.void, ["ret void"])
        return self._emit("ret", T.void, [f"ret {v.type} ", v])

    def unreachable(self) -> Instruction:
        return self._emit("unreachable", T.void, ["unreachable"])

    # --- cloning ------------------------------------------------------------------------
    def clone(self, inst: Instruction, operands: list[Value], keep_metadata=KEEP_ON_CLONE,
              name: str | None = None) -> Instruction:
        """Copy `inst` with new operands (same template, flags and attributes)."""
        md = [(k, v) for k, v in inst.metadata if k in keep_metadata]
        nm = inst.name if name is None else (name or None)
        new = Instruction(inst.opcode, inst.type, operands, list(inst.template), nm, md, dict(inst.info))
        return self.insert(new)


def add_incoming(phi: Instruction, v: Value, b: Block) -> None:
    """Append an incoming pair to a phi created by the builder."""
    k = len(phi.operands)
    sep = ", " if k else ""
    phi.template += [f"{sep}[ ", k, ", ", k + 1, " ]"]
    phi.operands += [v, b]
    v.uses.append((phi, k))
    b.uses.append((phi, k + 1))
