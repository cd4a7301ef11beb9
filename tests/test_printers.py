"""`--print-types` and `--print-activity`: the analyses as users see them (only the lines that matter)."""
import subprocess
import sys
from pathlib import Path

ADCC = str(Path(sys.executable).parent / "adcc")
E2E = Path(__file__).parent / "e2e"


def run(flag: str, tmp_path) -> str:
    r = subprocess.run([ADCC, "-O2", flag, "-c", str(E2E / "reverse" / "type_pun.c"), "-o", str(tmp_path / "t.o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "t.o").exists()
    return r.stderr


def test_print_types_shows_doubles_moved_as_integers(tmp_path):
    out = run("--print-types", tmp_path)
    assert "types of @f:" in out
    # the i64 copy of a double is a double, and the struct's int field is an integer
    assert any(".copyload: Float(double)" in line for line in out.splitlines()), out
    assert "[8,12): Integer" in out


def test_print_activity_marks_active_and_constant_values(tmp_path):
    out = run("--print-activity", tmp_path)
    assert "activity of @f (dup, dup, dup, const):" in out
    lines = out.splitlines()
    assert any(l.strip().startswith("[active]") and "load i64" in l for l in lines), out
    assert any(l.strip().startswith("[const]") and "icmp" in l for l in lines), out
    assert any(l.strip().startswith("[shadow]") and "getelementptr" in l for l in lines), out
