"""BLAS level 1 rules: dot, axpy, scal, nrm2, asum, copy, swap (vectors with any increment)."""
from __future__ import annotations

from adcc.ad.rules.blas_call import BlasCall, Routine, need, positive, size_n, vec
from adcc.ad.rules.blas_interface import sign_op, zero_vector
from adcc.ir.values import Value


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


def _scal_forward(c: BlasCall) -> None:
    for w in c.lanes:
        dx = c.shadow("x", w)
        if dx is None:
            break
        c.call("scal", n=c.n, alpha=c.alpha, x=dx, incx=c.incx)
        if c.active("alpha"):
            c.call("axpy", n=positive(c, c.n, c.incx), alpha=c.tangent("alpha", w), x=c.x, incx=c.incx,
                   y=dx, incy=c.incx)
    c.primal_call()


def _scal_reverse(c: BlasCall) -> None:
    dx = c.shadow("x")
    if dx is None:
        return
    if c.active("alpha"):
        x, inc = c.operand("x")
        c.add_adjoint("alpha", c.call("dot", n=positive(c, c.n, c.incx), x=x, incx=inc, y=dx, incy=c.incx))
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
                  sign_op(c.b, c.iface, True, positive(c, c.n, c.incx), c.x, c.incx, dx, c.incx))
    c.view.set_tangents(ts)


def _asum_reverse(c: BlasCall) -> None:
    d, dx = c.view.result_adjoint(), c.shadow("x")
    if d is None or dx is None:
        return
    x, inc = c.operand("x")
    sign_op(c.b, c.iface, False, positive(c, c.n, c.incx), x, inc, dx, c.incx, alpha=d)


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


# --- the entries ---------------------------------------------------------------------------------

_X = {"x": vec(size_n, "incx")}
_XY = {"x": vec(size_n, "incx"), "y": vec(size_n, "incy")}

ROUTINES: dict[str, Routine] = {
    "dot": Routine(_dot_forward, _dot_reverse,
                   lambda c: need(c.active("y"), ("x", "in")) + need(c.active("x"), ("y", "in")),
                   _XY, (), "cblas_ddot ddot_"),
    "axpy": Routine(_axpy_forward, _axpy_reverse, lambda c: need(c.active("alpha"), ("x", "in")), _XY, ("y",),
                    "cblas_daxpy daxpy_"),
    "scal": Routine(_scal_forward, _scal_reverse, lambda c: need(c.active("alpha"), ("x", "old")), _X, ("x",),
                    "cblas_dscal dscal_"),
    "nrm2": Routine(_nrm2_forward, _nrm2_reverse, lambda c: [("x", "in")], _X, (), "cblas_dnrm2 dnrm2_"),
    "asum": Routine(_asum_forward, _asum_reverse, lambda c: [("x", "in")], _X, (), "cblas_dasum dasum_"),
    "copy": Routine(_copy_forward, _copy_reverse, lambda c: [], _XY, ("y",), "cblas_dcopy dcopy_"),
    "swap": Routine(_swap_forward, _swap_reverse, lambda c: [], _XY, ("x", "y"), "cblas_dswap dswap_"),
}
