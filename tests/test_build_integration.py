"""Build-system integration (#16 "Also"): the CMake toolchain file, the installed CMake package
(find_package(adcc) and adcc::enzyme), `eval "$(adcc-tool env)"`, and the README's CI example,
run on samples/ci/ (an Enzyme call inside a static library, differentiated at the link)."""
from __future__ import annotations

import os
import re
import shutil

import pytest
from driver_helpers import ADCC, BIN, REPO, run

SAMPLE = REPO / "samples" / "ci"
TOOL = str(BIN / "adcc-tool")
needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed (make test installs it)")


def tool(*argv) -> str:
    r = run([TOOL, *argv])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def readme_block(after: str, lang: str) -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index(after):]
    m = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    return m.group(1)


def test_readme_shows_the_sample_as_it_is():
    assert readme_block("### CI builds", "cmake") == (SAMPLE / "CMakeLists.txt").read_text()


def test_env_names_the_compilers():
    exports = dict(re.findall(r"^export (\w+)='([^']*)'$", tool("env"), re.M))
    assert exports == {"CC": ADCC, "CXX": str(BIN / "adcc++"), "FC": str(BIN / "adflang")}


def test_toolchain_file_sets_the_compilers():
    path = tool("cmake-toolchain")
    text = open(path).read()
    for name in ("adcc", "adcc++", "adflang"):
        assert f'"{BIN / name}"' in text
    assert os.path.dirname(path) == tool("cmake-dir")
    assert os.path.isdir(tool("include-dir"))


@needs_cmake
def test_readme_ci_commands_build_the_sample(tmp_path):
    # the README's CI job, minus the installation (done): PATH, configure with the toolchain
    # file, build, run
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    lines = [ln.split("#")[0].strip() for ln in readme_block("A CI job", "sh").splitlines()]
    lines = [ln.replace('$PWD/adcc/.venv/bin', str(BIN)) for ln in lines
             if ln and not ln.startswith(("make ", "apt-get "))]
    r = run(["bash", "-ec", "\n".join(lines)], cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "PASS"
    compiler = next((project / "build" / "CMakeFiles").glob("*/CMakeCCompiler.cmake")).read_text()
    assert f'set(CMAKE_C_COMPILER "{ADCC}")' in compiler


@needs_cmake
def test_find_package_through_path_and_env(tmp_path):
    # no toolchain file: compilers from `adcc-tool env`, the package found from PATH
    build = tmp_path / "build"
    script = f'eval "$({TOOL} env)"\nexport PATH="{BIN}:$PATH"\n' \
             f'cmake -S "{SAMPLE}" -B "{build}" -DCMAKE_BUILD_TYPE=Release\ncmake --build "{build}" -j2\n'
    r = run(["bash", "-ec", script])
    assert r.returncode == 0, r.stdout + r.stderr
    assert run([build / "check_gradient"]).stdout == "PASS\n"


@needs_cmake
def test_adcc_enzyme_target_and_package_version(tmp_path):
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(probe LANGUAGES NONE)\n"
        "find_package(adcc 0.1 REQUIRED)\nfind_package(adcc 99 QUIET)\n"
        "get_target_property(dirs adcc::enzyme INTERFACE_INCLUDE_DIRECTORIES)\n"
        'file(WRITE "${CMAKE_BINARY_DIR}/found.txt" "${dirs}\\n${adcc_VERSION}\\n${ADCC_C_COMPILER}\\n")\n')
    r = run(["cmake", "-S", tmp_path, "-B", tmp_path / "b", f"-Dadcc_DIR={tool('cmake-dir')}"])
    assert r.returncode == 0, r.stdout + r.stderr
    include, version, compiler = (tmp_path / "b" / "found.txt").read_text().splitlines()
    assert include == tool("include-dir") and os.path.isdir(include)
    assert version == "0.1.0" and compiler == ADCC


def test_env_drives_make(tmp_path):
    for name in ("main.c", "model.c", "Makefile"):
        shutil.copy(REPO / "tests" / "projects" / "crossunit" / name, tmp_path / name)
    r = run(["bash", "-ec", f'eval "$({TOOL} env)"\nmake -s prog CC="$CC"\n'], cwd=tmp_path,
            env={"CC": "", "MAKEFLAGS": ""})
    assert r.returncode == 0, r.stdout + r.stderr
    assert run([tmp_path / "prog"]).stdout.startswith("PASS")
