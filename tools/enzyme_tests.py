#!/usr/bin/env python3
"""Run Enzyme's own integration tests (EnzymeAD/Enzyme `enzyme/test/Integration/`) with adcc.

The tests are never part of this repository: point --tests at a copy outside it (default
/tmp/enzyme-integration), laid out as `enzyme/test/Integration/` is. Fill it with --from-git
DIR (a git directory of an Enzyme snapshot, e.g. one the search tool's `fetch` brought) and/or
by saving files read with the search tool's `read_file` there.

Each test's RUN lines (`%clang -O2 %s -S -emit-llvm -o - %loadClangEnzyme | %lli -`) become
native builds: `adcc -O2 test.c -o t -lm && ./t` (adcc++ for %clang++), one case per (file,
-O level). Cases are classified:

  pass         compiled and ran (exit 0; output matched its CHECK lines when piped to FileCheck),
               or, for a `not %clang` test, rejected with a clean error
  wrong        ran, but printed a failed APPROX_EQ ("Assertion Failed") or missed a CHECK line
  crash        ran and exited non-zero otherwise (signal, abort, exit status)
  compile      adcc rejected it with an error of its own (not a missing feature)
  refused      adcc rejected it naming an Enzyme feature it does not implement (a clean error)
  traceback    adcc printed a Python traceback
  unavailable  needs what this machine lacks (MPI, BLAS, CUDA, OpenMP runtime, Enzyme's own headers,
               a helper its copy of test_utils.h lacks)
  ir-only      the test checks Enzyme's IR with FileCheck, nothing to run
  xfail        did not pass, and Enzyme marks the test `XFAIL: *` (it fails with Enzyme too)

The figure reported is pass / (cases that use features adcc implements), i.e. all cases but
refused, unavailable, ir-only and xfail. Not part of `make test` (minutes; needs a copy of the tests).

    tools/enzyme_tests.py --from-git /work/.mirror/EnzymeAD+Enzyme/repo    # once
    tools/enzyme_tests.py -j 2                                            # table by directory
    tools/enzyme_tests.py --only CppSugar -v                              # details of failures
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

LLVM_VERSION = 22
RESULTS = ("pass", "wrong", "crash", "compile", "refused", "traceback", "unavailable", "ir-only", "xfail")
NOT_APPLICABLE = ("refused", "unavailable", "ir-only", "xfail")
DROP_FLAGS = {"-S", "-emit-llvm", "%loadClangEnzyme", "%newLoadClangEnzyme", "%s", "-"}
DROP_WITH_VALUE = {"-o", "-mllvm", "-Xclang", "-load", "-Xlinker"}
MISSING = re.compile(r"fatal error: '([^']+)' file not found|cannot find -l(\S+)|"
                     r"undefined reference to `((?:cblas|cublas|MPI|mpi|omp|__kmpc|cuda|dgemm|sgemm|dscal|daxpy|"
                     r"ddot|dnrm2|lacpy|dlacpy|__enzyme_fprt|__enzyme_checkpoint)\w*)'|"
                     r"use of undeclared identifier 'TEST_EQ'")  # a test newer than the copy's test_utils.h
REFUSED = re.compile(r"not supported yet|not supported by adcc|unknown Enzyme")


@dataclass
class Case:
    path: str            # relative to the tests directory
    cxx: bool
    flags: list[str]     # compile flags (the -O level among them)
    expect_failure: bool = False   # `not %clang ...`
    check_prefixes: list[str] = field(default_factory=list)  # FileCheck on the program's output
    xfail: bool = False  # `XFAIL: *`: Enzyme itself fails this test

    @property
    def key(self) -> str:
        opt = next((f for f in self.flags if f.startswith("-O")), "-O0")
        return f"{self.path} {opt}"


@dataclass
class Outcome:
    key: str
    directory: str
    result: str
    detail: str = ""


# --- reading RUN lines -------------------------------------------------------------------------

def run_lines(text: str) -> list[str]:
    """RUN lines, continuation lines (`\\` at the end) joined."""
    out, pending = [], ""
    for line in text.splitlines():
        m = re.match(r"\s*(?://|;|#)\s*RUN:\s?(.*)$", line)
        if not m:
            continue
        body = m.group(1)
        if body.rstrip().endswith("\\"):
            pending += body.rstrip()[:-1] + " "
            continue
        out.append(pending + body)
        pending = ""
    return out


def _condition_holds(cond: str) -> bool:
    """`[ %llvmver -ge 12 ]` and friends, for LLVM 22."""
    m = re.search(r"%llvmver\s+-(ge|gt|le|lt|eq|ne)\s+(\d+)", cond)
    if not m:
        return True
    op, n = m.group(1), int(m.group(2))
    return {"ge": LLVM_VERSION >= n, "gt": LLVM_VERSION > n, "le": LLVM_VERSION <= n, "lt": LLVM_VERSION < n,
            "eq": LLVM_VERSION == n, "ne": LLVM_VERSION != n}[op]


def parse_case(rel: str, line: str) -> Case | str | None:
    """A Case, "ir-only" for a test of Enzyme's IR, or None for a line to skip."""
    m = re.match(r"\s*if\s+(.*?);\s*then\s+(.*?);?\s*fi\s*$", line)
    if m:
        if not _condition_holds(m.group(1)):
            return None
        line = m.group(2)
    stages = [s.strip() for s in line.split("|")]
    first = stages[0]
    expect_failure = first.startswith("not ")
    if expect_failure:
        first = first[4:].strip()
    words = shlex.split(first, posix=True) if first else []
    if not words or words[0] not in ("%clang", "%clang++"):
        return None
    runs = any(re.match(r"%lli\b", s) for s in stages)
    checks = [s for s in stages if s.startswith("FileCheck")]
    if not runs and not expect_failure:
        return "ir-only"
    flags, k = [], 1
    while k < len(words):
        w = words[k]
        if w in DROP_WITH_VALUE:
            k += 2
            continue
        if w in DROP_FLAGS or w.startswith(("-fplugin", "-fpass-plugin", "%")):
            k += 1
            continue
        flags.append(w)
        k += 1
    prefixes = []
    for c in checks:
        p = re.search(r"--check-prefix(?:es)?[= ](\S+)", c)
        prefixes.extend(p.group(1).split(",") if p else ["CHECK"])
    return Case(rel, words[0] == "%clang++", flags, expect_failure, prefixes if runs else [])


def discover(tests: Path, only: str | None, opts: set[str] | None) -> tuple[list[Case], list[Outcome]]:
    cases: dict[str, Case] = {}
    skipped: list[Outcome] = []
    for path in sorted(tests.rglob("*")):
        if path.suffix not in (".c", ".cpp") or not path.is_file():
            continue
        rel = str(path.relative_to(tests))
        if only and only not in rel:
            continue
        text = path.read_text(errors="replace")
        xfail = re.search(r"XFAIL:\s*\*", text) is not None
        ir_only = False
        for line in run_lines(text):
            c = parse_case(rel, line)
            if c == "ir-only":
                ir_only = True
            elif isinstance(c, Case) and c.key not in cases:
                c.xfail = xfail
                if opts is None or c.key.split()[-1] in opts:
                    cases[c.key] = c
        if ir_only and not any(k.startswith(rel + " ") for k in cases):
            skipped.append(Outcome(rel, _directory(rel), "ir-only"))
    return list(cases.values()), skipped


def _directory(rel: str) -> str:
    return rel.split("/", 1)[0] if "/" in rel else "."


# --- running one case -------------------------------------------------------------------------

def run_case(case: Case, tests: Path, adcc_bin: Path, timeout: int) -> Outcome:
    outcome = _run(case, tests, adcc_bin, timeout)
    if case.xfail and outcome.result != "pass":
        outcome.detail = f"({outcome.result}) {outcome.detail}"
        outcome.result = "xfail"
    return outcome


def _run(case: Case, tests: Path, adcc_bin: Path, timeout: int) -> Outcome:
    src = tests / case.path
    directory = _directory(case.path)
    compiler = str(adcc_bin / ("adcc++" if case.cxx else "adcc"))
    # Enzyme's own headers (enzyme/fixed_point.h, ...) that adcc does not ship, saved beside the
    # tests as <tests>/include/enzyme/...: searched after adcc's, as Enzyme's lit setup finds them.
    headers = ["-idirafter", str(tests / "include")] if (tests / "include").is_dir() else []
    with tempfile.TemporaryDirectory(prefix="enzyme-it-") as work:
        exe = os.path.join(work, "t")
        cmd = [compiler, *case.flags, *headers, str(src), "-o", exe, "-lm"]
        try:
            c = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout * 4)
        except subprocess.TimeoutExpired:
            return Outcome(case.key, directory, "compile", f"compile timed out after {timeout * 4}s")
        err = c.stderr
        if "Traceback (most recent call last)" in err:
            return Outcome(case.key, directory, "traceback", _last_lines(err, 3))
        if c.returncode != 0:
            if case.expect_failure:
                return Outcome(case.key, directory, "pass", "rejected: " + _first_error(err))
            missing = MISSING.search(err)
            if missing:
                return Outcome(case.key, directory, "unavailable", missing.group(0))
            if REFUSED.search(err):
                return Outcome(case.key, directory, "refused", _first_error(err))
            return Outcome(case.key, directory, "compile", _first_error(err))
        if case.expect_failure:
            return Outcome(case.key, directory, "crash", "compiled, but the test expects a compile error")
        try:
            r = subprocess.run([exe], cwd=work, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Outcome(case.key, directory, "crash", f"run timed out after {timeout}s")
        output = r.stdout + r.stderr
        if "Assertion Failed" in output:
            return Outcome(case.key, directory, "wrong", _first_line(output, "Assertion Failed"))
        if r.returncode != 0:
            return Outcome(case.key, directory, "crash", f"exit {r.returncode}: {_last_lines(output, 2)}")
        missed = file_check(src.read_text(errors="replace"), output, case.check_prefixes)
        if missed:
            return Outcome(case.key, directory, "wrong", f"output lacks CHECK line: {missed}")
        return Outcome(case.key, directory, "pass")


def file_check(source: str, output: str, prefixes: list[str]) -> str | None:
    """A small FileCheck: each CHECK / CHECK-NEXT / CHECK-SAME line must match later output, in
    order ({{regex}} and [[VAR:regex]] supported, variables not compared). None when it matches."""
    if not prefixes:
        return None
    lines = output.splitlines()
    at = 0
    for prefix in prefixes:
        pattern = re.compile(rf"(?://|;|#)\s*{re.escape(prefix)}(?:-NEXT|-SAME|-DAG)?:\s?(.*)$")
        for src_line in source.splitlines():
            m = pattern.search(src_line)
            if not m:
                continue
            rx = _check_regex(m.group(1).strip())
            while at < len(lines) and not rx.search(lines[at]):
                at += 1
            if at >= len(lines):
                return m.group(1).strip()
            at += 1
    return None


def _check_regex(text: str) -> re.Pattern:
    out, k = [], 0
    while k < len(text):
        if text.startswith("{{", k):
            end = text.index("}}", k + 2)
            out.append(text[k + 2:end])
            k = end + 2
        elif text.startswith("[[", k):
            end = text.index("]]", k + 2)
            inner = text[k + 2:end]
            out.append(f"({inner.split(':', 1)[1]})" if ":" in inner else ".*?")
            k = end + 2
        else:
            out.append(re.escape(text[k]))
            k += 1
    return re.compile("".join(out))


def _first_error(err: str) -> str:
    for line in err.splitlines():
        if "error:" in line:
            return line.strip()[:200]
    return _last_lines(err, 1)


def _first_line(text: str, needle: str) -> str:
    return next((ln.strip()[:200] for ln in text.splitlines() if needle in ln), "")


def _last_lines(text: str, n: int) -> str:
    return " / ".join(ln.strip() for ln in text.strip().splitlines()[-n:])[:240]


# --- getting the tests ---------------------------------------------------------------------------

def extract_from_git(git_dir: str, tests: Path) -> int:
    """Copy enzyme/test/Integration/ of a git snapshot's HEAD into `tests` (files already there win)."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "it.tar")
        subprocess.run(["git", "--git-dir", git_dir, "archive", "-o", archive, "HEAD:enzyme/test/Integration"],
                       check=True)
        root = Path(tmp) / "Integration"
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
        n = 0
        for p in root.rglob("*"):
            if p.is_file():
                dest = tests / p.relative_to(root)
                if not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(p, dest)
                    n += 1
        return n


# --- report --------------------------------------------------------------------------------------

def table(outcomes: list[Outcome]) -> str:
    dirs = sorted({o.directory for o in outcomes})
    head = f"{'directory':<20}" + "".join(f"{r:>12}" for r in RESULTS) + f"{'total':>8}"
    lines = [head, "-" * len(head)]
    for d in dirs + ["all"]:
        sel = [o for o in outcomes if d == "all" or o.directory == d]
        counts = [sum(o.result == r for o in sel) for r in RESULTS]
        if d == "all":
            lines.append("-" * len(head))
        lines.append(f"{d:<20}" + "".join(f"{c:>12}" for c in counts) + f"{len(sel):>8}")
    return "\n".join(lines)


def figure(outcomes: list[Outcome]) -> tuple[int, int]:
    applicable = [o for o in outcomes if o.result not in NOT_APPLICABLE]
    return sum(o.result == "pass" for o in applicable), len(applicable)


def _default_bin() -> Path:
    here = Path(sys.executable).parent
    if (here / "adcc").exists():
        return here
    return Path(__file__).resolve().parent.parent / ".venv" / "bin"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tests", default="/tmp/enzyme-integration", help="copy of enzyme/test/Integration")
    ap.add_argument("--from-git", metavar="GITDIR", help="first copy the tests out of this git snapshot")
    ap.add_argument("--adcc-bin", default=str(_default_bin()),
                    help="directory holding adcc and adcc++ (default: this interpreter's, else the "
                         "repository's .venv/bin)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--only", help="only test paths containing this string")
    ap.add_argument("--opt", help="only these -O levels, comma-separated (e.g. -O0,-O2)")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per run (compile: 4x)")
    ap.add_argument("--json", help="write every outcome to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every case that did not pass")
    args = ap.parse_args(argv)
    tests = Path(args.tests)
    repo = Path(__file__).resolve().parent.parent
    if tests.resolve().is_relative_to(repo):
        ap.error("keep Enzyme's tests outside the repository")
    tests.mkdir(parents=True, exist_ok=True)
    if args.from_git:
        print(f"copied {extract_from_git(args.from_git, tests)} files into {tests}", file=sys.stderr)
    opts = set(args.opt.split(",")) if args.opt else None
    cases, outcomes = discover(tests, args.only, opts)
    if not cases and not outcomes:
        print(f"no tests under {tests}", file=sys.stderr)
        return 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes += list(pool.map(lambda c: run_case(c, tests, Path(args.adcc_bin), args.timeout), cases))
    outcomes.sort(key=lambda o: o.key)
    print(table(outcomes))
    passed, applicable = figure(outcomes)
    share = 100.0 * passed / applicable if applicable else 0.0
    print(f"\n{passed} of {applicable} cases that use features adcc implements pass ({share:.1f}%)")
    bad = [o for o in outcomes if o.result not in ("pass", "ir-only", "unavailable", "xfail")]
    if args.verbose or len(bad) <= 60:
        for r in RESULTS[1:6]:  # wrong, crash, compile, refused, traceback
            for o in (o for o in bad if o.result == r):
                print(f"{r:<10} {o.key}: {o.detail}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
