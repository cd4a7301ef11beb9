"""-fadcc-check-derivatives: the run-time comparison of every derivative call with central finite
differences (runtime/adcc_check.c, adcc/ad/check.py), on the programs of tests/check/ and, as a
false-alarm sweep, on every program of the shared conformance suite and of tests/e2e/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from driver_helpers import ADCC, ADCXX, REPO, run
from levels import heavy, in_half

CHECK_DIR = REPO / "tests" / "check"
OPTS = ("-O0", "-O1", "-O2", "-O3")
SUMMARY = re.compile(r"adcc: derivative check: (\d+) of (\d+) derivative calls checked: (\d+) passed, "
                     r"(\d+) failed, (\d+) inconclusive; (\d+) not checkable")


def build(tmp_path: Path, src: Path, *flags: str, name: str = "t") -> Path:
    exe = tmp_path / name
    cc = ADCXX if src.suffix == ".cpp" else ADCC
    r = run([cc, *flags, f"-I{src.parent}", f"-I{src.parent.parent}", src, "-o", exe, "-lm"], cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    return exe


def summary(stderr: str) -> dict[str, int]:
    found = SUMMARY.findall(stderr)
    assert len(found) == 1, stderr
    keys = ("checked", "calls", "passed", "failed", "inconclusive", "not_checkable")
    return dict(zip(keys, map(int, found[0])))


def test_runtime_unit_tests(tmp_path):
    exe = tmp_path / "test_check"
    r = run(["clang-22", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-Wall", "-Wextra",
             "-Werror", f"-I{REPO / 'runtime'}", REPO / "runtime" / "adcc_check.c",
             REPO / "runtime" / "tests" / "test_check.c", "-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr
    r = run([exe])
    assert r.returncode == 0 and "check tests passed" in r.stdout, r.stdout + r.stderr
    assert summary(r.stderr) == {"checked": 6, "calls": 9, "passed": 3, "failed": 2, "inconclusive": 1,
                                 "not_checkable": 3}


@pytest.mark.parametrize("opt", OPTS)
def test_wrong_custom_rules_are_reported_in_both_modes(tmp_path, opt):
    src = CHECK_DIR / "wrong_rule.c"
    plain = run([build(tmp_path, src, opt, name="plain")])
    checked = run([build(tmp_path, src, opt, "-fadcc-check-derivatives")])
    assert checked.returncode == 0 and checked.stdout == plain.stdout  # the program's own results are untouched
    failures = re.findall(r"^(\S+):(\d+): derivative check failed for model: relative error (\S+)$", checked.stderr,
                          re.M)
    assert [(Path(f).name, int(line)) for f, line, _ in failures] == [("wrong_rule.c", 20), ("wrong_rule.c", 21)]
    assert all(float(e) > 0.05 for _, _, e in failures), failures
    assert "reverse mode along a random direction" in checked.stderr
    assert "forward mode along a random direction" in checked.stderr
    assert summary(checked.stderr)["failed"] == 2


def test_with_debug_information(tmp_path):
    """-g: the wrapper's calls carry the call's line, so the custom rules' own debug locations
    inlined through them stay valid (LLVM asserted on them before)."""
    checked = run([build(tmp_path, CHECK_DIR / "wrong_rule.c", "-O2", "-g", "-fadcc-check-derivatives")])
    assert summary(checked.stderr)["failed"] == 2


@pytest.mark.parametrize("opt", ("-O0", "-O3"))
def test_kinks_at_smooth_points_are_no_false_alarm(tmp_path, opt):
    src = CHECK_DIR / "kinks.c"
    plain = run([build(tmp_path, src, opt, name="plain")])
    checked = run([build(tmp_path, src, opt, "-fadcc-check-derivatives")], env={"ADCC_CHECK_DERIVATIVES": "verbose"})
    assert checked.stdout == plain.stdout
    assert "failed for" not in checked.stderr, checked.stderr
    # three calls at smooth points (reverse, forward, single precision), one exactly at a kink
    assert summary(checked.stderr) == {"checked": 4, "calls": 4, "passed": 3, "failed": 0, "inconclusive": 1,
                                       "not_checkable": 0}
    assert re.search(r"kinks.c:33: derivative check inconclusive for kinky", checked.stderr), checked.stderr


@pytest.mark.parametrize("opt", ("-O0", "-O2"))
def test_side_effects_of_the_primal_do_not_reach_the_program(tmp_path, opt):
    src = CHECK_DIR / "side_effects.c"
    plain = run([build(tmp_path, src, opt, name="plain")])
    checked = run([build(tmp_path, src, opt, "-fadcc-check-derivatives")])
    assert plain.returncode == checked.returncode == 0
    assert checked.stdout == plain.stdout  # prints, global counter, scratch, log, accumulated shadows
    assert checked.stdout.count("step call") == 2
    assert summary(checked.stderr) == {"checked": 2, "calls": 2, "passed": 2, "failed": 0, "inconclusive": 0,
                                       "not_checkable": 0}


def test_calls_it_cannot_check_are_counted_with_their_reason(tmp_path):
    checked = run([build(tmp_path, CHECK_DIR / "not_checkable.c", "-O2", "-fadcc-check-derivatives")])
    assert checked.returncode == 0
    reasons = re.findall(r"^\S+:(\d+): derivative check skipped for (\w+): (.*)$", checked.stderr, re.M)
    assert reasons == [("30", "norm2", "argument 1: its memory holds pointers (to memory the check cannot size)"),
                       ("24", "sum", "the size of argument 1's memory is not known at the call "
                                     "(pass memory allocated where the call can see it)")]
    assert summary(checked.stderr)["not_checkable"] == 3


def test_struct_through_a_helper_is_checked_from_its_layout(tmp_path):
    """The size of a struct behind a helper's parameter is not known at the call; its fixed
    offsets are enough."""
    (tmp_path / "s.c").write_text(
        "#include <stdio.h>\n"
        "extern void __enzyme_autodiff(void *, ...);\n"
        "extern int enzyme_dup;\n"
        "typedef struct { double a; int n; double b; } P;\n"
        "double energy(const P *p) { return p->a * p->a * p->b + p->n; }\n"
        "__attribute__((noinline)) void grad(const P *p, P *dp) { __enzyme_autodiff((void *)energy, enzyme_dup, p, dp); }\n"
        "int main(void) { P p = {1.5, 2, 0.5}, dp = {0, 0, 0}; grad(&p, &dp); printf(\"%g %g\\n\", dp.a, dp.b); return 0; }\n")
    r = run([build(tmp_path, tmp_path / "s.c", "-O2", "-fadcc-check-derivatives")])
    assert r.stdout == "1.5 2.25\n"
    assert summary(r.stderr) == {"checked": 1, "calls": 1, "passed": 1, "failed": 0, "inconclusive": 0,
                                 "not_checkable": 0}


def test_environment_switches_the_check(tmp_path):
    exe = build(tmp_path, CHECK_DIR / "wrong_rule.c", "-O2", "-fadcc-check-derivatives")
    off = run([exe], env={"ADCC_CHECK_DERIVATIVES": "0"})
    assert off.returncode == 0 and off.stderr == ""
    on = run([exe], env={"ADCC_CHECK_DERIVATIVES": "1"})
    assert summary(on.stderr)["failed"] == 2
    unchecked = run([build(tmp_path, CHECK_DIR / "wrong_rule.c", "-O2", "-fadcc-check-derivatives",
                           "-fno-adcc-check-derivatives", name="u")])
    assert unchecked.stderr == ""


def test_sampling_checks_the_first_calls_then_powers_of_two(tmp_path):
    (tmp_path / "loop.c").write_text(
        "extern double __enzyme_autodiff(void *, ...);\n"
        "double sq(double x) { return x * x; }\n"
        "int main(void) { double s = 0; for (int i = 0; i < 100; i++) s += __enzyme_autodiff((void *)sq, 0.1 * i);\n"
        "  return s > 0 ? 0 : 1; }\n")
    exe = build(tmp_path, tmp_path / "loop.c", "-O1", "-fadcc-check-derivatives")
    sampled = summary(run([exe]).stderr)
    assert (sampled["calls"], sampled["checked"], sampled["passed"]) == (100, 8 + 3, 11)  # 1..8, 16, 32, 64
    assert summary(run([exe], env={"ADCC_CHECK_DERIVATIVES": "all"}).stderr)["checked"] == 100


def test_separate_compilation_and_link(tmp_path):
    obj = tmp_path / "w.o"
    r = run([ADCC, "-O2", "-c", "-fadcc-check-derivatives", CHECK_DIR / "wrong_rule.c", "-o", obj])
    assert r.returncode == 0, r.stderr
    exe = tmp_path / "w"
    assert run([ADCC, obj, "-o", exe, "-lm"]).returncode == 0
    assert summary(run([exe]).stderr)["failed"] == 2


# --- no false alarm on the suites --------------------------------------------------------------

CONFORMANCE = REPO.parent / "shared" / "conformance"
SUITES = sorted([*CONFORMANCE.glob("reverse/*.c"), *CONFORMANCE.glob("forward/*.c"), *CONFORMANCE.glob("cpp/*.cpp"),
                 *(REPO / "tests" / "e2e").glob("*/*.c"), *(REPO / "tests" / "e2e").glob("*/*.cpp")])


# Programs whose Enzyme declarations make derivatives differ from their primal's on purpose (rules
# of functions whose bodies are wrong or crude on purpose, inactive functions whose values are
# held fixed): the check must report exactly those calls (their number at -O2).
DISAGREE_ON_PURPOSE = {"declarations/cpp_forms.cpp": 2, "declarations/function_like.c": 2,
                       "declarations/inactive.c": 2, "declarations/static_registration.c": 2,
                       "declarations/toplevel_rule.c": 4,
                       "declarations/attribute_spellings.c": 2,  # (an enzyme_inactive_noblock function)
                       "api/strong_zero.c": 1,  # (its call without enzyme_strong_zero is NaN on purpose: 0 * inf)
                       "api/call_inactive.c": 12, "api/utilities.cpp": 1}  # (__enzyme_call_inactive holds a factor)
# ... and whose inactive globals receive active values read back on purpose (the derivative held
# fixed is their reference): -Wadcc-dropped-derivative is right to say so (warnings per program).
DROPPED_ON_PURPOSE = {"declarations/inactive.c": 4, "declarations/cpp_forms.cpp": 2}


# Programs that fail without the check too (tests/test_e2e.py's strict xfails): the same issue.
FAIL_WITHOUT_CHECK: dict[str, str] = {
    "memory/float_bits_by_value.c": "#9 floats passed as the bits of a wider integer: refused (located error)",
    "cpp/mixed_pointer_struct_callee.cpp": "#17 a struct with a shadow read by a callee: its field of pointers "
                                           "into enzyme_const memory has null shadows (crash)",
}


def _suite_param(p):
    rel = f"{p.parent.name}/{p.name}"
    marks = [pytest.mark.xfail(strict=True, reason=FAIL_WITHOUT_CHECK[rel])] if rel in FAIL_WITHOUT_CHECK else []
    slow = heavy(p) or not in_half(rel)  # (CI's 20-minute limit: the other half with `make test-slow`)
    return pytest.param(p, marks=marks + ([pytest.mark.slow] if slow else []), id=f"{p.parent.parent.name}/{rel}")


@pytest.mark.parametrize("src", [_suite_param(p) for p in SUITES])
def test_suite_programs_pass_the_check_without_warnings(tmp_path, src):
    """Every conformance and e2e program compiles with the check and without an adcc warning,
    still passes its own checks, and no derivative call fails the run-time check, except where
    the program's declarations make it differ from the primal on purpose."""
    exe = tmp_path / "t"
    cc = ADCXX if src.suffix == ".cpp" else ADCC
    c = run([cc, "-O2", "-fadcc-check-derivatives", f"-I{src.parent}", src, "-o", exe, "-lm"], cwd=tmp_path)
    assert c.returncode == 0 and "Traceback" not in c.stderr, c.stderr
    rel = f"{src.parent.name}/{src.name}"
    warnings = re.findall(r"warning: .*", c.stderr)
    assert len(warnings) == DROPPED_ON_PURPOSE.get(rel, 0), c.stderr
    assert all("[-Wadcc-dropped-derivative]" in w and "global" in w for w in warnings), c.stderr
    r = run([exe], cwd=tmp_path, timeout=300)  # sampled: each site's first 8 calls, then 16, 32, ...
    assert r.returncode == 0 and re.search(r"^PASS", r.stdout, re.M), r.stdout + r.stderr
    if not SUMMARY.findall(r.stderr):  # no derivative call ran: only __enzyme_batch (evaluations)
        assert "__enzyme_batch" in src.read_text(), r.stderr
        return
    counts = summary(r.stderr)
    assert counts["failed"] == DISAGREE_ON_PURPOSE.get(rel, 0), r.stderr
    assert counts["calls"] > 0
