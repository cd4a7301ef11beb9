"""Inline assembly in differentiated code: inactive assembly (cpuid, as Eigen queries cache sizes;
comments Eigen emits around its kernels) is kept as it is in both modes; assembly that active
values flow through is a located error (adcc cannot see what it computes), never a traceback or
invalid IR."""
from __future__ import annotations

import subprocess

import pytest

from driver_helpers import ADCC, assert_clean_error, run

INACTIVE = r"""
#include <stdio.h>
extern double __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
static double f(double x) {
  int r[4];
  __asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(0), "c"(0));
  __asm__ __volatile__("# a comment in the kernel" ::: "memory");
  return x * x * x + (r[0] >= 0 ? 1.0 : 2.0);
}
int main(void) {
  double x = 1.5, rev = __enzyme_autodiff((void *)f, x), fwd = __enzyme_fwddiff((void *)f, x, 1.0);
  printf("%.17g %.17g\n", rev, fwd);
  return !(rev == 3 * x * x && fwd == 3 * x * x);
}
"""

ACTIVE = r"""
extern double __enzyme_autodiff(void *, ...);
static double f(double x) {
  double y;
  __asm__("movapd %1, %0" : "=x"(y) : "x"(x * x));
  return y;
}
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.5); }
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_inactive_inline_asm_is_kept(tmp_path, opt):
    src = tmp_path / "asm.c"
    src.write_text(INACTIVE)
    c = run([ADCC, opt, src, "-o", tmp_path / "t"])
    assert c.returncode == 0 and "Traceback" not in c.stderr, c.stderr
    r = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_active_inline_asm_is_a_located_error(tmp_path, opt):
    src = tmp_path / "asm.c"
    src.write_text(ACTIVE)
    c = run([ADCC, opt, src, "-o", tmp_path / "t"])
    assert_clean_error(c)
    assert "asm.c:5:" in c.stderr and "inline assembly" in c.stderr, c.stderr
    assert not (tmp_path / "t").exists()
