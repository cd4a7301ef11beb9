"""LLVM types as frozen, hashable dataclasses; `str(t)` is the LLVM spelling.

Named (identified) struct types are referenced by name; their bodies live in
`Module.type_defs`.
"""
from __future__ import annotations

from dataclasses import dataclass


class Type:
    __slots__ = ()

    def is_float(self) -> bool:
        return False

    def is_float_or_float_vector(self) -> bool:
        return self.is_float()

    def scalar(self) -> "Type":
        return self


@dataclass(frozen=True, slots=True)
class IntType(Type):
    bits: int

    def __str__(self) -> str:
        return f"i{self.bits}"


FLOAT_KINDS = ("half", "bfloat", "float", "double", "x86_fp80", "fp128", "ppc_fp128")
FLOAT_BITS = {"half": 16, "bfloat": 16, "float": 32, "double": 64, "x86_fp80": 80,
              "fp128": 128, "ppc_fp128": 128}


@dataclass(frozen=True, slots=True)
class FloatType(Type):
    kind: str

    def __str__(self) -> str:
        return self.kind

    def is_float(self) -> bool:
        return True

    @property
    def bits(self) -> int:
        return FLOAT_BITS[self.kind]


@dataclass(frozen=True, slots=True)
class PointerType(Type):
    addrspace: int = 0

    def __str__(self) -> str:
        return "ptr" if self.addrspace == 0 else f"ptr addrspace({self.addrspace})"


@dataclass(frozen=True, slots=True)
class VoidType(Type):
    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True, slots=True)
class LabelType(Type):
    def __str__(self) -> str:
        return "label"


@dataclass(frozen=True, slots=True)
class MetadataType(Type):
    def __str__(self) -> str:
        return "metadata"


@dataclass(frozen=True, slots=True)
class TokenType(Type):
    def __str__(self) -> str:
        return "token"


@dataclass(frozen=True, slots=True)
class OpaqueType(Type):
    """A type adcc does not model (target types, x86_amx, ...): kept as text."""
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class VectorType(Type):
    count: int
    elem: Type
    scalable: bool = False

    def __str__(self) -> str:
        v = "vscale x " if self.scalable else ""
        return f"<{v}{self.count} x {self.elem}>"

    def is_float_or_float_vector(self) -> bool:
        return self.elem.is_float()

    def scalar(self) -> Type:
        return self.elem


@dataclass(frozen=True, slots=True)
class ArrayType(Type):
    count: int
    elem: Type

    def __str__(self) -> str:
        return f"[{self.count} x {self.elem}]"


@dataclass(frozen=True, slots=True)
class StructType(Type):
    elems: tuple[Type, ...]
    packed: bool = False

    def __str__(self) -> str:
        body = ", ".join(str(e) for e in self.elems)
        inner = f"{{ {body} }}" if body else "{}"
        return f"<{inner}>" if self.packed else inner


@dataclass(frozen=True, slots=True)
class NamedStructType(Type):
    name: str  # without the leading '%', quoted if needed

    def __str__(self) -> str:
        return f"%{self.name}"


@dataclass(frozen=True, slots=True)
class FunctionType(Type):
    ret: Type
    params: tuple[Type, ...]
    vararg: bool = False

    def __str__(self) -> str:
        ps = [str(p) for p in self.params]
        if self.vararg:
            ps.append("...")
        return f"{self.ret} ({', '.join(ps)})"


i1 = IntType(1)
i8 = IntType(8)
i16 = IntType(16)
i32 = IntType(32)
i64 = IntType(64)
f16 = FloatType("half")
f32 = FloatType("float")
f64 = FloatType("double")
f80 = FloatType("x86_fp80")
ptr = PointerType()
void = VoidType()
label = LabelType()
metadata = MetadataType()
token = TokenType()


def is_pointer(t: Type) -> bool:
    return isinstance(t, PointerType)


def is_pointer_or_pointer_vector(t: Type) -> bool:
    return isinstance(t, PointerType) or (isinstance(t, VectorType) and isinstance(t.elem, PointerType))
