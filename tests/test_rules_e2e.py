"""Every derivative rule with a C spelling, end to end through the compiled pipeline.

`tests/test_rules.py` checks the partials of `adcc.ad.rules.RULES` in Python only. This file generates
C programs from the same table at test time, compiles them with adcc (-O0, -O2) and runs them: for
every C spelling (`sin`, and its float and long double twins `sinf`, `sinl`), every domain point and
every floating-point operand, the reverse-mode partial (`__enzyme_autodiff`, the operand `enzyme_out` and, as `rev-default`,
unmarked; the others `enzyme_const`) and the forward-mode partial (`__enzyme_fwddiff`, `enzyme_dup, x, 1.0`) are compared
with a central finite difference of the double-precision function (step 1e-6*(|x|+1)), within
1e-5*max(1, |want|) (1e-3 for float spellings). Non-active float operands (copysign's sign) and the
piecewise-constant rules are checked too: their finite difference is 0.

Opcode rules (fadd, fsub, fmul, fdiv, frem, fneg, select, fpext, fptrunc, the int/float conversions)
and the intrinsic-only ones clang emits from C (fmuladd from `a*b+c`, powi from `__builtin_powi`) get
small hand-written C expressions.

Floats never go through varargs: a float (long double) case is a `double` function that converts its
operands to float (long double), calls that spelling (`sinf((float)x0)`, `sinl((long double)x0)`) and
converts the result back; its finite difference is taken of the double twin (`sin(x0)`).

Each program prints one `MISMATCH <case> ...` line per failed check and `PASS` at the end; it exits 1
on any mismatch. Cases listed in `KNOWN_FAILURES` are moved to a separate program that must fail
(`xfail(strict=True)`): delete an entry when its case starts passing.
"""
from __future__ import annotations

import functools
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from adcc.ad.rules import RULES, rule_named

BIN_DIR = Path(sys.executable).parent
ADCC = BIN_DIR / "adcc"
TIMEOUT = 120  # seconds, per compile and per run
OPTS = ("-O0", "-O2")
PRECISIONS = ("double", "float", "long double")
TOLERANCE = {"double": 1e-5, "float": 1e-3, "long double": 1e-5}
SPELLING = {"double": "", "float": "f", "long double": "l"}  # libm suffix per precision

# case key (a C spelling such as "sinf", or a hand-written case such as "fmul", "fpext") -> "issue: reason".
# Those cases run in their own program, which must fail (strict xfail).
KNOWN_FAILURES: dict[str, str] = {}


@dataclass(frozen=True)
class Instance:
    """One generated C function and the domain points it is checked at."""
    fname: str
    nparams: int
    body: str                    # expression in x0..x{n-1} (doubles), returns double
    twin: str                    # the same function in double precision, for the finite difference
    points: tuple                # tuples of nparams doubles
    labels: tuple                # per point: the rule's domain point as written in the table
    operands: tuple              # per param: the rule operand index it stands for


@dataclass(frozen=True)
class Case:
    key: str                     # C spelling or hand-written name: what KNOWN_FAILURES lists
    rule: str                    # the rule it exercises
    precision: str               # "double" or "float"
    instances: tuple


def _c_bases(rule) -> list[str]:
    """The double-precision libm spellings of a rule (`ldexp`, `scalbn`, `scalbln`)."""
    return [n for n in rule.c_names if n + "f" in rule.c_names]


def _lit(v: float) -> str:
    return repr(float(v))


def _libm_cases(rule, base: str, precision: str) -> Case:
    """`f_<spelling>_<k>(double x0, ...)` calling the spelling; integer operands are literals."""
    spelling = base + SPELLING[precision]
    groups: dict[tuple, list] = {}
    for point in rule.domain:
        ints = tuple((i, v) for i, v in enumerate(point) if not isinstance(v, float))
        groups.setdefault(ints, []).append(point)
    instances = []
    for k, (ints, points) in enumerate(groups.items()):
        const = dict(ints)
        floats = [i for i in range(rule.arity) if i not in const]
        param = {op: f"x{j}" for j, op in enumerate(floats)}

        def call(name: str, narrow: bool) -> str:
            args = [str(const[i]) if i in const else (f"({precision}){param[i]}" if narrow else param[i])
                    for i in range(rule.arity)]
            return f"(double){name}({', '.join(args)})"
        instances.append(Instance(
            fname=f"f_{spelling}_{k}", nparams=len(floats), body=call(spelling, precision != "double"),
            twin=call(base, False), points=tuple(tuple(p[i] for i in floats) for p in points),
            labels=tuple(repr(p) for p in points), operands=tuple(floats)))
    return Case(key=spelling, rule=rule.name, precision=precision, instances=tuple(instances))


def _hand(key: str, rule: str, precision: str, body: str, twin: str | None, points, labels=None) -> Case:
    points = tuple(tuple(float(v) for v in p) for p in points)
    n = len(points[0])
    return Case(key=key, rule=rule, precision=precision, instances=(Instance(
        fname=f"f_{key}", nparams=n, body=body, twin=twin or body, points=points,
        labels=tuple(labels or (repr(p) for p in points)), operands=tuple(range(n))),))


def _hand_cases() -> list[Case]:
    """Opcode rules and intrinsic-only rules, spelled as C expressions."""
    d = lambda name: rule_named(name).domain  # noqa: E731
    sel = rule_named("select").domain
    out = [
        _hand("fadd", "fadd", "double", "x0 + x1", None, d("fadd")),
        _hand("fsub", "fsub", "double", "x0 - x1", None, d("fsub")),
        _hand("fmul", "fmul", "double", "x0 * x1", None, d("fmul")),
        _hand("fdiv", "fdiv", "double", "x0 / x1", None, d("fdiv")),
        _hand("fneg", "fneg", "double", "-x0", None, d("fneg")),
        _hand("frem", "fmod", "double", "__builtin_elementwise_fmod(x0, x1)", None, d("fmod")),
        # select(c, a, b): the comparison picks a (x0) when the table's c is true, b (x1) otherwise
        _hand("select", "select", "double", "x0 > x1 ? x0 : x1", None,
              [p[1:] for p in sel if p[0]], [repr(p) for p in sel if p[0]]),
        _hand("select_false", "select", "double", "x0 < x1 ? x0 : x1", None,
              [p[1:] for p in sel if not p[0]], [repr(p) for p in sel if not p[0]]),
        _hand("fmuladd", "fmuladd", "double", "x0 * x1 + x2", None, d("fmuladd")),
        _hand("fptosi", "fptosi", "double", "(double)(long)x0", None, d("fptosi")),
        _hand("fptoui", "fptoui", "double", "(double)(unsigned long)x0", None, d("fptoui")),
        # float arithmetic, and the casts around it
        _hand("fpext", "fpext", "float", "(double)(float)x0", "x0", d("fpext")),
        _hand("fptrunc", "fptrunc", "float", "(double)(float)(x0 * x0)", "x0 * x0", d("fptrunc")),
        _hand("faddf", "fadd", "float", "(double)((float)x0 + (float)x1)", "x0 + x1", d("fadd")),
        _hand("fsubf", "fsub", "float", "(double)((float)x0 - (float)x1)", "x0 - x1", d("fsub")),
        _hand("fmulf", "fmul", "float", "(double)((float)x0 * (float)x1)", "x0 * x1", d("fmul")),
        _hand("fdivf", "fdiv", "float", "(double)((float)x0 / (float)x1)", "x0 / x1", d("fdiv")),
        _hand("fnegf", "fneg", "float", "(double)(-(float)x0)", "-x0", d("fneg")),
        _hand("fremf", "fmod", "float", "(double)__builtin_elementwise_fmod((float)x0, (float)x1)",
              "fmod(x0, x1)", d("fmod")),
        _hand("selectf", "select", "float", "(double)((float)x0 > (float)x1 ? (float)x0 : (float)x1)",
              "x0 > x1 ? x0 : x1", [p[1:] for p in sel if p[0]], [repr(p) for p in sel if p[0]]),
    ]
    # powi: the integer exponent is a literal, one function per point
    for k, (x, n) in enumerate(d("powi")):
        out.append(_hand(f"powi_{k}", "powi", "double", f"__builtin_powi(x0, {n})", f"pow(x0, {n})",
                         [(x,)], [repr((x, n))]))
        out.append(_hand(f"powif_{k}", "powi", "float", f"(double)__builtin_powi((float)x0, {n})",
                         f"pow(x0, {n})", [(x,)], [repr((x, n))]))
    return out


@functools.cache
def all_cases() -> tuple[Case, ...]:
    cases = []
    for rule in RULES:
        for base in _c_bases(rule):
            for precision in PRECISIONS:
                cases.append(_libm_cases(rule, base, precision))
    cases += _hand_cases()
    keys = [c.key for c in cases]
    assert len(keys) == len(set(keys)), "duplicate case keys"
    return tuple(cases)


_PRELUDE = r"""#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>

extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup;
int enzyme_const;
int enzyme_out;

static int failures;

static void check(const char *key, const char *rule, const char *mode, int op, const char *point,
                  double got, double want, double tol) {
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    if (!(fabs(got - want) <= tol * scale)) {
        printf("MISMATCH %s rule=%s %s d/dx%d at %s: got %.17g want %.17g\n", key, rule, mode, op, point,
               got, want);
        failures++;
    }
}

static double step(double x) { return 1e-6 * (fabs(x) + 1.0); }
"""


def generate(cases) -> str:
    """The C program checking `cases` (all of one precision)."""
    funcs, checks = [], []
    for case in cases:
        tol = TOLERANCE[case.precision]
        for inst in case.instances:
            params = ", ".join(f"double x{j}" for j in range(inst.nparams))
            funcs.append(f"static double {inst.fname}({params}) {{ return {inst.body}; }}")
            funcs.append(f"static double {inst.fname}_twin({params}) {{ return {inst.twin}; }}")
            for point, label in zip(inst.points, inst.labels):
                for j in range(inst.nparams):
                    op = inst.operands[j]
                    xs = [_lit(v) for v in point]
                    rev = ", ".join(("enzyme_out, " if k == j else "enzyme_const, ") + xs[k]
                                    for k in range(inst.nparams))
                    rev_default = ", ".join(xs[k] if k == j else f"enzyme_const, {xs[k]}"
                                            for k in range(inst.nparams))
                    fwd = ", ".join((f"enzyme_dup, {xs[k]}, 1.0" if k == j else f"enzyme_const, {xs[k]}")
                                    for k in range(inst.nparams))
                    plus = ", ".join("xp" if k == j else xs[k] for k in range(inst.nparams))
                    minus = ", ".join("xm" if k == j else xs[k] for k in range(inst.nparams))
                    args = f'"{case.key}", "{case.rule}"'
                    checks.append(
                        "    {\n"
                        f"        double h = step({xs[j]}), xp = {xs[j]} + h, xm = {xs[j]} - h;\n"
                        f"        double fd = ({inst.fname}_twin({plus}) - {inst.fname}_twin({minus})) / (xp - xm);\n"
                        f"        check({args}, \"rev\", {op}, \"{label}\", "
                        f"__enzyme_autodiff((void *){inst.fname}, {rev}), fd, {tol!r});\n"
                        f"        check({args}, \"rev-default\", {op}, \"{label}\", "
                        f"__enzyme_autodiff((void *){inst.fname}, {rev_default}), fd, {tol!r});\n"
                        f"        check({args}, \"fwd\", {op}, \"{label}\", "
                        f"__enzyme_fwddiff((void *){inst.fname}, {fwd}), fd, {tol!r});\n"
                        "    }")
    return (_PRELUDE + "\n" + "\n".join(funcs) + "\n\nint main(void) {\n" + "\n".join(checks)
            + '\n    if (failures) {\n        printf("%d mismatches\\n", failures);\n        return 1;\n    }\n'
            + '    printf("PASS\\n");\n    return 0;\n}\n')


def _select(precision: str, known: bool) -> list[Case]:
    return [c for c in all_cases() if c.precision == precision and (c.key in KNOWN_FAILURES) == known]


def _build_and_run(cases, opt: str, tmp_path: Path) -> tuple[bool, str]:
    """(passed, message naming the failing cases)."""
    src = tmp_path / "rules.c"
    exe = tmp_path / "rules"
    src.write_text(generate(cases))
    cp = subprocess.run([str(ADCC), opt, str(src), "-o", str(exe), "-lm"], capture_output=True, text=True,
                        timeout=TIMEOUT, cwd=tmp_path)
    if cp.returncode != 0:
        return False, (f"adcc {opt} failed (exit {cp.returncode}) on the program for "
                       f"{sorted({c.key for c in cases})}:\n{cp.stderr[-6000:]}")
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    lines = run.stdout.splitlines()
    if run.returncode == 0 and lines and lines[-1] == "PASS":
        return True, ""
    bad = [ln for ln in lines if ln.startswith("MISMATCH ")]
    keys = sorted({ln.split()[1] for ln in bad})
    rules = sorted({re.search(r"rule=(\S+)", ln).group(1) for ln in bad})
    return False, (f"{opt}: exit {run.returncode}; failing cases {keys} (rules {rules}); "
                   f"KNOWN_FAILURES lists the known ones\n" + "\n".join(lines[-200:]) + run.stderr[-2000:])


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("opt", OPTS)
def test_rules_end_to_end(opt, precision, tmp_path):
    ok, message = _build_and_run(_select(precision, known=False), opt, tmp_path)
    assert ok, message


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("opt", OPTS)
def test_known_failures_still_fail(opt, precision, tmp_path, request):
    cases = _select(precision, known=True)
    if not cases:
        pytest.skip(f"no known failures among the {precision} cases")
    request.node.add_marker(pytest.mark.xfail(
        strict=True, reason="; ".join(f"{c.key}: {KNOWN_FAILURES[c.key]}" for c in cases)))
    ok, message = _build_and_run(cases, opt, tmp_path)
    assert ok, message


def test_every_c_spelling_is_generated():
    """No rule with a C name ships without an end-to-end check of its double and float spellings."""
    programs = {p: generate(_select(p, False)) + generate(_select(p, True)) for p in PRECISIONS}
    checked = {(c.rule, c.precision) for c in all_cases()}
    for rule in RULES:
        if not rule.c_names:
            continue
        for base in _c_bases(rule):
            for precision in PRECISIONS:
                spelling = base + SPELLING[precision]
                assert re.search(rf"\b{re.escape(spelling)}\(", programs[precision]), \
                    f"{rule.name}: {spelling} is not called in the {precision} program"
        assert {(rule.name, p) for p in PRECISIONS} <= checked, rule.name
    assert {r.name for r in RULES if r.c_names} - {c.rule for c in all_cases()} == set()


def test_every_opcode_rule_with_a_c_expression_is_generated():
    covered = {c.rule for c in all_cases()}
    for name in ("fadd", "fsub", "fmul", "fdiv", "fmod", "fneg", "select", "fpext", "fptrunc"):
        assert name in covered, name


def test_known_failures_name_real_cases():
    keys = {c.key for c in all_cases()}
    assert set(KNOWN_FAILURES) <= keys, set(KNOWN_FAILURES) - keys
