"""Driver fuzzing (#16): random mixes of real clang flags, inputs and outputs, each run by plain
clang-22 and by adcc in twin directories; the exit status and the set of files produced must
agree, and adcc must never print a traceback or leave a temporary behind. Seeded: a failure
names its seed and command line. 12 cases run in `make test`, 300 more in `make
test-slow`."""
from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest
from driver_helpers import ADCC, ENZYME_C, run

CLANG = "clang-22"
SOURCES = {
    "good.c": "#include \"inc.h\"\nint twice(int x) { return 2 * x * ONE; }\n",
    "main.c": "#include <stdio.h>\nint twice(int);\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n",
    "bad.c": "int f( { return }\n",
    "warn.c": "#warning careful\nint w(void) { return 0; }\n",
    "grad.c": ENZYME_C.replace("int main", "int grad_main"),
    "part.cpp": "extern \"C\" int part(int x) { return x + 1; }\n",
    "asm.s": ".text\n.globl asm_fn\nasm_fn:\n  ret\n",
    "ir.ll": "define double @ir(double %x) {\n  %y = fmul double %x, 2.0\n  ret double %y\n}\n",
    "inc/inc.h": "#define ONE 1\n",
}
INPUTS = ["good.c", "main.c", "bad.c", "warn.c", "grad.c", "part.cpp", "asm.s", "ir.ll", "obj.o", "libx.a",
          "missing.c", "missing.o", "@missing.rsp", "inc/inc.h"]
FLAGS = [["-c"], ["-c"], ["-c"], ["-S"], ["-E"], ["-fsyntax-only"], ["-emit-llvm"], ["-O0"], ["-O1"], ["-O2"],
         ["-O3"], ["-Os"], ["-g"], ["-DX=1"], ["-I", "inc"], ["-Iinc"], ["--include-directory", "inc"], ["-Wall"],
         ["-Werror"], ["-w"], ["-fPIC"], ["-MD"], ["-MMD"], ["-MP"], ["-MF", "dep.d"], ["-MT", "tgt"],
         ["-MQ", "$tgt"], ["-std=c11"], ["-x", "c"], ["-x", "none"], ["-lm"], ["-L."], ["-L", "."], ["-pthread"],
         ["-Qunused-arguments"], ["-v"], ["-o", "out.o"], ["-o", "sub/out"], ["-o", "nodir/out.o"],
         ["--output=out2.o"], ["-o", "/dev/null"], ["-Wl,--as-needed"], ["-shared"], ["-fno-exceptions"],
         ["-ffast-math"], ["-march=x86-64"], ["-include", "inc/inc.h"], ["-U", "X"], ["-Xlinker", "-s"]]


def make_twin(root, name):
    d = root / name
    for rel, text in SOURCES.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (d / "sub").mkdir()
    subprocess.run([CLANG, "-c", "-fPIC", "good.c", "-Iinc", "-o", "obj.o"], cwd=d, check=True)
    subprocess.run(["llvm-ar-22", "rcs", "libx.a", "obj.o"], cwd=d, check=True)
    return d


def snapshot(d):
    return {str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()}


def random_command(rng: random.Random) -> list[str]:
    words: list[str] = []
    for _ in range(rng.randint(0, 6)):
        words += rng.choice(FLAGS)
    for _ in range(rng.randint(1, 3)):
        words.insert(rng.randint(0, len(words)) if rng.random() < 0.3 else len(words), rng.choice(INPUTS))
    return words


def check(tmp_path, seed: int) -> None:
    rng = random.Random(seed)
    argv = random_command(rng)
    clang_dir, adcc_dir = make_twin(tmp_path, "clang"), make_twin(tmp_path, "adcc")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = snapshot(adcc_dir)
    env = {"TMPDIR": str(tmp)}
    theirs = run([CLANG, *argv], cwd=clang_dir, env=env, timeout=300)
    ours = run([ADCC, *argv], cwd=adcc_dir, env=env, timeout=300)
    where = f"seed {seed}: adcc {' '.join(argv)}"
    assert "Traceback" not in ours.stderr, f"{where}\n{ours.stderr}"
    assert ours.returncode == theirs.returncode, f"{where}\nclang: {theirs.stderr}\nadcc: {ours.stderr}"
    made = snapshot(adcc_dir) - before
    assert not [n for n in made if ".adcc-" in n or n.endswith(".tmp")], f"{where}: {made}"
    assert made == snapshot(clang_dir) - before, f"{where}\nclang made {snapshot(clang_dir) - before}, adcc {made}"
    assert [p.name for p in tmp.iterdir() if not p.name.startswith("adcc-cache-")] == [], where


@pytest.mark.parametrize("seed", range(12))
def test_fuzz_quick(tmp_path, seed):
    check(tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12, 312))
def test_fuzz(tmp_path, seed):
    check(tmp_path, seed)
