#!/usr/bin/env python3
"""Seeded generator of small random C programs for differential testing of adcc's AD.

Each seed gives one function `double f_s<SEED>(double *x, double *w, int n)` (plus a
noinline helper `g_s<SEED>`) built from a grammar that stresses control flow and memory:
nested for loops (runtime/constant/triangular bounds, nonzero starts, step 2, downward),
while loops with data-independent counters, break/continue/early return under integer
conditions, if/else and ternaries on integer conditions, a stack or malloc'd scratch array
written and read back across iterations, a loop-carried scalar, stores into w[] (an output
through a dup pointer), smooth libm calls with bounded arguments, and helper calls with
pointer offsets.

Every value is kept bounded (array stores are contractions of bounded expressions), all
branches and trip counts depend on integers only, and there are no kinks at the evaluation
point (fmax picks a side with a margin > 0.5), so central finite differences are accurate.

The driver (DRIVER below) checks, per function, against central finite differences of
loss = f(x, w, n) + sum_i WSEED[i] * w_out[i]:
  - reverse mode: __enzyme_autodiff(f, dup x dx, dup w dw(seeded with WSEED), const n)
    gives d loss / d x and d loss / d w_in;
  - forward mode: __enzyme_fwddiff(f, dup x TX, dup w TW, const n) gives
    d f + sum WSEED * d w_out along (TX, TW);
  - the primal w after each AD call equals the plain call's w_out, x is untouched.
With -DNOAD (plain clang) it only checks that the FD estimates are self-consistent
(step h vs 2h), which validates the generator.

Output: one line `FAIL s<SEED> <what>[i] got .. want ..` per mismatch, then `PASS` (exit 0)
or `FAIL <k> mismatches` (exit 1).

`--wide` (FuncGen(wide=True)) adds the constructs of #9, drawn per function: scratch memory grown
with realloc from NULL, allocated through an allocator table of function pointers, through a
`void **` out-parameter, or aligned on the stack (_Alignas and by hand through uintptr_t); doubles
punned through integers, unions and memcpy, with sign changes made on the bits (neg, abs, -abs,
copysign, on values whose sign is known with a margin); overlapping memmove inside the scratch
array; qsort of the scratch array with a comparator; and inline asm in the driver (outside the
differentiated path). Without --wide a seed gives the same program as before. `--long-double`
adds a `long double` accumulator and `--asm-in-f` an asm memory barrier inside f (switches for
the IR parser's support of x86_fp80 and inline asm); `--closures` adds closures that keep a pointer
as an integer next to a function pointer, called through a helper (std::function's layout), copied
with memcpy or from an array of closures in a loop.

`--wide` also draws, per function, constructs of scientific C code (SCI_KINDS; `--no-sci` leaves
them out and gives the wide programs of before them): float (32-bit) scratch mixed with doubles
(conversions both ways, float libm, accumulation through a `float *`); an array of structs with
double fields around an int tag (field stores, struct assignment, memcpy and swaps of whole
structs, a struct returned by value, a noinline helper writing through a struct pointer, branches
on the tag); memset of double, float or struct regions to zero or non-zero bytes; a second heap
buffer grown by realloc; noinline helpers writing through (possibly overlapping) pointer offsets
and accumulating into the scratch or into `&s`; floor/lround/trunc/(int)/fmod/fmin on active values
with a margin to the next integer, feeding indices, trip counts and branches; pointers picked by a
float compare (decided with a margin); static local accumulators reset on entry; a double (float)
rebuilt from its 4-byte (2-byte) halves, which reverse mode refuses. They draw from their own random
stream between the statements above, so those draw as before. Functions with float scratch are
checked with 5-point differences at a larger step and a looser tolerance (fz_loose); their
programs leave qsort out (the larger step would reorder close values).

Usage:
  gen.py --seed 17 [-o f.c]                   one program (reproducer)
  gen.py --seeds 0-39 --per-file 8 --out DIR  DIR/fuzz_<first>.c ... (8 functions per file)
  gen.py --func 17                            just the function source (for minimizing)
  gen.py --wide --seeds 0-1999 --out DIR      the widened grammar (tests/fuzz/campaign.py runs it)
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

L = 12          # array length of x, w, scratch (indices are taken % 8, helpers get offsets 0..4)
IDXMOD = 8

DRIVER_HEAD = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L 12
#ifndef NOAD
extern void __enzyme_autodiff(void *, ...);
extern double __enzyme_fwddiff(void *, ...);
int enzyme_dup;
int enzyme_const;
#endif

typedef double (*fz_fn)(double *, double *, int);
typedef void (*fz_rev)(double *, double *, double *, double *, int);
typedef double (*fz_fwd)(double *, double *, double *, double *, int);

static const double X0[L] = {0.31, -0.52, 0.77, -0.18, 0.45, 0.63, -0.71, 0.12, 0.58, -0.36, 0.24, -0.85};
static const double W0[L] = {-0.42, 0.27, 0.66, -0.55, 0.14, -0.23, 0.81, -0.64, 0.35, 0.49, -0.11, 0.72};
static const double WSEED[L] = {0.7, -0.3, 0.5, 1.1, -0.9, 0.25, 0.6, -0.45, 0.35, -0.8, 0.15, 0.95};
static const double TX[L] = {0.3, -0.7, 0.45, 0.9, -0.2, 0.65, -0.55, 0.1, 0.8, -0.35, 0.5, -0.6};
static const double TW[L] = {-0.25, 0.6, 0.15, -0.85, 0.4, 0.7, -0.3, 0.55, -0.65, 0.2, 0.95, -0.4};

static int fz_fail;
/* set per function by the driver: float (32-bit) values in f round at 6e-8, so finite differences
   use a 5-point stencil with a larger step and the checks a looser tolerance */
static int fz_loose;

static void fz_check(const char *fn, const char *what, int i, double got, double want, double tol) {
  if (fz_loose && tol >= 1e-7) tol = 3e-4;
  double sc = fabs(want) > 1.0 ? fabs(want) : 1.0;
  if (!(fabs(got - want) <= tol * sc)) {
    fz_fail++;
    if (fz_fail <= 60) printf("FAIL %s %s[%d] got %.17g want %.17g\n", fn, what, i, got, want);
  }
}

static double fz_loss(fz_fn f, const double *x0, const double *w0, int n, double *wout) {
  double x[L], w[L];
  memcpy(x, x0, sizeof x);
  memcpy(w, w0, sizeof w);
  double r = f(x, w, n);
  for (int i = 0; i < L; i++) r += WSEED[i] * w[i];
  if (wout) memcpy(wout, w, sizeof w);
  return r;
}

/* central difference of the loss along (dx, dw) with step h */
static double fz_at(fz_fn f, int n, const double *dx, const double *dw, double h) {
  double xp[L], wp[L];
  for (int i = 0; i < L; i++) { xp[i] = X0[i] + h * dx[i]; wp[i] = W0[i] + h * dw[i]; }
  return fz_loss(f, xp, wp, n, 0);
}

static double fz_fd(fz_fn f, int n, const double *dx, const double *dw, double h) {
  if (fz_loose) {
    h *= 3e3;
    return (8.0 * (fz_at(f, n, dx, dw, h) - fz_at(f, n, dx, dw, -h)) - fz_at(f, n, dx, dw, 2.0 * h) +
            fz_at(f, n, dx, dw, -2.0 * h)) / (12.0 * h);
  }
  return (fz_at(f, n, dx, dw, h) - fz_at(f, n, dx, dw, -h)) / (2.0 * h);
}

static double fz_fd_coord(fz_fn f, int n, int isw, int i, double scale) {
  double ex[L] = {0}, ew[L] = {0};
  double h = 1e-6 * scale * (fabs(isw ? W0[i] : X0[i]) + 1.0);
  if (isw) ew[i] = 1.0; else ex[i] = 1.0;
  return fz_fd(f, n, ex, ew, h);
}

static void fz_run(const char *name, fz_fn f, fz_rev rev, fz_fwd fwd, int n0) {
  volatile int vn = n0;
  int n = vn;
  double wout[L];
  double p1 = fz_loss(f, X0, W0, n, wout), p2 = fz_loss(f, X0, W0, n, 0);
  fz_check(name, "primal-determinism", 0, p1, p2, 0.0);
  fz_check(name, "primal-finite", 0, isfinite(p1) ? 0.0 : 1e300, 0.0, 0.0);
#ifdef NOAD
  (void)rev; (void)fwd;
  for (int i = 0; i < 2 * L; i++) {
    double a = fz_fd_coord(f, n, i >= L, i % L, 1.0), b = fz_fd_coord(f, n, i >= L, i % L, 2.0);
    fz_check(name, i < L ? "fd-self-dx" : "fd-self-dw", i % L, a, b, 1e-7);
  }
  fz_check(name, "fd-self-dir", 0, fz_fd(f, n, TX, TW, 1e-6), fz_fd(f, n, TX, TW, 2e-6), 1e-7);
#else
  double x[L], w[L], dx[L], dw[L];
  memcpy(x, X0, sizeof x); memcpy(w, W0, sizeof w);
  memset(dx, 0, sizeof dx); memcpy(dw, WSEED, sizeof dw);
  rev(x, dx, w, dw, n);
  for (int i = 0; i < L; i++) {
    fz_check(name, "rev-primal-x", i, x[i], X0[i], 0.0);
    fz_check(name, "rev-primal-w", i, w[i], wout[i], 1e-12);
    fz_check(name, "rev-dx", i, dx[i], fz_fd_coord(f, n, 0, i, 1.0), 1e-6);
    fz_check(name, "rev-dw", i, dw[i], fz_fd_coord(f, n, 1, i, 1.0), 1e-6);
  }
  double tx[L], tw[L];
  memcpy(x, X0, sizeof x); memcpy(w, W0, sizeof w);
  memcpy(tx, TX, sizeof tx); memcpy(tw, TW, sizeof tw);
  double d = fwd(x, tx, w, tw, n);
  for (int i = 0; i < L; i++) {
    d += WSEED[i] * tw[i];
    fz_check(name, "fwd-primal-w", i, w[i], wout[i], 1e-12);
  }
  fz_check(name, "fwd-dir", 0, d, fz_fd(f, n, TX, TW, 1e-6), 1e-6);
#endif
}

#ifdef NOAD
#define FZ_AD(F)                                                                             \
  static void F##_rev(double *x, double *dx, double *w, double *dw, int n) { (void)x; (void)dx; (void)w; (void)dw; (void)n; } \
  static double F##_fwd(double *x, double *tx, double *w, double *tw, int n) { (void)x; (void)tx; (void)w; (void)tw; (void)n; return 0; }
#else
#define FZ_AD(F)                                                                             \
  static void F##_rev(double *x, double *dx, double *w, double *dw, int n) {                 \
    __enzyme_autodiff((void *)F, enzyme_dup, x, dx, enzyme_dup, w, dw, enzyme_const, n);     \
  }                                                                                          \
  static double F##_fwd(double *x, double *tx, double *w, double *tw, int n) {               \
    return __enzyme_fwddiff((void *)F, enzyme_dup, x, tx, enzyme_dup, w, tw, enzyme_const, n); \
  }
#endif
"""

# helpers of the widened grammar (only in programs that use it)
WIDE_HEAD = r"""
#include <stdint.h>
#define FZ_SIGN (1ull << 63)

typedef struct { void *(*alloc)(size_t); void (*release)(void *); } fz_allocator;
static long fz_live;
static void *fz_counting_alloc(size_t n) { fz_live++; return malloc(n); }
static void fz_counting_free(void *p) { if (p) fz_live--; free(p); }
static fz_allocator fz_tables[2] = {{malloc, free}, {fz_counting_alloc, fz_counting_free}};
static fz_allocator *volatile fz_alloc = &fz_tables[0];

static __attribute__((noinline)) int fz_make(void **out, size_t n) { *out = malloc(n); return *out != NULL; }

static int fz_cmp_up(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* sign changes on the bits: through memcpy, through a union, through integer-valued calls */
typedef union { double d; uint64_t u; } fz_pun;
static inline double fz_neg(double v) { uint64_t b; memcpy(&b, &v, 8); b ^= FZ_SIGN; memcpy(&v, &b, 8); return v; }
static inline double fz_abs(double v) { fz_pun p; p.d = v; p.u &= ~FZ_SIGN; return p.d; }
static inline double fz_nabs(double v) { uint64_t b; memcpy(&b, &v, 8); b |= FZ_SIGN; memcpy(&v, &b, 8); return v; }
static inline double fz_copysign(double m, double s) {
  fz_pun a, b; a.d = m; b.d = s; a.u = (a.u & ~FZ_SIGN) | (b.u & FZ_SIGN); return a.d;
}
static __attribute__((noinline)) uint64_t fz_bits(double v) { uint64_t b; memcpy(&b, &v, 8); return b; }
static __attribute__((noinline)) double fz_from_bits(uint64_t b) { double v; memcpy(&v, &b, 8); return v; }

/* closures: an environment pointer kept as an integer (as std::function keeps a lambda's captures)
   and a function pointer, called through a noinline helper; the callee reads the integer back as a
   pointer through memory (fz_env_read, fz_env_scale) or with a cast (fz_env_sin) */
typedef struct { uintptr_t env; double (*call)(const void *, int); } fz_closure;
static double fz_env_read(const void *c, int i) { const double *p = *(const double *const *)c; return 0.5 * p[i]; }
static double fz_env_sin(const void *c, int i) { return sin(((const double *)((const fz_closure *)c)->env)[i]); }
static double fz_env_scale(const void *c, int i) { double *p = *(double *const *)c; p[i] *= 0.9; return p[i]; }
static __attribute__((noinline)) double fz_apply(const fz_closure *c, int i) { return c->call(c, i); }

/* inline asm outside the differentiated path */
static __attribute__((noinline)) void fz_barrier(void) { __asm__ volatile("" ::: "memory"); }
"""

# helpers of the scientific-code constructs (--wide draws them, see FuncGen.sci_stmt)
SCI_HEAD = r"""
/* a cell of a mesh: doubles around an integer tag; copied whole (assignment, memcpy, swap) */
typedef struct { double a; int k; double b; } fz_cell;
static __attribute__((noinline)) fz_cell fz_cell_make(double a, double b, int k) {
  fz_cell c; c.a = tanh(a); c.k = k; c.b = 0.5 * b; return c;
}
static __attribute__((noinline)) void fz_cell_mix(fz_cell *d, const fz_cell *src, double a) {
  d->a = 0.5 * d->a + 0.5 * tanh(a * src->b);
  d->k = (d->k + src->k) % 3;
}
/* writes through pointer offsets (the regions may overlap: no restrict); a contraction keeps values bounded */
static __attribute__((noinline)) void fz_blend(double a, const double *xs, double *ys, int m) {
  for (int q = 0; q < m; q++) ys[q] = 0.5 * ys[q] + a * xs[q];
}
/* a second function taking the scratch pointer and accumulating into it */
static __attribute__((noinline)) double fz_accum(double *acc, const double *src, int m, double a) {
  double r = 0.0;
  for (int q = 0; q < m; q++) {
    acc[q] = 0.5 * acc[q] + 0.5 * sin(a * src[q]);
    r += acc[q];
  }
  return r;
}
static __attribute__((noinline)) void fz_addto(double *acc, double v) { *acc += v; }
static __attribute__((noinline)) void fz_faddto(float *acc, double v) { *acc += (float)v; }
"""

DRIVER_MAIN_HEAD = "\nint main(void) {\n"
DRIVER_MAIN_TAIL = r"""  if (fz_fail) { printf("FAIL %d mismatches\n", fz_fail); return 1; }
  printf("PASS\n");
  return 0;
}
"""

UNARY = ("sin", "cos", "tanh")


HEAP_SCRATCH = ("malloc", "realloc", "table", "outparam")
# constructs of scientific C code (--wide, unless --no-sci), each drawn per function with its probability
SCI_KINDS = (("float", 0.35), ("cells", 0.4), ("memset", 0.35), ("grow", 0.3), ("blend", 0.35), ("accum", 0.3),
             ("round", 0.45), ("psel", 0.35), ("static", 0.2), ("halves", 0.1), ("addto", 0.3))
WIDE_SCRATCH = ("stack", "malloc", "realloc", "realloc", "table", "table", "outparam", "outparam", "aligned",
                "manual")


class FuncGen:
    def __init__(self, seed: int, wide: bool = False, long_double: bool = False, asm_in_f: bool = False,
                 closures: bool = False, sci: bool | None = None):
        self.seed = seed
        self.r = random.Random(seed * 7919 + 12345)
        r = self.r
        self.name = f"f_s{seed}"
        self.hname = f"g_s{seed}"
        self.scratch = r.choice(["none", "stack", "stack", "malloc", "malloc"])
        self.has_u = r.random() < 0.7
        self.writes_w = r.random() < 0.75
        self.has_helper = r.random() < 0.7
        self.helper_kind = r.randrange(5)
        self.helper_writes = self.helper_kind in (3, 4)
        self.n = r.choice([5, 6, 7, 8])
        self.budget = r.randint(8, 18)          # statements
        self.lines: list[str] = []
        self.nlocal = 0
        self.nloop = 0
        self.scopes: list[list[str]] = [[]]     # float locals in scope
        self.ivars: list[tuple[str, int]] = []  # (int var, max value) in scope
        # the widened grammar draws after the base one, so a seed's base program does not change
        self.wide = wide
        self.wide_stmts: list[str] = []
        if wide:
            self.scratch = r.choice(WIDE_SCRATCH)
            self.wide_stmts = [k for k, pr in (("pun", 0.6), ("bits", 0.4), ("memmove", 0.45), ("sort", 0.35))
                               if r.random() < pr]
        self.long_double = long_double and r.random() < 0.5
        self.asm_in_f = asm_in_f and r.random() < 0.5
        self.closures = closures and r.random() < 0.6
        # the scientific constructs draw from their own stream and are inserted between the statements
        # of the grammar above (which draws as before), so `--no-sci` gives the earlier wide programs
        self.rs = random.Random(seed * 104729 + 4242)
        self.sci = wide if sci is None else sci
        self.sci_kinds = [k for k, pr in SCI_KINDS if self.rs.random() < pr] if self.sci else []
        self.loose = "float" in self.sci_kinds   # float rounding: the driver's 5-point differences
        if self.loose:  # their larger step would reorder values a few 1e-6 apart
            self.wide_stmts = [k for k in self.wide_stmts if k != "sort"]

    # ---------- expressions ----------
    def ival(self) -> str:
        """a non-negative int expression"""
        r = self.r
        if self.ivars and r.random() < 0.8:
            v = r.choice(self.ivars)[0]
            k = r.random()
            if k < 0.4 or len(self.ivars) < 2:
                return v if r.random() < 0.5 else f"{v} + {r.randint(1, 5)}"
            v2 = r.choice(self.ivars)[0]
            return f"{r.randint(1, 3)} * {v} + {v2}"
        return r.choice(["n", "n + 1", str(r.randint(0, 7)), "2 * n"])

    def idx(self) -> str:
        e = self.ival()
        if e.isdigit():
            return str(int(e) % IDXMOD)
        return f"({e}) % {IDXMOD}"

    def icond(self) -> str:
        r = self.r
        if self.ivars and r.random() < 0.85:
            v, mx = r.choice(self.ivars)
            k = r.randrange(6)
            if k == 0:
                return f"{v} % 2 == {r.randint(0, 1)}"
            if k == 1:
                return f"{v} < {r.randint(1, max(1, mx))}"
            if k == 2:
                return f"{v} == {r.randint(0, max(0, mx - 1))}"
            if k == 3 and len(self.ivars) >= 2:
                v2 = r.choice([iv for iv in self.ivars if iv[0] != v])[0]
                return f"{v} > {v2}"
            if k == 4:
                return f"({v} + n) % 3 == {r.randint(0, 2)}"
            return f"{v} >= n - {r.randint(1, 4)}"
        return r.choice([f"n > {r.randint(3, 8)}", f"n % 2 == {r.randint(0, 1)}", "n < 7"])

    def leaf(self):
        r = self.r
        opts = ["x", "x", "w", "c", "i"]
        if self.scratch != "none":
            opts += ["t", "t"]
        if self.has_u:
            opts.append("u")
        if self.scopes[-1] or any(self.scopes):
            opts.append("local")
        opts.append("s")
        k = r.choice(opts)
        if k == "x":
            return f"x[{self.idx()}]", 1.0
        if k == "w":
            return f"w[{self.idx()}]", 2.0
        if k == "t":
            return f"t[{self.idx()}]", 2.0
        if k == "u":
            return "u", 2.0
        if k == "local":
            locs = [v for sc in self.scopes for v in sc]
            return r.choice(locs), 2.0
        if k == "s":
            return f"tanh(0.1 * s)", 1.0
        if k == "i" and self.ivars:
            v = r.choice(self.ivars)[0]
            return f"0.1 * {v}", 0.9
        c = round(r.uniform(-1.5, 1.5), 2)
        return (f"{c}" if c >= 0 else f"({c})"), abs(c)

    def fexpr(self, d: int):
        """(code, bound on |value|)"""
        r = self.r
        if d <= 0 or r.random() < 0.25:
            return self.leaf()
        k = r.randrange(13)
        if k <= 2:
            a, _ = self.fexpr(d - 1)
            if r.random() < 0.4:
                b, _ = self.fexpr(d - 1)
                a = f"{a} + {b}" if r.random() < 0.5 else f"{a} * {b}"
            return f"{r.choice(UNARY)}({a})", 1.0
        if k == 3:
            a = self.bounded(d - 1, 2.0)
            return f"exp(0.5 * {a})", 2.72
        if k == 4:
            a, b = self.fexpr(d - 1)
            return f"sqrt(1.0 + {a} * {a})", (1 + b * b) ** 0.5
        if k in (5, 6):
            a, ba = self.fexpr(d - 1)
            b, bb = self.fexpr(d - 1)
            return self.wrap(f"{a} * {b}", ba * bb)
        if k in (7, 8):
            a, ba = self.fexpr(d - 1)
            b, bb = self.fexpr(d - 1)
            return self.wrap(f"({a} {r.choice('+-')} {b})", ba + bb)
        if k == 9:
            a, ba = self.fexpr(d - 1)
            b, bb = self.fexpr(d - 1)
            off = round(ba + bb + r.uniform(0.6, 1.5), 2)
            if r.random() < 0.5:   # second always wins by a margin
                return f"fmax({a}, {b} + {off})", bb + off
            return f"fmax({a} - {off}, {b})", max(bb, ba + off)
        if k == 10:
            a, ba = self.fexpr(d - 1)
            b, bb = self.fexpr(d - 1)
            return f"({self.icond()} ? {a} : {b})", max(ba, bb)
        if k == 11 and self.has_helper:
            return self.call()
        a, ba = self.fexpr(d - 1)
        c = r.choice([0.5, 0.25, 1.5, -0.75])
        return self.wrap(f"{c} * {a}" if c > 0 else f"({c}) * {a}", abs(c) * ba)

    def wrap(self, code: str, b: float):
        if b > 4.0:
            return f"tanh({code})", 1.0
        return code, b

    def bounded(self, d: int, lim: float) -> str:
        a, b = self.fexpr(d)
        if b <= lim:
            return a
        if self.r.random() < 0.5:
            return f"tanh({a})"
        return f"{lim / b:.3g} * ({a})"

    def call(self):
        r = self.r
        a = self.bounded(1, 2.0)
        ptrs = ["w", "t"] if self.scratch != "none" else ["w"]
        if not self.helper_writes:
            ptrs += ["x", "x"]
        elif not self.writes_w:
            ptrs = [p for p in ptrs if p != "w"] or ["t"]
            if self.scratch == "none":
                return self.leaf()
        p = r.choice(ptrs)
        off = r.choice([0, 0, 1, 2, 4])
        if off:
            p = f"{p} + {off}"
        return f"{self.hname}({a}, {p}, {self.ival()})", HELPER_BOUND[self.helper_kind]

    # ---------- statements ----------
    def emit(self, ind: int, s: str):
        self.lines.append("  " * ind + s)

    def stmt(self, ind: int, depth: int, in_loop: bool, loop_depth: int):
        if self.sci_kinds and self.rs.random() < 0.35:
            self.sci_stmt(ind)
        r = self.r
        self.budget -= 1
        ks = ["acc", "acc", "contract", "local", "ifelse"]
        if self.scratch != "none":
            ks += ["tstore", "tstore"]
        if self.writes_w:
            ks += ["wstore", "wstore"]
        if self.has_u:
            ks.append("ustore")
        if self.has_helper:
            ks.append("callstmt")
        if in_loop:
            ks += ["brk", "cont", "ret"]
        if self.scratch != "none":
            ks += [k for k in self.wide_stmts for _ in (0, 1)]
        if self.long_double:
            ks.append("ldacc")
        if self.closures:
            ks += ["clos", "clos"]
        if loop_depth < 3 and self.budget > 2:
            ks += ["for", "for", "for"] + (["while"] if loop_depth < 2 else [])
        k = r.choice(ks)
        ed = r.randint(1, 3)
        if k == "acc":
            c = r.choice(["0.1", "0.25", "0.5"])
            self.emit(ind, f"s += {c} * {self.fexpr(ed)[0]};")
        elif k == "contract":
            self.emit(ind, f"s = 0.5 * s + {self.bounded(ed, 4.0)};")
        elif k == "local":
            v = f"v{self.nlocal}"
            self.nlocal += 1
            self.emit(ind, f"double {v} = {self.bounded(ed, 2.0)};")
            self.scopes[-1].append(v)
            self.emit(ind, f"s += 0.25 * {v} * {self.bounded(ed - 1, 2.0)};")
        elif k == "tstore":
            i = self.idx()
            if r.random() < 0.5:
                self.emit(ind, f"t[{i}] = {self.bounded(ed, 2.0)};")
            else:
                self.emit(ind, f"t[{i}] = 0.5 * t[{i}] + 0.5 * {self.bounded(ed, 2.0)};")
        elif k == "wstore":
            i = self.idx()
            q = r.random()
            if q < 0.35:
                self.emit(ind, f"w[{i}] = {self.bounded(ed, 2.0)};")
            elif q < 0.8:
                self.emit(ind, f"w[{i}] = 0.5 * w[{i}] + 0.5 * {self.bounded(ed, 2.0)};")
            else:
                self.emit(ind, f"w[{i}] *= {r.choice(['0.9', '0.5', '-0.8'])};")
        elif k == "ustore":
            if r.random() < 0.5:
                self.emit(ind, f"u = 0.5 * u + 0.5 * {self.bounded(ed, 2.0)};")
            else:
                self.emit(ind, f"u = {self.bounded(ed, 2.0)};")
        elif k == "callstmt":
            code, _ = self.call()
            if self.helper_writes and self.hname in code and r.random() < 0.5:
                self.emit(ind, f"{code};")
            else:
                self.emit(ind, f"s += 0.2 * {code};")
        elif k == "ifelse":
            self.emit(ind, f"if ({self.icond()}) {{")
            self.block(ind + 1, depth, in_loop, loop_depth, r.randint(1, 2))
            if r.random() < 0.6:
                self.emit(ind, "} else {")
                self.block(ind + 1, depth, in_loop, loop_depth, r.randint(1, 2))
            self.emit(ind, "}")
        elif k in ("pun", "bits", "memmove", "sort", "ldacc", "clos"):
            self.wide_stmt(ind, k, ed)
        elif k == "brk":
            self.emit(ind, f"if ({self.icond()}) break;")
        elif k == "cont":
            self.emit(ind, f"if ({self.icond()}) continue;")
        elif k == "ret":
            self.emit(ind, f"if ({self.icond()}) {{")
            if self.frees():
                self.emit(ind + 1, f"double rv = s + {self.bounded(1, 2.0)};")
                for fr in self.frees():
                    self.emit(ind + 1, fr)
                self.emit(ind + 1, "return rv;")
            else:
                self.emit(ind + 1, f"return s + {self.bounded(1, 2.0)};")
            self.emit(ind, "}")
        elif k == "for":
            self.for_loop(ind, depth, loop_depth)
        elif k == "while":
            self.while_loop(ind, depth, loop_depth)

    def release(self) -> str:
        return "fz_alloc->release(t);" if self.scratch == "table" else "free(t);"

    def frees(self) -> list[str]:
        """what a return releases"""
        return ([self.release()] if self.scratch in HEAP_SCRATCH else []) + (["free(gb);"] if "grow" in self.sci_kinds else [])

    def signed_margin(self, ed: int) -> str:
        """An expression whose sign is known with a margin (no kink of abs near the point)."""
        c = self.r.choice([1.3, 1.6, -1.3, -1.6])
        return f"({c} + 0.25 * {self.bounded(ed, 1.0)})"

    def wide_stmt(self, ind: int, k: str, ed: int):
        r = self.r
        i, j = self.idx(), self.idx()
        if k == "pun":
            q = r.randrange(4)
            if q == 0:
                self.emit(ind, f"t[{i}] = fz_neg({self.bounded(ed, 2.0)});")
            elif q == 1:
                self.emit(ind, f"t[{i}] = 0.5 * fz_abs({self.signed_margin(ed)});")
            elif q == 2:
                self.emit(ind, f"t[{i}] = 0.5 * fz_nabs({self.signed_margin(ed)});")
            else:
                self.emit(ind, f"t[{i}] = fz_copysign({self.bounded(ed, 2.0)}, {self.signed_margin(ed)});")
        elif k == "bits":
            q = r.randrange(3)
            if q == 0:  # a double copied through an integer in memory
                self.emit(ind, f"{{ uint64_t b_; memcpy(&b_, &t[{i}], 8); b_ ^= FZ_SIGN; memcpy(&t[{j}], &b_, 8); }}")
            elif q == 1:  # through calls that take and return the bits
                self.emit(ind, f"t[{i}] = 0.5 * fz_from_bits(fz_bits(t[{j}])) + 0.5 * {self.bounded(ed, 2.0)};")
            else:  # through a union in memory
                self.emit(ind, f"{{ fz_pun p_; p_.d = t[{j}]; p_.u ^= FZ_SIGN; t[{i}] = -0.5 * p_.d; }}")
        elif k == "memmove":
            a, b = r.randint(0, 4), r.randint(0, 4)
            cnt = r.choice([str(r.randint(1, 8)), "(n % 4 + 3)"])
            self.emit(ind, f"memmove(t + {a}, t + {b}, {cnt} * sizeof(double));")
        elif k == "sort":
            cnt = r.choice(["L", str(r.randint(2, 8)), "(n % 5 + 2)"])
            self.emit(ind, f"qsort(t, {cnt}, sizeof(double), fz_cmp_up);")
        elif k == "ldacc":
            self.emit(ind, f"ld += (long double)({self.bounded(ed, 2.0)}) * 0.25L;")
        elif k == "clos":
            self.closure_stmt(ind)

    def closure_stmt(self, ind: int):
        """A closure over x, w or the scratch array, called (copied with memcpy, or from an array of
        closures in a loop, as a std::function is); only the scratch array is written through one."""
        r = self.r
        i = self.idx()
        arrays = ["x", "w"] + (["t"] if self.scratch != "none" else [])
        p, q = r.choice(arrays), r.choice(arrays)
        read = r.choice(["fz_env_read", "fz_env_sin"])
        k = r.randrange(4)
        if k == 0:
            self.emit(ind, f"{{ fz_closure c_; c_.env = (uintptr_t){p}; c_.call = {read}; s += 0.25 * fz_apply(&c_, {i}); }}")
        elif k == 1:
            self.emit(ind, f"{{ fz_closure c_, d_; c_.env = (uintptr_t){p}; c_.call = {read}; memcpy(&d_, &c_, sizeof c_); "
                           f"s += 0.25 * fz_apply(&d_, {i}); }}")
        elif k == 2 and self.scratch != "none":
            self.emit(ind, f"{{ fz_closure c_ = {{(uintptr_t)t, fz_env_scale}}; s += 0.2 * fz_apply(&c_, {i}); }}")
        else:
            self.emit(ind, f"{{ fz_closure cs_[2] = {{{{(uintptr_t){p}, fz_env_read}}, {{(uintptr_t){q}, fz_env_sin}}}};")
            self.emit(ind + 1, f"for (int c_ = 0; c_ < 2; c_++) s += 0.2 * fz_apply(&cs_[c_], {i}); }}")

    # ---------- constructs of scientific C code (own random stream: see __init__) ----------
    def sci_head(self, ind: int):
        ks = self.sci_kinds
        if "float" in ks:  # float scratch next to the doubles, converted both ways
            self.emit(ind, "float tf[L];")
            self.emit(ind, "for (int r = 0; r < L; r++) tf[r] = (float)(0.5 * x[r]);")
        if "cells" in ks:  # an array of structs: doubles around an int tag
            self.emit(ind, "fz_cell cs[L];")
            self.emit(ind, "for (int r = 0; r < L; r++) { cs[r].a = x[r]; cs[r].k = r % 3; cs[r].b = 0.5 * w[r]; }")
        if "grow" in ks:  # a second heap buffer grown by realloc as the computation goes
            self.emit(ind, "int gn = 8;")
            self.emit(ind, "double *gb = (double *)malloc((size_t)gn * sizeof(double));")
            self.emit(ind, "for (int r = 0; r < gn; r++) gb[r] = 0.5 * x[r] + 0.25 * w[r + 1];")
        if "static" in ks:  # static locals, reset on entry so f stays a function of its arguments
            self.emit(ind, "static double sacc_;")
            self.emit(ind, "static double st_[L];")
            self.emit(ind, "sacc_ = 0.0;")
            self.emit(ind, "for (int r = 0; r < L; r++) st_[r] = 0.5 * w[r];")

    def sci_tail(self, ind: int):
        rs = self.rs
        ks = self.sci_kinds
        if "float" in ks:
            self.emit(ind, f"s += 0.1 * tf[{rs.randint(0, 7)}];")
        if "cells" in ks:
            self.emit(ind, f"s += 0.1 * cs[{rs.randint(0, 7)}].a * cs[{rs.randint(0, 7)}].b;")
        if "grow" in ks:
            self.emit(ind, "s += 0.1 * gb[gn - 1];")
        if "static" in ks:
            self.emit(ind, f"s += 0.1 * sacc_ + 0.05 * st_[{rs.randint(0, 7)}];")

    def writable(self) -> list[str]:
        """double arrays f may write (indices % 8 and offsets up to 4 stay inside)"""
        return (["t"] if self.scratch != "none" else []) + (["w"] if self.writes_w else []) + \
            (["gb"] if "grow" in self.sci_kinds else [])

    def readable(self) -> list[str]:
        return ["x", "w"] + (["t"] if self.scratch != "none" else []) + (["gb"] if "grow" in self.sci_kinds else [])

    def sci_stmt(self, ind: int):
        saved, self.r = self.r, self.rs   # expressions drawn here come from the sci stream too
        try:
            k = self.rs.choice(self.sci_kinds)
            getattr(self, f"sci_{k}")(ind, self.rs.randint(1, 2))
        finally:
            self.r = saved

    def sci_float(self, ind: int, ed: int):
        r = self.r
        i, j = self.idx(), self.idx()
        q = r.randrange(6)
        if q == 0:
            self.emit(ind, f"tf[{i}] = (float)({self.bounded(ed, 2.0)});")
        elif q == 1:
            self.emit(ind, f"tf[{i}] = 0.5f * tf[{i}] + (float)(0.5 * {self.bounded(ed, 2.0)});")
        elif q == 2:
            self.emit(ind, f"s += 0.25 * (double)tf[{i}] * {self.bounded(ed, 2.0)};")
        elif q == 3:
            self.emit(ind, f"s += 0.2 * sinf(tf[{i}] * tf[{j}]);")
        elif q == 4:
            self.emit(ind, f"{{ float f_ = (float)({self.bounded(ed, 2.0)}); fz_faddto(&tf[{i}], 0.25 * f_); tf[{i}] *= 0.8f; }}")
        else:
            ws = self.writable()
            if ws:
                a = r.choice(ws)
                self.emit(ind, f"{a}[{i}] = 0.5 * {a}[{i}] + 0.5 * (double)tf[{j}];")
            else:
                self.emit(ind, f"s += 0.1 * tf[{j}];")

    def sci_cells(self, ind: int, ed: int):
        r = self.r
        i, j = self.idx(), self.idx()
        q = r.randrange(10)
        if q == 0:
            self.emit(ind, f"cs[{i}].a = {self.bounded(ed, 2.0)};")
        elif q == 1:
            self.emit(ind, f"cs[{i}].b = 0.5 * cs[{i}].b + 0.5 * {self.bounded(ed, 2.0)};")
        elif q == 2:
            self.emit(ind, f"cs[{i}] = cs[{j}];")
        elif q == 3:
            self.emit(ind, f"memcpy(&cs[{i}], &cs[{j}], sizeof(fz_cell));")
        elif q == 4:
            self.emit(ind, f"{{ fz_cell c_ = cs[{i}]; cs[{i}] = cs[{j}]; cs[{j}] = c_; }}")
        elif q == 5:
            self.emit(ind, f"s += 0.25 * cs[{i}].a * cs[{j}].b;")
        elif q == 6:
            self.emit(ind, f"if (cs[{i}].k == {r.randint(0, 2)}) s += 0.2 * cs[{i}].a; else s += 0.1 * cs[{j}].b;")
        elif q == 7:
            self.emit(ind, f"fz_cell_mix(&cs[{i}], &cs[{j}], {self.bounded(ed, 2.0)});")
        elif q == 8:
            self.emit(ind, f"cs[{i}] = fz_cell_make({self.bounded(ed, 2.0)}, {self.bounded(ed, 2.0)}, ({self.ival()}) % 3);")
        else:
            self.emit(ind, f"{{ fz_cell c_; memcpy(&c_, &cs[{i}], sizeof c_); memcpy(&cs[{i}], &cs[{j}], sizeof c_); "
                           f"memcpy(&cs[{j}], &c_, sizeof c_); }}")

    def sci_memset(self, ind: int, ed: int):
        r = self.r
        targets = [a for a in self.writable() if a != "gb"] + (["tf"] if "float" in self.sci_kinds else []) + \
            (["cs"] if "cells" in self.sci_kinds else []) + (["gb"] if "grow" in self.sci_kinds else [])
        if not targets:
            return
        a = r.choice(targets)
        off = r.randint(0, 4)
        cnt = r.choice([str(r.randint(1, 8 - off)), "(n % 4 + 1)"]) if a == "gb" else \
            r.choice([str(r.randint(1, 8)), "(n % 4 + 3)"])
        if a == "cs":
            if r.random() < 0.5:
                self.emit(ind, f"memset(&cs[{self.idx()}], 0, sizeof(fz_cell));")
            else:
                self.emit(ind, f"memset(cs + {off}, 0, {cnt} * sizeof(fz_cell));")
            return
        byte = r.choice(["0", "0", "0x3f"] if a != "tf" else ["0", "0", "0x3e"])   # 0x3f3f.. = 4.8e-4, 0x3e3e3e3e = 0.186f
        ty = "float" if a == "tf" else "double"
        self.emit(ind, f"memset({a} + {off}, {byte}, {cnt} * sizeof({ty}));")

    def sci_grow(self, ind: int, ed: int):
        r = self.r
        q = r.randrange(3)
        if q == 0:
            self.emit(ind, "if (gn < 24) {")
            self.emit(ind + 1, "gb = (double *)realloc(gb, (size_t)(gn + 4) * sizeof(double));")
            self.emit(ind + 1, f"for (int r_ = gn; r_ < gn + 4; r_++) gb[r_] = 0.5 * gb[r_ - 4] + 0.25 * {self.bounded(ed, 2.0)};")
            self.emit(ind + 1, "gn += 4;")
            self.emit(ind, "}")
        elif q == 1:
            self.emit(ind, f"s += 0.25 * gb[({self.ival()}) % gn];")
        else:
            self.emit(ind, f"gb[({self.ival()}) % gn] = {self.bounded(ed, 2.0)};")

    def _range(self, arr: str) -> tuple[int, str]:
        r = self.r
        off = r.randint(0, 4)
        return off, r.choice([str(r.randint(1, 8 - (off if arr == "gb" else 0))), "(n % 4 + 1)"])

    def sci_blend(self, ind: int, ed: int):
        r = self.r
        ws = self.writable()
        if not ws:
            return
        d, src = r.choice(ws), r.choice(self.readable())
        od, cnt = self._range(d if d == "gb" or src != "gb" else "gb")
        os_ = r.randint(0, 4) if src != "gb" and d != "gb" else 0
        if src == "gb" or d == "gb":
            od, cnt = r.randint(0, 3), str(r.randint(1, 4))
        self.emit(ind, f"fz_blend({self.bounded(1, 0.5)}, {src} + {os_}, {d} + {od}, {cnt});")

    def sci_accum(self, ind: int, ed: int):
        r = self.r
        ws = self.writable()
        if not ws:
            return
        d, src = r.choice(ws), r.choice(self.readable())
        od, os_ = r.randint(0, 3), r.randint(0, 3)
        cnt = str(r.randint(1, 4)) if "gb" in (d, src) else r.choice([str(r.randint(1, 8)), "(n % 4 + 3)"])
        self.emit(ind, f"s += 0.05 * fz_accum({d} + {od}, {src} + {os_}, {cnt}, {self.bounded(ed, 2.0)});")

    def sci_addto(self, ind: int, ed: int):
        self.emit(ind, f"fz_addto(&s, 0.1 * {self.bounded(ed, 2.0)});")

    def _t(self, ed: int) -> str:
        """tanh of an expression: in (-1, 1), so c.5 + 0.4 * it stays 0.1 away from an integer"""
        return f"tanh({self.fexpr(ed)[0]})"

    def sci_round(self, ind: int, ed: int):
        """rounding functions on active values with a margin to the next integer: constant integers
        (indices, trip counts, branches) computed from floats, and fmod/fmin/fractional parts"""
        r = self.r
        c = r.randint(0, 7)
        arr = r.choice([a for a in self.readable() if a != "gb"])
        q = r.randrange(8)
        if q == 0:
            self.emit(ind, f"{{ int k_ = (int)floor({c}.5 + 0.4 * {self._t(ed)}); s += 0.25 * {arr}[k_]; }}")
        elif q == 1:
            self.emit(ind, f"{{ long k_ = lround({c} + 0.3 * {self._t(ed)}); s += 0.25 * {arr}[k_ + 1] * {self.bounded(1, 2.0)}; }}")
        elif q == 2:
            self.emit(ind, f"{{ int k_ = (int)({c}.5 + 0.4 * {self._t(ed)}); for (int z_ = 0; z_ < k_; z_++) s += 0.1 * {arr}[z_]; }}")
        elif q == 3:
            self.emit(ind, f"s += 0.2 * fmod({c}.25 + 0.2 * {self._t(ed)}, 1.0) * {self.bounded(1, 2.0)};")
        elif q == 4:
            self.emit(ind, f"if (fmod({c}.5 + 0.3 * {self._t(ed)}, 2.0) {'<' if c % 2 == 0 else '>'} 1.0) "
                           f"s += 0.2 * {self.bounded(ed, 2.0)}; else s -= 0.3 * {self.bounded(ed, 2.0)};")
        elif q == 5:
            a, ba = self.fexpr(ed)
            b, bb = self.fexpr(ed)
            off = round(ba + bb + r.uniform(0.6, 1.5), 2)
            self.emit(ind, f"s += 0.1 * fmin({a}, {b} - {off});")   # the second always wins by a margin
        elif q == 6:
            self.emit(ind, f"s += 0.1 * floor({c}.5 + 0.4 * {self._t(ed)}) * {self.bounded(1, 2.0)};")
        else:
            self.emit(ind, f"{{ double fl_ = {c}.5 + 0.4 * {self._t(ed)}; s += 0.3 * (fl_ - trunc(fl_)); }}")

    def sci_psel(self, ind: int, ed: int):
        """a pointer picked by a float compare (decided with a margin)"""
        r = self.r
        i, j = self.idx(), self.idx()
        sm = self.signed_margin(ed)
        cmp = r.choice([f"{sm} > 0.0", f"{sm} < 0.0", f"{sm} > {self.bounded(1, 0.9)}"])
        if "cells" in self.sci_kinds and r.random() < 0.3:
            self.emit(ind, f"{{ double *p_ = ({cmp}) ? &cs[{i}].a : &cs[{j}].b; *p_ = 0.5 * *p_ + 0.25 * {self.bounded(ed, 2.0)}; }}")
            return
        ws = self.writable()
        write = len(ws) >= 1 and r.random() < 0.5
        pool = ws if write else self.readable()
        def pexpr():
            a = r.choice(pool)
            return a if a == "gb" or r.random() < 0.6 else f"{a} + {r.randint(1, 4)}"
        a, b = pexpr(), pexpr()
        cq = "" if write else "const "
        self.emit(ind, f"{{ {cq}double *p_ = ({cmp}) ? {a} : {b};")
        if write:
            self.emit(ind + 1, f"p_[{j}] = 0.5 * p_[{j}] + 0.5 * {self.bounded(ed, 2.0)};")
        self.emit(ind + 1, f"s += 0.25 * p_[{i}]; }}")

    def sci_static(self, ind: int, ed: int):
        r = self.r
        q = r.randrange(4)
        if q == 0:
            self.emit(ind, f"sacc_ = 0.5 * sacc_ + 0.5 * {self.bounded(ed, 2.0)};")
        elif q == 1:
            self.emit(ind, f"s += 0.25 * sacc_ * {self.bounded(ed, 2.0)};")
        elif q == 2:
            self.emit(ind, f"st_[{self.idx()}] = {self.bounded(ed, 2.0)};")
        else:
            self.emit(ind, f"s += 0.2 * st_[{self.idx()}];")

    def sci_halves(self, ind: int, ed: int):
        """a double (or float) rebuilt from its halves: copies the value, so the derivative follows it
        (adcc must be right or refuse)"""
        r = self.r
        i, j = self.idx(), self.idx()
        ws = self.writable()
        q = r.randrange(4)
        if q == 3 and "float" in self.sci_kinds:
            self.emit(ind, f"{{ uint16_t h_[2]; memcpy(h_, &tf[{i}], 4); memcpy((char *)&tf[{j}], &h_[0], 2); "
                           f"memcpy((char *)&tf[{j}] + 2, &h_[1], 2); }}")
            return
        if not ws:
            return
        a = r.choice(ws)
        if q == 0:
            self.emit(ind, f"{{ uint32_t lo_; memcpy(&lo_, &{a}[{i}], 4); {a}[{j}] = {a}[{i}]; memcpy(&{a}[{j}], &lo_, 4); }}")
        elif q == 1:
            self.emit(ind, f"{{ uint32_t hw_[2]; memcpy(hw_, &{a}[{i}], 8); memcpy((char *)&{a}[{j}], &hw_[0], 4); "
                           f"memcpy((char *)&{a}[{j}] + 4, &hw_[1], 4); }}")
        else:
            self.emit(ind, f"{{ uint32_t hi_; memcpy(&hi_, (char *)&{a}[{i}] + 4, 4); {a}[{j}] = {a}[{i}]; "
                           f"memcpy((char *)&{a}[{j}] + 4, &hi_, 4); }}")

    def block(self, ind: int, depth: int, in_loop: bool, loop_depth: int, count: int):
        self.scopes.append([])
        for _ in range(count):
            self.stmt(ind, depth, in_loop, loop_depth)
            if self.budget <= 0 and len(self.lines) > 4:
                break
        self.scopes.pop()

    def for_loop(self, ind: int, depth: int, loop_depth: int):
        r = self.r
        v = "ijklm"[self.nloop % 5] + (str(self.nloop // 5) if self.nloop >= 5 else "")
        self.nloop += 1
        outer = [iv for iv in self.ivars if iv[0][0] in "ijklm"]
        k = r.randrange(7)
        if k == 0 or (k == 3 and not outer):
            hdr, mx = f"for (int {v} = 0; {v} < n; {v}++)", 8
        elif k == 1:
            c = r.randint(2, 8)
            hdr, mx = f"for (int {v} = 0; {v} < {c}; {v}++)", c
        elif k == 2:
            st = r.randint(1, 3)
            hdr, mx = f"for (int {v} = {st}; {v} < n; {v}++)", 8
        elif k == 3:
            o, omx = r.choice(outer)
            if r.random() < 0.6:
                hdr, mx = f"for (int {v} = 0; {v} < {o}; {v}++)", omx
            else:
                hdr, mx = f"for (int {v} = {o}; {v} < n; {v}++)", 8
        elif k == 4:
            st = r.randint(0, 1)
            hdr, mx = f"for (int {v} = {st}; {v} < n; {v} += 2)", 8
        elif k == 5:
            hdr, mx = f"for (int {v} = n - 1; {v} >= 0; {v}--)", 8
        else:
            c = r.randint(3, 8)
            hdr, mx = f"for (int {v} = {r.randint(1, 2)}; {v} < {c}; {v} += 2)", c
        self.emit(ind, hdr + " {")
        self.ivars.append((v, mx))
        self.block(ind + 1, depth + 1, True, loop_depth + 1, r.randint(1, 3))
        self.ivars.pop()
        self.emit(ind, "}")

    def while_loop(self, ind: int, depth: int, loop_depth: int):
        r = self.r
        q = f"q{self.nloop}"
        v = f"p{self.nloop}"
        self.nloop += 1
        bound = r.choice(["n", str(r.randint(2, 6))])
        mx = 8 if bound == "n" else int(bound)
        step = r.choice([1, 1, 2])
        self.emit(ind, f"int {q} = {r.randint(0, 1)};")
        self.emit(ind, f"while ({q} < {bound}) {{")
        self.emit(ind + 1, f"int {v} = {q};")
        self.emit(ind + 1, f"{q} += {step};")
        self.ivars.append((v, mx))
        self.block(ind + 1, depth + 1, True, loop_depth + 1, r.randint(1, 3))
        self.ivars.pop()
        self.emit(ind, "}")

    def generate(self) -> str:
        r = self.r
        body_ind = 1
        self.emit(body_ind, "double s = 0.0;")
        if self.has_u:
            self.emit(body_ind, f"double u = {self.r.choice(['0.0', 'x[1]', '0.5 * w[2]'])};")
        if self.long_double:
            self.emit(body_ind, "long double ld = 0.0L;")
        if self.scratch == "stack":
            self.emit(body_ind, "double t[L];")
        elif self.scratch == "malloc":
            self.emit(body_ind, "double *t = (double *)malloc(L * sizeof(double));")
        elif self.scratch == "table":
            self.emit(body_ind, "double *t = (double *)fz_alloc->alloc(L * sizeof(double));")
        elif self.scratch == "outparam":
            self.emit(body_ind, "double *t;")
            self.emit(body_ind, "if (!fz_make((void **)&t, L * sizeof(double))) return 0.0;")
        elif self.scratch == "aligned":
            self.emit(body_ind, "_Alignas(64) double t[L];")
        elif self.scratch == "manual":
            self.emit(body_ind, "double t_raw[L + 8];")
            self.emit(body_ind, "double *t = (double *)(((uintptr_t)t_raw + 63) & ~(uintptr_t)63);")
        if self.scratch == "realloc":  # grown one element at a time from NULL, re-read after each growth
            init = r.choice(["0.0", "x[r]", "0.5 * x[r] * w[(r + 3) % L]", "sin(w[r])"])
            self.emit(body_ind, "double *t = NULL;")
            self.emit(body_ind, "for (int r = 0; r < L; r++) {")
            self.emit(body_ind + 1, "t = (double *)realloc(t, (size_t)(r + 1) * sizeof(double));")
            self.emit(body_ind + 1, f"t[r] = {init} + (r ? 0.5 * t[r / 2] : 0.0);")
            self.emit(body_ind, "}")
        elif self.scratch != "none":
            init = r.choice(["0.0", "x[r]", "0.5 * x[r] * w[(r + 3) % L]", "sin(w[r])"])
            self.emit(body_ind, f"for (int r = 0; r < L; r++) t[r] = {init};")
        if self.asm_in_f:
            self.emit(body_ind, '__asm__ volatile("" ::: "memory");')
        self.sci_head(body_ind)
        # main body: mostly loops at the top level
        while self.budget > 0:
            if r.random() < 0.6:
                self.for_loop(body_ind, 0, 0) if r.random() < 0.85 else self.while_loop(body_ind, 0, 0)
            else:
                self.stmt(body_ind, 0, False, 0)
        if self.scratch != "none" and r.random() < 0.7:
            self.emit(body_ind, f"s += 0.1 * t[{r.randint(0, 7)}] * t[{r.randint(0, 7)}];")
        self.sci_tail(body_ind)
        for fr in self.frees():
            self.emit(body_ind, fr)
        tail = " + 0.3 * u" if self.has_u else ""
        if self.long_double:
            tail += " + (double)ld"
        self.emit(body_ind, f"return s{tail};")
        out = []
        if self.has_helper:
            out.append(HELPERS[self.helper_kind].replace("HNAME", self.hname))
        out.append(f"__attribute__((noinline)) double {self.name}(double *x, double *w, int n) {{")
        out += self.lines
        out.append("}")
        out.append(f"FZ_AD({self.name})")
        return "\n".join(out) + "\n"


HELPERS = [
    # 0: loop, read-only
    """static __attribute__((noinline)) double HNAME(double a, double *p, int m) {
  double r = a;
  for (int q = 0; q < m % 4 + 1; q++) r = 0.5 * r + sin(p[(m + q) % 8] * a);
  return r;
}""",
    # 1: branches, read-only
    """static __attribute__((noinline)) double HNAME(double a, double *p, int m) {
  if (m % 2 == 0) return a * p[m % 8];
  return tanh(a + p[(m + 1) % 8]);
}""",
    # 2: nested loop, read-only
    """static __attribute__((noinline)) double HNAME(double a, double *p, int m) {
  double r = 0.0;
  for (int q = 0; q < 3; q++)
    for (int z = 0; z <= q; z++) r += 0.25 * cos(a * p[(m + q + z) % 8]);
  return r;
}""",
    # 3: writes p
    """static __attribute__((noinline)) double HNAME(double a, double *p, int m) {
  double old = p[m % 8];
  p[m % 8] = 0.5 * old + 0.5 * tanh(a);
  return old * a;
}""",
    # 4: writes p in a loop
    """static __attribute__((noinline)) double HNAME(double a, double *p, int m) {
  double r = 0.0;
  for (int q = 0; q < 3; q++) {
    r += p[(m + q) % 8] * cos(a);
    p[(m + 2 * q) % 8] *= 0.9;
  }
  return r;
}""",
]
HELPER_BOUND = [2.0, 4.0, 1.5, 4.0, 4.0]


def func_source(seed: int, **grammar) -> tuple[str, str, int]:
    src, name, n, _ = _func(seed, **grammar)
    return src, name, n


def _func(seed: int, **grammar) -> tuple[str, str, int, bool]:
    g = FuncGen(seed, **grammar)
    return g.generate(), g.name, g.n, g.loose


def program(seeds: list[int], wide: bool = False, long_double: bool = False, asm_in_f: bool = False,
            closures: bool = False, sci: bool | None = None) -> str:
    """The checking program for `seeds` (with the widened grammar: see the module docstring)."""
    head = DRIVER_HEAD + (WIDE_HEAD + SCI_HEAD if wide else "")
    parts = [f"/* adcc AD fuzz program, seeds {seeds}{' (wide)' if wide else ''}; generated by tests/fuzz/gen.py */",
             head]
    calls = []
    for s in seeds:
        src, name, n, loose = _func(s, wide=wide, long_double=long_double, asm_in_f=asm_in_f, closures=closures,
                                    sci=sci)
        parts.append(f"/* ---- seed {s} ---- */")
        parts.append(src)
        if wide:  # the allocator table differs between functions; the driver runs asm
            calls.append(f"  fz_alloc = &fz_tables[{s % 2}];")
            calls.append("  fz_barrier();")
            calls.append(f"  fz_loose = {int(loose)};")
        calls.append(f'  fz_run("s{s}", {name}, {name}_rev, {name}_fwd, {n});')
    if wide:
        calls.append('  if (fz_live != 0) { printf("FAIL allocator table: %ld blocks not released\\n", fz_live); fz_fail++; }')
    parts.append(DRIVER_MAIN_HEAD + "\n".join(calls) + "\n" + DRIVER_MAIN_TAIL)
    return "\n".join(parts)


def wrap(func_src: str, name: str, n: int, header: str = "", wide: bool = False, loose: bool = False) -> str:
    """a self-checking program around a hand-written function (regressions/, minimizing); `loose`:
    the function computes in float (5-point differences, looser tolerance)"""
    main = DRIVER_MAIN_HEAD + f'  fz_loose = {int(loose)};\n  fz_run("{name}", {name}, {name}_rev, {name}_fwd, {n});\n' + \
        DRIVER_MAIN_TAIL
    head = DRIVER_HEAD + (WIDE_HEAD + SCI_HEAD if wide else "")
    return "\n".join([header, head, func_src.rstrip() + f"\nFZ_AD({name})\n", main])


def parse_seeds(spec: str) -> list[int]:
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, help="one program with this seed")
    ap.add_argument("--func", type=int, help="print only the function source of this seed")
    ap.add_argument("--seeds", help="e.g. 0-39 or 1,5,9")
    ap.add_argument("--per-file", type=int, default=8)
    ap.add_argument("--out", help="output directory for --seeds")
    ap.add_argument("-o", help="output file for --seed / --wrap")
    ap.add_argument("--wrap", nargs=3, metavar=("FUNC_C", "NAME", "N"),
                    help="wrap a function NAME from FUNC_C (with its helpers) into a self-checking program")
    ap.add_argument("--wide", action="store_true", help="the widened grammar (#9 constructs)")
    ap.add_argument("--long-double", action="store_true", help="also long double accumulators (wide)")
    ap.add_argument("--asm-in-f", action="store_true", help="also an asm barrier inside f (wide)")
    ap.add_argument("--closures", action="store_true",
                    help="also closures: pointers kept as integers, called through function pointers (wide)")
    ap.add_argument("--no-sci", action="store_true",
                    help="the widened grammar without the scientific-code constructs (programs of before them)")
    ap.add_argument("--loose", action="store_true", help="--wrap: the function computes in float")
    a = ap.parse_args(argv)
    grammar = {"wide": a.wide, "long_double": a.long_double, "asm_in_f": a.asm_in_f, "closures": a.closures,
               "sci": False if a.no_sci else None}
    if a.wrap:
        text = wrap(Path(a.wrap[0]).read_text(), a.wrap[1], int(a.wrap[2]), wide=a.wide, loose=a.loose)
        if a.o:
            Path(a.o).write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    if a.func is not None:
        sys.stdout.write(func_source(a.func, **grammar)[0])
        return 0
    if a.seed is not None:
        text = program([a.seed], **grammar)
        if a.o:
            Path(a.o).write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    if a.seeds:
        seeds = parse_seeds(a.seeds)
        out = Path(a.out or ".")
        out.mkdir(parents=True, exist_ok=True)
        for i in range(0, len(seeds), a.per_file):
            grp = seeds[i:i + a.per_file]
            (out / f"fuzz_{grp[0]:05d}.c").write_text(program(grp, **grammar))
            print(out / f"fuzz_{grp[0]:05d}.c")
        return 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
