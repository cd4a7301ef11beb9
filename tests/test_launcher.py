"""The native launcher (launcher/adcc_launcher.c): the fast path without Python, and delegation.

`make setup` installs it as .venv/bin/adcc, adcc++ and adflang; the Python launchers sit next
to it as adcc-py, adcc++-py and adflang-py. A logging front end (ADCC_CLANG) shows who ran
clang: the Python driver compiles into temp names (`.x.o.adcc-PID-N.tmp`, `/tmp/adcc-PID-N.o`),
the launcher into the real output.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess

import pytest
from driver_helpers import ADCC, ADCXX, ADFLANG, BIN, ENZYME_C, FLOAT_C, PLAIN_C, run

from adcc.driver import launchers, objfile

CLANG = "clang-22"
NATIVE = launchers.is_native(ADCC)
pytestmark = pytest.mark.skipif(
    not NATIVE, reason=f"{ADCC} is not the native launcher (run `make setup`; it needs a C compiler)")

PY_TEMP = re.compile(r"\.adcc-\d+-\d+\.tmp|/adcc-\d+-\d+\.")


@pytest.fixture
def logged(tmp_path):
    """env that routes the front end through a logging wrapper; returns (env, read_log)."""
    log = tmp_path / "clang.log"
    wrapper = tmp_path / "clang-logged"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec {CLANG} "$@"\n')
    wrapper.chmod(0o755)
    cxx = tmp_path / "clangxx-logged"
    cxx.write_text(f'#!/bin/sh\nprintf "++ %s\\n" "$*" >> "{log}"\nexec clang++-22 "$@"\n')
    cxx.chmod(0o755)

    def read():
        return log.read_text().splitlines() if log.exists() else []
    return {"ADCC_CLANG": str(wrapper), "ADCC_CLANGXX": str(cxx)}, read


def ran_natively(lines) -> bool:
    """The first front-end call was the launcher's (real output name, fat LTO, no temp)."""
    compiles = [ln for ln in lines if "-dumpversion" not in ln]
    return bool(compiles) and "-flto=thin -ffat-lto-objects" in compiles[0] and not PY_TEMP.search(compiles[0])


@pytest.fixture
def src(tmp_path):
    p = tmp_path / "prog.c"
    p.write_text(FLOAT_C)
    return p


def test_installed_as_one_native_program_in_front_of_python_launchers():
    for name in ("adcc", "adcc++", "adflang"):
        assert launchers.is_native(str(BIN / name)), name
        py = BIN / (name + launchers.PY_SUFFIX)
        assert py.read_text().startswith("#!") and "-IS" in py.read_text().splitlines()[0]
        assert os.access(py, os.X_OK)
    assert (BIN / "adcc").read_bytes() == (BIN / "adcc++").read_bytes() == (BIN / "adflang").read_bytes()


@pytest.mark.parametrize("program", [PLAIN_C, FLOAT_C], ids=["integer", "float"])
def test_fast_path_object_equals_python_drivers(program, tmp_path, logged):
    env, log = logged
    src = tmp_path / "prog.c"
    src.write_text(program)
    a, b = tmp_path / "native.o", tmp_path / "python.o"
    r = run([ADCC, "-O2", "-g", "-c", src, "-o", a], env=env)
    assert r.returncode == 0, r.stderr
    assert ran_natively(log())
    r = run([ADCC, "-O2", "-g", "-c", src, "-o", b], env={**env, "ADCC_NATIVE_LAUNCHER": "0"})
    assert r.returncode == 0, r.stderr
    assert PY_TEMP.search(log()[-1])  # that one went through the Python driver
    assert a.read_bytes() == b.read_bytes()
    data = a.read_bytes()
    if program is FLOAT_C:
        assert objfile.embedded_bitcode(data)[:4] == b"BC\xc0\xde"  # .llvm.lto, fat LTO
    else:  # no floating point: the bitcode is left out, as the Python driver does (objfile.py)
        assert objfile.embedded_bitcode(data) is None and objfile.bitcode_omitted(data)
    assert not objfile.native_mentions_enzyme(data)
    # plain clang links it (the bitcode section is dropped by the linker)
    r = run([CLANG, a, "-o", tmp_path / "p"])
    assert r.returncode == 0, r.stderr
    assert run([tmp_path / "p"]).stdout == "42\n"
    assert not [n for n in os.listdir(tmp_path) if ".adcc-" in n]


def test_default_output_name_in_cwd(src, tmp_path, logged):
    env, log = logged
    work = tmp_path / "work"
    work.mkdir()
    r = run([ADCC, "-c", src], cwd=work, env=env)
    assert r.returncode == 0, r.stderr
    assert ran_natively(log())
    assert sorted(os.listdir(work)) == ["prog.o"]
    assert objfile.embedded_bitcode((work / "prog.o").read_bytes()) is not None


def test_cxx_mode_uses_clangxx(tmp_path, logged):
    env, log = logged
    s = tmp_path / "v.cpp"
    s.write_text("#include <vector>\ndouble n() { std::vector<double> v(3); return (double)v.size(); }\n")
    r = run([ADCXX, "-O1", "-c", s, "-o", tmp_path / "v.o"], env=env)
    assert r.returncode == 0, r.stderr
    assert log()[0].startswith("++ ") and ran_natively([log()[0][3:]])
    assert objfile.embedded_bitcode((tmp_path / "v.o").read_bytes()) is not None


@pytest.mark.parametrize("previous", [False, True])
@pytest.mark.parametrize("in_header", [False, True])
def test_enzyme_call_hands_the_unit_to_the_ad_pipeline(tmp_path, logged, previous, in_header):
    """A source that names the Enzyme API goes straight to the AD pipeline (no first compile to
    throw away); one whose Enzyme call comes from a header is compiled by the launcher first,
    whose object scan then hands it over."""
    env, log = logged
    s = tmp_path / "grad.c"
    if in_header:
        (tmp_path / "grad.h").write_text(ENZYME_C)
        s.write_text('#include "grad.h"\n')
    else:
        s.write_text(ENZYME_C)
    obj = tmp_path / "grad.o"
    if previous:
        obj.write_bytes(b"previous")
    r = run([ADCC, "-O2", "-c", s, "-o", obj], env=env)
    assert r.returncode == 0, r.stderr
    lines = log()
    assert ran_natively(lines) == in_header          # the launcher compiled first only for the header
    assert any(PY_TEMP.search(ln) for ln in lines)   # the Python driver did the AD compile
    data = obj.read_bytes()
    assert not objfile.native_mentions_enzyme(data)  # differentiated: no __enzyme_ reference left
    syms = subprocess.run(["readelf", "-sW", obj], capture_output=True, text=True).stdout if shutil.which("readelf") else ""
    assert "__enzyme_" not in syms
    r = run([ADCC, obj, "-o", tmp_path / "g"])
    assert r.returncode == 0, r.stderr
    assert run([tmp_path / "g"]).returncode == 6  # d/dx x*x at 3
    assert not [n for n in os.listdir(tmp_path) if ".adcc-" in n]


def test_enzyme_call_to_another_file_is_deferred_to_the_link(tmp_path):
    b = tmp_path / "b.c"
    b.write_text("extern double __enzyme_autodiff(void *, ...);\ndouble cube(double);\n"
                 "int main(void) { return (int)__enzyme_autodiff((void *)cube, 2.0); }\n")
    a = tmp_path / "a.c"
    a.write_text("double cube(double x) { return x * x * x; }\n")
    for f in (a, b):
        r = run([ADCC, "-O1", "-c", f, "-o", f.with_suffix(".o")])
        assert r.returncode == 0, r.stderr
    r = run([ADCC, tmp_path / "a.o", tmp_path / "b.o", "-o", tmp_path / "p"])
    assert r.returncode == 0, r.stderr
    assert run([tmp_path / "p"]).returncode == 12


@pytest.mark.parametrize("stale", [False, True])
def test_failed_compile_leaves_no_new_output(tmp_path, stale, logged):
    env, log = logged
    s = tmp_path / "bad.c"
    s.write_text("int f(void) { return undeclared; }\n")
    out = tmp_path / "bad.o"
    if stale:
        out.write_bytes(b"stale object")
    r = run([ADCC, "-c", s, "-o", out], env=env)
    assert r.returncode == 1
    assert "error: use of undeclared identifier 'undeclared'" in r.stderr
    assert "Traceback" not in r.stderr
    assert ran_natively(log())
    # no partial object, and no earlier one (clang removes it; #16 item 14)
    assert sorted(os.listdir(tmp_path)) == ["bad.c", "clang-logged", "clang.log", "clangxx-logged"]


def test_exit_status_is_clangs(tmp_path):
    s = tmp_path / "w.c"
    s.write_text("int f(int x) { return x; }\n#warning careful\n")
    r = run([ADCC, "-c", s, "-o", tmp_path / "w.o"])
    assert r.returncode == 0 and "warning: careful" in r.stderr
    r = run([ADCC, "-Werror", "-c", s, "-o", tmp_path / "werror.o"])
    assert r.returncode == 1 and "error: careful" in r.stderr
    assert not (tmp_path / "werror.o").exists()


DEP_CASES = {
    "md-o": ["-MD", "-c", "{src}", "-o", "sub/x y.o"],
    "mmd-default": ["-MMD", "-c", "{src}"],
    "md-mf-mt": ["-MD", "-MF", "deps/custom.d", "-MT", "tgt", "-c", "{src}", "-o", "o.o"],
    "md-mp-mq": ["-MD", "-MP", "-MQ", "$weird", "-c", "{src}", "-o", "sub/q.o"],
    "meson": ["-MD", "-MQ", "sub/m.o", "-MF", "sub/m.o.d", "-o", "sub/m.o", "-c", "{src}"],
}


@pytest.mark.parametrize("case", sorted(DEP_CASES))
def test_dependency_files_match_the_python_driver(tmp_path, case, logged):
    env, log = logged
    (tmp_path / "inc.h").write_text("#define TWO 2\n")
    src = tmp_path / "dep.c"
    src.write_text('#include "inc.h"\nint two(void) { return TWO; }\n')
    results = {}
    for which, extra_env in (("native", {}), ("python", {"ADCC_NATIVE_LAUNCHER": "0"})):
        work = tmp_path / which
        (work / "sub").mkdir(parents=True)
        (work / "deps").mkdir()
        argv = [w.format(src=src) for w in DEP_CASES[case]]
        r = run([ADCC, *argv], cwd=work, env={**env, **extra_env})
        assert r.returncode == 0, r.stderr
        assert ran_natively(log()[-1:]) == (which == "native")
        results[which] = {str(p.relative_to(work)): p.read_text() for p in sorted(work.rglob("*.d"))}
    assert results["native"], "no dependency file written"
    assert results["native"] == results["python"]


def run_delegated(argv, env, log, **kw):
    r = run(argv, env=env, **kw)
    assert not ran_natively(log()), log()
    return r


def test_delegates_assembly(src, tmp_path, logged):
    env, log = logged
    r = run_delegated([ADCC, "-O1", "-S", src, "-o", tmp_path / "p.s"], env, log)
    assert r.returncode == 0, r.stderr
    assert "twice" in (tmp_path / "p.s").read_text()


def test_delegates_linking(src, tmp_path, logged):
    env, log = logged
    r = run_delegated([ADCC, "-O1", src, "-o", tmp_path / "p"], env, log)
    assert r.returncode == 0, r.stderr
    assert run([tmp_path / "p"]).stdout == "42\n"


def test_delegates_response_files(src, tmp_path, logged):
    env, log = logged
    rsp = tmp_path / "args.rsp"
    rsp.write_text(f"-O1 -c '{src}' -o '{tmp_path / 'r.o'}'\n")
    r = run_delegated([ADCC, f"@{rsp}"], env, log)
    assert r.returncode == 0, r.stderr
    assert objfile.embedded_bitcode((tmp_path / "r.o").read_bytes()) is not None


def test_delegates_adcc_options(tmp_path, logged):
    env, log = logged
    s = tmp_path / "grad.c"
    s.write_text(ENZYME_C)
    r = run_delegated([ADCC, "--print-activity", "-c", s, "-o", tmp_path / "g.o"], env, log)
    assert r.returncode == 0, r.stderr
    assert "sq" in r.stderr
    r = run_delegated([ADCC, "-fno-adcc-fast-path", "-c", tmp_path / "grad.c", "-o", tmp_path / "h.o"], env, log)
    assert r.returncode == 0, r.stderr
    r = run([ADCC, "--ad-stage=bogus", "-c", s])
    assert r.returncode != 0 and "invalid value 'bogus'" in r.stderr


def test_delegates_multiple_inputs(src, tmp_path, logged):
    env, log = logged
    other = tmp_path / "other.c"
    other.write_text("int other(void) { return 1; }\n")
    r = run_delegated([ADCC, "-c", src, other], env, log, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "prog.o").exists() and (tmp_path / "other.o").exists()


@pytest.mark.parametrize("argv", [
    ["-E", "{src}"], ["-M", "{src}"], ["-c", "-x", "c", "{src}", "-o", "{tmp}/x.o"],
    ["-c", "-flto=thin", "{src}", "-o", "{tmp}/l.o"], ["-c", "-emit-llvm", "{src}", "-o", "{tmp}/e.bc"],
    ["-c", "-v", "{src}", "-o", "{tmp}/v.o"], ["-c", "{src}", "-o", "{tmp}/a.o", "-o", "{tmp}/b.o"],
    ["-c", "-Xanalyzer", "x", "{src}", "-o", "{tmp}/xa.o"], ["-c", "-o", "{tmp}/dd.o", "--", "{src}"],
    ["-c", "-Wp,-MD,{tmp}/wp.d", "{src}", "-o", "{tmp}/wp.o"], ["-c", "-fsyntax-only", "{src}"],
])
def test_delegates_other_invocations(src, tmp_path, logged, argv):
    env, log = logged
    words = [w.format(src=src, tmp=tmp_path) for w in argv]
    r = run_delegated([ADCC, *words], env, log)
    assert "Traceback" not in r.stderr
    plain = run([CLANG, *words])
    assert r.returncode == plain.returncode, (r.stderr, plain.stderr)


def test_delegates_queries_and_fortran(tmp_path):
    r = run([ADCC, "--version"])
    assert r.returncode == 0 and "clang version 22" in r.stdout
    r = run([ADCC, "-dumpversion"])
    assert r.returncode == 0 and r.stdout.startswith("22.")
    if shutil.which("flang-new-22") or shutil.which("flang-22"):
        f = tmp_path / "k.f90"
        f.write_text("subroutine k(x)\n  real(8) :: x\n  x = 2*x\nend subroutine\n")
        r = run([ADFLANG, "-c", f, "-o", tmp_path / "k.o"])
        assert r.returncode == 0, r.stderr


def test_unknown_separate_value_is_counted_as_an_input(src, tmp_path, logged):
    # -B takes a separate value in clang; taken as a second input, the launcher delegates
    env, log = logged
    r = run_delegated([ADCC, "-B", "/usr/bin", "-c", src, "-o", tmp_path / "b.o"], env, log)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("in_header", [False, True])
def test_object_not_written_is_not_scanned(tmp_path, logged, in_header):
    # -fsyntax-only through -Xclang: clang writes nothing; an old object that calls the Enzyme
    # API stays as it is (no AD round trip, no deletion), on the launcher's path (the call comes
    # from a header) and on the AD pipeline's (the source names the API)
    env, log = logged
    s = tmp_path / "grad.c"
    if in_header:
        (tmp_path / "grad.h").write_text(ENZYME_C)
        s.write_text('#include "grad.h"\n')
    else:
        s.write_text(ENZYME_C)
    old = tmp_path / "old.o"
    assert run([CLANG, "-c", s, "-o", old]).returncode == 0
    before = old.read_bytes()
    assert objfile.native_mentions_enzyme(before)
    r = run([ADCC, "-c", tmp_path / "grad.c", "-o", old, "-Xclang", "-fsyntax-only"], env=env)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    compiles = [ln for ln in log() if "-dumpversion" not in ln]
    assert len(compiles) == 1 and ran_natively(compiles) == in_header
    assert old.read_bytes() == before


def test_missing_front_end_reports_install_hint(src, tmp_path):
    r = run([ADCC, "-c", src, "-o", tmp_path / "m.o"], env={"ADCC_CLANG": "clang-does-not-exist"})
    assert r.returncode != 0
    assert "cannot find 'clang-does-not-exist'" in r.stderr and "Traceback" not in r.stderr


def test_install_into_a_directory(tmp_path, src):
    written = launchers.install(str(tmp_path))
    assert sorted(os.path.basename(p) for p in written) == ["adcc", "adcc++", "adflang"]
    assert all(launchers.is_native(p) for p in written)
    r = run([tmp_path / "adcc", "-c", src, "-o", tmp_path / "i.o"])
    assert r.returncode == 0, r.stderr
    r = run([tmp_path / "adcc++", "-dumpversion"])  # delegated to tmp_path/adcc++-py
    assert r.returncode == 0 and r.stdout.startswith("22.")
    # named otherwise (a symlink), the binary still finds its Python launchers and its mode
    (tmp_path / "cc").symlink_to(tmp_path / "adcc")
    r = run([tmp_path / "cc", "-dumpversion"])
    assert r.returncode == 0 and r.stdout.startswith("22.")
    written = launchers.install(str(tmp_path), native=False)
    assert not any(launchers.is_native(p) for p in written)
    assert stat.S_IMODE(os.stat(written[0]).st_mode) & 0o111
    assert not [n for n in os.listdir(tmp_path) if "tmp" in n]


def test_interrupted_compile_keeps_the_previous_output(src, tmp_path):
    import signal
    import time
    slow = tmp_path / "slow-clang"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    out = tmp_path / "prog.o"
    out.write_bytes(b"previous")
    env = {**os.environ, "ADCC_CLANG": str(slow)}
    proc = subprocess.Popen([ADCC, "-c", str(src), "-o", str(out)], env=env, start_new_session=True,
                            stderr=subprocess.PIPE)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's ^C reaches the whole job
    proc.wait(timeout=20)
    assert proc.returncode == -signal.SIGINT
    assert out.read_bytes() == b"previous"
    assert not [n for n in os.listdir(tmp_path) if ".adcc-" in n]


def test_source_naming_the_api_without_calling_it(tmp_path, logged):
    # the source names __enzyme_ (in a comment, in code under an #ifdef): the AD pipeline's front
    # end finds no call, and the unit is compiled as the fast path compiles it, its warnings once
    env, log = logged
    s = tmp_path / "m.c"
    s.write_text("/* derivatives by __enzyme_autodiff elsewhere */\n"
                 "#ifdef WITH_AD\nextern double __enzyme_autodiff(void *, ...);\n#endif\n"
                 "int main(void) { int x = 1.5; return x; }\ndouble half(double x) { return x / 2; }\n")
    obj = tmp_path / "m.o"
    r = run([ADCC, "-O1", "-Wliteral-conversion", "-c", s, "-o", obj], env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("warning: implicit conversion") == 1, r.stderr
    compiles = [ln for ln in log() if "-dumpversion" not in ln]
    assert "-emit-llvm" in compiles[0] and "-flto=thin -ffat-lto-objects" in compiles[-1]
    data = obj.read_bytes()
    lto = next(x for x in objfile.section_table(data) if x.name == objfile.PACKED_SECTION)
    assert lto.flags & objfile.SHF_COMPRESSED
    assert not [n for n in os.listdir(tmp_path) if ".adcc-" in n]
