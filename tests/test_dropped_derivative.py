"""-Wadcc-dropped-derivative: a warning when the program's own annotations drop a derivative
(active values stored into enzyme_const memory, or a global declared inactive, and read back into
the result), its flags, and its absence on programs that use such memory harmlessly. That no
conformance or e2e program warns is checked by tests/test_check_derivatives.py."""
from __future__ import annotations

import re

import pytest
from driver_helpers import ADCC, ADFLANG, REPO, assert_clean_error, run

WARN_DIR = REPO / "tests" / "warnings"
LSTM = WARN_DIR / "lstm_state.c"
OPTS = ("-O0", "-O1", "-O2", "-O3")
WARNING = re.compile(r"^(\S+?):(\d+):(\d+): (warning|error): derivatives flowing through (.+?) are dropped: "
                     r"(.+?) but active values are stored into it and read back \[(.+)\]$", re.M)


def compile_(tmp_path, src, *flags, out="t"):
    return run([ADCC, *flags, src, "-o", tmp_path / out, "-lm"], cwd=tmp_path)


@pytest.mark.parametrize("opt", OPTS)
def test_lstm_state_passed_as_const_warns_with_its_name_and_the_fix(tmp_path, opt):
    r = compile_(tmp_path, LSTM, opt)
    assert r.returncode == 0 and (tmp_path / "t").exists(), r.stderr
    found = WARNING.findall(r.stderr)
    assert [(m[1], m[3], m[4], m[5], m[6]) for m in found] == [
        ("77", "warning", "'state'", "it is passed as enzyme_const", "-Wadcc-dropped-derivative")], r.stderr
    notes = re.findall(r"^\S+?:(\d+):\d+: note: (.*)$", r.stderr, re.M)
    assert notes == [("25", "an active value is stored into it here"), ("22", "and read back here"),
                     ("77", "pass it as enzyme_dup with a shadow of the same size (scratch memory, "
                            "zero-initialized): enzyme_dup, state, d_state")], r.stderr
    # the warning is right: the gradient misses what flows through the state
    assert run([tmp_path / "t"]).returncode == 1


@pytest.mark.parametrize("opt", ("-O0", "-O2"))
def test_lstm_state_with_a_shadow_is_right_and_silent(tmp_path, opt):
    r = compile_(tmp_path, LSTM, opt, "-DSTATE_DUP")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    p = run([tmp_path / "t"])
    assert p.returncode == 0, p.stdout  # d main_params matches central finite differences


def test_werror_makes_it_an_error_without_output(tmp_path):
    for flags in (["-Werror=adcc-dropped-derivative"], ["-Werror"],
                  ["-Wno-adcc-dropped-derivative", "-Werror=adcc-dropped-derivative"]):
        r = compile_(tmp_path, LSTM, "-O2", *flags)
        assert_clean_error(r)
        assert not (tmp_path / "t").exists()
        assert [m[3] for m in WARNING.findall(r.stderr)] == ["error"], r.stderr
        assert "[-Werror,-Wadcc-dropped-derivative]" in r.stderr


@pytest.mark.parametrize("flags,shown", [
    (["-Wno-adcc-dropped-derivative"], False), (["-w"], False),
    (["-Wno-adcc-dropped-derivative", "-Wadcc-dropped-derivative"], True),
    (["-Werror", "-Wno-error=adcc-dropped-derivative"], True),
    (["-Werror=adcc-dropped-derivative", "-Wno-error=adcc-dropped-derivative"], True),
])
def test_warning_flags(tmp_path, flags, shown):
    r = compile_(tmp_path, LSTM, "-O1", *flags)
    assert r.returncode == 0, r.stderr
    assert [m[3] for m in WARNING.findall(r.stderr)] == (["warning"] if shown else []), r.stderr
    assert "unknown warning option" not in r.stderr  # the flags are adcc's, not clang's


def test_flags_on_the_native_fast_path(tmp_path):
    """-c of a unit without Enzyme calls: the launcher must not hand adcc's -W flags to clang."""
    (tmp_path / "plain.c").write_text("int twice(int x) { return 2 * x; }\n")
    r = run([ADCC, "-c", "-Wno-adcc-dropped-derivative", "-Werror=adcc-dropped-derivative", tmp_path / "plain.c",
             "-o", tmp_path / "plain.o"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = run([ADCC, "-c", "-O2", "-Wno-adcc-dropped-derivative", LSTM, "-o", tmp_path / "l.o"])
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_unknown_adcc_warning_group_is_an_error(tmp_path):
    r = compile_(tmp_path, LSTM, "-Wadcc-no-such-warning")
    assert_clean_error(r)
    assert "unknown warning option '-Wadcc-no-such-warning'" in r.stderr


def test_with_g_the_first_compile_names_the_argument(tmp_path):
    r = compile_(tmp_path, LSTM, "-O2", "-g")
    assert "derivatives flowing through 'state' are dropped" in r.stderr, r.stderr


@pytest.mark.parametrize("opt", ("-O0", "-O2"))
def test_helpers_write_and_read_the_scratch_in_both_modes(tmp_path, opt):
    r = compile_(tmp_path, WARN_DIR / "helpers_scratch.c", opt)
    found = WARNING.findall(r.stderr)
    assert [(m[1], m[4]) for m in found] == [("27", "'work'"), ("28", "'work'")], r.stderr
    notes = re.findall(r"^\S+?:(\d+):\d+: note: (an active value is stored|and read back)", r.stderr, re.M)
    assert notes == [("11", "an active value is stored"), ("16", "and read back")] * 2


@pytest.mark.parametrize("opt", ("-O0", "-O2"))
def test_inactive_global_used_as_scratch(tmp_path, opt):
    r = compile_(tmp_path, WARN_DIR / "inactive_global.c", opt)
    found = WARNING.findall(r.stderr)
    assert [(m[1], m[4], m[5]) for m in found] == [("23", "global 'cache'", "it is declared inactive")], r.stderr
    assert "remove 'cache' from the inactive globals" in r.stderr


@pytest.mark.parametrize("opt", OPTS)
def test_const_memory_used_harmlessly_does_not_warn(tmp_path, opt):
    """Inactive values stored and read back, active values logged but never read, a state read
    before it is overwritten, constant input data."""
    r = compile_(tmp_path, WARN_DIR / "no_warning.c", opt)
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("opt", ("-O0", "-O2"))
def test_fortran_section_written_by_a_procedure(tmp_path, opt):
    """A section of an enzyme_const array gets no shadow when the procedure it is passed to only
    reads it; one that receives active values warns, with the store inside the procedure."""
    r = run([ADFLANG, opt, WARN_DIR / "const_section_written.f90", "-o", tmp_path / "t"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    found = WARNING.findall(r.stderr)
    assert [(m[1], m[4], m[5]) for m in found] == [("44", "'x'", "it is passed as enzyme_const")], r.stderr
    notes = re.findall(r"^\S+?:(\d+):\d+: note: (an active value is stored|and read back)", r.stderr, re.M)
    assert notes == [("11", "an active value is stored"), ("27", "and read back")], r.stderr
    p = run([tmp_path / "t"])
    assert p.returncode == 0 and p.stdout.split() == ["written", "0.000", "0.000", "read_only", "1.000", "3.000"], \
        p.stdout + p.stderr


def test_without_debug_info_the_argument_is_named_by_position(tmp_path):
    """When even a compile with -g cannot name it (here: the IR is the input), the argument is
    named by its position."""
    ll = tmp_path / "h.ll"
    r = run(["clang-22", "-O1", "-S", "-emit-llvm", WARN_DIR / "helpers_scratch.c", "-o", ll])
    assert r.returncode == 0, r.stderr
    r = compile_(tmp_path, ll, "-O1")
    assert r.returncode == 0
    assert "adcc: warning: derivatives flowing through argument 2 of 'energy' are dropped" in r.stderr, r.stderr
    assert "note: pass it as enzyme_dup with a shadow of the same size (scratch memory, zero-initialized): " \
           "enzyme_dup, the pointer, then its shadow" in r.stderr


def test_the_run_time_check_catches_the_same_program(tmp_path):
    r = compile_(tmp_path, LSTM, "-O2", "-fadcc-check-derivatives", "-Wno-adcc-dropped-derivative")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    p = run([tmp_path / "t"])
    assert re.search(r"lstm_state.c:77: derivative check failed for lstm_objective: relative error", p.stderr), p.stderr
