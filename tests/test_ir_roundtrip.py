"""Round trip of real clang-22 output through adcc.ir: every function parsed, the
printed module verified by LLVM and semantically identical to the input (both are
re-printed by LLVM in fresh contexts and compared)."""
from __future__ import annotations

import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys

import pytest

from adcc.ir import parse_module

llvm = pytest.importorskip("llvmlite.binding")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFORMANCE = os.environ.get("ADCC_CONFORMANCE_DIR", os.path.join(REPO, "..", "shared", "conformance"))
OPT_LEVELS = (("-O0",), ("-O2",), ("-O2", "-g"))
sys.path.insert(0, os.path.join(REPO, "tests", "data", "ir"))
from gen_large import large_module_text  # noqa: E402


def _sources() -> list[str]:
    srcs = sorted(glob.glob(os.path.join(REPO, "samples", "*.c")))
    for sub in ("reverse", "forward", "cpp", "bad"):
        srcs += sorted(glob.glob(os.path.join(CONFORMANCE, sub, "*.c")))
        srcs += sorted(glob.glob(os.path.join(CONFORMANCE, sub, "*.cpp")))
    return srcs


def _case_id(src: str, opts: tuple[str, ...]) -> str:
    rel = os.path.relpath(src, CONFORMANCE) if src.startswith(os.path.abspath(CONFORMANCE)) else os.path.basename(src)
    return f"{rel}{''.join(opts)}"


CASES = [(s, o) for s in _sources() for o in OPT_LEVELS]


def _compile(src: str, opts: tuple[str, ...], outdir: str) -> str:
    out = os.path.join(outdir, _case_id(src, opts).replace("/", "_") + ".ll")
    cc = "clang++-22" if src.endswith(".cpp") else "clang-22"
    proc = subprocess.run([cc, "-S", "-emit-llvm", "-I", CONFORMANCE, *opts, src, "-o", out],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return "error: " + proc.stderr
    return out


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> dict:
    """All corpus cases compiled once per session, in parallel threads."""
    if shutil.which("clang-22") is None:
        pytest.skip("clang-22 not installed")
    outdir = str(tmp_path_factory.mktemp("ir_corpus"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(4, os.cpu_count() or 1)) as ex:
        futs = {case: ex.submit(_compile, case[0], case[1], outdir) for case in CASES}
        return {case: f.result() for case, f in futs.items()}


def _llvm_canonical(text: str) -> str:
    mod = llvm.parse_assembly(text, llvm.create_context())
    mod.verify()
    return str(mod)


def check_round_trip(text: str) -> int:
    """Parse every function, print, verify; return the number of instructions."""
    m = parse_module(text)
    n = 0
    for name in m.defined_function_names():
        n += sum(len(b.instructions) for b in m.function(name).blocks)
    printed = str(m)
    assert _llvm_canonical(printed) == _llvm_canonical(text)
    return n


@pytest.mark.skipif(not CASES, reason="no conformance sources found")
@pytest.mark.parametrize("src,opts", CASES, ids=[_case_id(s, o) for s, o in CASES])
def test_corpus_round_trip(compiled, src, opts):
    out = compiled[(src, opts)]
    if out.startswith("error: "):
        if "/bad/" in src:
            pytest.skip("clang rejects this bad/ program")
        pytest.fail(out)
    with open(out) as f:
        check_round_trip(f.read())


@pytest.fixture(scope="session")
def large_text(tmp_path_factory) -> str:
    if shutil.which("clang-22") is None:
        pytest.skip("clang-22 not installed")
    return large_module_text(str(tmp_path_factory.mktemp("ir_large")), 600)


def test_large_module_round_trip(large_text):
    assert check_round_trip(large_text) >= 50_000
