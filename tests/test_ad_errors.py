"""Bad uses of the Enzyme API and non-differentiable code: clean, located compile errors."""
import subprocess
import sys
from pathlib import Path

import pytest

ADCC = str(Path(sys.executable).parent / "adcc")

CASES = {
    "external_call": ("""
extern double mystery(double);
extern double __enzyme_autodiff(void *, ...);
static double f(double x) { return mystery(x) * x; }
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }
""", "mystery"),
    "too_few": ("""
extern double __enzyme_autodiff(void *, ...);
static double f(double x, double y) { return x * y; }
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }
""", "too few arguments"),
    "too_many": ("""
extern double __enzyme_autodiff(void *, ...);
static double f(double x) { return x * x; }
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0, 2.0); }
""", "too many arguments"),
    "not_a_function": ("""
extern double __enzyme_autodiff(void *, ...);
double table[3] = {1, 2, 3};
int main(void) { return (int)__enzyme_autodiff((void *)table, 1.0); }
""", "not a function"),
    "out_on_pointer": ("""
extern double __enzyme_autodiff(void *, ...);
int enzyme_out;
static double f(double *x) { return x[0] * x[0]; }
int main(void) { double x = 1; return (int)__enzyme_autodiff((void *)f, enzyme_out, &x); }
""", "enzyme_out"),
    "struct_return_reverse": ("""
extern double __enzyme_autodiff(void *, ...);
typedef struct { double a, b; } P;
static P f(double x) { P p = {x * x, x}; return p; }
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }
""", "aggregate"),
    "store_into_external_memory": ("""
extern double __enzyme_autodiff(void *, ...);
double *ext_buffer(int n);
static volatile int len = 2;
static double f(double *x) {
  int n = len;
  double *buf = ext_buffer(n);
  for (int i = 0; i < n; i++) buf[i] = x[0] * (i + 1);
  double s = 0;
  for (int i = 0; i < n; i++) s += buf[i] * buf[(i + 1) % n];
  return s;
}
int main(void) { double x = 1, dx = 0; __enzyme_autodiff((void *)f, &x, &dx); return 0; }
""", "external function 'ext_buffer'"),
    "mismatched_activity": ("""
extern double __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
static double f(double *x, const double *c, int k) {
  const double *p = k ? x : c;
  return p[0] * p[1] + x[0];
}
int main(void) {
  double x[2] = {1, 2}, dx[2] = {0}, c[2] = {3, 4};
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, c, enzyme_const, 0);
  return 0;
}
""", "mismatched activity"),
    "float_bits_arithmetic": ("""
#include <stdint.h>
#include <string.h>
extern double __enzyme_autodiff(void *, ...);
static double f(double x) {
  double y = x * x;
  uint64_t b;
  memcpy(&b, &y, 8);
  b += 1;  /* the next double: no derivative adcc knows */
  memcpy(&y, &b, 8);
  return y;
}
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }
""", "bits of a floating-point value"),
    "float_vector_bits_other_lanes": ("""
#include <stdint.h>
extern double __enzyme_fwddiff(void *, ...);
typedef double v2d __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
static double f(double x) {
  v2d a = {x * x, x};
  v2d r = (v2d)((v4i)a ^ (v4i){0, INT32_MIN, 0, 0});  /* doubles' sign bits as i32 lanes: refused */
  return r[0] + r[1];
}
int main(void) { return (int)__enzyme_fwddiff((void *)f, 1.0, 1.0); }
""", "bits of a floating-point value"),
    "float_lanes_split_reverse": ("""
#include <stdint.h>
extern double __enzyme_autodiff(void *, ...);
typedef double v2d __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
static double f(double x) {
  v2d a = {x * x, x};
  v2d r = (v2d)__builtin_shufflevector((v4i)a, (v4i)a, 1, 0, 3, 2);  /* halves of doubles swapped */
  return r[0] + r[1];
}
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }
""", "floating-point value split across lanes"),
    "float_lanes_split_forward": ("""
#include <stdint.h>
extern double __enzyme_fwddiff(void *, ...);
typedef double v2d __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
static double f(double x) {
  v2d a = {x * x, x};
  v2d r = (v2d)__builtin_shufflevector((v4i)a, (v4i)a, 1, 0, 3, 2);  /* halves of doubles swapped */
  return r[0] + r[1];
}
int main(void) { return (int)__enzyme_fwddiff((void *)f, 1.0, 1.0); }
""", "floating-point value split across lanes"),
    "fwd_out": ("""
extern double __enzyme_fwddiff(void *, ...);
int enzyme_out;
static double f(double x) { return x * x; }
int main(void) { return (int)__enzyme_fwddiff((void *)f, enzyme_out, 1.0); }
""", "not valid in forward mode"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("opt", ["-O0", "-O2", "-O2 -g"])
def test_rejected_with_location(tmp_path, name, opt):
    src, hint = CASES[name]
    c = tmp_path / f"{name}.c"
    c.write_text(src)
    out = tmp_path / "prog"
    r = subprocess.run([ADCC, *opt.split(), str(c), "-o", str(out), "-lm"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "Stack dump" not in r.stderr
    assert hint in r.stderr, r.stderr
    assert f"{name}.c:" in r.stderr, r.stderr  # a source location from debug info
    assert "error:" in r.stderr
    assert not out.exists()
