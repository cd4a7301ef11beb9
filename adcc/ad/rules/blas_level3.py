"""BLAS level 3 rules: gemm (the reverse of cblas_dgemm / dgemm_ is two gemms) and syrk."""
from __future__ import annotations

from adcc.ad.rules.blas_call import BlasCall, Routine, flagged, mat, need, scale_matrix, size_n
from adcc.ad.rules.blas_interface import b_xor, free, i64, line_axpy, malloc, matrix_op, not_, select
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Value


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


# --- the entries ---------------------------------------------------------------------------------

_GEMM = {"a": mat(flagged("transa", "k", "m"), flagged("transa", "m", "k"), "lda"),
         "b": mat(flagged("transb", "n", "k"), flagged("transb", "k", "n"), "ldb"),
         "c": mat(lambda c: c.m, lambda c: c.n, "ldc")}
_SYRK = {"a": mat(flagged("trans", "k", "n"), flagged("trans", "n", "k"), "lda"), "c": mat(size_n, size_n, "ldc")}

ROUTINES: dict[str, Routine] = {
    "gemm": Routine(_gemm_forward, _gemm_reverse,
                    lambda c: need(c.active("b") or c.active("alpha"), ("a", "in"))
                    + need(c.active("a") or c.active("alpha"), ("b", "in")) + need(c.active("beta"), ("c", "old")),
                    _GEMM, ("c",), "cblas_dgemm dgemm_"),
    "syrk": Routine(_syrk_forward, _syrk_reverse,
                    lambda c: need(c.active("a") or c.active("alpha"), ("a", "in"))
                    + need(c.active("beta"), ("c", "old")),
                    _SYRK, ("c",), "cblas_dsyrk dsyrk_"),
}
