"""Queries reach clang unchanged, so build systems identify adcc as Clang 22."""
from __future__ import annotations

import pytest
from driver_helpers import ADCC, ADCXX, run


@pytest.mark.parametrize("argv", [["--version"], ["-dumpversion"], ["-dumpmachine"], ["-print-resource-dir"],
                                  ["-print-search-dirs"], ["-print-file-name=libc.so"], ["-v"]])
def test_same_answer_as_clang(argv):
    ours, theirs = run([ADCC, *argv]), run(["clang-22", *argv])
    assert ours.returncode == theirs.returncode
    assert ours.stdout == theirs.stdout
    assert ours.stderr.replace("adcc", "clang-22") == theirs.stderr.replace("adcc", "clang-22")


def test_version_is_clang_22():
    assert run([ADCC, "-dumpversion"]).stdout.startswith("22.")
    assert "clang version 22" in run([ADCXX, "--version"]).stdout


def test_hash_hash_hash(tmp_path):
    (tmp_path / "x.c").write_text("int x;\n")
    r = run([ADCC, "-###", "-c", "x.c"], cwd=tmp_path)
    assert r.returncode == 0 and '"-cc1"' in r.stderr
