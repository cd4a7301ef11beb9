"""Derivative rules for BLAS (levels 1-3, CBLAS and Fortran spellings, single and double precision,
LP64 and ILP64 `*64_`): the derivative of a BLAS call is a sequence of BLAS calls.

One entry per routine in `BLAS_RULES` (grep a spelling, e.g. `cblas_dgemm`, to find its entry and
then `_gemm_reverse`). Each routine has a forward rule (tangents, W lanes; it emits the primal call
itself, after the tangent calls that read operands the call overwrites), an augmented rule (primal,
and copies of what the reverse reads from memory that may change before it runs) and a reverse rule
(adjoints; every adjoint write accumulates, and an output's shadow is then scaled by beta: the
adjoint of the value it overwrote). Operands the reverse reads are read in place unless the call
itself overwrites them or `view.may_be_overwritten` says something later may; then a copy is saved
(a heap buffer the reverse frees). Transposes, storage orders, triangles, strides and negative
increments are passed through to the BLAS calls of the derivative, which follow the same
conventions; only what BLAS has no routine for goes through column-loop helpers
(`blas_interface`): inner products and scalings of whole matrices and triangles, rank-1 updates of
a triangle, and the elementwise sign of asum.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from adcc.ad.rules.blas_interface import (LEVEL1, POINTERS, ROUTINES, absolute, b_xor, call, const_int, element,
                                          fconst, free, i64, icmp, kind_of, line_axpy, malloc, matrix_op, not_,
                                          parse_spelling, select, sign_op, spellings, triangle_ger, zero_vector)
from adcc.ad.rules.calls import CallRule
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Value

# CBLAS enum values that mean "true" for each flag (Fortran: the characters)
_TRUE_CBLAS = {"trans": None, "transa": None, "transb": None, "uplo": 121, "diag": 132, "side": 141, "order": 101}
_TRUE_CHARS = {"uplo": "Uu", "diag": "Uu", "side": "Ll"}


class BlasCall:
    """A BLAS call as its rule sees it: logical parameters by name, their activity, and (during
    code generation) their values in the pass being built."""

    def __init__(self, view, phase: str = "static"):
        self.view = view
        self.iface, self.routine = parse_spelling(view.inst.callee_name)
        self.params = self.iface.parameters(self.routine)
        self.arg = {p: view.args[i] for i, p in enumerate(self.params)}
        self.fty = self.iface.float_type
        self.phase = phase
        self.b: Builder = getattr(view, "b", None)
        self._values: dict[str, Value] = {}
        self._copies: dict[str, Value] = {}

    # --- activity (no code) ---------------------------------------------------------------------
    def active(self, name: str) -> bool:
        a = self.arg[name]
        if kind_of(name) == "scalar" and not self.iface.fortran:
            return self.view.varied(a) and not isinstance(a, Constant)
        return self.view.has_shadow(a)

    @property
    def plan(self) -> list[tuple[str, str]]:
        """What the augmented pass saves for the reverse: ("value", p) for a Fortran argument passed
        by reference (read before the call), ("copy", p) for a pointer operand's memory."""
        cache = self.view.act.__dict__.setdefault("_adcc_blas_plans", {})
        got = cache.get(id(self.view.inst))
        if got is None:
            got = [("value", p) for p in self.params if self.iface.fortran and kind_of(p) != "pointer"]
            for name, when in RULES[self.routine].reads(self):
                if self._twin(name, got) is None and \
                        (when == "old" or self.view.may_be_overwritten(self.arg[name])):
                    got.append(("copy", name))
            cache[id(self.view.inst)] = got
        return got

    def _twin(self, name: str, plan: list) -> str | None:
        """An operand already copied that is the same memory with the same step (dot(x, x))."""
        shapes = RULES[self.routine].shapes

        def same(u: Value, v: Value) -> bool:
            return u is v or (isinstance(u, Constant) and isinstance(v, Constant) and u.text == v.text)

        for kind, other in plan:
            if kind == "copy" and shapes[other].sizes == shapes[name].sizes and same(self.arg[other], self.arg[name]) \
                    and same(self.arg[shapes[other].step], self.arg[shapes[name].step]):
                return other
        return None

    def saved_types(self) -> list[T.Type]:
        types = {"flag": T.i8, "int": self.iface.int_type, "scalar": self.fty}
        return [types[kind_of(p)] if k == "value" else T.ptr for k, p in self.plan]

    # --- values in the code being built ------------------------------------------------------------
    def raw(self, name: str) -> Value:
        """The argument as the callee receives it (Fortran: the value behind the reference)."""
        got = self._values.get(name)
        if got is not None:
            return got
        a = self.arg[name]
        if not self.iface.fortran or kind_of(name) == "pointer":
            v = self.view.primal(a)
        elif self.phase == "reverse":
            v = self.view.saved(self.plan.index(("value", name)))
        else:
            types = {"flag": T.i8, "int": self.iface.int_type, "scalar": self.fty}
            v = self.b.load(types[kind_of(name)], self.view.primal(a))
        self._values[name] = v
        return v

    def __getattr__(self, name: str) -> Value:
        if name in ROUTINES[self.__dict__["routine"]] and kind_of(name) in ("int", "scalar", "pointer"):
            return self.raw(name)
        raise AttributeError(name)

    def flag(self, name: str) -> Value:
        """An i1: transposed / upper triangle / unit diagonal / left side / row-major."""
        b = self.b
        if name == "order" and "order" not in self.params:
            return Builder.iconst(T.i1, 0)
        v = self.raw(name)
        if not self.iface.fortran:
            true = _TRUE_CBLAS[name]
            return icmp(b, "ne", v, Builder.iconst(T.i32, 111)) if true is None else \
                icmp(b, "eq", v, Builder.iconst(T.i32, true))
        if name in _TRUE_CHARS:
            c1, c2 = _TRUE_CHARS[name]
            return b.or_(b.icmp("eq", v, Builder.iconst(T.i8, ord(c1))), b.icmp("eq", v, Builder.iconst(T.i8, ord(c2))))
        return b.and_(b.icmp("ne", v, Builder.iconst(T.i8, ord("N"))), b.icmp("ne", v, Builder.iconst(T.i8, ord("n"))))

    @property
    def row(self) -> Value:
        return self.flag("order")

    def shadow(self, name: str, lane: int = 0) -> Value | None:
        a = self.arg[name]
        if not self.view.has_shadow(a):
            return None
        if self.phase == "forward":
            return self.view.shadows(a)[lane]
        return self.view.shadow(a)

    def tangent(self, name: str, lane: int) -> Value | None:
        """Forward mode: the tangent of scalar `name` (None: zero)."""
        if not self.active(name):
            return None
        if self.iface.fortran:
            return self.b.load(self.fty, self.shadow(name, lane))
        return self.view.tangents(self.arg[name])[lane]

    def add_adjoint(self, name: str, d: Value) -> None:
        if not self.active(name):
            return
        if self.iface.fortran:
            sp = self.shadow(name)
            self.b.store(self.b.fadd(self.b.load(self.fty, sp), d), sp)
        else:
            self.view.add_adjoint(self.arg[name], d)

    def call(self, routine: str, /, **values: Value) -> Value:
        return call(self.b, self.iface, routine, self.row, **values)

    def one(self, x: float = 1.0) -> Value:
        return fconst(self.fty, x)

    def primal_call(self) -> Value:
        view = self.view
        new = self.b.clone(view.inst, [view.primal(o) for o in view.inst.operands])
        if not isinstance(view.inst.type, T.VoidType):
            view.set_result(new)
        return new

    # --- saved operands ---------------------------------------------------------------------------
    def save_copies(self, when: tuple[str, ...]) -> None:
        """Augmented pass: copy the operands the plan copies (this call's inputs before it runs, its
        outputs after), and save Fortran arguments read by reference."""
        for k, (kind, name) in enumerate(self.plan):
            if kind == "value" and "in" in when:
                self.view.save(k, self.raw(name))
            elif kind == "copy" and RULES[self.routine].when(self, name) in when:
                self.view.save(k, self._copy(name))

    def _copy(self, name: str) -> Value:
        b, shape = self.b, RULES[self.routine].shape(self, name)
        if shape[0] == "vec":
            _, n, inc = shape
            buf = malloc(b, n, self.fty)
            self.call("copy", n=n, x=self.raw(name), incx=inc, y=buf, incy=Builder.iconst(T.i64, 1))
            return buf
        count = _span(b, self.row, *shape[1:])
        buf = malloc(b, count, self.fty)
        b.memcpy(buf, self.raw(name), b.mul(count, Builder.iconst(T.i64, 8 if self.fty == T.f64 else 4)))
        return buf

    def operand(self, name: str) -> tuple[Value, Value]:
        """Reverse pass: (pointer, increment or leading dimension) of an operand's values as the call
        saw them: a saved copy (contiguous vector, or matrix with the same leading dimension), else
        the primal memory."""
        shape = RULES[self.routine].shape(self, name)
        step = shape[2] if shape[0] == "vec" else shape[3]
        name = self._twin(name, self.plan) or name
        if ("copy", name) in self.plan:
            ptr = self._copies.get(name)
            if ptr is None:
                ptr = self._copies[name] = self.view.saved(self.plan.index(("copy", name)))
            return ptr, (Builder.iconst(step.type, 1) if shape[0] == "vec" else step)
        return self.raw(name), step

    def release(self) -> None:
        for name in [p for k, p in self.plan if k == "copy"]:
            free(self.b, self.operand(name)[0])

    def contiguous(self, name_or_ptr, n: Value, inc: Value | None = None) -> Value:
        """A fresh contiguous copy of a vector (freed by the caller)."""
        ptr, inc = (self.operand(name_or_ptr) if isinstance(name_or_ptr, str) else (name_or_ptr, inc))
        buf = malloc(self.b, n, self.fty)
        self.call("copy", n=n, x=ptr, incx=inc, y=buf, incy=Builder.iconst(T.i64, 1))
        return buf


def _span(b: Builder, row: Value, rows: Value, cols: Value, ld: Value) -> Value:
    """Elements a rows x cols matrix with leading dimension ld spans (either storage order)."""
    r, c = i64(b, select(b, row, cols, rows)), i64(b, select(b, row, rows, cols))
    full = b.add(b.mul(b.sub(c, Builder.iconst(T.i64, 1)), i64(b, ld)), r)
    empty = b.or_(b.icmp("sle", r, Builder.iconst(T.i64, 0)), b.icmp("sle", c, Builder.iconst(T.i64, 0)))
    return b.select(empty, Builder.iconst(T.i64, 0), full)


def scale_vector(c: BlasCall, beta: Value, n: Value, x: Value, inc: Value) -> None:
    """x *= beta over the elements a BLAS vector covers (beta == 0: zero them, as BLAS does)."""
    if isinstance(beta, Constant) and beta.is_zero():
        zero_vector(c.b, c.iface, n, x, inc)
    elif not (isinstance(beta, Constant) and beta.text in ("1.0", "1.000000e+00")):
        c.call("scal", n=n, alpha=beta, x=x, incx=absolute(c.b, inc))


def scale_matrix(c: BlasCall, beta: Value, m: Value, n: Value, x: Value, ld: Value, upper: Value | None = None) -> None:
    if isinstance(beta, Constant) and beta.is_zero():
        matrix_op(c.b, c.iface, "zero", c.row, m, n, x, ld, upper=upper)
    elif not (isinstance(beta, Constant) and beta.text in ("1.0", "1.000000e+00")):
        matrix_op(c.b, c.iface, "scal", c.row, m, n, beta, x, ld, upper=upper)


# --- level 1 ---------------------------------------------------------------------------------------

def _dot_forward(c: BlasCall) -> None:
    c.primal_call()
    ts = []
    for w in c.lanes:
        t = None
        for mine, other in (("x", "y"), ("y", "x")):
            d = c.shadow(mine, w)
            if d is not None:
                args = {mine: d, other: c.raw(other), "incx": c.incx, "incy": c.incy}
                term = c.call("dot", n=c.n, **args)
                t = term if t is None else c.b.fadd(t, term)
        ts.append(t)
    c.view.set_tangents(ts)


def _dot_reverse(c: BlasCall) -> None:
    d = c.view.result_adjoint()
    if d is None:
        return
    for mine, other in (("x", "y"), ("y", "x")):
        s = c.shadow(mine)
        if s is not None:
            p, inc = c.operand(other)
            c.call("axpy", n=c.n, alpha=d, x=p, incx=inc, y=s, incy=c.raw("inc" + mine))


def _axpy_forward(c: BlasCall) -> None:
    for w in c.lanes:
        dy = c.shadow("y", w)
        if dy is None:
            break
        if c.shadow("x", w) is not None:
            c.call("axpy", n=c.n, alpha=c.alpha, x=c.shadow("x", w), incx=c.incx, y=dy, incy=c.incy)
        if c.active("alpha"):
            c.call("axpy", n=c.n, alpha=c.tangent("alpha", w), x=c.x, incx=c.incx, y=dy, incy=c.incy)
    c.primal_call()


def _axpy_reverse(c: BlasCall) -> None:
    dy = c.shadow("y")
    if dy is None:
        return
    if c.active("alpha"):
        x, incx = c.operand("x")
        c.add_adjoint("alpha", c.call("dot", n=c.n, x=x, incx=incx, y=dy, incy=c.incy))
    if c.shadow("x") is not None:
        c.call("axpy", n=c.n, alpha=c.alpha, x=dy, incx=c.incy, y=c.shadow("x"), incy=c.incx)


def _positive(c: BlasCall, n: Value, inc: Value) -> Value:
    """n, or 0 when inc <= 0 (scal and asum do nothing for such increments)."""
    return select(c.b, icmp(c.b, "sgt", inc, Builder.zero(inc.type)), n, Builder.zero(n.type))


def _scal_forward(c: BlasCall) -> None:
    for w in c.lanes:
        dx = c.shadow("x", w)
        if dx is None:
            break
        c.call("scal", n=c.n, alpha=c.alpha, x=dx, incx=c.incx)
        if c.active("alpha"):
            c.call("axpy", n=_positive(c, c.n, c.incx), alpha=c.tangent("alpha", w), x=c.x, incx=c.incx,
                   y=dx, incy=c.incx)
    c.primal_call()


def _scal_reverse(c: BlasCall) -> None:
    dx = c.shadow("x")
    if dx is None:
        return
    if c.active("alpha"):
        x, inc = c.operand("x")
        c.add_adjoint("alpha", c.call("dot", n=_positive(c, c.n, c.incx), x=x, incx=inc, y=dx, incy=c.incx))
    c.call("scal", n=c.n, alpha=c.alpha, x=dx, incx=c.incx)


def _nonzero_ratio(c: BlasCall, num: Value, r: Value) -> Value:
    """num / r, 0 where r == 0 (the norm's derivative at 0, and BLAS's 0 for bad increments)."""
    b = c.b
    return b.select(b.fcmp("oeq", r, c.one(0.0)), c.one(0.0), b.fdiv(num, r))


def _nrm2_forward(c: BlasCall) -> None:
    r = c.primal_call()
    ts = []
    for w in c.lanes:
        dx = c.shadow("x", w)
        ts.append(None if dx is None else
                  _nonzero_ratio(c, c.call("dot", n=c.n, x=c.x, incx=c.incx, y=dx, incy=c.incx), r))
    c.view.set_tangents(ts)


def _nrm2_reverse(c: BlasCall) -> None:
    d, dx = c.view.result_adjoint(), c.shadow("x")
    if d is None or dx is None:
        return
    x, inc = c.operand("x")
    c.call("axpy", n=c.n, alpha=_nonzero_ratio(c, d, c.view.primal(c.view.inst)), x=x, incx=inc, y=dx, incy=c.incx)


def _asum_forward(c: BlasCall) -> None:
    c.primal_call()
    ts = []
    for w in c.lanes:
        dx = c.shadow("x", w)
        ts.append(None if dx is None else
                  sign_op(c.b, c.iface, True, _positive(c, c.n, c.incx), c.x, c.incx, dx, c.incx))
    c.view.set_tangents(ts)


def _asum_reverse(c: BlasCall) -> None:
    d, dx = c.view.result_adjoint(), c.shadow("x")
    if d is None or dx is None:
        return
    x, inc = c.operand("x")
    sign_op(c.b, c.iface, False, _positive(c, c.n, c.incx), x, inc, dx, c.incx, alpha=d)


def _copy_forward(c: BlasCall) -> None:
    for w in c.lanes:
        dy, dx = c.shadow("y", w), c.shadow("x", w)
        if dy is None:
            break
        if dx is not None:
            c.call("copy", n=c.n, x=dx, incx=c.incx, y=dy, incy=c.incy)
        else:
            zero_vector(c.b, c.iface, c.n, dy, c.incy)
    c.primal_call()


def _copy_reverse(c: BlasCall) -> None:
    dy, dx = c.shadow("y"), c.shadow("x")
    if dy is None:
        return
    if dx is not None:
        c.call("axpy", n=c.n, alpha=c.one(), x=dy, incx=c.incy, y=dx, incy=c.incx)
    zero_vector(c.b, c.iface, c.n, dy, c.incy)


def _swap_shadows(c: BlasCall, dx: Value | None, dy: Value | None) -> None:
    if dx is not None and dy is not None:
        c.call("swap", n=c.n, x=dx, incx=c.incx, y=dy, incy=c.incy)
    elif dx is not None:
        zero_vector(c.b, c.iface, c.n, dx, c.incx)  # it receives y's values, which carry none
    elif dy is not None:
        zero_vector(c.b, c.iface, c.n, dy, c.incy)


def _swap_forward(c: BlasCall) -> None:
    for w in c.lanes:
        _swap_shadows(c, c.shadow("x", w), c.shadow("y", w))
    c.primal_call()


def _swap_reverse(c: BlasCall) -> None:
    _swap_shadows(c, c.shadow("x"), c.shadow("y"))


# --- level 2 ---------------------------------------------------------------------------------------

def _gemv_lengths(c: BlasCall) -> tuple[Value, Value]:
    """(length of x, length of y)."""
    t = c.flag("trans")
    return select(c.b, t, c.m, c.n), select(c.b, t, c.n, c.m)


def _mv_forward(c: BlasCall, routine: str, matrix_args: Callable[[], dict]) -> None:
    """gemv/symv: dy = alpha A dx + alpha dA x + dalpha A x + beta dy + dbeta y (before the call)."""
    ly = _gemv_lengths(c)[1] if routine == "gemv" else c.n
    for w in c.lanes:
        dy = c.shadow("y", w)
        if dy is None:
            break
        beta: Value = c.beta
        for alpha, a, x in ((c.alpha, c.a, c.shadow("x", w)), (c.alpha, c.shadow("a", w), c.x),
                            (c.tangent("alpha", w), c.a, c.x)):
            if a is None or x is None or alpha is None:
                continue
            c.call(routine, **matrix_args(), alpha=alpha, a=a, lda=c.lda, x=x, incx=c.incx, beta=beta, y=dy,
                   incy=c.incy)
            beta = c.one()
        scale_vector(c, beta, ly, dy, c.incy)
        if c.active("beta"):
            c.call("axpy", n=ly, alpha=c.tangent("beta", w), x=c.y, incx=c.incy, y=dy, incy=c.incy)
    c.primal_call()


def _mv_scalar_adjoints(c: BlasCall, routine: str, matrix_args: dict, ly: Value, dy: Value) -> None:
    """dalpha += dy . (A x), dbeta += dy . y_old."""
    if c.active("alpha"):
        a, lda = c.operand("a")
        x, incx = c.operand("x")
        t = malloc(c.b, ly, c.fty)
        one = Builder.iconst(T.i64, 1)
        c.call(routine, **matrix_args, alpha=c.one(), a=a, lda=lda, x=x, incx=incx, beta=c.one(0.0), y=t, incy=one)
        c.add_adjoint("alpha", c.call("dot", n=ly, x=dy, incx=c.incy, y=t, incy=one))
        free(c.b, t)
    if c.active("beta"):
        y, incy = c.operand("y")
        c.add_adjoint("beta", c.call("dot", n=ly, x=dy, incx=c.incy, y=y, incy=incy))


def _gemv_reverse(c: BlasCall) -> None:
    dy = c.shadow("y")
    if dy is None:
        return
    b, trans = c.b, c.flag("trans")
    _, ly = _gemv_lengths(c)
    shape = dict(trans=trans, m=c.m, n=c.n)
    _mv_scalar_adjoints(c, "gemv", shape, ly, dy)
    if c.shadow("a") is not None:  # dA += alpha dy x^T (op(A) = A), alpha x dy^T (op(A) = A^T)
        x, incx = c.operand("x")
        c.call("ger", m=c.m, n=c.n, alpha=c.alpha, x=select(b, trans, x, dy), incx=select(b, trans, incx, c.incy),
               y=select(b, trans, dy, x), incy=select(b, trans, c.incy, incx), a=c.shadow("a"), lda=c.lda)
    if c.shadow("x") is not None:  # dx += alpha op(A)^T dy
        a, lda = c.operand("a")
        c.call("gemv", trans=not_(b, trans), m=c.m, n=c.n, alpha=c.alpha, a=a, lda=lda, x=dy, incx=c.incy,
               beta=c.one(), y=c.shadow("x"), incy=c.incx)
    scale_vector(c, c.beta, ly, dy, c.incy)


def _gemv_forward(c: BlasCall) -> None:
    _mv_forward(c, "gemv", lambda: dict(trans=c.flag("trans"), m=c.m, n=c.n))


def _symv_forward(c: BlasCall) -> None:
    _mv_forward(c, "symv", lambda: dict(uplo=c.flag("uplo"), n=c.n))


def _symv_reverse(c: BlasCall) -> None:
    dy = c.shadow("y")
    if dy is None:
        return
    b, uplo = c.b, c.flag("uplo")
    _mv_scalar_adjoints(c, "symv", dict(uplo=uplo, n=c.n), c.n, dy)
    da = c.shadow("a")
    if da is not None:
        # d(stored triangle) = alpha (dy x^T + x dy^T) there, the diagonal once: syr2 counts it twice
        x, incx = c.operand("x")
        c.call("syr2", uplo=uplo, n=c.n, alpha=c.alpha, x=dy, incx=c.incy, y=x, incy=incx, a=da, lda=c.lda)
        t = c.contiguous(x, c.n, incx)
        one = Builder.iconst(T.i64, 1)
        c.call("sbmv", uplo=uplo, n=c.n, k=Builder.iconst(T.i64, 0), alpha=b.fneg(c.alpha), a=t, lda=one, x=dy,
               incx=c.incy, beta=c.one(), y=da, incy=b.add(i64(b, c.lda), one))
        free(b, t)
    if c.shadow("x") is not None:
        a, lda = c.operand("a")
        c.call("symv", uplo=uplo, n=c.n, alpha=c.alpha, a=a, lda=lda, x=dy, incx=c.incy, beta=c.one(),
               y=c.shadow("x"), incy=c.incx)
    scale_vector(c, c.beta, c.n, dy, c.incy)


def _ger_forward(c: BlasCall) -> None:
    for w in c.lanes:
        da = c.shadow("a", w)
        if da is None:
            break
        for alpha, x, y in ((c.alpha, c.shadow("x", w), c.y), (c.alpha, c.x, c.shadow("y", w)),
                            (c.tangent("alpha", w), c.x, c.y)):
            if alpha is not None and x is not None and y is not None:
                c.call("ger", m=c.m, n=c.n, alpha=alpha, x=x, incx=c.incx, y=y, incy=c.incy, a=da, lda=c.lda)
    c.primal_call()


def _ger_reverse(c: BlasCall) -> None:
    da = c.shadow("a")
    if da is None:
        return
    b = c.b
    x, incx = c.operand("x")
    y, incy = c.operand("y")
    no, yes = Builder.iconst(T.i1, 0), Builder.iconst(T.i1, 1)
    if c.shadow("x") is not None:  # dx += alpha dA y
        c.call("gemv", trans=no, m=c.m, n=c.n, alpha=c.alpha, a=da, lda=c.lda, x=y, incx=incy, beta=c.one(),
               y=c.shadow("x"), incy=c.incx)
    if c.shadow("y") is not None:  # dy += alpha dA^T x
        c.call("gemv", trans=yes, m=c.m, n=c.n, alpha=c.alpha, a=da, lda=c.lda, x=x, incx=incx, beta=c.one(),
               y=c.shadow("y"), incy=c.incy)
    if c.active("alpha"):  # dalpha += x . (dA y)
        t = malloc(b, c.m, c.fty)
        one = Builder.iconst(T.i64, 1)
        c.call("gemv", trans=no, m=c.m, n=c.n, alpha=c.one(), a=da, lda=c.lda, x=y, incx=incy, beta=c.one(0.0),
               y=t, incy=one)
        c.add_adjoint("alpha", c.call("dot", n=c.m, x=x, incx=incx, y=t, incy=one))
        free(b, t)


def _triangle_times(c: BlasCall, a: Value, x: Value, incx: Value) -> Value:
    """A fresh contiguous op(T_a) x with T_a the call's triangle of `a` minus its unit diagonal
    (the tangent dA of a unit-diagonal matrix has no diagonal)."""
    b, one = c.b, Builder.iconst(T.i64, 1)
    t = c.contiguous(x, c.n, incx)
    c.call("trmv", uplo=c.flag("uplo"), trans=c.flag("trans"), diag=c.flag("diag"), n=c.n, a=a, lda=c.lda, x=t,
           incx=one)
    unit = c.flag("diag")
    if const_int(unit) != 0:  # a unit diagonal added x itself: take it away
        c.call("axpy", n=select(b, unit, c.n, Builder.zero(c.n.type)), alpha=c.one(-1.0), x=x, incx=incx, y=t,
               incy=one)
    return t


def _trmv_forward(c: BlasCall) -> None:
    """x = op(T) x: dx = op(T) dx + op(dT) x_old (both before the call)."""
    one = Builder.iconst(T.i64, 1)
    flags = dict(uplo=c.flag("uplo"), trans=c.flag("trans"), diag=c.flag("diag"))
    for w in c.lanes:
        dx, da = c.shadow("x", w), c.shadow("a", w)
        if dx is None:
            break
        t = _triangle_times(c, da, c.x, c.incx) if da is not None else None
        c.call("trmv", **flags, n=c.n, a=c.a, lda=c.lda, x=dx, incx=c.incx)
        if t is not None:
            c.call("axpy", n=c.n, alpha=c.one(), x=t, incx=one, y=dx, incy=c.incx)
            free(c.b, t)
    c.primal_call()


def _trsv_forward(c: BlasCall) -> None:
    """x = op(T)^-1 b: dx = op(T)^-1 (db - op(dT) x) (after the call)."""
    one = Builder.iconst(T.i64, 1)
    flags = dict(uplo=c.flag("uplo"), trans=c.flag("trans"), diag=c.flag("diag"))
    c.primal_call()
    for w in c.lanes:
        dx, da = c.shadow("x", w), c.shadow("a", w)
        if dx is None:
            break
        if da is not None:
            t = _triangle_times(c, da, c.x, c.incx)
            c.call("axpy", n=c.n, alpha=c.one(-1.0), x=t, incx=one, y=dx, incy=c.incx)
            free(c.b, t)
        c.call("trsv", **flags, n=c.n, a=c.a, lda=c.lda, x=dx, incx=c.incx)


def _triangle_outer(c: BlasCall, alpha: float, adj: Value, x: Value, x_inc: Value) -> None:
    """dT += alpha * (op(A) = A: adj x^T, op(A) = A^T: x adj^T) on the stored triangle."""
    b, trans = c.b, c.flag("trans")
    u = c.contiguous(c.shadow("x"), c.n, c.incx) if adj is None else adj
    v = c.contiguous(x, c.n, x_inc)
    triangle_ger(b, c.iface, c.row, c.flag("uplo"), c.flag("diag"), c.n, c.one(alpha),
                 select(b, trans, v, u), select(b, trans, u, v), c.shadow("a"), c.lda)
    free(b, u)
    free(b, v)


def _trmv_reverse(c: BlasCall) -> None:
    dx = c.shadow("x")
    if dx is None:
        return
    if c.shadow("a") is not None:
        x_old, inc = c.operand("x")
        _triangle_outer(c, 1.0, None, x_old, inc)
    a, lda = c.operand("a")
    c.call("trmv", uplo=c.flag("uplo"), trans=not_(c.b, c.flag("trans")), diag=c.flag("diag"), n=c.n, a=a, lda=lda,
           x=dx, incx=c.incx)


def _trsv_reverse(c: BlasCall) -> None:
    dx = c.shadow("x")
    if dx is None:
        return
    a, lda = c.operand("a")
    c.call("trsv", uplo=c.flag("uplo"), trans=not_(c.b, c.flag("trans")), diag=c.flag("diag"), n=c.n, a=a, lda=lda,
           x=dx, incx=c.incx)  # dx now holds the adjoint of the right-hand side
    if c.shadow("a") is not None:
        x_new, inc = c.operand("x")
        _triangle_outer(c, -1.0, None, x_new, inc)


# --- level 3 ---------------------------------------------------------------------------------------

def _gemm_forward(c: BlasCall) -> None:
    """dC = alpha (op(dA) op(B) + op(A) op(dB)) + dalpha op(A) op(B) + beta dC + dbeta C (before)."""
    flags = dict(transa=c.flag("transa"), transb=c.flag("transb"), m=c.m, n=c.n, k=c.k)
    for w in c.lanes:
        dc = c.shadow("c", w)
        if dc is None:
            break
        beta: Value = c.beta
        for alpha, a, bm in ((c.alpha, c.shadow("a", w), c.raw("b")), (c.alpha, c.a, c.shadow("b", w)),
                             (c.tangent("alpha", w), c.a, c.raw("b"))):
            if alpha is None or a is None or bm is None:
                continue
            c.call("gemm", **flags, alpha=alpha, a=a, lda=c.lda, b=bm, ldb=c.ldb, beta=beta, c=dc, ldc=c.ldc)
            beta = c.one()
        scale_matrix(c, beta, c.m, c.n, dc, c.ldc)
        if c.active("beta"):
            matrix_op(c.b, c.iface, "axpy", c.row, c.m, c.n, c.tangent("beta", w), c.raw("c"), c.ldc, dc, c.ldc)
    c.primal_call()


def _gemm_reverse(c: BlasCall) -> None:
    """Reverse of cblas_dgemm / dgemm_ (C = alpha op(A) op(B) + beta C): two gemms."""
    dc = c.shadow("c")
    if dc is None:
        return
    b = c.b
    ta, tb = c.flag("transa"), c.flag("transb")
    yes, no = Builder.iconst(T.i1, 1), Builder.iconst(T.i1, 0)
    a, lda = c.operand("a")
    bm, ldb = c.operand("b")
    da = c.shadow("a")
    if da is not None:
        # op(A) = A: dA += alpha dC op(B)^T;  op(A) = A^T: dA += alpha op(B) dC^T
        c.call("gemm", transa=select(b, ta, tb, no), transb=select(b, ta, yes, not_(b, tb)),
               m=select(b, ta, c.k, c.m), n=select(b, ta, c.m, c.k), k=c.n, alpha=c.alpha,
               a=select(b, ta, bm, dc), lda=select(b, ta, ldb, c.ldc), b=select(b, ta, dc, bm),
               ldb=select(b, ta, c.ldc, ldb), beta=c.one(), c=da, ldc=c.lda)
    db = c.shadow("b")
    if db is not None:
        # op(B) = B: dB += alpha op(A)^T dC;  op(B) = B^T: dB += alpha dC^T op(A)
        c.call("gemm", transa=select(b, tb, yes, not_(b, ta)), transb=select(b, tb, ta, no),
               m=select(b, tb, c.n, c.k), n=select(b, tb, c.k, c.n), k=c.m, alpha=c.alpha,
               a=select(b, tb, dc, a), lda=select(b, tb, c.ldc, lda), b=select(b, tb, a, dc),
               ldb=select(b, tb, lda, c.ldc), beta=c.one(), c=db, ldc=c.ldb)
    if c.active("alpha"):  # dalpha += <dC, op(A) op(B)>
        ldt = select(b, c.row, c.n, c.m)
        t = malloc(b, b.mul(i64(b, c.m), i64(b, c.n)), c.fty)
        c.call("gemm", transa=ta, transb=tb, m=c.m, n=c.n, k=c.k, alpha=c.one(), a=a, lda=lda, b=bm, ldb=ldb,
               beta=c.one(0.0), c=t, ldc=ldt)
        c.add_adjoint("alpha", matrix_op(b, c.iface, "dot", c.row, c.m, c.n, t, ldt, dc, c.ldc))
        free(b, t)
    if c.active("beta"):  # dbeta += <dC, C_old>
        old, ld = c.operand("c")
        c.add_adjoint("beta", matrix_op(b, c.iface, "dot", c.row, c.m, c.n, old, ld, dc, c.ldc))
    scale_matrix(c, c.beta, c.m, c.n, dc, c.ldc)


def _syrk_forward(c: BlasCall) -> None:
    """C = alpha op(A) op(A)^T + beta C on one triangle: dC = alpha (op(dA) op(A)^T + op(A) op(dA)^T)
    + dalpha op(A) op(A)^T + beta dC + dbeta C (before the call)."""
    flags = dict(uplo=c.flag("uplo"), trans=c.flag("trans"), n=c.n, k=c.k)
    for w in c.lanes:
        dc = c.shadow("c", w)
        if dc is None:
            break
        beta: Value = c.beta
        if c.shadow("a", w) is not None:
            c.call("syr2k", **flags, alpha=c.alpha, a=c.shadow("a", w), lda=c.lda, b=c.a, ldb=c.lda, beta=beta,
                   c=dc, ldc=c.ldc)
            beta = c.one()
        if c.active("alpha"):
            c.call("syrk", **flags, alpha=c.tangent("alpha", w), a=c.a, lda=c.lda, beta=beta, c=dc, ldc=c.ldc)
            beta = c.one()
        scale_matrix(c, beta, c.n, c.n, dc, c.ldc, upper=c.flag("uplo"))
        if c.active("beta"):
            matrix_op(c.b, c.iface, "axpy", c.row, c.n, c.n, c.tangent("beta", w), c.raw("c"), c.ldc, dc, c.ldc,
                      upper=c.flag("uplo"))
    c.primal_call()


def _syrk_reverse(c: BlasCall) -> None:
    dc = c.shadow("c")
    if dc is None:
        return
    b = c.b
    uplo, trans = c.flag("uplo"), c.flag("trans")
    a, lda = c.operand("a")
    da = c.shadow("a")
    if da is not None:
        # dA += alpha (G + G^T) op(A) with G the stored triangle of dC: symm gives (G + G^T - diag G),
        # the diagonal term is added line by line
        c.call("symm", side=not_(b, trans), uplo=uplo, m=select(b, trans, c.k, c.n), n=select(b, trans, c.n, c.k),
               alpha=c.alpha, a=dc, lda=c.ldc, b=a, ldb=lda, beta=c.one(), c=da, ldc=c.lda)
        along = b_xor(b, trans, c.row)  # lines are contiguous in storage
        one = Builder.iconst(T.i64, 1)
        lda64 = i64(b, lda)
        line_axpy(b, c.iface, c.n, c.k, c.alpha, dc, c.ldc, a, select(b, along, lda64, one),
                  select(b, along, one, lda64), da)
    if c.active("alpha"):
        t = malloc(b, b.mul(i64(b, c.n), i64(b, c.n)), c.fty)
        c.call("syrk", uplo=uplo, trans=trans, n=c.n, k=c.k, alpha=c.one(), a=a, lda=lda, beta=c.one(0.0), c=t,
               ldc=c.n)
        c.add_adjoint("alpha", matrix_op(b, c.iface, "dot", c.row, c.n, c.n, t, c.n, dc, c.ldc, upper=uplo))
        free(b, t)
    if c.active("beta"):
        old, ld = c.operand("c")
        c.add_adjoint("beta", matrix_op(b, c.iface, "dot", c.row, c.n, c.n, old, ld, dc, c.ldc, upper=uplo))
    scale_matrix(c, c.beta, c.n, c.n, dc, c.ldc, upper=uplo)


# --- the table ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """How much memory an operand covers: a vector (length, increment parameter) or a matrix
    (rows, columns, leading-dimension parameter)."""
    kind: str
    sizes: tuple[Callable, ...]
    step: str

    def __call__(self, c: BlasCall):
        return (self.kind, *(f(c) for f in self.sizes), c.raw(self.step))


def _vec(n: Callable, inc: str) -> Shape:
    return Shape("vec", (n,), inc)


def _mat(rows: Callable, cols: Callable, ld: str) -> Shape:
    return Shape("mat", (rows, cols), ld)


def _n(c):
    return c.n


def _flagged(flag: str, yes: str, no: str) -> Callable:
    return lambda c: select(c.b, c.flag(flag), c.raw(yes), c.raw(no))


@dataclass(frozen=True)
class Routine:
    forward: Callable
    reverse: Callable
    reads: Callable            # (BlasCall) -> [(operand, "in" | "old" | "out")]: what the reverse reads
    shapes: dict[str, Shape]   # operand -> what memory it covers
    writes: tuple[str, ...]    # operands the routine writes
    spelled: str               # its double-precision spellings, for grep

    def shape(self, c: BlasCall, name: str):
        return self.shapes[name](c)

    def when(self, c: BlasCall, name: str) -> str:
        return next(w for n, w in self.reads(c) if n == name)


def _if(cond: bool, *items):
    return list(items) if cond else []


_X = {"x": _vec(_n, "incx")}
_XY = {"x": _vec(_n, "incx"), "y": _vec(_n, "incy")}
_GEMV = {"a": _mat(lambda c: c.m, lambda c: c.n, "lda"), "x": _vec(_flagged("trans", "m", "n"), "incx"),
         "y": _vec(_flagged("trans", "n", "m"), "incy")}
_SYMV = {"a": _mat(_n, _n, "lda"), "x": _vec(_n, "incx"), "y": _vec(_n, "incy")}
_GER = {"x": _vec(lambda c: c.m, "incx"), "y": _vec(_n, "incy")}
_TR = {"a": _mat(_n, _n, "lda"), "x": _vec(_n, "incx")}
_GEMM = {"a": _mat(_flagged("transa", "k", "m"), _flagged("transa", "m", "k"), "lda"),
         "b": _mat(_flagged("transb", "n", "k"), _flagged("transb", "k", "n"), "ldb"),
         "c": _mat(lambda c: c.m, lambda c: c.n, "ldc")}
_SYRK = {"a": _mat(_flagged("trans", "k", "n"), _flagged("trans", "n", "k"), "lda"), "c": _mat(_n, _n, "ldc")}


def _mv_reads(c: BlasCall) -> list:
    return (_if(c.active("x") or c.active("alpha"), ("a", "in")) + _if(c.active("a") or c.active("alpha"), ("x", "in"))
            + _if(c.active("beta"), ("y", "old")))


ROUTINE_TABLE: dict[str, Routine] = {
    "dot": Routine(_dot_forward, _dot_reverse, lambda c: _if(c.active("y"), ("x", "in")) + _if(c.active("x"), ("y", "in")),
                   _XY, (), "cblas_ddot ddot_"),
    "axpy": Routine(_axpy_forward, _axpy_reverse, lambda c: _if(c.active("alpha"), ("x", "in")), _XY, ("y",),
                    "cblas_daxpy daxpy_"),
    "scal": Routine(_scal_forward, _scal_reverse, lambda c: _if(c.active("alpha"), ("x", "old")), _X, ("x",),
                    "cblas_dscal dscal_"),
    "nrm2": Routine(_nrm2_forward, _nrm2_reverse, lambda c: [("x", "in")], _X, (), "cblas_dnrm2 dnrm2_"),
    "asum": Routine(_asum_forward, _asum_reverse, lambda c: [("x", "in")], _X, (), "cblas_dasum dasum_"),
    "copy": Routine(_copy_forward, _copy_reverse, lambda c: [], _XY, ("y",), "cblas_dcopy dcopy_"),
    "swap": Routine(_swap_forward, _swap_reverse, lambda c: [], _XY, ("x", "y"), "cblas_dswap dswap_"),
    "gemv": Routine(_gemv_forward, _gemv_reverse, _mv_reads, _GEMV, ("y",), "cblas_dgemv dgemv_"),
    "symv": Routine(_symv_forward, _symv_reverse, _mv_reads, _SYMV, ("y",), "cblas_dsymv dsymv_"),
    "ger": Routine(_ger_forward, _ger_reverse,
                   lambda c: _if(c.active("y") or c.active("alpha"), ("x", "in"))
                   + _if(c.active("x") or c.active("alpha"), ("y", "in")), _GER, ("a",), "cblas_dger dger_"),
    "trmv": Routine(_trmv_forward, _trmv_reverse,
                    lambda c: _if(c.active("x"), ("a", "in")) + _if(c.active("a") and c.active("x"), ("x", "old")),
                    _TR, ("x",), "cblas_dtrmv dtrmv_"),
    "trsv": Routine(_trsv_forward, _trsv_reverse,
                    lambda c: _if(c.active("x"), ("a", "in")) + _if(c.active("a") and c.active("x"), ("x", "out")),
                    _TR, ("x",), "cblas_dtrsv dtrsv_"),
    "gemm": Routine(_gemm_forward, _gemm_reverse,
                    lambda c: _if(c.active("b") or c.active("alpha"), ("a", "in"))
                    + _if(c.active("a") or c.active("alpha"), ("b", "in")) + _if(c.active("beta"), ("c", "old")),
                    _GEMM, ("c",), "cblas_dgemm dgemm_"),
    "syrk": Routine(_syrk_forward, _syrk_reverse,
                    lambda c: _if(c.active("a") or c.active("alpha"), ("a", "in")) + _if(c.active("beta"), ("c", "old")),
                    _SYRK, ("c",), "cblas_dsyrk dsyrk_"),
}
RULES = ROUTINE_TABLE


# --- call-rule glue --------------------------------------------------------------------------------

def _forward(site) -> None:
    c = BlasCall(site, "forward")
    c.lanes = range(site.width)
    ROUTINE_TABLE[c.routine].forward(c)


def _augment(site) -> None:
    c = BlasCall(site, "augment")
    c.save_copies(("in", "old"))
    c.primal_call()
    c.save_copies(("out",))


def _reverse(site) -> None:
    c = BlasCall(site, "reverse")
    ROUTINE_TABLE[c.routine].reverse(c)
    c.release()


def _saved_types(view) -> list[T.Type]:
    return BlasCall(view).saved_types()


def _reverse_reads(view) -> list[tuple[str, Value]]:
    c = BlasCall(view)
    out = [("p", view.args[i]) for i, p in enumerate(c.params)
           if not c.iface.fortran or kind_of(p) == "pointer"]
    out += [("s", a) for a in view.args if view.has_shadow(a)]
    if c.routine == "nrm2":
        out.append(("p", view.inst))  # the norm itself
    return out


def _writes(name: str) -> tuple[int, ...]:
    iface, routine = parse_spelling(name)
    params = iface.parameters(routine)
    return tuple(params.index(p) for p in ROUTINE_TABLE[routine].writes)


def _rule(routine: str) -> CallRule:
    return CallRule(family="blas", callees=spellings(routine), forward=_forward, augment=_augment,
                    reverse=_reverse, saved_types=_saved_types, reverse_reads=_reverse_reads,
                    reverse_reads_memory=True, writes=_writes,
                    description=f"BLAS {routine} ({ROUTINE_TABLE[routine].spelled}, single precision, *64_)")


BLAS_RULES: tuple[CallRule, ...] = tuple(_rule(r) for r in ROUTINE_TABLE)
