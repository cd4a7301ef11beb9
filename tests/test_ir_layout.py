"""adcc.ir.layout against LLVM's own x86-64 data layout (via llvmlite) and a few
hand-checked C layouts."""
from __future__ import annotations

import pytest

from adcc.ir import parse_module
from adcc.ir import types as T
from adcc.ir.layout import (LayoutError, align_of, alloc_size, gep_offset, gep_strides, size_of,
                            store_size, struct_offsets)
from adcc.ir.values import Constant, Value

llvm = pytest.importorskip("llvmlite.binding")

DL = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
TYPES = [
    "i1", "i8", "i16", "i24", "i32", "i48", "i64", "i128", "i256",
    "half", "bfloat", "float", "double", "x86_fp80", "fp128",
    "ptr", "ptr addrspace(270)",
    "<2 x double>", "<3 x float>", "<4 x i32>", "<8 x i1>", "<3 x i8>", "<2 x x86_fp80>",
    "[3 x x86_fp80]", "[0 x double]", "[5 x { i8, double }]",
    "{ double, i32, ptr }", "{ i8, x86_fp80, i16 }", "<{ i8, double, i16 }>", "{}",
    "{ [3 x i8], { i32, i8 }, <2 x float> }", "%struct.node", "{ %struct.node, i8 }",
]
DEFS = "%struct.node = type { double, i32, ptr, [2 x %struct.inner] }\n%struct.inner = type { i8, float }\n"


@pytest.fixture(scope="module")
def llvm_layout():
    text = DEFS + "".join(f"@g{k} = external global {t}\n" for k, t in enumerate(TYPES))
    mod = llvm.parse_assembly(text, llvm.create_context())
    td = llvm.create_target_data(DL)
    return mod, td


def _parse_type(module, text):
    from adcc.ir.parser import LineParser
    return LineParser(text, None).parse_type()


@pytest.mark.parametrize("k", range(len(TYPES)), ids=TYPES)
def test_size_and_alignment_match_llvm(llvm_layout, k):
    mod, td = llvm_layout
    m = parse_module(DEFS)
    ty = _parse_type(m, TYPES[k])
    lt = mod.get_global_variable(f"g{k}").global_value_type
    assert alloc_size(m, ty) == td.get_abi_size(lt)
    assert align_of(m, ty) == td.get_abi_alignment(lt)
    st = m.resolve(ty)
    if isinstance(st, T.StructType):
        for i, off in enumerate(struct_offsets(m, ty)):
            assert off == td.get_element_offset(lt, i)


def test_store_size_vs_alloc_size():
    assert store_size(None, T.f80) == 10 and alloc_size(None, T.f80) == 16
    assert store_size(None, T.IntType(24)) == 3 and alloc_size(None, T.IntType(24)) == 4
    assert store_size(None, T.IntType(1)) == 1
    assert store_size(None, T.VectorType(3, T.f32)) == 12 and alloc_size(None, T.VectorType(3, T.f32)) == 16
    assert size_of(None, T.f64) == 8


def test_c_struct_layout():
    # struct { double d; int i; double *p; } : offsets 0, 8, 16; size 24
    st = T.StructType((T.f64, T.i32, T.ptr))
    assert struct_offsets(None, st) == (0, 8, 16) and size_of(None, st) == 24
    packed = T.StructType((T.i8, T.f64), packed=True)
    assert struct_offsets(None, packed) == (0, 1) and align_of(None, packed) == 1


def test_gep_offset_constant_and_variable():
    m = parse_module(DEFS)
    node = T.NamedStructType("struct.node")
    # &nodes[1].arr[1].f  -> 1*48 + 24 + 1*8 + 4
    assert size_of(m, node) == 40
    assert gep_offset(m, node, [1, 3, 1, 1]) == 40 + 24 + 8 + 4
    assert gep_offset(m, T.i8, [Constant(T.i64, "-16")]) == -16
    assert gep_offset(m, T.f64, []) == 0
    var = Value(T.i64, "i")
    assert gep_offset(m, T.f64, [var]) is None
    assert gep_offset(m, node, [0, 3, var]) is None
    const, parts = gep_strides(m, node, [var, 3, Constant(T.i32, "1"), 1])
    assert const == 24 + 8 + 4 and parts == [(var, 40)]
    with pytest.raises(LayoutError):
        gep_offset(m, T.f64, [0, 1])


def test_scalable_vector_has_no_size():
    with pytest.raises(LayoutError):
        size_of(None, T.VectorType(2, T.f64, scalable=True))
