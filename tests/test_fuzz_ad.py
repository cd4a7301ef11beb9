"""Randomized differential test of adcc's AD (reverse and forward mode) against finite differences.

tests/fuzz/gen.py generates small random C functions that stress control flow and memory
(nested/triangular/strided loops, while, break/continue/early return, scratch arrays, stores
through dup pointers, helper calls); each generated file holds PER_FILE functions and a driver
that checks __enzyme_autodiff / __enzyme_fwddiff against central differences and prints PASS.

Reproduce one seed:  python tests/fuzz/gen.py --seed S -o f.c && adcc -O2 f.c -o f -lm && ./f
Minimized failures found by larger campaigns live in tests/fuzz/regressions/: only the functions,
with a `// wrap: NAME N` line; gen.wrap adds the checking driver (xfail until fixed: the reason is
the file's `XFAIL:` header line, the opt levels its `OPTS:` line; a `// wide` line gives it the
widened grammar's helpers, a `// loose` line the float functions' 5-point differences). `make fuzz-campaign` runs tests/fuzz/campaign.py: 2000 programs of the
widened grammar (#9) at -O0/-O2/-O3.
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from driver_helpers import ADCC, REPO

FUZZ = REPO / "tests" / "fuzz"
_spec = importlib.util.spec_from_file_location("adcc_fuzz_gen", FUZZ / "gen.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

NSEEDS = 64
PER_FILE = 8
GROUPS = [list(range(i, min(i + PER_FILE, NSEEDS))) for i in range(0, NSEEDS, PER_FILE)]
# -O0 and -O2 for every group, -O3 for every other group
CASES = [(g, opt) for k, g in enumerate(GROUPS) for opt in (("-O0", "-O2", "-O3") if k % 2 == 0 else ("-O0", "-O2"))]
# the widened grammar (#9: realloc growth, allocator tables, out-parameters, punning and sign bits,
# overlapping memmove, qsort, aligned stack arrays): a sample here, the campaign is `make fuzz-campaign`
WIDE_GROUPS = [list(range(10000 + i, 10000 + i + PER_FILE)) for i in range(0, 16, PER_FILE)]
WIDE_CASES = [(g, opt) for k, g in enumerate(WIDE_GROUPS) for opt in (("-O0", "-O2", "-O3") if k == 0 else ("-O0", "-O2"))]
# with closures too (pointers kept as integers next to function pointers: std::function's layout)
CLOSURE_CASES = [(list(range(10016, 10024)), opt) for opt in ("-O0", "-O2")]
# the scientific-code constructs the widened grammar draws besides (float scratch, arrays of structs
# copied whole, memset, realloc growth, writes through offsets in helpers, rounding functions feeding
# indices and branches, pointers picked by float compares, static locals, a double's bytes in halves);
# the groups above are drawn without them (sci=False), as before they existed. Seeds that rebuild a
# double from its halves are left out: reverse mode refuses those (test_ad_errors.py half_of_double_reverse)
_SCI_SEEDS = [s for s in range(20000, 20100) if "halves" not in gen.FuncGen(s, wide=True).sci_kinds][:16]
SCI_GROUPS = [_SCI_SEEDS[i:i + PER_FILE] for i in range(0, 16, PER_FILE)]
SCI_CASES = [(g, opt) for g in SCI_GROUPS for opt in ("-O0", "-O2")]
TIMEOUT = 300
# Known failures (strict xfail, remove when fixed): (first seed of the group, opt) -> reason
KNOWN: dict[tuple[int, str], str] = {}


def _compile_run(cc: list[str], opt: str, src: Path, exe: Path) -> tuple[str, str]:
    """("compile"|"run"|"ok", output)"""
    c = subprocess.run([*cc, opt, str(src), "-o", str(exe), "-lm"], capture_output=True, text=True, timeout=TIMEOUT)
    if c.returncode != 0 or "Traceback" in c.stderr:
        return "compile", (c.stdout + c.stderr)[-3000:]
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=TIMEOUT, cwd=exe.parent)
    if r.returncode != 0 or "PASS" not in r.stdout.splitlines():
        return "run", f"exit {r.returncode}\n{(r.stdout + r.stderr)[-3000:]}"
    return "ok", r.stdout


def _repro(seed: int, opt: str, wide: bool = False, closures: bool = False, sci: bool = False) -> str:
    flags = (" --wide" if wide else "") + (" --closures" if closures else "") + (" --no-sci" if wide and not sci else "")
    return f"python tests/fuzz/gen.py{flags} --seed {seed} -o f.c && adcc {opt} f.c -o f -lm && ./f"


def _case(g, o):
    reason = KNOWN.get((g[0], o))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(g, o, marks=marks, id=f"seeds{g[0]}-{g[-1]}{o}")


@pytest.mark.parametrize("seeds,opt", [_case(g, o) for g, o in CASES])
def test_fuzz_ad(tmp_path, seeds, opt):
    _check_seeds(tmp_path, seeds, opt, wide=False)


@pytest.mark.parametrize("seeds,opt", [pytest.param(g, o, id=f"wide{g[0]}-{g[-1]}{o}") for g, o in WIDE_CASES])
def test_fuzz_ad_wide(tmp_path, seeds, opt):
    _check_seeds(tmp_path, seeds, opt, wide=True)


@pytest.mark.parametrize("seeds,opt", [pytest.param(g, o, id=f"sci{g[0]}-{g[-1]}{o}") for g, o in SCI_CASES])
def test_fuzz_ad_sci(tmp_path, seeds, opt):
    _check_seeds(tmp_path, seeds, opt, wide=True, sci=True)


@pytest.mark.parametrize("seeds,opt", [pytest.param(g, o, id=f"closures{g[0]}-{g[-1]}{o}") for g, o in CLOSURE_CASES])
def test_fuzz_ad_closures(tmp_path, seeds, opt):
    _check_seeds(tmp_path, seeds, opt, wide=True, closures=True)


def _check_seeds(tmp_path, seeds, opt, wide, closures=False, sci=False):
    src = tmp_path / f"fuzz_{seeds[0]}.c"
    src.write_text(gen.program(seeds, wide=wide, closures=closures, sci=sci))
    kind, out = _compile_run([ADCC], opt, src, tmp_path / "fuzz")
    if kind == "ok":
        return
    # attribute the failure to seeds: FAIL lines name them; otherwise (crash, compile error)
    # build each seed alone
    bad = sorted({int(m) for m in re.findall(r"^FAIL s(\d+) ", out, re.M)})
    details = []
    if not bad:
        for s in seeds:
            one = tmp_path / f"seed_{s}.c"
            one.write_text(gen.program([s], wide=wide, closures=closures, sci=sci))
            k1, o1 = _compile_run([ADCC], opt, one, tmp_path / f"seed_{s}")
            if k1 != "ok":
                bad.append(s)
                details.append(f"--- seed {s} ({k1} failure, program {one}):\n{o1}")
    lines = [f"adcc {opt}: {kind} failure of {src} (seeds {seeds})"]
    for s in bad:
        lines.append(f"  seed {s}: reproduce with: {_repro(s, opt, wide, closures, sci)}")
    lines.append(out)
    lines += details
    pytest.fail("\n".join(lines), pytrace=False)


CLANG = shutil.which("clang-22") or shutil.which("clang")


@pytest.mark.skipif(CLANG is None, reason="no plain clang")
def test_fuzz_generator_selfcheck(tmp_path):
    """The generator's programs are valid C and their finite differences are accurate
    (plain clang, -DNOAD: FD with step h vs 2h agree to 1e-7), so failures above are adcc's."""
    for g, wide, closures, sci in [(g, False, False, False) for g in GROUPS] + \
            [(g, True, False, False) for g in WIDE_GROUPS] + [(g, True, True, False) for g, _ in CLOSURE_CASES[:1]] + \
            [(g, True, False, True) for g in SCI_GROUPS]:
        src = tmp_path / f"fuzz_{g[0]}.c"
        src.write_text(gen.program(g, wide=wide, closures=closures, sci=sci))
        kind, out = _compile_run([CLANG, "-DNOAD", "-Werror=implicit-function-declaration"], "-O2", src,
                                 tmp_path / f"fuzz_{g[0]}")
        assert kind == "ok", f"generator bug, seeds {g} ({src}): {out}"


# ---- minimized regressions ----

REGRESSIONS = sorted((FUZZ / "regressions").glob("*.c"))


def _regression_params():
    params = []
    for f in REGRESSIONS:
        text = f.read_text()
        m = re.search(r"^\s*(?:/\*|//)?\s*OPTS:\s*(.+?)\s*(?:\*/)?$", text, re.M)
        opts = m.group(1).split() if m else ["-O0", "-O2"]
        x = re.search(r"^\s*(?:/\*|//)?\s*XFAIL:\s*(.+?)\s*(?:\*/)?$", text, re.M)
        for opt in opts:
            marks = [pytest.mark.xfail(strict=True, reason=x.group(1))] if x else []
            params.append(pytest.param(f, opt, marks=marks, id=f"{f.stem}{opt}"))
    return params


@pytest.mark.parametrize("path,opt", _regression_params())
def test_fuzz_regression(tmp_path, path, opt):
    # each regression holds only its functions; the generator's driver makes it a program
    text = path.read_text()
    name, n = re.search(r"^// wrap: (\w+) (\d+)", text, re.M).groups()
    src = tmp_path / path.name
    src.write_text(gen.wrap(text, name, int(n), wide=bool(re.search(r"^// wide", text, re.M)),
                            loose=bool(re.search(r"^// loose", text, re.M))))
    kind, out = _compile_run([ADCC], opt, src, tmp_path / path.stem)
    assert kind == "ok", f"{path} at {opt}: {kind} failure\n{out}"
