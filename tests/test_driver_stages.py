"""Each AD-pipeline stage on its own (adcc/driver/stages.py)."""
from __future__ import annotations

import pytest

from adcc.ad.api import ADOptions
from adcc.diagnostics import CompileError
from adcc.driver import objfile, stages
from adcc.driver.files import OutputSet

TRIPLE = 'target triple = "x86_64-pc-linux-gnu"\n'
LOOP = TRIPLE + """
define double @sum(ptr %x, i32 %n) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i1, %loop ]
  %s = phi double [ 0.0, %entry ], [ %s1, %loop ]
  %p = getelementptr double, ptr %x, i32 %i
  %v = load double, ptr %p
  %s1 = fadd double %s, %v
  %i1 = add i32 %i, 1
  %c = icmp slt i32 %i1, %n
  br i1 %c, label %loop, label %exit
exit:
  ret double %s1
}
"""


@pytest.fixture(scope="module")
def tm():
    return stages.target_machine(opt=2)


def test_front_end_args_replace_opt_level():
    args = stages.front_end_args("clang-22", ["-O3", "-g", "-DX", "-flto", "-ffat-lto-objects"], "c")
    assert args == ["-g", "-DX", "-O2", "-Xclang", "-disable-llvm-passes"]
    assert "-Xclang" not in stages.front_end_args("flang-new-22", ["-O0"], "fortran")


def test_front_end_and_read(tmp_path):
    (tmp_path / "a.c").write_text("static int k = 3;\nint f(int x) { return k * x; }\n")
    out = tmp_path / "a.bc"
    assert stages.front_end("clang-22", ["-O0"], [str(tmp_path / "a.c")], "c", str(out)) == 0
    text = stages.read_bitcode(out.read_bytes())
    assert "define" in text and "@f(" in text
    assert "optnone" not in text and "!tbaa" in text  # -O2 -disable-llvm-passes even at -O0


def test_read_rejects_garbage():
    with pytest.raises(CompileError):
        stages.read_bitcode(b"not bitcode")


def test_pre_ad_optimize_keeps_loops_scalar(tm):
    text = stages.pre_ad_optimize(LOOP, tm)
    assert "<2 x double>" not in text and "<4 x double>" not in text
    assert "define double @sum" in text


def test_verify_rejects_bad_ir():
    bad = TRIPLE + "define i32 @f() {\n  ret i64 0\n}\n"
    with pytest.raises(CompileError):
        stages.verify(bad)
    broken = TRIPLE + "define i32 @f(i32 %x) {\nentry:\n  br label %b\nb:\n  %y = add i32 %z, 1\n  %z = add i32 %x, 1\n  ret i32 %y\n}\n"
    with pytest.raises(CompileError, match="does not verify"):
        stages.verify(broken)


def test_differentiate_without_calls_is_identity():
    assert stages.differentiate(LOOP, ADOptions()).text == LOOP


def test_embed_emit_and_extract(tm):
    mod = stages.verify(LOOP)
    bitcode = mod.as_bitcode()
    stages.embed_bitcode(mod, bitcode)
    stages.optimize(mod, tm, 3)
    data = stages.emit(mod, tm, "obj")
    assert objfile.embedded_bitcode(data) == bitcode
    assert objfile.sections(data)[b".llvm.lto"][1] == len(bitcode)
    assert "define double @sum" in stages.read_bitcode(objfile.embedded_bitcode(data))


def test_emit_kinds(tm):
    assert b"sum:" in stages.emit(stages.verify(LOOP), tm, "asm")
    assert stages.emit(stages.verify(LOOP), tm, "bc")[:4] == b"BC\xc0\xde"
    assert b"define double @sum" in stages.emit(stages.verify(LOOP), tm, "ll")


def test_link_bitcode_merges():
    a = stages.verify(LOOP).as_bitcode()
    b = stages.verify(TRIPLE + "declare double @sum(ptr, i32)\ndefine double @g(ptr %x) {\n"
                      "  %r = call double @sum(ptr %x, i32 4)\n  ret double %r\n}\n").as_bitcode()
    merged = str(stages.link_bitcode([a, b]))
    assert "define double @sum" in merged and "define double @g" in merged


def test_output_set_discard(tmp_path):
    outs = OutputSet()
    final = tmp_path / "x.o"
    tmp = outs.temp_for(str(final))
    open(tmp, "w").write("partial")
    outs.discard()
    assert list(tmp_path.iterdir()) == []


def test_cycle_collection_paused_only_in_a_tuned_worker(monkeypatch):
    import gc

    from adcc.driver import worker
    assert gc.isenabled()
    with worker.no_cycle_collection():  # a test (or library) process: left alone
        assert gc.isenabled()
    monkeypatch.setattr(worker, "_tuned", True)
    frozen = gc.get_freeze_count()
    try:
        with worker.no_cycle_collection():
            assert not gc.isenabled()
            garbage = [[] for _ in range(1000)]
        assert gc.isenabled() and gc.get_freeze_count() >= frozen + len(garbage)
    finally:
        gc.unfreeze()
        gc.enable()
