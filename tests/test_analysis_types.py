"""Type analysis on tests/data/ir/types.ll: only the facts that matter are checked."""
from __future__ import annotations

import os
import time

import pytest

from adcc.analysis import format_types
from adcc.analysis.types import (Anything, Conflict, Float, Integer, Pointer, TypeAnalysis, TypeTree,
                                 Unknown, analyze_types, join)
from adcc.ir import parse_module

DATA = os.path.join(os.path.dirname(__file__), "data", "ir")
DOUBLE = Float("double")


@pytest.fixture(scope="module")
def module():
    with open(os.path.join(DATA, "types.ll")) as f:
        return parse_module(f.read())


def analyze(module, name, arg_trees=None):
    fn = module.function(name)
    ta = TypeAnalysis(module, fn, arg_trees)
    values = {v.name: v for v in list(fn.args) + list(fn.instructions()) if v.name}
    return ta, fn, values


def test_join_lattice():
    assert join(Unknown, DOUBLE) == DOUBLE and join(Anything, Integer) is Integer
    assert join(DOUBLE, Float("double")) == DOUBLE
    assert join(DOUBLE, Integer) is Conflict and join(Float("float"), DOUBLE) is Conflict
    assert join(Conflict, Unknown) is Conflict


def test_double_copied_through_i64(module):
    ta, fn, v = analyze(module, "i64_copy")
    assert ta.scalar_kind(v["bits"]) == DOUBLE
    assert ta.memory_kind(v["src"], 0, 8) == DOUBLE
    assert ta.value_tree(v["dst"])[0] == DOUBLE


def test_missing_information_stays_unknown(module):
    ta, fn, v = analyze(module, "opaque_copy")
    assert ta.scalar_kind(v["bits"]) is Unknown
    assert ta.memory_kind(v["dst"], 0, 8) is Unknown
    ta, fn, _ = analyze(module, "copy_double")  # clang's i64 copy of a double, no caller
    assert ta.memory_kind(fn.args[0], 0, 8) is Unknown


def test_tbaa_only(module):
    ta, fn, v = analyze(module, "tbaa_only")
    assert ta.scalar_kind(v["bits"]) == DOUBLE
    assert ta.memory_kind(v["dst"], 0, 8) == DOUBLE  # through the untagged store
    assert ta.scalar_kind(v["q"]) is Pointer  # "p1 double" on an i64 load
    assert ta.scalar_kind(v["r"]) is Integer


def test_tbaa_struct_memcpy(module):
    ta, fn, _ = analyze(module, "copy_rec")
    dst, src = fn.args
    call = fn.entry.instructions[0]
    for p in (dst, src):
        assert ta.memory_kind(p, 0, 8) == DOUBLE
        assert ta.memory_kind(p, 8, 4) is Integer
        assert ta.memory_kind(p, 16, 8) is Pointer
        assert ta.memory_kind(p, 12, 4) is Unknown  # padding
    assert ta.copy_element(call) == "mixed"


def test_struct_copied_with_plain_memcpy(module):
    ta, fn, v = analyze(module, "struct_memcpy")
    dst = v["dst"]
    assert ta.memory_kind(dst, 0, 8) == DOUBLE
    assert ta.memory_kind(dst, 8, 4) is Integer
    assert ta.memory_kind(dst, 16, 8) is Pointer
    assert ta.value_tree(dst).get((16, 0)) == DOUBLE  # the double behind the pointer field
    assert ta.scalar_kind(v["wv"]) == DOUBLE  # i64 load through the copied pointer
    call = next(i for i in fn.instructions() if i.opcode == "call")
    assert ta.copy_element(call) == "mixed"


def test_phi_select_and_bitcast(module):
    ta, fn, v = analyze(module, "cast_phi")
    assert ta.scalar_kind(v["m"]) == DOUBLE
    assert ta.scalar_kind(v["a"]) == DOUBLE and ta.scalar_kind(v["b"]) == DOUBLE
    ta, fn, _ = analyze(module, "pick")
    a, b, c = fn.args
    assert ta.memory_kind(a, 0, 8) == DOUBLE and ta.memory_kind(b, 0, 8) == DOUBLE  # back through select


def test_memset_zero_is_anything(module):
    ta, fn, v = analyze(module, "zeroed")
    assert ta.memory_kind(v["p"], 0, 8) is Anything
    assert ta.memory_kind(v["p"], 8, 8) == DOUBLE


def test_interprocedural(module):
    ta, fn, _ = analyze(module, "caller")
    assert ta.memory_kind(fn.args[0], 0, 8) == DOUBLE  # learned inside @helper (variable index)
    assert ta.memory_kind(fn.args[0], 800, 8) == DOUBLE
    assert ta.scalar_kind(fn.args[1]) is Integer
    ta, fn, v = analyze(module, "caller_copy")
    assert ta.memory_kind(v["out"], 0, 8) == DOUBLE


def test_argument_trees_seed_a_callee(module):
    ta, fn, v = analyze(module, "callee_copy")
    assert ta.scalar_kind(v["bits"]) is Unknown
    ta, fn, v = analyze(module, "callee_copy", {1: TypeTree({(0,): Pointer, (0, -1): DOUBLE})})
    assert ta.scalar_kind(v["bits"]) == DOUBLE and ta.memory_kind(v["dst"], 0, 8) == DOUBLE


def test_strided_pointer_walk(module):
    ta, fn, v = analyze(module, "walk")
    assert ta.memory_kind(v["p"], 0, 8) == DOUBLE
    assert ta.memory_kind(v["p"], 64, 8) == DOUBLE  # every offset, not just 0, 8, 16 ...
    assert len(ta.trees[v["cur"]].paths) < 40


def test_memcpy_of_doubles(module):
    text = """
define void @f(ptr %d, ptr %s, i64 %n) {
  %x = load double, ptr %s, align 8
  call void @llvm.memcpy.p0.p0.i64(ptr %d, ptr %s, i64 %n, i1 false)
  ret void
}
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
"""
    m = parse_module(text)
    ta = analyze_types(m, m.function("f"))
    call = m.function("f").entry.instructions[1]
    assert ta.copy_element(call) == DOUBLE
    assert ta.scalar_kind(m.function("f").args[2]) is Integer


def test_format_types_printer(module):
    out = format_types(str(module), "i64_copy")
    assert out.splitlines()[0] == "types of @i64_copy:"
    assert "  %bits: Float(double)" in out.splitlines()
    assert "  %src: Pointer {[0,8): Float(double)}" in out.splitlines()


def _straight_line(n: int):
    lines = ["define void @f(ptr %a, ptr %b) {"]
    for k in range(n):
        lines.append(f"  %p{k} = getelementptr inbounds i8, ptr %a, i64 {8 * (k % 64)}")
        lines.append(f"  %v{k} = load i64, ptr %p{k}, align 8")
        lines.append(f"  %q{k} = getelementptr inbounds i8, ptr %b, i64 {8 * (k % 64)}")
        lines.append(f"  store i64 %v{k}, ptr %q{k}, align 8")
    lines.append("  %last = load double, ptr %b, align 8")
    lines += ["  ret void", "}"]
    return parse_module("\n".join(lines) + "\n")


def test_linear_on_straight_line_code():
    """Linear, not quadratic, in the length of straight-line code: 4x the code costs well under
    16x the CPU time (process time: insensitive to other processes on the machine)."""
    def cost(n):
        m = _straight_line(n)
        t0 = time.process_time()
        ta = analyze_types(m, m.function("f"))
        return time.process_time() - t0, m, ta

    small, _, _ = cost(750)
    large, m, ta = cost(3000)
    fn = m.function("f")
    assert ta.memory_kind(fn.args[0], 0, 8) == DOUBLE  # b[0] double -> v0 -> a[0]
    assert ta.memory_kind(fn.args[0], 8, 8) is Unknown
    assert large < 8 * max(small, 0.01)


CACHED = """
define void @store_double(ptr %p, double %x) {
  store double %x, ptr %p, align 8
  ret void
}

define void @caller(ptr %q) {
  call void @store_double(ptr %q, double 1.0)
  ret void
}
"""


def test_cached_types_follow_changes_to_the_function_and_its_callees():
    from adcc.analysis.types import cached_types
    m = parse_module(CACHED)
    caller = m.function("caller")
    first = cached_types(m, caller)
    assert cached_types(m, caller) is first  # shared by the analyses of one function
    assert first.memory_kind(caller.args[0], 0, 8) == DOUBLE  # learnt from the callee
    store = next(i for i in m.function("store_double").instructions() if i.opcode == "store")
    store.erase()  # the callee changed: the cached analysis no longer holds
    again = cached_types(m, caller)
    assert again is not first and again.memory_kind(caller.args[0], 0, 8) is Unknown


PERIODIC = """
define void @f(ptr %x, ptr %pairs, ptr %rec, i64 %i, i64 %j) {
  %t = alloca [8 x double], align 16
  call void @llvm.memcpy.p0.p0.i64(ptr %t, ptr %x, i64 64, i1 false)
  %a = getelementptr inbounds double, ptr %t, i64 %i
  %wa = load i64, ptr %a, align 8
  %b = getelementptr inbounds [2 x [4 x double]], ptr %t, i64 0, i64 %i, i64 %j
  %wb = load i64, ptr %b, align 8
  %p0 = load double, ptr %pairs, align 8
  %p1g = getelementptr inbounds i8, ptr %pairs, i64 8
  %p1 = load i64, ptr %p1g, align 8, !tbaa !3
  %p2g = getelementptr inbounds i8, ptr %pairs, i64 16
  %p2 = load double, ptr %p2g, align 8
  %p3g = getelementptr inbounds i8, ptr %pairs, i64 24
  %p3 = load i64, ptr %p3g, align 8, !tbaa !3
  %pd = getelementptr inbounds { double, i64 }, ptr %pairs, i64 %i
  %wpd = load i64, ptr %pd, align 8
  %pi = getelementptr inbounds { double, i64 }, ptr %pairs, i64 %i, i32 1
  %wpi = load i64, ptr %pi, align 8
  %pw = getelementptr inbounds i64, ptr %pairs, i64 %i
  %wpw = load i64, ptr %pw, align 8
  %r0 = load i32, ptr %rec, align 8, !tbaa !5
  %r1g = getelementptr inbounds i8, ptr %rec, i64 8
  %r1 = load double, ptr %r1g, align 8
  %r2g = getelementptr inbounds i8, ptr %rec, i64 16
  %r2 = load double, ptr %r2g, align 8
  %ra = getelementptr inbounds { i32, [2 x double] }, ptr %rec, i64 0, i32 1, i64 %i
  %wra = load i64, ptr %ra, align 8
  ret void
}
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
!0 = !{!"Simple C/C++ TBAA"}
!1 = !{!"omnipotent char", !0, i64 0}
!2 = !{!"long", !1, i64 0}
!3 = !{!2, !2, i64 0}
!4 = !{!"int", !1, i64 0}
!5 = !{!4, !4, i64 0}
"""


def test_variable_index_into_a_periodic_region():
    """A variable-index GEP reaches one element of a region that repeats with its stride: an i64
    word loaded there is the double of a double array (#9), and the field of an array of records;
    a stride that mixes the record's fields, or a region whose windows disagree, gives nothing."""
    m = parse_module(PERIODIC)
    fn = m.function("f")
    doubles = TypeTree({(0,): Pointer, **{(0, b): DOUBLE for b in range(64)}})  # x: 8 doubles
    ta = TypeAnalysis(m, fn, {0: doubles})
    v = {i.name: i for i in fn.instructions() if i.name}
    assert ta.scalar_kind(v["wa"]) == DOUBLE
    assert ta.scalar_kind(v["wb"]) == DOUBLE  # two variable indices
    assert ta.scalar_kind(v["wpd"]) == DOUBLE and ta.scalar_kind(v["wpi"]) is Integer
    assert ta.scalar_kind(v["wpw"]) is Unknown  # stride 8 over {double, i64}
    # {i32, [2 x double]}: only offsets from 8 on are windows of the array, so the i32 is no
    # element of it
    assert ta.scalar_kind(v["wra"]) == DOUBLE
    # what a GEP's element learnt from its base is not spread over all of the base
    assert ta.scalar_kind(v["r0"]) is Integer and ta.scalar_kind(v["p0"]) == DOUBLE
    assert not ta.conflicts
