"""BLAS level 2 rules: gemv, symv, ger, trmv, trsv (both storage orders, transposes, triangles)."""
from __future__ import annotations

from adcc.ad.rules.blas_call import BlasCall, Routine, flagged, mat, need, scale_vector, size_n, vec
from adcc.ad.rules.blas_interface import const_int, free, i64, malloc, not_, select, triangle_ger
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Value


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


# --- the entries ---------------------------------------------------------------------------------

_GEMV = {"a": mat(lambda c: c.m, lambda c: c.n, "lda"), "x": vec(flagged("trans", "m", "n"), "incx"),
         "y": vec(flagged("trans", "n", "m"), "incy")}
_SYMV = {"a": mat(size_n, size_n, "lda"), "x": vec(size_n, "incx"), "y": vec(size_n, "incy")}
_GER = {"x": vec(lambda c: c.m, "incx"), "y": vec(size_n, "incy")}
_TR = {"a": mat(size_n, size_n, "lda"), "x": vec(size_n, "incx")}

def _mv_reads(c: BlasCall) -> list:
    return (need(c.active("x") or c.active("alpha"), ("a", "in"))
            + need(c.active("a") or c.active("alpha"), ("x", "in"))
            + need(c.active("beta"), ("y", "old")))



ROUTINES: dict[str, Routine] = {
    "gemv": Routine(_gemv_forward, _gemv_reverse, _mv_reads, _GEMV, ("y",), "cblas_dgemv dgemv_"),
    "symv": Routine(_symv_forward, _symv_reverse, _mv_reads, _SYMV, ("y",), "cblas_dsymv dsymv_"),
    "ger": Routine(_ger_forward, _ger_reverse,
                   lambda c: need(c.active("y") or c.active("alpha"), ("x", "in"))
                   + need(c.active("x") or c.active("alpha"), ("y", "in")), _GER, ("a",), "cblas_dger dger_"),
    "trmv": Routine(_trmv_forward, _trmv_reverse,
                    lambda c: need(c.active("x"), ("a", "in")) + need(c.active("a") and c.active("x"), ("x", "old")),
                    _TR, ("x",), "cblas_dtrmv dtrmv_"),
    "trsv": Routine(_trsv_forward, _trsv_reverse,
                    lambda c: need(c.active("x"), ("a", "in")) + need(c.active("a") and c.active("x"), ("x", "out")),
                    _TR, ("x",), "cblas_dtrsv dtrsv_"),
}
