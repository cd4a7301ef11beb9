"""Object code of a large module generated in parts on several cores (adcc/driver/codegen.py):
the same symbols as one emission, `static` symbols local again, constructors run once, and
the embedded bitcode still found."""
from __future__ import annotations

import subprocess

import pytest

from adcc.driver import codegen, objfile, stages

SOURCE = r"""
#include <stdio.h>
static int counter;
static const char *msg = "hello";
__attribute__((constructor)) static void init(void) { puts("ctor"); counter = 41; }
__attribute__((noinline)) static int bump(int x) { return counter + x; }
__attribute__((noinline)) static int twice(int x) { return 2 * bump(x); }
__attribute__((noinline)) int visible(int x) { return twice(x) + bump(x); }
int main(void) { printf("%s %d %d\n", msg, bump(1), visible(0)); return 0; }
"""


def local_names(path) -> set[str]:
    out = subprocess.run(["llvm-nm-22", "--defined-only", str(path)], capture_output=True, check=True)
    return {line.split()[-1] for line in out.stdout.decode().splitlines() if line.split()[1] in "tdbr"}


@pytest.fixture(scope="module")
def bitcode(tmp_path_factory):
    d = tmp_path_factory.mktemp("parts")
    (d / "t.c").write_text(SOURCE)
    subprocess.run(["clang-22", "-O2", "-emit-llvm", "-c", str(d / "t.c"), "-o", str(d / "t.bc")], check=True)
    return (d / "t.bc").read_bytes()


def test_parts_give_the_same_object_interface(bitcode, tmp_path):
    tm = stages.target_machine(opt=2)
    one = stages.emit(stages.llvm().parse_bitcode(bitcode), tm, "obj")
    work = tmp_path / "work"
    work.mkdir()
    many = codegen.emit_in_parts(stages.llvm().parse_bitcode(bitcode), tm, 3, str(work), bitcode)
    assert objfile.symbols(many) == objfile.symbols(one)  # globals defined and used: the same
    many = objfile.compress_embedded_bitcode(many)  # as the pipeline does next
    assert objfile.embedded_bitcode(many) == bitcode
    (tmp_path / "t.o").write_bytes(many)
    assert {"bump", "twice", "init"} <= local_names(tmp_path / "t.o")  # statics are local again
    subprocess.run(["clang-22", str(tmp_path / "t.o"), "-o", str(tmp_path / "t")], check=True)
    run = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, check=True)
    assert run.stdout == "ctor\nhello 42 123\n"


def test_two_units_with_the_same_statics_link(bitcode, tmp_path):
    # SplitModule makes statics hidden globals; left so, two objects of one program would clash
    tm = stages.target_machine(opt=2)
    objects = []
    for k, name in enumerate(("a", "b")):
        work = tmp_path / name
        work.mkdir()
        mod = stages.llvm().parse_bitcode(bitcode)
        if k == 1:  # the second unit: the same statics, no main
            for fn in mod.functions:
                if fn.name in ("main", "visible"):
                    fn.linkage = "internal"
        objects.append(tmp_path / f"{name}.o")
        objects[-1].write_bytes(codegen.emit_in_parts(mod, tm, 2, str(work)))
    subprocess.run(["clang-22", *map(str, objects), "-o", str(tmp_path / "t")], check=True)


def test_parts_only_for_large_objects(monkeypatch):
    monkeypatch.setattr(codegen, "cores", lambda: 4)
    monkeypatch.setattr(codegen, "tools_found", lambda: True)
    assert codegen.parts_for(100_000, "obj") == 1
    assert codegen.parts_for(6 * codegen.PART_BYTES, "obj") == 6
    assert codegen.parts_for(100 * codegen.PART_BYTES, "obj") == codegen.MAX_PARTS
    assert codegen.parts_for(6 * codegen.PART_BYTES, "asm") == 1
    assert codegen.parts_for(6 * codegen.PART_BYTES, "obj", "x\nmodule asm \".globl f\"\n") == 1
    monkeypatch.setattr(codegen, "tools_found", lambda: False)  # no llvm-split: one emission
    assert codegen.parts_for(6 * codegen.PART_BYTES, "obj") == 1
    monkeypatch.setattr(codegen, "tools_found", lambda: True)
    monkeypatch.setattr(codegen, "cores", lambda: 1)
    assert codegen.parts_for(6 * codegen.PART_BYTES, "obj") == 1
