"""Unit tests of adcc.ir: use-lists, builder, constants, names, multi-line
instructions, metadata, and printing errors."""
from __future__ import annotations

import math
import struct

import pytest

from adcc.ir import ParseError, parse_module
from adcc.ir import types as T
from adcc.ir.builder import Builder, add_incoming, float_text
from adcc.ir.values import Constant, Function, GlobalRef

llvm = pytest.importorskip("llvmlite.binding")


def verify(text: str) -> None:
    llvm.parse_assembly(text, llvm.create_context()).verify()


HEADER = 'target triple = "x86_64-pc-linux-gnu"\n'

SQUARE = HEADER + """
define double @square(double %x, ptr %p) {
entry:
  %a = fmul double %x, %x
  %b = fadd double %a, 1.0
  store double %b, ptr %p, align 8
  ret double %b
}
"""


def parsed(text: str, name: str):
    m = parse_module(text)
    return m, m.function(name)


# --- use-lists -----------------------------------------------------------------------

def test_uses_recorded_by_parser():
    m, f = parsed(SQUARE, "square")
    x = f.args[0]
    a, b, st, ret = f.entry.instructions
    assert x.uses == [(a, 0), (a, 1)]
    assert b.users == [st, ret]
    assert a.users == [b]


def test_replace_all_uses_with_moves_every_use():
    m, f = parsed(SQUARE, "square")
    x, p = f.args
    a, b, st, ret = f.entry.instructions
    a.replace_all_uses_with(x)
    assert a.uses == []
    assert b.operands[0] is x and (b, 0) in x.uses
    a.erase()
    assert "fmul" not in str(m)
    verify(str(m))


def test_set_operand_updates_both_use_lists():
    m, f = parsed(SQUARE, "square")
    x, p = f.args
    a, b, st, ret = f.entry.instructions
    b.set_operand(0, x)
    assert (b, 0) not in a.uses and (b, 0) in x.uses
    b.set_operand(0, x)  # no-op keeps a single entry
    assert x.uses.count((b, 0)) == 1
    assert "fadd double %x, 1.0" in str(m)


def test_erase_with_uses_raises_and_keeps_ir():
    m, f = parsed(SQUARE, "square")
    a = f.entry.instructions[0]
    with pytest.raises(ValueError, match="use"):
        a.erase()
    assert a.block is f.entry and len(f.entry.instructions) == 4


def test_erase_drops_operand_uses():
    m, f = parsed(SQUARE, "square")
    x = f.args[0]
    a, b, st, ret = f.entry.instructions
    st.erase()
    assert all(u is not st for u, _ in b.uses)
    assert st.block is None


def test_block_predecessors_successors():
    text = HEADER + """
define i32 @f(i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  br label %b
b:
  %r = phi i32 [ 1, %entry ], [ 2, %a ]
  ret i32 %r
}
"""
    m, f = parsed(text, "f")
    entry, a, b = f.blocks
    assert entry.successors == [a, b]
    assert set(map(id, b.predecessors)) == {id(entry), id(a)}
    phi = b.phis()[0]
    assert [(v.text, blk) for v, blk in phi.incoming()] == [("1", entry), ("2", a)]
    assert b.first_non_phi_index() == 1


# --- builder -------------------------------------------------------------------------

def _new_function(m, name="g", ret=T.f64, args=(T.f64, T.ptr, T.i64, T.i1)):
    fn = Function(name, ret, list(args))
    m.add_function(fn)
    return fn


def test_every_builder_method_prints_and_verifies():
    m = parse_module(HEADER)
    fn = _new_function(m)
    x, p, n, c = fn.args
    for a, nm in zip(fn.args, "xpnc"):
        a.name = nm
    entry = fn.add_block("entry")
    loop = fn.add_block("loop")
    other = fn.add_block("other")
    done = fn.add_block("done")
    b = Builder(m, fn).position_at_end(entry)
    s = b.fadd(x, Builder.fconst(T.f64, 1.5), "s", flags="fast")
    s = b.fsub(s, x); s = b.fmul(s, x); s = b.fdiv(s, x); s = b.frem(s, x); s = b.fneg(s)
    k = b.add(n, Builder.iconst(T.i64, 3), flags="nsw")
    k = b.sub(k, n); k = b.mul(k, n); k = b.udiv(k, n); k = b.urem(k, n)
    k = b.and_(k, n); k = b.or_(k, n); k = b.xor(k, n); k = b.shl(k, n); k = b.lshr(k, n)
    fc = b.fcmp("olt", s, x)
    ic = b.icmp("eq", k, n)
    sel = b.select(fc, s, x)
    i32v = b.cast("trunc", k, T.i32)
    assert b.cast("bitcast", x, T.f64) is x
    d = b.cast("sitofp", i32v, T.f64)
    bits = b.cast("bitcast", d, T.i64)
    fr = b.freeze(bits)
    agg_t = T.StructType((T.f64, T.i64))
    agg = b.insertvalue(Builder.poison(agg_t), sel, 0)
    agg = b.insertvalue(agg, fr, 1)
    ev = b.extractvalue(agg, 0)
    vt = T.VectorType(2, T.f64)
    vec = b.insertelement(Builder.zero(vt), ev, 0)
    vec = b.fadd(vec, Builder.fconst(vt, 2.0))
    el = b.extractelement(vec, 1)
    slot = b.alloca(T.f64, name="slot", align=8)
    arr = b.alloca(T.f64, Builder.iconst(T.i64, 4))
    early = b.alloca_in_entry(T.i64, "early")
    assert fn.entry.instructions[0] is early
    b.store(el, slot, align=8)
    ld = b.load(T.f64, slot, align=8)
    g = b.gep(T.ArrayType(4, T.f64), arr, [0, k], inbounds=True)
    bg = b.byte_gep(p, 8)
    b.store(ld, g)
    b.store(ld, bg)
    b.memcpy(p, arr, Builder.iconst(T.i64, 32))
    b.memset(arr, 0, Builder.iconst(T.i64, 32))
    call = b.call("sin", T.f64, [ld], "sinx")
    b.call("free", T.void, [arr], name="ignored")
    b.switch(b.cast("trunc", k, T.i32), other, [(1, loop), (7, done)])
    b.position_at_end(loop)
    phi = b.phi(T.f64, [(call, entry)], "acc")
    add_incoming(phi, phi, loop)
    b.cond_br(ic, loop, done)
    b.position_at_end(other)
    b.unreachable()
    b.position_at_end(done)
    r = b.phi(T.f64, [(call, entry), (phi, loop)])
    b.store(Builder.null(), early)
    b.ret(r)
    text = str(m)
    verify(text)
    assert "declare double @sin(double)" in text
    assert "fadd fast double %x, 0x3FF8000000000000" in text
    assert "%acc = phi double [ %sinx, %entry ], [ %acc, %loop ]" in text


def test_builder_void_function_and_position_before():
    m = parse_module(HEADER)
    fn = _new_function(m, "h", T.void, (T.ptr,))
    entry = fn.add_block()
    b = Builder(m, fn).position_at_end(entry)
    ret = b.ret()
    b.position_before(ret)
    b.store(Builder.fconst(T.f32, 0.1), fn.args[0])
    assert [i.opcode for i in entry.instructions] == ["store", "ret"]
    verify(str(m))


def test_clone_keeps_template_and_tbaa():
    text = HEADER + """
define void @f(ptr %p, ptr %q) {
  %v = load double, ptr %p, align 8, !tbaa !1, !noalias !5
  store double %v, ptr %q, align 8
  ret void
}
!1 = !{!2, !2, i64 0}
!2 = !{!"double", !3, i64 0}
!3 = !{!"omnipotent char", !4, i64 0}
!4 = !{!"Simple C/C++ TBAA"}
!5 = !{}
"""
    m, f = parsed(text, "f")
    ld, st, ret = f.entry.instructions
    b = Builder(m, f).position_before(st)
    c = b.clone(ld, [f.args[1]], name="w")
    assert c.metadata == [("tbaa", "!1")]
    assert "%w = load double, ptr %q, align 8, !tbaa !1" in str(m)
    verify(str(m))


# --- constants -----------------------------------------------------------------------

@pytest.mark.parametrize("kind,value,expected", [
    ("double", 1.0, "0x3FF0000000000000"),
    ("double", -0.0, "0x8000000000000000"),
    ("double", 0.1, "0x3FB999999999999A"),
    ("double", math.inf, "0x7FF0000000000000"),
    ("float", 0.1, "0x3FB99999A0000000"),
    ("float", 1.0, "0x3FF0000000000000"),
    ("half", 1.0, "0xH3C00"),
    ("half", -2.0, "0xHC000"),
    ("bfloat", 1.0, "0xR3F80"),
    ("x86_fp80", 1.0, "0xK3FFF8000000000000000"),
    ("x86_fp80", -0.5, "0xKBFFE8000000000000000"),
    ("x86_fp80", 0.0, "0xK00000000000000000000"),
    ("fp128", 1.0, "0xL00000000000000003FFF000000000000"),
    ("fp128", -2.0, "0xL0000000000000000C000000000000000"),
])
def test_float_text_exact(kind, value, expected):
    assert float_text(T.FloatType(kind), value) == expected


@pytest.mark.parametrize("kind", ["half", "float", "double", "x86_fp80", "fp128"])
@pytest.mark.parametrize("value", [0.1, -3.75, 1e-300, 123456.789])
def test_float_constant_round_trips_through_llvm(kind, value):
    if kind == "half" and abs(value) < 1e-7:
        value = 0.5
    if kind == "float" and abs(value) < 1e-30:
        value = 0.25
    text = HEADER + f"define {kind} @c() {{\n  ret {kind} {float_text(T.FloatType(kind), value)}\n}}\n"
    verify(text)
    if kind == "double":
        mod = llvm.parse_assembly(text, llvm.create_context())
        assert float_text(T.f64, value) in str(mod) or repr(value) in str(mod) or "e" in str(mod)


@pytest.mark.parametrize("kind,value,expected", [
    ("half", 1e6, "0xH7C00"),
    ("half", -1e6, "0xHFC00"),
    ("float", 1e300, "0x7FF0000000000000"),
    ("bfloat", 1.00390625, "0xR3F80"),     # tie: rounds to even
    ("bfloat", 1.01171875, "0xR3F82"),     # tie: rounds up to even
    ("bfloat", 1.0078125 + 1e-9, "0xR3F81"),
])
def test_float_text_overflow_and_rounding(kind, value, expected):
    assert float_text(T.FloatType(kind), value) == expected


def test_float_rounding_to_float_is_exact():
    y = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert float_text(T.f32, 0.1) == float_text(T.f64, y)


def test_constant_is_zero():
    assert Constant(T.f64, "0.000000e+00").is_zero()
    assert Constant(T.f64, "0x8000000000000000").is_zero()
    assert not Constant(T.f64, "0x3FF0000000000000").is_zero()
    assert Constant(T.ptr, "null").is_zero() and Constant(T.i1, "poison").is_undef()


# --- names ---------------------------------------------------------------------------

def test_quoted_names_round_trip():
    text = HEADER + """
define double @"odd name"(double %"a b", double %"1x") {
"entry block":
  %"sum.\\22q" = fadd double %"a b", %"1x"
  ret double %"sum.\\22q"
}
"""
    m, f = parsed(text, "\"odd name\"")
    out = str(m)
    verify(out)
    assert '%"sum.\\22q" = fadd double %"a b", %"1x"' in out


def test_unnamed_values_are_renumbered_after_edits():
    text = HEADER + """
define i64 @f(i64 %0) {
  %2 = add i64 %0, 1
  %3 = mul i64 %2, %2
  ret i64 %3
}
"""
    m, f = parsed(text, "f")
    add, mul, ret = f.entry.instructions
    b = Builder(m, f).position_before(mul)
    b.sub(add, f.args[0])  # unnamed, inserted in the middle
    out = str(m)
    verify(out)
    assert "%3 = sub i64 %2, %0" in out and "%4 = mul i64 %2, %2" in out


def test_name_collisions_get_suffixes():
    m, f = parsed(SQUARE, "square")
    b = Builder(m, f).position_before(f.entry.instructions[-1])
    b.fadd(f.args[0], f.args[0], "a")
    b.fadd(f.args[0], f.args[0], "a")
    out = str(m)
    verify(out)
    assert "%a.1 = fadd" in out and "%a.2 = fadd" in out


def test_builder_names_that_need_quotes():
    m, f = parsed(SQUARE, "square")
    b = Builder(m, f).position_before(f.entry.instructions[-1])
    b.fadd(f.args[0], f.args[0], "x'shadow")
    b.fadd(f.args[0], f.args[0], "7up")
    out = str(m)
    verify(out)
    assert "%\"x'shadow\" = fadd" in out


def test_new_function_header_quotes_name():
    m = parse_module(HEADER)
    fn = _new_function(m, "grad odd", T.void, (T.ptr,))
    Builder(m, fn).position_at_end(fn.add_block()).ret()
    assert '@"grad odd"(ptr %0)' in str(m)
    verify(str(m))


# --- multi-line instructions, metadata ---------------------------------------------

SWITCH = HEADER + """
define i32 @sw(i32 %x) {
entry:
  switch i32 %x, label %d [
    i32 0, label %a
    i32 5, label %b
  ]
a:
  br label %d
b:
  br label %d
d:
  %r = phi i32 [ 0, %entry ], [ 1, %a ], [ 2, %b ]
  ret i32 %r
}
"""


def test_switch_multiline():
    m, f = parsed(SWITCH, "sw")
    sw = f.entry.terminator
    assert sw.opcode == "switch"
    assert [b.name for b in f.entry.successors] == ["d", "a", "b"]
    verify(str(m))


INVOKE = HEADER + """
declare i32 @__gxx_personality_v0(...)
declare void @may_throw(double)

define double @inv(double %x) personality ptr @__gxx_personality_v0 {
entry:
  invoke void @may_throw(double %x)
          to label %ok unwind label %lpad
ok:
  ret double %x
lpad:
  %lp = landingpad { ptr, i32 }
          cleanup
          catch ptr null
  %e = extractvalue { ptr, i32 } %lp, 0
  resume { ptr, i32 } %lp
}
"""


def test_invoke_landingpad_multiline():
    m, f = parsed(INVOKE, "inv")
    entry, ok, lpad = f.blocks
    inv = entry.terminator
    assert inv.opcode == "invoke" and entry.successors == [ok, lpad]
    assert inv.operands[0] is f.args[0] or f.args[0] in inv.operands
    assert lpad.instructions[0].opcode == "landingpad"
    assert lpad.instructions[1].type == T.ptr
    verify(str(m))


def test_metadata_attachments_preserved():
    text = HEADER + """
define double @f(ptr %p) !dbg !9 {
entry:
  %v = load double, ptr %p, align 8, !tbaa !1, !range !20
  %w = fmul fast double %v, %v, !fpmath !21
  ret double %w
}
!1 = !{!2, !2, i64 0}
!2 = !{!"double", !3, i64 0}
!3 = !{!"omnipotent char", !4, i64 0}
!4 = !{!"Simple C/C++ TBAA"}
!9 = distinct !{}
!20 = !{}
!21 = !{float 2.5}
"""
    m, f = parsed(text, "f")
    v, w, ret = f.entry.instructions
    assert v.get_metadata("tbaa") == "!1" and v.get_metadata("range") == "!20"
    assert w.get_metadata("fpmath") == "!21" and w.get_metadata("dbg") is None
    out = str(m)
    assert "!tbaa !1, !range !20" in out and "!fpmath !21" in out


# --- errors --------------------------------------------------------------------------

def test_printing_undefined_value_raises():
    m, f = parsed(SQUARE, "square")
    other = parse_module(SQUARE).function("square")
    b = Builder(m, f).position_before(f.entry.instructions[-1])
    b.fadd(other.entry.instructions[0], f.args[0])  # value of another function
    with pytest.raises(ValueError, match="not defined"):
        str(m)


def test_erased_operand_cannot_be_printed():
    m, f = parsed(SQUARE, "square")
    a, bb, st, ret = f.entry.instructions
    # detach a without rewriting users: printing must fail, not emit dangling names
    f.entry.instructions.remove(a)
    with pytest.raises(ValueError):
        str(m)


def test_parse_undefined_value_raises():
    bad = HEADER + "define i32 @f() {\n  ret i32 %nope\n}\n"
    with pytest.raises(ParseError, match="nope"):
        parse_module(bad).function("f")


def test_parse_unknown_label_raises():
    bad = HEADER + "define void @f() {\n  br label %nowhere\n}\n"
    with pytest.raises(ParseError):
        parse_module(bad).function("f")


def test_unparsed_functions_print_verbatim():
    m = parse_module(SWITCH + SQUARE.replace(HEADER, ""))
    m.function("square")
    out = str(m)
    assert "switch i32 %x, label %d [\n    i32 0, label %a" in out
    verify(out)


def test_module_queries():
    m = parse_module(INVOKE)
    assert m.defined_function_names() == ["inv"]
    assert m.is_defined("inv") and not m.is_defined("may_throw")
    with pytest.raises(KeyError):
        m.function("may_throw")
    assert m.unique_name("inv") == "inv.1"
    assert isinstance(GlobalRef("inv").gname, str)


def test_invoke_and_landingpad_are_structured():
    m, f = parsed(INVOKE.replace("invoke void @may_throw", "%r = invoke double @may_throw2")
                  .replace("declare void @may_throw(double)", "declare double @may_throw2(double)")
                  .replace("ret double %x\nlpad", "ret double %r\nlpad"), "inv")
    inv = f.entry.terminator
    assert inv.type == T.f64 and inv.callee_name == "may_throw2" and inv.args == [f.args[0]]
    lp = f.blocks[2].instructions[0]
    assert lp.type == T.StructType((T.ptr, T.i32))
    verify(str(m))


def test_string_parameter_attributes():
    """`"key"` and `"key"="value"` parameter attributes (adcc's `"adcc.separate"` on OpenMP regions)
    are kept in the parameter's attributes, in headers and in call arguments alike."""
    text = HEADER + """
define void @f(ptr noundef "adcc.separate" %p, ptr "k"="v" align 8 %q) {
entry:
  call void @g(ptr "adcc.separate" %p, ptr %q)
  ret void
}

declare void @g(ptr, ptr)
"""
    m = parse_module(text)
    fn = m.function("f")
    assert fn.param_attrs == ['noundef "adcc.separate"', '"k"="v" align 8']
    call = next(i for i in fn.instructions() if i.opcode == "call")
    assert [a.name for a in call.args] == ["p", "q"]
    verify(str(m))


# --- copies of functions -------------------------------------------------------------
LOOP = HEADER + """
@g = global double 0.0

define double @loop(double %x, i32 %n) {
entry:
  br label %head
head:
  %i = phi i32 [ 0, %entry ], [ %i.next, %body ]
  %s = phi double [ 0.0, %entry ], [ %s.next, %body ]
  %c = icmp slt i32 %i, %n
  br i1 %c, label %body, label %exit
body:
  %v = load double, ptr @g, align 8, !tbaa !1
  %t = call double @llvm.fmuladd.f64(double %x, double %v, double %s)
  %s.next = fadd double %t, 1.0
  %i.next = add nsw i32 %i, 1
  br label %head
exit:
  ret double %s
}
declare double @llvm.fmuladd.f64(double, double, double)
!0 = !{!"x"}
!1 = !{!0, !0, i64 0}
"""


def test_clone_function_prints_as_the_original_and_shares_no_use_list():
    from adcc.ir.clone import clone_function
    from adcc.ir.printer import print_function
    m, fn = parsed(LOOP, "loop")
    copy = clone_function(fn)
    assert print_function(copy) == print_function(fn)
    old = {id(v) for v in [*fn.args, *fn.blocks, *fn.instructions()]}
    for inst in copy.instructions():
        assert inst.block.function is copy
        for k, op in enumerate(inst.operands):
            assert id(op) not in old and (inst, k) in op.uses
    # editing the copy (an operand, a template, a block) leaves the original as it was
    before = print_function(fn)
    add = next(i for i in copy.instructions() if i.opcode == "add")
    add.set_operand(1, Constant(T.i32, "2"))
    next(i for i in copy.instructions() if i.opcode == "load").set_alignment(16)
    copy.blocks[-1].instructions[0].set_operand(0, copy.args[0])
    assert print_function(fn) == before
    assert "add nsw i32 %i, 2" in print_function(copy) and "align 16" in print_function(copy)
    assert all(len(a.uses) == len(b.uses) for a, b in zip(fn.args[1:], copy.args[1:]))
