"""Fault injection (#16): every bad invocation and hostile environment found by building real
projects, each checked the same way: exit status as clang-22's, no Python traceback, nothing
left in the output directory or $TMPDIR, and a message naming the problem.

Each case runs in its own directory with TMPDIR pointing at an empty directory of its own.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from driver_helpers import ADCC, ADFLANG, ENZYME_C, run

from adcc.driver import launchers, objfile

CLANG = "clang-22"
GOOD_C = "int twice(int x) { return 2 * x; }\n"
BAD_C = "int f( { return }\n"
GRAD_MAIN_C = (ENZYME_C.replace("int main(void) { return (int)", "double grad(void) { return ")
               + "int main(void) { return (int)grad(); }\n")


class Case:
    """A directory for one invocation, with a private TMPDIR; `leftovers()` lists what adcc
    left behind that the test did not put there or ask for."""

    def __init__(self, root):
        self.dir = root / "work"
        self.tmp = root / "tmp"
        self.dir.mkdir()
        self.tmp.mkdir()
        self.before: set[str] = set()

    def write(self, name: str, text: str | bytes):
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
        return path

    def run(self, argv, tool=ADCC, env=None, **kw):
        self.before = set(self.files())
        return run([tool, *argv], cwd=self.dir, env={"TMPDIR": str(self.tmp), **(env or {})}, **kw)

    def files(self):
        return sorted(str(p.relative_to(self.dir)) for p in self.dir.rglob("*"))

    def leftovers(self, allowed=()):
        new = set(self.files()) - self.before - set(allowed)
        stray = [n for n in self.files() if ".adcc-" in n or n.endswith(".tmp")]
        tmp = [p.name for p in self.tmp.iterdir() if not p.name.startswith("adcc-cache-")]
        return sorted(new | set(stray)), tmp


def clean(case: Case, r, allowed=(), rc=None, message=None, clang=None):
    """The common checks: status (a number, or plain clang's for the same argv), no traceback,
    nothing left behind, and the message."""
    assert "Traceback" not in r.stderr, r.stderr
    if clang is not None:
        assert r.returncode == clang.returncode, (r.stderr, clang.stderr)
    if rc is not None:
        assert r.returncode == rc, r.stderr
    if message is not None:
        assert message in r.stderr, r.stderr
    assert case.leftovers(allowed) == ([], []), case.leftovers(allowed)


@pytest.fixture
def case(tmp_path):
    return Case(tmp_path)


# -- item 1: separate-value options --------------------------------------------------------

@pytest.mark.parametrize("spelling", [["-module-dir", "mods"], ["-J", "mods"], ["-Jmods"]])
def test_fortran_module_directory(case, spelling):
    case.write("m.f90", "module m\n  real(8) :: g = 1\ncontains\n  subroutine s(x)\n"
                        "    real(8), intent(inout) :: x\n    x = 2*x\n  end subroutine\nend module\n")
    (case.dir / "mods").mkdir()
    r = case.run(["-c", "m.f90", *spelling], tool=ADFLANG)
    clean(case, r, allowed={"m.o", "mods/m.mod"}, rc=0)
    assert (case.dir / "mods" / "m.mod").exists() and (case.dir / "m.o").exists()


@pytest.mark.parametrize("spelling", [["--output", "x.o"], ["--output=x.o"]])
def test_long_output_option(case, spelling):
    case.write("good.c", "double twice(double x) { return 2 * x; }\n")  # a float type: bitcode kept
    r = case.run(["-c", "good.c", *spelling])
    clean(case, r, allowed={"x.o"}, rc=0)
    assert objfile.embedded_bitcode((case.dir / "x.o").read_bytes()) is not None
    assert not (case.dir / "good.o").exists()


def test_long_include_directory_and_config(case):
    case.write("inc/v.h", "#define V 3\n")
    case.write("cfg.cfg", "-DFROM_CONFIG=1\n")
    case.write("v.c", '#include "v.h"\n#ifndef FROM_CONFIG\n#error no config\n#endif\nint v(void) { return V; }\n')
    r = case.run(["-c", "v.c", "--include-directory", "inc", "--config", "./cfg.cfg", "-o", "v.o"])
    clean(case, r, allowed={"v.o"}, rc=0)


# -- items 2, 3: actions -----------------------------------------------------------------

def test_syntax_only_writes_nothing(case):
    case.write("good.c", GOOD_C)
    clean(case, case.run(["-fsyntax-only", "good.c"]), rc=0)
    case.write("bad.c", BAD_C)
    r = case.run(["-fsyntax-only", "bad.c"])
    clean(case, r, clang=run([CLANG, "-fsyntax-only", "bad.c"], cwd=case.dir), message="bad.c:1:")


def test_assembly_wins_over_object(case):
    case.write("good.c", GOOD_C)
    r = case.run(["-c", "-S", "good.c"])
    clean(case, r, allowed={"good.s"}, rc=0)
    assert "twice:" in (case.dir / "good.s").read_text()


# -- item 4: standard input ----------------------------------------------------------------

@pytest.mark.parametrize("fast", [[], ["-fno-adcc-fast-path"]])
def test_stdin_is_read_once(case, fast):
    r = case.run(["-x", "c", "-", "-c", "-o", "ad.o", *fast], input=GRAD_MAIN_C)
    clean(case, r, allowed={"ad.o"}, rc=0)
    data = (case.dir / "ad.o").read_bytes()
    assert not objfile.native_mentions_enzyme(data)  # differentiated, not an empty unit
    r = case.run(["ad.o", "-o", "ad"])
    clean(case, r, allowed={"ad"}, rc=0)
    assert run([case.dir / "ad"]).returncode == 6  # d/dx x*x at 3


# -- item 5: a cache directory that cannot be used -------------------------------------------

@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_unusable_cache_directory(case, kind):
    if kind == "file":
        bad = case.write("cache-file", "not a directory")
    elif os.geteuid() != 0:
        bad = case.dir / "ro"
        bad.mkdir(mode=0o555)
    else:
        bad = "/proc"  # root writes into any directory of a writable file system
    case.write("good.c", GOOD_C + "int main(void) { return twice(0); }\n")
    r = case.run(["good.c", "-o", "prog"], env={"XDG_CACHE_HOME": str(bad)})
    clean(case, r, allowed={"prog"}, rc=0, message="warning: cannot use the cache directory")
    assert r.stderr.count("warning:") == 1
    assert run([case.dir / "prog"]).returncode == 0


# -- item 6: an output that cannot be written ---------------------------------------------------

@pytest.mark.parametrize("fast", [[], ["-fno-adcc-fast-path"]])
def test_output_to_a_full_device(case, fast):
    case.write("good.c", GOOD_C)
    r = case.run(["-c", "good.c", "-o", "/dev/full", *fast])
    clean(case, r, clang=run([CLANG, "-c", "good.c", "-o", "/dev/full"], cwd=case.dir),
          message="'/dev/full': 'No space left on device'")


# -- items 7, 8: response files --------------------------------------------------------------

def test_huge_response_file(case):
    case.write("good.c", GOOD_C)
    case.write("big.rsp", " ".join(f"-DMACRO_{i}=value_{i}_of_a_long_list" for i in range(110_000)))
    assert (case.dir / "big.rsp").stat().st_size > 3_500_000
    for argv, allowed in ((["-c", "good.c", "@big.rsp", "-o", "g.o"], {"g.o"}),
                          (["-E", "good.c", "@big.rsp", "-o", "g.i"], {"g.i"})):
        clean(case, case.run(argv), allowed=allowed, rc=0)


def test_non_utf8_response_file(case):
    case.write("good.c", 'const char *s = S;\nint twice(int x) { return 2 * x; }\n')
    case.write("odd.rsp", b"-DS='\"\xff\xfe\"' -c\n")
    r = case.run(["@odd.rsp", "good.c", "-o", "g.o"])
    clean(case, r, allowed={"g.o"}, clang=run([CLANG, "@odd.rsp", "good.c", "-o", "/dev/null"], cwd=case.dir))
    assert b"\xff\xfe" in (case.dir / "g.o").read_bytes()


# -- item 9: missing inputs ------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["@missing.rsp", "missing.o"])
def test_missing_input_with_compile_only(case, missing):
    case.write("good.c", GOOD_C)
    r = case.run(["-c", "good.c", missing])
    clean(case, r, clang=run([CLANG, "-c", "good.c", missing], cwd=case.dir),
          message=f"no such file or directory: '{missing}'")
    assert not (case.dir / "good.o").exists()


def test_unused_linker_input_warns_once(case):
    case.write("good.c", GOOD_C)
    case.write("two.c", "int two(void) { return 2; }\n")
    assert run([CLANG, "-c", "good.c", "-o", "other.o"], cwd=case.dir).returncode == 0
    r = case.run(["-c", "good.c", "two.c", "other.o", "-L.", "-lm"])
    clean(case, r, allowed={"good.o", "two.o"}, rc=0)
    for text in ("other.o: 'linker' input unused", "-lm: 'linker' input unused", "'-L.'"):
        assert r.stderr.count(text) == 1, r.stderr


# -- item 10: signals ------------------------------------------------------------------------

def _slow_front_end(case, seconds=30, then_clang=False):
    """A front end that takes its time (and is the process the signal must reach)."""
    slow = case.tmp.parent / "slow-clang"
    body = f'sleep {seconds}\nexec {CLANG} "$@"\n' if then_clang else f"exec sleep {seconds}\n"
    slow.write_text("#!/bin/sh\n" + body)
    slow.chmod(0o755)
    return str(slow)


def _interrupt(case, argv, env, signum, after=1.0):
    """Start adcc, wait, send `signum` to adcc alone (not its process group), wait for it."""
    case.before = set(case.files())
    proc = subprocess.Popen([ADCC, *argv], cwd=case.dir, env={**os.environ, "TMPDIR": str(case.tmp), **env},
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(after)
    proc.send_signal(signum)
    start = time.monotonic()
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err, time.monotonic() - start


@pytest.mark.parametrize("path", ["native", "python"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_is_forwarded_and_temporaries_removed(case, path, signum):
    if path == "native" and not launchers.is_native(ADCC):
        pytest.skip("the native launcher is not installed")
    case.write("good.c", GOOD_C)
    case.write("good.o", "previous")
    env = {"ADCC_CLANG": _slow_front_end(case)}
    if path == "python":
        env["ADCC_NATIVE_LAUNCHER"] = "0"
    rc, err, waited = _interrupt(case, ["-c", "good.c", "-o", "good.o"], env, signum)
    assert rc == -signum, err           # died of the signal, as clang does (the shell sees 128+N)
    assert waited < 10                  # the front end got the signal too: no waiting for it
    assert "Traceback" not in err
    assert (case.dir / "good.o").read_text() == "previous"  # an earlier output is left as it was
    assert case.leftovers() == ([], [])


def test_signal_during_the_ad_pipeline(case):
    # the worker (LLVM's stages) is stopped too, and its scratch files go
    case.write("grad.c", "".join(
        f"double f{i}(double x) {{ double s = x; for (int k = 0; k < 9; k++) s = s * x + {i}; return s; }}\n"
        for i in range(300)) + "extern double __enzyme_autodiff(void *, ...);\n"
        "double all(double x) { double s = 0;" + "".join(f" s += f{i}(x);" for i in range(300)) + " return s; }\n"
        "double g(double x) { return __enzyme_autodiff((void *)all, x); }\n")
    rc, err, _ = _interrupt(case, ["-O2", "-c", "grad.c", "-o", "grad.o", "-fno-adcc-fast-path"], {}, signal.SIGTERM,
                            after=2.5)
    assert rc == -signal.SIGTERM, err
    assert case.leftovers() == ([], [])


# -- items 11, 12, 13: the Enzyme call's arguments and where its function is defined ------------

INT_SHADOW_C = ("extern double __enzyme_autodiff(void *, ...);\nint enzyme_dup;\n"
                "static double g(double *x) { return x[0] * x[0]; }\n"
                "int main(void) { double x = 1; long dx = 0;\n"
                "  return (int)__enzyme_autodiff((void *)g, enzyme_dup, &x, dx); }\n")
UNDEFINED_TARGET_C = ("extern double __enzyme_autodiff(void *, ...);\ndouble f(double);\n"
                      "int main(void) {\n  return (int)__enzyme_autodiff((void *)f, 3.0);\n}\n")


@pytest.mark.parametrize("fast", [[], ["-fno-adcc-fast-path"]])
def test_integer_shadow_is_a_located_compile_error(case, fast):
    # item 11: an integer where enzyme_dup's shadow pointer goes (a segfault at run time otherwise)
    case.write("shadow.c", INT_SHADOW_C)
    case.write("shadow.o", "stale")
    r = case.run(["-c", "shadow.c", "-o", "shadow.o", *fast])
    clean(case, r, rc=1, message="shadow.c:5:")
    assert "expects a pointer as its shadow" in r.stderr, r.stderr
    assert not (case.dir / "shadow.o").exists()


def test_undefined_target_is_located_at_its_call_at_link_time(case):
    # item 12: the -c step succeeds; the link names the function and the call's file:line (no -g)
    case.write("main.c", UNDEFINED_TARGET_C)
    clean(case, case.run(["-c", "main.c", "-o", "main.o"]), allowed={"main.o"}, rc=0)
    assert run([CLANG, "-c", "main.c", "-o", "plain.o"], cwd=case.dir).returncode == 0
    plain = run([CLANG, "plain.o", "-o", "/dev/null"], cwd=case.dir)
    case.write("prog", "old")
    r = case.run(["main.o", "-o", "prog"])
    clean(case, r, clang=plain, message="main.c:4:")
    assert "'f'" in r.stderr.splitlines()[0], r.stderr
    assert not (case.dir / "prog").exists()


@pytest.mark.parametrize("how", [["-L.", "-lx"], ["-L", ".", "-l", "x"], ["libx.a"]])
def test_static_library_found_with_l_is_searched_for_bitcode(case, how):
    # item 13: the gradient is requested inside libx.a; -L. -lx finds it as a path does
    case.write("grad.c", "extern double __enzyme_autodiff(void *, ...);\ndouble f(double);\n"
                         "double gradient(double x) { return __enzyme_autodiff((void *)f, x); }\n")
    case.write("model.c", "double f(double x) { return x * x * x; }\n")
    case.write("main.c", "double gradient(double);\nint main(void) { return (int)gradient(2.0); }\n")
    for name in ("grad", "model", "main"):
        clean(case, case.run(["-O2", "-c", f"{name}.c"]), allowed={f"{name}.o"}, rc=0)
    assert run(["llvm-ar-22", "rcs", "libx.a", "grad.o", "model.o"], cwd=case.dir).returncode == 0
    r = case.run(["main.o", *how, "-o", "prog"])
    clean(case, r, allowed={"prog"}, rc=0)
    assert run([case.dir / "prog"]).returncode == 12  # d/dx x^3 at 2


# -- item 14: failed compiles -------------------------------------------------------------

@pytest.mark.parametrize("fast", [[], ["-fno-adcc-fast-path"]])
def test_failed_compile_removes_the_earlier_output(case, fast):
    case.write("bad.c", BAD_C)
    case.write("bad.o", "stale")
    r = case.run(["-c", "bad.c", "-o", "bad.o", *fast])
    clean(case, r, rc=1, message="bad.c:1:")
    assert not (case.dir / "bad.o").exists()


def test_other_sources_still_compile(case):
    case.write("bad.c", BAD_C)
    case.write("good.c", GOOD_C)
    case.write("bad.o", "stale")
    r = case.run(["-c", "bad.c", "good.c"])
    clean(case, r, allowed={"good.o"}, clang=run([CLANG, "-fsyntax-only", "bad.c"], cwd=case.dir))
    assert not (case.dir / "bad.o").exists() and (case.dir / "good.o").exists()


def test_failing_compile_never_restores_an_old_output_over_a_new_one(case):
    # B fails while A writes the same output: the result is A's object or none, never the old one
    case.write("good.c", GOOD_C)
    case.write("bad.c", BAD_C)
    case.write("x.o", "old")
    env = {**os.environ, "TMPDIR": str(case.tmp), "ADCC_CLANG": _slow_front_end(case, 2, then_clang=True)}
    b = subprocess.Popen([ADCC, "-c", "bad.c", "-o", "x.o"], cwd=case.dir, env=env, stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert run([ADCC, "-c", "good.c", "-o", "x.o"], cwd=case.dir).returncode == 0
    b.communicate(timeout=30)
    assert b.returncode == 1
    x = case.dir / "x.o"
    assert not x.exists() or x.read_bytes() != b"old"


def test_failed_link_removes_the_executable_and_compile_failure_keeps_it(case):
    case.write("und.c", "int f(void);\nint main(void) { return f(); }\n")
    case.write("prog", "old")
    r = case.run(["und.c", "-o", "prog"])
    clean(case, r, clang=run([CLANG, "und.c", "-o", "/dev/null"], cwd=case.dir), message="undefined reference")
    assert not (case.dir / "prog").exists()
    case.write("bad.c", BAD_C)
    case.write("prog", "old")
    r = case.run(["bad.c", "-o", "prog"])
    clean(case, r, rc=1)
    assert (case.dir / "prog").read_text() == "old"  # as clang: no link ran


# -- item 15: warnings once ----------------------------------------------------------------

def test_driver_warnings_are_printed_once(case):
    for name in ("a.c", "b.c", "c.c"):
        case.write(name, GOOD_C.replace("twice", name[0]))
    r = case.run(["-c", "a.c", "b.c", "c.c", "-L.", "-Wl,--as-needed"])
    clean(case, r, allowed={"a.o", "b.o", "c.o"}, rc=0)
    assert r.stderr.count("-L.") == 1 and r.stderr.count("-Wl,--as-needed") == 1, r.stderr


def test_compile_warnings_are_not_repeated_by_the_ad_path(case):
    case.write("w.c", "#warning careful\n" + ENZYME_C)
    r = case.run(["-c", "w.c", "-o", "w.o"])
    clean(case, r, allowed={"w.o"}, rc=0)
    assert r.stderr.count("warning: careful") == 1, r.stderr


def test_fortran_flag_warnings_are_printed_once(case):
    for name in ("a.f90", "b.f90"):
        case.write(name, f"subroutine {name[0]}(x)\n  real(8) :: x\n  x = 2*x\nend subroutine\n")
    r = case.run(["-c", "-fcheck=all", "a.f90", "b.f90"], tool=ADFLANG)
    clean(case, r, allowed={"a.o", "b.o"}, rc=0)
    assert r.stderr.count("ignoring '-fcheck=all'") == 1, r.stderr


# -- item 16: LLVM crashing -----------------------------------------------------------------

def test_llvm_stack_overflow_is_a_located_error(case):
    # the worker's stack shrunk to 32 KiB: LLVM overflows it in pre-AD optimization (as a
    # 1,500-function unit overflows the default 8 MiB; test_big_unit_compiles runs that one)
    case.write("grad.c", ENZYME_C)
    r = case.run(["-c", "grad.c", "-o", "grad.o"], env={"ADCC_WORKER_STACK_KB": "32"})
    clean(case, r, rc=1, message="stage crashed (SIGSEGV) while compiling 'grad.c'")
    assert r.stderr.startswith("adcc: error: the '") and r.stderr.count("\n") == 1, r.stderr


def test_worker_killed_from_outside(case):
    # a fatal signal in the worker from anywhere (the OOM killer's SIGKILL here)
    case.write("grad.c", GRAD_MAIN_C)
    case.before = set(case.files())
    proc = subprocess.Popen([ADCC, "-O2", "-c", "grad.c", "-o", "grad.o", "-fno-adcc-fast-path"], cwd=case.dir,
                            env={**os.environ, "TMPDIR": str(case.tmp), "ADCC_WORKER_STACK_KB": "64"},
                            stderr=subprocess.PIPE, text=True)
    worker = None
    for _ in range(400):
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        grandkids = [g for k in kids for g in
                     subprocess.run(["pgrep", "-P", k], capture_output=True, text=True).stdout.split()]
        forked = [k for k in kids + grandkids if _is_python(k)]
        if forked:
            worker = forked[-1]
            break
        time.sleep(0.01)
    if worker is None:
        proc.communicate(timeout=60)
        pytest.skip("the worker finished before it could be found")
    os.kill(int(worker), signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the worker finished before the signal")
    assert proc.returncode == 1 and "crashed (SIGKILL) while compiling 'grad.c'" in err, err
    assert case.leftovers() == ([], [])


def _is_python(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
        with open(f"/proc/{pid}/status") as f:
            ppid = next(line.split()[1] for line in f if line.startswith("PPid:"))
        with open(f"/proc/{ppid}/comm") as f:
            parent = f.read().strip()
    except (OSError, StopIteration):
        return False
    return comm.startswith(("adcc", "python")) and parent.startswith(("adcc", "python"))


@pytest.mark.slow
def test_big_unit_compiles(case):
    # #16 item 16: 1,500 noinline functions (a short loop with sin/cos and a branch each), summed
    # and differentiated: LLVM needs more stack than the main thread's 8 MiB (a few minutes)
    from big_unit import big_unit_source
    case.write("big.c", big_unit_source(1500))
    r = case.run(["-O2", "-c", "big.c", "-o", "big.o"], timeout=1800)
    clean(case, r, allowed={"big.o"}, rc=0)
    r = case.run(["big.o", "-o", "big", "-lm"])
    clean(case, r, allowed={"big"}, rc=0)
    assert run([case.dir / "big"]).stdout == "PASS\n"
