"""Closed objects with inactive contents (adcc/analysis/contents.py): a stack object filled, here
or by a defined callee, only with pointers into declared-inactive memory and containers of them."""
from adcc.analysis.contents import CLEAN, INACTIVE, OTHER, closed_object
from adcc.ir import parse_module

# a constructor (not inlined) that allocates a container, keeps it in the object and fills it with
# pointers into its second argument, as std::vector<const double *>::push_back does
FILL = """
@g = global ptr null

define void @fill(ptr %this, ptr %in, i64 %n) {
  %buf = call ptr @malloc(i64 64)
  store ptr %buf, ptr %this
  %end = getelementptr inbounds i8, ptr %this, i64 8
  %last = getelementptr inbounds ptr, ptr %buf, i64 %n
  store ptr %last, ptr %end
  %row = getelementptr inbounds double, ptr %in, i64 %n
  store ptr %row, ptr %buf
  ret void
}

define void @leak(ptr %this, ptr %in, i64 %n) {
  call void @fill(ptr %this, ptr %in, i64 %n)
  %buf = load ptr, ptr %this
  store ptr %buf, ptr @g
  ret void
}

define ptr @give(ptr %this, ptr %in, i64 %n) {
  call void @fill(ptr %this, ptr %in, i64 %n)
  ret ptr %this
}

define void @put(ptr %this, double %x) {
  %buf = load ptr, ptr %this
  %row = load ptr, ptr %buf
  store double %x, ptr %row
  ret void
}

declare ptr @malloc(i64)
declare void @opaque(ptr)
"""

CALLER = """
define double @f(ptr %w, ptr %seq, i64 %n, double %x) {
  %obj = alloca [16 x i8]
  CALL
  %buf = load ptr, ptr %obj
  %row = load ptr, ptr %buf
  %v = load double, ptr %row
  %u = load double, ptr %w
  %r = fmul double %u, %v
  ret double %r
}
"""


def _closed(call: str, classes=(OTHER, INACTIVE, CLEAN, OTHER)) -> bool:
    m = parse_module(FILL + CALLER.replace("CALL", call))
    fn = m.function("f")
    obj = next(i for i in fn.instructions() if i.opcode == "alloca")
    return closed_object(m, fn, obj, classes)


def test_pointers_into_constant_memory_kept_by_a_callee_are_inactive():
    assert _closed("call void @fill(ptr %obj, ptr %seq, i64 %n)")


def test_pointers_into_memory_with_a_shadow_are_not():
    assert not _closed("call void @fill(ptr %obj, ptr %w, i64 %n)")
    assert not _closed("call void @fill(ptr %obj, ptr %seq, i64 %n)", (OTHER, OTHER, CLEAN, OTHER))


def test_a_container_whose_address_leaves_the_object_is_not_closed():
    assert not _closed("call void @leak(ptr %obj, ptr %seq, i64 %n)")
    assert not _closed("%p = call ptr @give(ptr %obj, ptr %seq, i64 %n)")
    assert not _closed("call void @opaque(ptr %obj)")


def test_active_data_stored_into_a_container_is_seen_in_callees():
    assert not _closed("call void @fill(ptr %obj, ptr %seq, i64 %n)\n  call void @put(ptr %obj, double %x)")
    assert _closed("call void @fill(ptr %obj, ptr %seq, i64 %n)\n  call void @put(ptr %obj, double 1.0)")


def test_a_merge_with_active_memory_is_not_closed():
    call = ("call void @fill(ptr %obj, ptr %seq, i64 %n)\n"
            "  %c = fcmp olt double %x, 0.0\n"
            "  %m = select i1 %c, ptr %obj, ptr %w\n"
            "  %q = load ptr, ptr %m")
    assert not _closed(call)


def test_addresses_kept_as_integers_are_not_closed():
    call = ("call void @fill(ptr %obj, ptr %seq, i64 %n)\n"
            "  %a = ptrtoint ptr %seq to i64\n"
            "  %slot = getelementptr inbounds i8, ptr %obj, i64 8\n"
            "  store i64 %a, ptr %slot")
    assert not _closed(call)
    sized = ("call void @fill(ptr %obj, ptr %seq, i64 %n)\n"
             "  %b = load ptr, ptr %obj\n"
             "  %a = ptrtoint ptr %b to i64\n"
             "  %slot = getelementptr inbounds i8, ptr %obj, i64 8\n"
             "  store i64 %a, ptr %slot")
    assert not _closed(sized)


# a struct of two pointers filled by a constructor: field 0 from the first argument, field 8 from
# the second (GradBench's LSTM keeps weights and an input row side by side)
PAIR = """
define void @pair(ptr %this, ptr %a, ptr %b) {
  store ptr %a, ptr %this
  %f1 = getelementptr inbounds i8, ptr %this, i64 8
  store ptr %b, ptr %f1
  ret void
}

define void @repoint(ptr %this, ptr %c) {
  %f1 = getelementptr inbounds i8, ptr %this, i64 8
  store ptr %c, ptr %f1
  ret void
}

define double @f(ptr %w, ptr %seq) {
  %obj = alloca [16 x i8]
  call void @pair(ptr %obj, ptr %w, ptr %seq)
  MORE
  %f0 = load ptr, ptr %obj
  %f1 = getelementptr inbounds i8, ptr %obj, i64 8
  %p1 = load ptr, ptr %f1
  %u = load double, ptr %f0
  %v = load double, ptr %p1
  %r = fmul double %u, %v
  ret double %r
}

declare void @opaque(ptr)
"""


def _fields(more: str = "") -> tuple[bool, bool]:
    from adcc.analysis.contents import inactive_field
    m = parse_module(PAIR.replace("MORE", more))
    fn = m.function("f")
    loads = {i.name: i for i in fn.instructions() if i.opcode == "load"}
    cache: dict = {}
    return tuple(inactive_field(m, fn, loads[n], (OTHER, INACTIVE), cache) for n in ("f0", "p1"))


def test_a_field_holding_only_pointers_into_constant_memory_is_inactive():
    assert _fields() == (False, True)


def test_a_field_written_with_active_memory_elsewhere_is_not():
    assert _fields("call void @repoint(ptr %obj, ptr %w)") == (False, False)
    assert _fields("call void @repoint(ptr %obj, ptr %seq)") == (False, True)


def test_an_object_whose_address_leaves_has_no_inactive_field():
    assert _fields("call void @opaque(ptr %obj)") == (False, False)
    assert _fields("%i = ptrtoint ptr %obj to i64") == (False, False)


def test_merged_with_active_memory_the_constant_rows_have_no_shadow_to_give():
    # (the activity analysis refuses such a merge, located: a shadow of the object would hold null)
    call = ("call void @fill(ptr %obj, ptr %seq, i64 %n)\n"
            "  %c = fcmp olt double %x, 0.0\n"
            "  %b = load ptr, ptr %obj\n"
            "  %m = select i1 %c, ptr %b, ptr %w")
    m = parse_module(FILL + CALLER.replace("CALL", call))
    fn = m.function("f")
    obj = next(i for i in fn.instructions() if i.opcode == "alloca")
    classes = (OTHER, INACTIVE, CLEAN, OTHER)
    assert not closed_object(m, fn, obj, classes)
    assert closed_object(m, fn, obj, classes, merges=False)


def test_an_object_of_constants_merged_with_active_memory_gets_its_own_shadow():
    # (no pointer in it lacks a shadow: a zero shadow of the object serves the merge)
    text = """
define double @f(ptr %x, i1 %c) {
  %t = alloca [4 x double]
  store double 0.0, ptr %t
  %m = select i1 %c, ptr %t, ptr %x
  %v = load double, ptr %m
  ret double %v
}
"""
    m = parse_module(text)
    fn = m.function("f")
    obj = next(i for i in fn.instructions() if i.opcode == "alloca")
    assert not closed_object(m, fn, obj, (OTHER, CLEAN))
    assert not closed_object(m, fn, obj, (OTHER, CLEAN), merges=False)
