"""Toolchain pieces: Fortran front end, the cached LLVM version check, lean launchers."""
from __future__ import annotations

import os
import shutil

import pytest
from driver_helpers import ADFLANG, run

from adcc.diagnostics import CompileError
from adcc.driver import launchers, toolchain


@pytest.mark.skipif(shutil.which("flang-new-22") is None, reason="flang-new-22 not installed")
@pytest.mark.parametrize("fast", [[], ["-fno-adcc-fast-path"]])
def test_fortran(tmp_path, fast):
    (tmp_path / "p.f90").write_text("program p\n  print '(F5.2)', sqrt(2.0)\nend program\n")
    r = run([ADFLANG, "-O1", *fast, "p.f90", "-o", "p"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert run([tmp_path / "p"]).stdout.strip() == "1.41"


def test_version_check_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    toolchain.check_llvm_versions("clang-22")
    stamps = os.listdir(tmp_path / "adcc" / "llvm-check")
    assert len(stamps) == 1
    toolchain.check_llvm_versions("clang-22")  # answered from the stamp
    assert os.listdir(tmp_path / "adcc" / "llvm-check") == stamps


@pytest.mark.skipif(shutil.which("clang-14") is None and shutil.which("clang-19") is None,
                    reason="no clang of another LLVM version installed")
def test_version_mismatch_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    other = "clang-14" if shutil.which("clang-14") else "clang-19"
    with pytest.raises(CompileError, match="install clang-22"):
        toolchain.check_llvm_versions(other)


def test_launcher_calls_the_entry_point():
    text = launchers.launcher_text("main_cxx", python="/usr/bin/python3")
    assert text.startswith("#!/usr/bin/python3 -IS\n")
    assert "from adcc.driver.main import main_cxx" in text


def test_launchers_install(tmp_path):
    written = launchers.install(str(tmp_path))
    assert sorted(os.path.basename(p) for p in written) == ["adcc", "adcc++", "adflang"]
    r = run([tmp_path / "adcc", "-dumpversion"])
    assert r.returncode == 0 and r.stdout.startswith("22.")
