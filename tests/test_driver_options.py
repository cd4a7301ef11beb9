"""The driver's flag table: joined/separate forms, response files, unknown flags, adcc flags."""
from __future__ import annotations

import pytest

from adcc.diagnostics import CompileError
from adcc.driver import options as opts


def names(parsed):
    return [(a.name, a.value) for a in parsed.args]


@pytest.mark.parametrize("argv, expected", [
    (["-Ifoo"], ("-I", "foo")), (["-I", "foo"], ("-I", "foo")),
    (["-DX=1"], ("-D", "X=1")), (["-D", "X=1"], ("-D", "X=1")),
    (["-UX"], ("-U", "X")), (["-U", "X"], ("-U", "X")),
    (["-include", "a.h"], ("-include", "a.h")), (["-includea.h"], ("-include", "a.h")),
    (["-o", "out"], ("-o", "out")), (["-oout"], ("-o", "out")),
    (["-MF", "d.d"], ("-MF", "d.d")), (["-MFd.d"], ("-MF", "d.d")),
    (["-MT", "t"], ("-MT", "t")), (["-MQ", "t"], ("-MQ", "t")),
    (["-std=c11"], ("-std=", "c11")), (["-O3"], ("-O", "3")), (["-Ofast"], ("-Ofast", None)),
    (["-lm"], ("-l", "m")), (["-l", "m"], ("-l", "m")), (["-L/x"], ("-L", "/x")),
    (["-Wl,-rpath,/x"], ("-Wl,", "-rpath,/x")), (["-x", "c"], ("-x", "c")), (["-xc++"], ("-x", "c++")),
    (["-march=native"], ("-march=", "native")), (["-Xclang", "-foo"], ("-Xclang", "-foo")),
    (["--ad-stage=unoptimized"], ("--ad-stage=", "unoptimized")),
])
def test_joined_and_separate_forms(argv, expected):
    parsed = opts.parse_args(argv)
    assert names(parsed) == [expected]
    assert parsed.inputs == []


def test_flags_and_roles():
    parsed = opts.parse_args(["-c", "-S", "-E", "-emit-llvm", "-g", "-MD", "-MMD", "-MP", "-shared",
                              "-fPIC", "-pthread", "-static", "--print-types", "--print-activity",
                              "-fno-adcc-fast-path"])
    roles = {a.words[0]: a.role for a in parsed.args}
    assert roles["-c"] == opts.COMPILE_ONLY and roles["-shared"] == opts.LINK_ONLY
    assert roles["--print-types"] == opts.ADCC and roles["-fno-adcc-fast-path"] == opts.ADCC
    assert roles["-fPIC"] == opts.BOTH  # unknown to the table: forwarded everywhere
    assert not parsed.fast_path


def test_unknown_flags_pass_through_unchanged():
    argv = ["-fno-strict-aliasing", "-Wall", "-Wextra", "-mavx2", "-ffast-math", "-Wno-unused", "a.c"]
    parsed = opts.parse_args(argv)
    assert [w for a in parsed.args for w in a.words] == argv[:-1]
    assert all(a.name is None for a in parsed.args)
    assert [i.path for i in parsed.inputs] == ["a.c"]


def test_separate_value_is_not_an_input():
    parsed = opts.parse_args(["-Xlinker", "foo.o", "-o", "x.o", "-MF", "dep.d", "a.c", "-include", "h.h"])
    assert [i.path for i in parsed.inputs] == ["a.c"]


def test_inputs_keep_order_and_language():
    parsed = opts.parse_args(["a.c", "-x", "c++", "b.txt", "-x", "none", "c.f90", "d.o", "libe.a", "-", "--", "-weird.c"])
    got = [(i.path, i.lang, opts.input_kind(i)) for i in parsed.inputs]
    assert got == [("a.c", None, "c"), ("b.txt", "c++", "c++"), ("c.f90", None, "fortran"),
                   ("d.o", None, "linker"), ("libe.a", None, "linker"), ("-", None, "linker"),
                   ("-weird.c", None, "c")]


@pytest.mark.parametrize("path, kind", [("x.cc", "c++"), ("x.cpp", "c++"), ("x.cxx", "c++"), ("x.f", "fortran"),
                                        ("x.ll", "ir"), ("x.bc", "ir"), ("x.s", "asm"), ("x.so", "linker")])
def test_input_kinds(path, kind):
    assert opts.input_kind(opts.Input(path)) == kind


def test_opt_level_last_wins():
    assert opts.parse_args(["-O3", "-O1"]).opt_level == "1"
    assert opts.parse_args(["-O2", "-Ofast"]).opt_level == "fast"
    assert opts.parse_args([]).opt_level == "0"
    assert opts.parse_args(["-Os"]).opt_level == "s"


def test_response_files(tmp_path):
    inner = tmp_path / "inner.rsp"
    inner.write_text("-DINNER 'two words.c'\n")
    outer = tmp_path / "outer.rsp"
    outer.write_text(f'-O2 "-DQ=a b" -I inc\n@{inner}\n x.c\n')
    parsed = opts.parse_args([f"@{outer}", "-c"])
    assert parsed.argv == ["-O2", "-DQ=a b", "-I", "inc", "-DINNER", "two words.c", "x.c", "-c"]
    assert [i.path for i in parsed.inputs] == ["two words.c", "x.c"]


def test_missing_response_file_is_literal():
    assert opts.expand_response_files(["@does-not-exist"]) == ["@does-not-exist"]


@pytest.mark.parametrize("argv", [["--ad-stage=sideways"], ["--adcc-bogus"], ["-fadcc-nope"], ["-o"], ["-MF"]])
def test_adcc_flag_errors(argv):
    with pytest.raises(CompileError):
        opts.parse_args(argv)


def test_ad_stage_default():
    assert opts.parse_args([]).ad_stage == "optimized"
    assert opts.parse_args(["--ad-stage=unoptimized"]).ad_stage == "unoptimized"
