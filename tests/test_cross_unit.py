"""Cross-unit AD: objects compiled separately with -c carry bitcode; the link step differentiates."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).parent / "projects" / "crossunit"


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_gradient_of_function_in_other_unit(tmp_path, opt):
    for f in ("main.c", "model.c", "Makefile"):
        shutil.copy(PROJECT / f, tmp_path / f)
    env = dict(os.environ, CC=str(BIN / "adcc"), CFLAGS=opt)
    r = subprocess.run(["make", "-s", "prog"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout


def test_missing_definition_is_a_link_time_error(tmp_path):
    shutil.copy(PROJECT / "main.c", tmp_path / "main.c")
    adcc = str(BIN / "adcc")
    assert subprocess.run([adcc, "-c", "main.c", "-o", "main.o"], cwd=tmp_path).returncode == 0
    r = subprocess.run([adcc, "main.o", "-o", "prog", "-lm"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "f" in r.stderr and not (tmp_path / "prog").exists()


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_cross_unit_with_cmake_and_a_static_library(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for f in ("main.c", "model.c", "CMakeLists.txt"):
        shutil.copy(PROJECT / f, src / f)
    build = tmp_path / "build"
    r = subprocess.run(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_C_COMPILER={BIN / 'adcc'}",
                        "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    run = subprocess.run([str(build / "prog")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("PASS"), run.stdout
