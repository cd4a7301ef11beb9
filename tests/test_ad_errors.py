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
    # rows of an enzyme_const array kept by a function adcc does not inline (#17: their object needs
    # no shadow), merged with active memory: the merge needs shadows the rows do not have
    "merged_constant_rows": ("""
extern double __enzyme_autodiff(void *, ...);
int enzyme_dup, enzyme_const;
typedef struct { const double *row[4]; } Rows;
__attribute__((noinline)) static void rows_init(Rows *r, const double *seq, int n) {
  for (int i = 0; i < n; i++) r->row[i] = seq + 2 * i;
}
static double f(double *x, const double *seq, int n) {
  Rows r;
  rows_init(&r, seq, n);
  double s = 0;
  for (int k = 0; k < n; k++) {
    const double *in = k % 2 ? r.row[k] : x + k;
    s += in[0] * in[1] * x[k];
  }
  return s;
}
int main(void) {
  double x[6] = {1, 2, 3, 4, 5, 6}, dx[6] = {0}, seq[8] = {0};
  __enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, seq, enzyme_const, 4);
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
    "floats_as_integer_argument": ("""
#include <stdint.h>
#include <string.h>
extern double __enzyme_autodiff(void *, ...);
/* two floats passed as the bits of one uint64_t: SROA moves them with zext/shl/or and cuts them
   out with lshr/trunc; refused (their derivative would otherwise be lost without a word) */
__attribute__((noinline)) static double product(uint64_t bits) {
  float p[2];
  memcpy(p, &bits, sizeof p);
  return (double)p[0] * p[1];
}
static double f(double x) {
  float p[2] = {(float)x, (float)(x * x)};
  uint64_t bits;
  memcpy(&bits, p, sizeof bits);
  return product(bits) + x;
}
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.5); }
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
    "float_lanes_reinterpreted": ("""
extern double __enzyme_autodiff(void *, ...);
typedef float v2f __attribute__((vector_size(8)));
__attribute__((noinline)) double pack(v2f v) { double d; __builtin_memcpy(&d, &v, 8); return d; }
__attribute__((noinline)) float first(double d) { v2f v; __builtin_memcpy(&v, &d, 8); return v[0] * v[1]; }
__attribute__((noinline)) float second(double d) { v2f v; __builtin_memcpy(&v, &d, 8); return v[0] + v[1]; }
static double f(double x) {  /* two floats in a double: their adjoints would be summed as one double (#9) */
  v2f v = {(float)x * 2.0f, (float)(x * x)};
  double d = pack(v);
  return (double)first(d) + (double)second(d);
}
int main(void) { return (int)__enzyme_autodiff((void *)f, 1.0); }
""", "reinterpretation of"),
    "untyped_copy_of_float_struct": ("""
#include <stddef.h>
#include <string.h>
extern double __enzyme_autodiff(void *, ...);
static volatile int len = 4;
__attribute__((noinline)) void copy_bytes(void *d, const void *s, size_t n) { memcpy(d, s, n); }
typedef struct { float f; int k; } fk;
static double f(double *x) {  /* a float beside an int, copied through void *: no type to move them by */
  int n = len;
  fk a[4], b[4];
  for (int i = 0; i < n; i++) { a[i].f = (float)x[i]; a[i].k = i; }
  copy_bytes(b, a, (size_t)n * sizeof(fk));
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i].f * (double)b[i].f * (b[i].k + 1);
  return s;
}
int main(void) { double x[4] = {1, 2, 3, 4}, dx[4] = {0}; __enzyme_autodiff((void *)f, x, dx); return 0; }
""", "type adcc cannot tell"),
    "byte_loop_copy": ("""
#include <stddef.h>
extern double __enzyme_autodiff(void *, ...);
static volatile int len = 4;
__attribute__((noinline)) void byte_loop(void *d, const void *s, size_t n) {
  unsigned char *dc = d;
  const unsigned char *sc = s;
  for (size_t i = 0; i < n; i++) dc[i] = sc[i];  /* doubles moved byte by byte: refused in reverse mode */
}
static double f(double *x) {
  int n = len;
  double a[4], b[4];
  for (int i = 0; i < n; i++) a[i] = x[i] * (i + 1);
  byte_loop(b, a, (size_t)n * sizeof(double));
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
int main(void) { double x[4] = {1, 2, 3, 4}, dx[4] = {0}; __enzyme_autodiff((void *)f, x, dx); return 0; }
""", "narrower than a float"),
    "untyped_word_of_float_struct": ("""
#include <stdlib.h>
#include <string.h>
extern double __enzyme_autodiff(void *, ...);
static volatile int len = 4;
typedef struct { float f; int k; } fk;
__attribute__((noinline)) void copy8(void *d, const void *s) { memcpy(d, s, 8); }  /* one i64 */
static double f(double *x) {  /* heap structs nothing types: the i64 holds a float and an int */
  int n = len;
  fk *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  for (int i = 0; i < n; i++) { a[i].f = (float)x[i]; a[i].k = i; }
  for (int i = 0; i < n; i++) copy8(&b[i], &a[i]);
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i].f * (double)b[i].f * (b[i].k + 1);
  free(a);
  free(b);
  return s;
}
int main(void) { double x[4] = {1, 2, 3, 4}, dx[4] = {0}; __enzyme_autodiff((void *)f, x, dx); return 0; }
""", "type adcc cannot tell"),
    "unplaced_word_arithmetic_reverse": ("""
#include <stdint.h>
#include <string.h>
extern void __enzyme_autodiff(void *, ...);
struct rec { double v; long k; };
static volatile int sel = 0;
static double f(double *x) {
  struct rec r[2] = {{x[0] * x[0], 3}, {x[1], 4}};
  char *c = (char *)r;
  int n = sel;
  uint64_t b;  /* a double's or a long's bits: type analysis cannot tell which (#9) */
  memcpy(&b, c + 8 * ((2 * n) % 4), 8);
  b ^= 1ull << 63;
  memcpy(c + 8 * ((2 * n + 2) % 4), &b, 8);
  return r[0].v + 2 * r[1].v + r[0].k + r[1].k;
}
int main(void) { double x[2] = {1, 2}, d[2] = {0}; __enzyme_autodiff((void *)f, x, d); return (int)d[0]; }
""", "integer operations on a word that may hold a floating-point value"),
    "unplaced_word_arithmetic_forward": ("""
#include <stdint.h>
#include <string.h>
extern double __enzyme_fwddiff(void *, ...);
struct rec { double v; long k; };
static volatile int sel = 0;
static double f(double *x) {
  struct rec r[2] = {{x[0] * x[0], 3}, {x[1], 4}};
  char *c = (char *)r;
  int n = sel;
  uint64_t b;
  memcpy(&b, c + 8 * ((2 * n) % 4), 8);
  b |= 1ull << 63;  /* -|v| if a double */
  memcpy(c + 8 * ((2 * n + 2) % 4), &b, 8);
  return r[0].v + 2 * r[1].v + r[0].k + r[1].k;
}
int main(void) { double x[2] = {1, 2}, t[2] = {1, 0}; return (int)__enzyme_fwddiff((void *)f, x, t); }
""", "integer operations on a word that may hold a floating-point value"),
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
    "half_of_double_reverse": ("""
#include <stdint.h>
#include <string.h>
extern void __enzyme_autodiff(void *, ...);
static volatile int sel = 6;
static double f(double *x) {
  double t[8];
  for (int r = 0; r < 8; r++) t[r] = x[r] * x[r + 1];
  int n = sel;
  for (int i = 0; i < 2; i++) {  /* a double rebuilt from its high word (fuzz seed 500001) */
    uint32_t hi;
    memcpy(&hi, (char *)&t[n % 8] + 4, 4);
    t[i] = t[n % 8];
    memcpy((char *)&t[i] + 4, &hi, 4);
  }
  return t[0] * t[1] + t[3];
}
int main(void) { double x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, d[9] = {0}; __enzyme_autodiff((void *)f, x, d); return (int)d[0]; }
""", "part of a floating-point value's bytes"),
    "float_array_struct_select_copy": ("""
#include <stdlib.h>
#include <string.h>
#include <math.h>
extern void __enzyme_autodiff(void *, ...);
typedef struct { float f; int k; double d; } mix;
static volatile int len = 4;
static double f(double *x) {  /* a pointer selected between a float array and a struct's float field */
  int n = len, fn = 4;
  float *tf = malloc(4 * sizeof(float));
  for (int r = 0; r < fn; r++) tf[r] = (float)x[r];
  mix m[8];
  for (int r = 0; r < 8; r++) { m[r].f = (float)x[r]; m[r].k = r; m[r].d = x[r] * x[r]; }
  double s = 0;
  for (int i = 0; i < n; i++) {
    if (fn < 12) {
      tf = realloc(tf, (size_t)(fn + 4) * sizeof(float));
      for (int r = fn; r < fn + 4; r++) tf[r] = 0.5f * tf[r - 4];
      fn += 4;
    }
    memcpy(&m[(i + 5) % 8], &m[(i + 1) % 8], sizeof(mix));
    m[i].f = (float)(m[i].d * tf[i]);
    const float *pf = x[i] > -10.0 ? tf + 2 : &m[0].f;
    s += pf[0] + m[(i + 4) % 8].d * m[(i + 6) % 8].f;
  }
  free(tf);
  return s;
}
int main(void) { double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, d[8] = {0}; __enzyme_autodiff((void *)f, x, d); return (int)d[0]; }
""", "type adcc cannot tell"),
    "fwd_out": ("""
extern double __enzyme_fwddiff(void *, ...);
int enzyme_out;
static double f(double x) { return x * x; }
int main(void) { return (int)__enzyme_fwddiff((void *)f, enzyme_out, 1.0); }
""", "not valid in forward mode"),
}


# the same floats-as-integer program in forward mode
CASES["floats_as_integer_argument_forward"] = (
    CASES["floats_as_integer_argument"][0].replace("__enzyme_autodiff", "__enzyme_fwddiff")
    .replace("(void *)f, 1.5)", "(void *)f, 1.5, 1.0)"), CASES["floats_as_integer_argument"][1])

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
