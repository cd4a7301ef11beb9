"""Floats held by integers of another lane width (#9: two doubles as <4 x i32>, as Eigen's packet
swizzles leave them): the e2e programs that move them (tests/e2e/memory/lane_shuffle.c,
packed_lanes.c) built with --ad-stage=unoptimized too, where the shuffles of integer lanes are
still in the IR the AD engine sees (the pre-AD optimization usually rewrites them over doubles)."""
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ADCC = str(Path(sys.executable).parent / "adcc")


@pytest.mark.parametrize("name", ["lane_shuffle.c", "packed_lanes.c"])
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_integer_lanes_unoptimized_stage(tmp_path, name, opt):
    exe = tmp_path / "t"
    c = subprocess.run([ADCC, opt, "--ad-stage=unoptimized", str(HERE / "e2e" / "memory" / name), "-o", str(exe),
                        "-lm"], capture_output=True, text=True, timeout=120)
    assert c.returncode == 0 and "Traceback" not in c.stderr, c.stderr
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and any(line.startswith("PASS") for line in r.stdout.splitlines()), r.stdout + r.stderr
