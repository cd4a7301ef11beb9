"""adcc.analysis.cfg on small .ll files (tests/data/ir/loops.ll from loops.c, cfg_shapes.ll)."""
from __future__ import annotations

import os

import pytest

from adcc.analysis.cfg import (DominatorTree, LoopInfo, PostDominatorTree, canonical_induction,
                               format_loops, reachable, reverse_post_order, trip_count)
from adcc.ir import parse_module

DATA = os.path.join(os.path.dirname(__file__), "data", "ir")


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return parse_module(f.read())


@pytest.fixture(scope="module")
def shapes():
    return load("cfg_shapes.ll")


@pytest.fixture(scope="module")
def loops():
    return load("loops.ll")


def blocks(fn):
    return {b.name: b for b in fn.blocks}


def line_of(text, key):
    return next(l.strip() for l in text.splitlines() if key in l)


def test_rpo_and_reachability(shapes):
    fn = shapes.function("diamond")
    b = blocks(fn)
    order = reverse_post_order(fn)
    assert order[0] is b["entry"] and order[-1] is b["join"]
    assert b["dead"] not in reachable(fn) and len(order) == 4


def test_dominators_ignore_unreachable_preds(shapes):
    fn = shapes.function("diamond")
    b = blocks(fn)
    dt = DominatorTree(fn)
    assert dt.idom(b["join"]) is b["entry"] and dt.idom(b["entry"]) is None
    assert dt.dominates(b["entry"], b["left"]) and not dt.dominates(b["left"], b["join"])
    assert dt.dominates(b["join"], b["join"])
    assert not dt.dominates(b["dead"], b["join"]) and not dt.contains(b["dead"])
    phi = b["join"].instructions[0]
    assert dt.instruction_dominates(phi, b["join"].instructions[1])


def test_post_dominators(shapes):
    fn = shapes.function("diamond")
    b = blocks(fn)
    pdt = PostDominatorTree(fn)
    assert pdt.ipdom(b["entry"]) is b["join"] and pdt.ipdom(b["left"]) is b["join"]
    assert pdt.dominates(b["join"], b["entry"]) and not pdt.dominates(b["left"], b["entry"])
    fn = shapes.function("two_latches")
    b = blocks(fn)
    pdt = PostDominatorTree(fn)
    assert pdt.ipdom(b["header"]) is None  # two exits: only the virtual exit post-dominates
    assert pdt.ipdom(b["a"]) is b["header"]
    fn = shapes.function("forever")
    b = blocks(fn)
    pdt = PostDominatorTree(fn)
    assert pdt.ipdom(b["spin"]) is None and pdt.ipdom(b["entry"]) is None


def test_loop_with_two_latches_and_exits(shapes):
    fn = shapes.function("two_latches")
    b = blocks(fn)
    info = LoopInfo(fn)
    (lp,) = info.loops
    assert lp.header is b["header"] and set(lp.latches) == {b["a"], b["b"]}
    assert set(lp.blocks) == {b["header"], b["body"], b["a"], b["b"]}
    assert set(lp.exits) == {b["exit"], b["early"]} and lp.preheader is b["entry"]
    assert canonical_induction(lp).name == "i"
    assert trip_count(lp, info.dt) is None  # two exiting blocks
    assert info.loop_of(b["a"]) is lp and info.loop_of(b["exit"]) is None


def test_header_tested_trip_count(shapes):
    fn = shapes.function("header_test")
    info = LoopInfo(fn)
    tc = trip_count(info.loops[0], info.dt)
    assert tc.bound is fn.args[0] and tc.offset == 1


def test_rotated_swapped_compare(shapes):
    fn = shapes.function("rotated")
    info = LoopInfo(fn)
    lp = info.loops[0]
    assert canonical_induction(lp).name == "i"  # %j starts at 1
    tc = trip_count(lp, info.dt)
    assert tc.bound is fn.args[0] and tc.offset == 0


def test_clang_loops_printer(loops):
    out = format_loops(loops.function("sum"))
    assert "depth 1, parent none" in out and "trip %1" in out
    assert "trip 100" in format_loops(loops.function("const100"))
    out = format_loops(loops.function("nested"))
    assert out.splitlines()[0] == "loops of @nested: 3"
    depths = [l.split("depth ")[1].split(",")[0] for l in out.splitlines()[1:]]
    assert depths == ["1", "2", "3"]
    assert "trip 4" in out.splitlines()[3]
    assert "trip unknown" in format_loops(loops.function("search"))  # break: two exits
    spin = format_loops(loops.function("spin"))
    assert "exits []" in spin and "iv none" in spin
    assert format_loops(loops.function("straight")) == "loops of @straight: 0"


def test_nesting_links(loops):
    fn = loops.function("nested")
    info = LoopInfo(fn)
    outer, middle, inner = info.loops
    assert info.top_level == [outer]
    assert middle.parent is outer and inner.parent is middle and outer.children == [middle]
    assert inner.header in middle and inner.header in outer
    assert middle.preheader is not None and all(b in outer for b in middle.blocks)


def test_large_straight_line_is_fast():
    import time
    body = "\n".join(f"  %v{k} = fadd double %v{k - 1}, 1.0" for k in range(1, 3000))
    blocks_ = "\n".join(f"b{k}:\n  br label %b{k + 1}" for k in range(3000))
    text = (f"define double @f(double %v0) {{\nentry:\n{body}\n  br label %b0\n{blocks_}\n"
            f"b3000:\n  ret double %v2999\n}}\n")
    fn = parse_module(text).function("f")
    t0 = time.perf_counter()
    dt = DominatorTree(fn)
    PostDominatorTree(fn)
    LoopInfo(fn, dt)
    assert time.perf_counter() - t0 < 2.0
    assert dt.dominates(fn.entry, fn.blocks[-1])


def test_exit_count_of_a_loop_starting_at_a_value():
    from adcc.analysis.cfg import exit_count
    m = parse_module("""
define void @k(ptr %p, i64 %s, i64 %n) {
entry:
  br label %loop
loop:
  %j = phi i64 [ %s, %entry ], [ %j1, %loop ]
  %q = getelementptr double, ptr %p, i64 %j
  store double 0.0, ptr %q
  %j1 = add nuw nsw i64 %j, 1
  %c = icmp eq i64 %j1, %n
  br i1 %c, label %exit, label %loop
exit:
  ret void
}
""")
    fn = m.function("k")
    info = LoopInfo(fn)
    lp = info.loops[0]
    s, n = fn.args[1], fn.args[2]
    tc = trip_count(lp, info.dt)  # no canonical induction variable: n - s from the stepped one
    assert tc.bound is n and tc.start is s and tc.offset == 0
    ec = exit_count(lp, info.dt)
    assert ec.bound is n and ec.start is s and ec.offset == 0 and not ec.clamp  # n - s iterations


def test_trip_counts_of_flang_loops():
    """flang's `do` loops: an iteration counter stepping down to 0, an index stepping up from 1."""
    m = parse_module("""
define void @k(ptr %p, i64 %n) {
entry:
  br label %loop
loop:
  %count = phi i64 [ %n, %entry ], [ %count1, %loop ]
  %i = phi i64 [ 1, %entry ], [ %i1, %loop ]
  %q = getelementptr double, ptr %p, i64 %i
  store double 0.0, ptr %q
  %i1 = add nuw nsw i64 %i, 1
  %count1 = add nsw i64 %count, -1
  %done = icmp eq i64 %count1, 0
  br i1 %done, label %next, label %loop
next:
  br label %up
up:
  %j = phi i64 [ 1, %next ], [ %j1, %up ]
  %r = getelementptr double, ptr %p, i64 %j
  store double 1.0, ptr %r
  %j1 = add nuw i64 %j, 1
  %end = icmp eq i64 %j, %n
  br i1 %end, label %exit, label %up
exit:
  ret void
}
""")
    fn = m.function("k")
    info = LoopInfo(fn)
    n = fn.args[1]
    down, up = sorted(info.loops, key=lambda lp: lp.header.name)
    for lp in (down, up):
        tc = trip_count(lp, info.dt)
        assert tc.bound is n and tc.offset == 0 and tc.start is None  # n iterations each

