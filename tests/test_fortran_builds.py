"""The Fortran sample (samples/fortran: a module and a program, gradients through adcc_ad) built
the ways Fortran projects are built: adflang directly at -O0..-O3, a plain Makefile, CMake and
meson with FC=adflang; and the adcc_ad module used by plain flang-new-22 through -I."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "fortran"
BIN_DIR = Path(sys.executable).parent
TIMEOUT = 300

pytestmark = pytest.mark.skipif(shutil.which("flang-new-22") is None, reason="flang-new-22 is not installed")


def _env():
    env = dict(os.environ)
    env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
    env["FC"] = "adflang"
    return env


def _run(cmd, cwd, **kw):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=_env(), **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout}{r.stderr}"
    assert "Traceback" not in r.stderr, r.stderr
    return r


def _passes(exe: Path) -> None:
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == "PASS", r.stdout + r.stderr


@pytest.mark.parametrize("opt", ("-O0", "-O1", "-O2", "-O3"))
def test_sample(opt, tmp_path):
    _run([str(BIN_DIR / "adflang"), opt, str(SAMPLE / "heat_model.f90"), str(SAMPLE / "calibrate.f90"),
          "-o", "calibrate"], tmp_path)
    _passes(tmp_path / "calibrate")


def test_makefile(tmp_path):
    """make with FC=adflang: separate objects, the gradient synthesized when linking."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    build = tmp_path / "src"
    shutil.copytree(SAMPLE, build)
    _run(["make", "-j2"], build)
    _passes(build / "calibrate")


def test_cmake(tmp_path):
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    r = _run(["cmake", "-S", str(SAMPLE), "-B", "build", *generator], tmp_path)
    assert "LLVMFlang" in (tmp_path / "build" / "CMakeCache.txt").read_text() or "Flang" in r.stdout
    _run(["cmake", "--build", "build"], tmp_path)
    _passes(tmp_path / "build" / "calibrate")


def test_meson(tmp_path):
    if shutil.which("meson") is None or shutil.which("ninja") is None:
        pytest.skip("meson or ninja is not installed")
    _run(["meson", "setup", str(tmp_path / "build"), str(SAMPLE)], tmp_path)
    _run(["meson", "compile", "-C", str(tmp_path / "build")], tmp_path)
    _passes(tmp_path / "build" / "calibrate")


def test_module_for_plain_flang(tmp_path):
    """`use adcc_ad` compiles with plain flang-new-22 given adcc-tool's module directory."""
    moddir = _run([str(BIN_DIR / "adcc-tool"), "fortran-module-dir"], tmp_path).stdout.strip()
    assert (Path(moddir) / "adcc_ad.mod").is_file()
    _run(["flang-new-22", "-fsyntax-only", str(SAMPLE / "heat_model.f90")], tmp_path)
    _run(["flang-new-22", "-fsyntax-only", "-I", moddir, str(SAMPLE / "calibrate.f90")], tmp_path)
    r = subprocess.run(["flang-new-22", "-fsyntax-only", str(SAMPLE / "calibrate.f90")], cwd=tmp_path,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode != 0 and "adcc_ad" in r.stderr  # without -I it is not found


def test_readme_example(tmp_path):
    """The README's Fortran example compiles and its two derivatives agree."""
    import re
    text = (SAMPLE.parent.parent / "README.md").read_text()
    code = re.findall(r"```fortran\n(.*?)```", text[text.index("## Fortran"):], re.S)[0]
    module, program = code.split("program fit")
    (tmp_path / "model.f90").write_text(module)
    (tmp_path / "fit.f90").write_text("program fit" + program)
    _run([str(BIN_DIR / "adflang"), "-O2", "model.f90", "fit.f90", "-o", "fit"], tmp_path)
    r = subprocess.run([str(tmp_path / "fit")], capture_output=True, text=True, timeout=TIMEOUT)
    reverse, forward = map(float, r.stdout.split())
    assert abs(reverse - forward) <= 1e-12 * max(1.0, abs(reverse)) and reverse != 0
