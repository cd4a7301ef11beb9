"""The shared Enzyme-API conformance suite (/work/shared/conformance) against the built adcc.

One run.py invocation per directory (all opt levels, -j), shared by all xdist workers through
a lock file; one pytest test per (file, opt level). Known failures live in XFAIL below.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from driver_helpers import ADCC, ADCXX, REPO

CONFORMANCE = Path(os.environ.get("ADCC_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))
DIRS = ("reverse", "forward", "cpp", "bad")
OPTS = ("-O0", "-O1", "-O2", "-O3")

# Known failures: reason (issue) or None (expected to pass). The most specific entry wins:
# (file, opt) > file > directory. Remove entries as tests start passing (xfail is strict).
XFAIL: dict[str | tuple[str, str], str | None] = {
    "reverse": None,   # #4: all of reverse/ passes at -O0..-O3
    "forward": None,   # #3: all of forward/ passes
    "cpp": None,       # #4
    "bad": None,
}


def expected_failure(name: str, opt: str) -> str | None:
    for key in ((name, opt), name, name.split("/")[0]):
        if key in XFAIL:
            return XFAIL[key]
    return None


def collect() -> list:
    params = []
    for d in DIRS:
        files = sorted((CONFORMANCE / d).glob("*.c*")) if CONFORMANCE.is_dir() else []
        for f in files:
            name = f"{d}/{f.name}"
            for opt in OPTS:
                reason = expected_failure(name, opt)
                marks = [pytest.mark.conformance]
                if reason:
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                params.append(pytest.param(name, opt, marks=marks, id=f"{name}{opt}"))
    return params


def parse(output: str) -> dict[str, tuple[bool, str]]:
    """{"dir/file.c -O2": (passed, line)} from run.py's per-line output."""
    results = {}
    for line in output.splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 3 and parts[0] in ("PASS", "FAIL"):
            results[f"{parts[1]} {parts[2]}"] = (parts[0] == "PASS", line)
    return results


@pytest.fixture(scope="session")
def conformance_results(tmp_path_factory, worker_id):
    """Run each directory once per test session, even with several xdist workers."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    cache = shared / "conformance-results.json"
    with open(shared / "conformance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists():
            return json.loads(cache.read_text())
        results, logs = {}, {}
        jobs = str(max(2, os.cpu_count() or 2))
        for d in DIRS:
            proc = subprocess.run([sys.executable, str(CONFORMANCE / "run.py"), "--cc", ADCC, "--cxx", ADCXX,
                                   "--opt=" + ",".join(OPTS), "-j", jobs, d], capture_output=True, text=True)
            results.update(parse(proc.stdout))
            logs[d] = proc.stdout[-4000:] + proc.stderr[-2000:]
        data = {"results": results, "logs": logs}
        cache.write_text(json.dumps(data))
        return data


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason=f"conformance suite not found at {CONFORMANCE}")
@pytest.mark.parametrize("name, opt", collect())
def test_conformance(conformance_results, name, opt):
    key = f"{name} {opt}"
    result = conformance_results["results"].get(key)
    assert result is not None, f"run.py reported nothing for {key}:\n{conformance_results['logs'][name.split('/')[0]]}"
    passed, line = result
    assert passed, line
