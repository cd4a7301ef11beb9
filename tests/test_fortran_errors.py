"""What adflang refuses, and how: located `file:line:col: error:` messages with a non-zero exit
and no output, for calls of the adcc_ad module that do not fit the procedure and for code the
Fortran rules do not cover."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN_DIR = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(shutil.which("flang-new-22") is None, reason="flang-new-22 is not installed")

MODEL = """module m
contains
  function f(x, n) result(r)
    integer, intent(in) :: n
    real(8), intent(in) :: x(:)
    real(8) :: r
    r = sum(x(1:n) ** 2)
  end function
  subroutine s(y, x)
    real(8), intent(out) :: y(:)
    real(8), intent(in) :: x(:)
    y = 2 * x
  end subroutine
end module
"""

CASES = {
    "too few arguments": ("call autodiff(f, enzyme_dup, x, dx)", "it takes 2 argument(s); the call gives 1"),
    "too many arguments": ("call autodiff(f, enzyme_dup, x, dx, enzyme_const, n, enzyme_const, n)",
                           "the call gives more"),
    "shadow of another kind": ("call autodiff(f, enzyme_dup, x, d4, enzyme_const, n)",
                               "the shadow of argument 2 is a rank-1 array of REAL(4), not a rank-1 array of REAL(8)"),
    "marker at the end": ("call autodiff(f, enzyme_dup, x, dx, enzyme_const)",
                          "enzyme_const must be followed by an argument"),
    "missing shadow": ("call autodiff(f, enzyme_dup, x, enzyme_const, n)", "needs a shadow after it"),
    "integer with derivative": ("call autodiff(f, enzyme_dup, x, dx, enzyme_dup, n, n)",
                                "only REAL, COMPLEX and derived-type data can be enzyme_dup"),
    "out for an array": ("call autodiff(f, enzyme_out, x, dx, enzyme_const, n)", "enzyme_out applies to scalars"),
    "tangent of a subroutine": ("call fwddiff(s, enzyme_dup, y, dy, enzyme_dup, x, dx, tangent=t)",
                                "tangent= is for functions"),
    "tangent of another kind": ("call fwddiff(f, enzyme_dup, x, dx, enzyme_const, n, tangent=t4)",
                                "tangent= is REAL(4), the result is REAL(8)"),
}


def _compile(tmp_path: Path, body: str):
    """The model and a program calling it in one file (line 22 holds `body`)."""
    (tmp_path / "p.f90").write_text(MODEL + f"""program p
  use adcc_ad
  use m
  real(8) :: x(3), dx(3), y(3), dy(3), t
  real(4) :: d4(3), t4
  integer :: n = 3
  x = 1
  {body}
end program
""")
    return subprocess.run([str(BIN_DIR / "adflang"), "-O2", "p.f90", "-o", "p"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", sorted(CASES))
def test_misuse_is_a_located_error(case, tmp_path):
    body, message = CASES[case]
    r = _compile(tmp_path, body)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "p.f90:22:" in r.stderr and "error:" in r.stderr and message in r.stderr, r.stderr
    assert not (tmp_path / "p").exists()


def test_runtime_call_without_a_rule_names_the_fortran_line(tmp_path):
    (tmp_path / "p.f90").write_text("""module k
contains
  pure function add(a, b) result(c)
    real(8), intent(in) :: a, b
    real(8) :: c
    c = a + b
  end function
  function g(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r
    r = reduce(x * x, add)
  end function
end module
program p
  use adcc_ad
  use k
  real(8) :: x(3) = 1, dx(3) = 0
  call autodiff(g, enzyme_dup, x, dx)
end program
""")
    r = subprocess.run([str(BIN_DIR / "adflang"), "-O2", "p.f90", "-o", "p"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "p.f90:11:" in r.stderr and "cannot differentiate call to external function '_FortranAReduce" in r.stderr, \
        r.stderr
    assert not (tmp_path / "p").exists()


def test_dummy_procedure_is_refused(tmp_path):
    (tmp_path / "h.f90").write_text("""module h
contains
  subroutine run(fun, x, dx)
    use adcc_ad
    interface
      function fun(x) result(r)
        real(8), intent(in) :: x(:)
        real(8) :: r
      end function
    end interface
    real(8) :: x(:), dx(:)
    call autodiff(fun, enzyme_dup, x, dx)
  end subroutine
end module
""")
    r = subprocess.run([str(BIN_DIR / "adflang"), "-O2", "-c", "h.f90", "-o", "h.o"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "h.f90:12:" in r.stderr and "must be named directly" in r.stderr, r.stderr
    assert not (tmp_path / "h.o").exists()
