"""Real builds of tests/projects/stats through adcc (make, CMake, meson), compared with clang-22."""
from __future__ import annotations

import shutil

import pytest
from driver_helpers import ADCC, ADCXX, REPO, run

PROJECT = REPO / "tests" / "projects" / "stats"
CLANG = {"CC": "clang-22", "CXX": "clang++-22"}
ADCC_ENV = {"CC": ADCC, "CXX": ADCXX}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    r = run(["make", "-s", "-C", PROJECT, f"O={out}", "CC=clang-22", "CXX=clang++-22"])
    assert r.returncode == 0, r.stderr
    return run([out / "stats_demo"]).stdout


def test_make(tmp_path, reference):
    r = run(["make", "-s", "-j2", "-C", PROJECT, f"O={tmp_path}", f"CC={ADCC}", f"CXX={ADCXX}"])
    assert r.returncode == 0, r.stderr
    assert run([tmp_path / "stats_demo"]).stdout == reference
    dep = (tmp_path / "variance.d").read_text()
    assert dep.startswith(f"{tmp_path}/variance.o:") and "stats.h" in dep
    r = run(["make", "-q", "-C", PROJECT, f"O={tmp_path}", f"CC={ADCC}", f"CXX={ADCXX}"])
    assert r.returncode == 0  # up to date: dependency files name the real objects


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_cmake(tmp_path, reference):
    build = tmp_path / "build"
    r = run(["cmake", "-S", PROJECT, "-B", build, f"-DCMAKE_C_COMPILER={ADCC}", f"-DCMAKE_CXX_COMPILER={ADCXX}",
             "-DCMAKE_BUILD_TYPE=Release"])
    assert r.returncode == 0, r.stdout + r.stderr
    ids = (build / "compiler-id.txt").read_text().split("\n")
    assert ids[0].startswith("Clang 22.") and ids[1].startswith("Clang 22."), ids
    r = run(["cmake", "--build", build, "-j2"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert run([build / "stats_demo"]).stdout == reference


@pytest.mark.skipif(shutil.which("meson") is None or shutil.which("ninja") is None, reason="meson not installed")
def test_meson(tmp_path, reference):
    build = tmp_path / "build"
    r = run(["meson", "setup", build, PROJECT], env=ADCC_ENV)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "compiler-id: clang 22." in r.stdout
    r = run(["meson", "compile", "-C", build])
    assert r.returncode == 0, r.stdout + r.stderr
    assert run([build / "stats_demo"]).stdout == reference
