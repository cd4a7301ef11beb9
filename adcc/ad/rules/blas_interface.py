"""How derivative code calls BLAS: the spellings (CBLAS, Fortran, ILP64), the routines' parameter
lists, by-value calls in the interface the primal used, and the column-loop helpers for what BLAS
has no routine for (inner products and scalings of whole matrices or triangles).

The derivative of a call always calls the interface the program called (a `cblas_dgemv` is
differentiated with `cblas_dger`, a `dgemv_` with `dger_`), declared with the standard signature
when the program did not declare it, so it links against whatever BLAS the program links. Logical
flags are i1 values (transposed, upper, unit diagonal, left side, row-major); integers and scalars
are converted to the interface's types here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from adcc.ad import naming
from adcc.ir import types as T
from adcc.ir.builder import Builder, add_incoming
from adcc.ir.values import Constant, Function, GlobalRef, Value

# Fortran parameter order; CBLAS puts the storage order first for levels 2 and 3.
ROUTINES: dict[str, tuple[str, ...]] = {
    "dot": ("n", "x", "incx", "y", "incy"),
    "axpy": ("n", "alpha", "x", "incx", "y", "incy"),
    "scal": ("n", "alpha", "x", "incx"),
    "nrm2": ("n", "x", "incx"),
    "asum": ("n", "x", "incx"),
    "copy": ("n", "x", "incx", "y", "incy"),
    "swap": ("n", "x", "incx", "y", "incy"),
    "gemv": ("trans", "m", "n", "alpha", "a", "lda", "x", "incx", "beta", "y", "incy"),
    "ger": ("m", "n", "alpha", "x", "incx", "y", "incy", "a", "lda"),
    "symv": ("uplo", "n", "alpha", "a", "lda", "x", "incx", "beta", "y", "incy"),
    "sbmv": ("uplo", "n", "k", "alpha", "a", "lda", "x", "incx", "beta", "y", "incy"),
    "syr2": ("uplo", "n", "alpha", "x", "incx", "y", "incy", "a", "lda"),
    "trmv": ("uplo", "trans", "diag", "n", "a", "lda", "x", "incx"),
    "trsv": ("uplo", "trans", "diag", "n", "a", "lda", "x", "incx"),
    "gemm": ("transa", "transb", "m", "n", "k", "alpha", "a", "lda", "b", "ldb", "beta", "c", "ldc"),
    "symm": ("side", "uplo", "m", "n", "alpha", "a", "lda", "b", "ldb", "beta", "c", "ldc"),
    "syrk": ("uplo", "trans", "n", "k", "alpha", "a", "lda", "beta", "c", "ldc"),
    "syr2k": ("uplo", "trans", "n", "k", "alpha", "a", "lda", "b", "ldb", "beta", "c", "ldc"),
}
LEVEL1 = frozenset({"dot", "axpy", "scal", "nrm2", "asum", "copy", "swap"})
RETURNS_FLOAT = frozenset({"dot", "nrm2", "asum"})
POINTERS = frozenset({"a", "b", "c", "x", "y"})
SCALARS = frozenset({"alpha", "beta"})
# flag -> (CBLAS value when true, when false, Fortran character when true, when false)
FLAGS = {"trans": (112, 111, "T", "N"), "transa": (112, 111, "T", "N"), "transb": (112, 111, "T", "N"),
         "uplo": (121, 122, "U", "L"), "diag": (132, 131, "U", "N"), "side": (141, 142, "L", "R")}
ROW_MAJOR, COL_MAJOR = 101, 102

_CBLAS = re.compile(r"cblas_([sd])([a-z0-9]+?)(64_)?")
_F77 = re.compile(r"([sd])([a-z0-9]+?)_(64_)?")


def kind_of(param: str) -> str:
    if param in FLAGS:
        return "flag"
    if param in SCALARS:
        return "scalar"
    if param in POINTERS:
        return "pointer"
    return "int"


@dataclass(frozen=True)
class Interface:
    """One BLAS interface: CBLAS or Fortran, LP64 or ILP64 (`*64_`), single or double precision."""
    fortran: bool
    ilp64: bool                    # the *64_ spelling
    precision: str                 # "s" or "d"
    wide: bool = False             # 64-bit integers without the suffix (a CBLAS header built for ILP64)

    @property
    def float_type(self) -> T.FloatType:
        return T.f64 if self.precision == "d" else T.f32

    @property
    def int_type(self) -> T.IntType:
        return T.i64 if self.ilp64 or self.wide else T.i32

    def symbol(self, routine: str) -> str:
        wide = "64_" if self.ilp64 else ""
        return f"{self.precision}{routine}_{wide}" if self.fortran else f"cblas_{self.precision}{routine}{wide}"

    def parameters(self, routine: str) -> tuple[str, ...]:
        """The call's parameters in order (CBLAS: `order` first at levels 2 and 3)."""
        params = ROUTINES[routine]
        return params if self.fortran or routine in LEVEL1 else ("order", *params)

    def standard_type(self, routine: str) -> T.FunctionType:
        ret = self.float_type if routine in RETURNS_FLOAT else T.void
        if self.fortran:
            return T.FunctionType(ret, tuple(T.ptr for _ in ROUTINES[routine]))
        types = {"flag": T.i32, "scalar": self.float_type, "pointer": T.ptr, "int": self.int_type}
        return T.FunctionType(ret, tuple(T.i32 if p == "order" else types[kind_of(p)]
                                         for p in self.parameters(routine)))


def parse_spelling(name: str) -> tuple[Interface, str] | None:
    """(interface, routine) of a BLAS spelling: cblas_dgemm, cblas_sgemm64_, dgemm_, sgemm_64_."""
    for fortran, pattern in ((False, _CBLAS), (True, _F77)):
        m = pattern.fullmatch(name)
        if m and m.group(2) in ROUTINES:
            return Interface(fortran, bool(m.group(3)), m.group(1)), m.group(2)
    return None


def spellings(routine: str, precisions: str = "sd") -> tuple[str, ...]:
    return tuple(Interface(f, w, p).symbol(routine) for p in precisions for f in (False, True) for w in (False, True))


# --- small IR helpers ----------------------------------------------------------------------------

def const_int(v: Value) -> int | None:
    if isinstance(v, Constant) and not isinstance(v, GlobalRef) and v.text.lstrip("-").isdigit():
        return int(v.text)
    if isinstance(v, Constant) and v.text in ("true", "false"):
        return int(v.text == "true")
    return None


def select(b: Builder, c: Value, x: Value, y: Value) -> Value:
    """select(c, x, y), folded when `c` is a constant or both sides are the same value."""
    k = const_int(c)
    if k is not None:
        return x if k else y
    if x is y:
        return x
    return b.select(c, x, y)


def icmp(b: Builder, pred: str, x: Value, y: Value) -> Value:
    kx, ky = const_int(x), const_int(y)
    if kx is not None and ky is not None:
        ops = {"eq": kx == ky, "ne": kx != ky, "sgt": kx > ky, "slt": kx < ky, "sge": kx >= ky, "sle": kx <= ky}
        return Builder.iconst(T.i1, int(ops[pred]))
    return b.icmp(pred, x, y)


def not_(b: Builder, c: Value) -> Value:
    k = const_int(c)
    return Builder.iconst(T.i1, 1 - k) if k is not None else b.xor(c, Builder.iconst(T.i1, 1))


def to_int(b: Builder, v: Value, ty: T.IntType) -> Value:
    if v.type == ty:
        return v
    k = const_int(v)
    if k is not None:
        return Builder.iconst(ty, k)
    return b.cast("trunc" if v.type.bits > ty.bits else "sext", v, ty)


def i64(b: Builder, v: Value) -> Value:
    return to_int(b, v, T.i64)


def element(b: Builder, ty: T.Type, base: Value, index: Value) -> Value:
    if const_int(index) == 0:
        return base
    return b.gep(ty, base, [i64(b, index)])


def fconst(ty: T.Type, x: float) -> Constant:
    return Builder.fconst(ty, x)


# --- calls -------------------------------------------------------------------------------------

def call(b: Builder, iface: Interface, routine: str, row: Value | None = None, /, **values: Value) -> Value:
    """Call `routine` of `iface` with by-value logical arguments (flags as i1, any integer width;
    `row`: the storage order, CBLAS only). Returns the call (its float result for dot/nrm2/asum)."""
    module = b.module
    sym = iface.symbol(routine)
    declared = sym in module.functions
    fnty = module.function_type_of(sym) if declared else iface.standard_type(routine)
    args: list[Value] = []
    for param in iface.parameters(routine):
        if param == "order":
            args.append(select(b, row, Builder.iconst(T.i32, ROW_MAJOR), Builder.iconst(T.i32, COL_MAJOR))
                        if row is not None else Builder.iconst(T.i32, COL_MAJOR))
            continue
        v, kind = values[param], kind_of(param)
        if kind == "flag":
            yes, no, cyes, cno = FLAGS[param]
            if iface.fortran:
                v = select(b, v, Builder.iconst(T.i8, ord(cyes)), Builder.iconst(T.i8, ord(cno)))
            else:
                v = select(b, v, Builder.iconst(T.i32, yes), Builder.iconst(T.i32, no))
        elif kind == "int":
            v = to_int(b, v, iface.int_type)
        if iface.fortran and kind != "pointer":
            slot = b.alloca_in_entry(v.type, align=8)
            b.store(v, slot)
            v = slot
        args.append(v)
    if iface.fortran and declared:  # hidden lengths of the character arguments (flang declares them)
        args += [Builder.iconst(t, 1) for t in fnty.params[len(args):] if isinstance(t, T.IntType)]
    if not declared:
        module.ensure_declaration(sym, fnty)
    return b.call(GlobalRef(sym), fnty.ret, args, fnty=fnty)


def malloc(b: Builder, count: Value, ty: T.Type) -> Value:
    size = 8 if ty == T.f64 else 4
    n = b.mul(i64(b, count), Builder.iconst(T.i64, size))
    return b.call("malloc", T.ptr, [n], fnty=T.FunctionType(T.ptr, (T.i64,)))


def free(b: Builder, p: Value) -> None:
    b.call("free", T.void, [p], fnty=T.FunctionType(T.void, (T.ptr,)))


def zero_vector(b: Builder, iface: Interface, n: Value, x: Value, inc: Value) -> None:
    """x[0:n:|inc|] = 0 (the set of elements a BLAS vector of any increment sign covers)."""
    zero = b.alloca_in_entry(iface.float_type, align=8)
    b.store(fconst(iface.float_type, 0.0), zero)
    call(b, iface, "copy", n=n, x=zero, incx=Builder.iconst(T.i64, 0), y=x, incy=absolute(b, inc))


def absolute(b: Builder, v: Value) -> Value:
    k = const_int(v)
    if k is not None:
        return Builder.iconst(v.type, abs(k))
    return select(b, icmp(b, "slt", v, Builder.zero(v.type)), b.sub(Builder.zero(v.type), v), v)


# --- helper functions: loops over columns (or lines) that call level-1 BLAS --------------------

class Helper:
    """An internal function of the module, built once per interface, whose body loops over the
    columns of a matrix (column-major storage; row-major callers swap dimensions and triangles)."""

    def __init__(self, module, iface: Interface, what: str, ret: T.Type, params: list[T.Type]):
        tag = iface.symbol("") + ("i64" if iface.wide else "")  # cblas_d, d_64_, ...
        self.name = naming.blas_helper(what, tag)
        self.fresh = self.name not in module.functions
        if self.fresh:
            fn = Function(self.name, ret, params, linkage="internal", attributes="nounwind")
            module.add_function(fn)
            self.fn = fn
            self.b = Builder(module, fn).position_at_end(fn.add_block("entry"))
        self.ret = ret

    def loop(self, count: Value, body, acc: Value | None = None) -> Value | None:
        """for j in [0, count): acc = body(b, j, acc). Returns the final acc (or None)."""
        b, fn = self.b, self.fn
        pre = b.block
        head, done = fn.add_block("loop"), fn.add_block("done")
        b.cond_br(b.icmp("sgt", count, Builder.iconst(T.i64, 0)), head, done)
        b.position_at_end(head)
        j = b.phi(T.i64)
        add_incoming(j, Builder.iconst(T.i64, 0), pre)
        a = None
        if acc is not None:
            a = b.phi(acc.type)
            add_incoming(a, acc, pre)
        nxt = body(b, j, a)
        j1 = b.add(j, Builder.iconst(T.i64, 1))
        add_incoming(j, j1, b.block)
        if a is not None:
            add_incoming(a, nxt, b.block)
        latch = b.block
        b.cond_br(b.icmp("slt", j1, count), head, done)
        b.position_at_end(done)
        if acc is None:
            return None
        out = b.phi(acc.type)
        add_incoming(out, acc, pre)
        add_incoming(out, nxt, latch)
        return out

    def finish(self, value: Value | None = None) -> None:
        self.b.ret(value)


def _storage(b: Builder, row: Value, m: Value, n: Value) -> tuple[Value, Value]:
    """(rows, columns) of an m x n matrix in column-major storage terms."""
    return select(b, row, n, m), select(b, row, m, n)


def _triangle(b: Builder, upper: Value, n: Value, j: Value, strict: Value) -> tuple[Value, Value]:
    """(first row, length) of column j of an n x n triangle (without the diagonal when strict)."""
    s = b.cast("zext", strict, T.i64)
    start = select(b, upper, Builder.iconst(T.i64, 0), b.add(j, s))
    length = select(b, upper, b.sub(b.add(j, Builder.iconst(T.i64, 1)), s), b.sub(b.sub(n, j), s))
    return start, length


def _matrix_helper(module, iface: Interface, what: str, triangle: bool, operands: str) -> str:
    """Helpers over a matrix or triangle: `operands` says what each column does: "dot" (sum of
    dot(X_j, Y_j)), "scal" (X_j *= a), "zero" (X_j = 0), "axpy" (Y_j += a X_j)."""
    fty, i64t = iface.float_type, T.i64
    params = [T.i1] + ([T.i1] if triangle else []) + [i64t] + ([] if triangle else [i64t])
    params += ([fty] if operands in ("scal", "axpy") else []) + [T.ptr, i64t]
    params += [T.ptr, i64t] if operands in ("dot", "axpy") else []
    h = Helper(module, iface, what, fty if operands == "dot" else T.void, params)
    if not h.fresh:
        return h.name
    args = list(h.fn.args)
    row = args.pop(0)
    upper = b_xor(h.b, args.pop(0), row) if triangle else None
    if triangle:
        n = args.pop(0)
        rows = cols = n
    else:
        rows, cols = _storage(h.b, row, args.pop(0), args.pop(0))
    alpha = args.pop(0) if operands in ("scal", "axpy") else None
    x, ldx = args.pop(0), args.pop(0)
    y, ldy = (args.pop(0), args.pop(0)) if operands in ("dot", "axpy") else (None, None)

    def body(b: Builder, j: Value, acc: Value | None):
        start, length = _triangle(b, upper, rows, j, Builder.iconst(T.i1, 0)) if triangle \
            else (Builder.iconst(i64t, 0), rows)
        xj = element(b, fty, x, b.add(b.mul(j, ldx), start))
        one = Builder.iconst(i64t, 1)
        if operands == "dot":
            yj = element(b, fty, y, b.add(b.mul(j, ldy), start))
            return b.fadd(acc, call(b, iface, "dot", n=length, x=xj, incx=one, y=yj, incy=one))
        if operands == "scal":
            call(b, iface, "scal", n=length, alpha=alpha, x=xj, incx=one)
        elif operands == "zero":
            zero_vector(b, iface, length, xj, one)
        else:
            yj = element(b, fty, y, b.add(b.mul(j, ldy), start))
            call(b, iface, "axpy", n=length, alpha=alpha, x=xj, incx=one, y=yj, incy=one)
        return None

    acc = h.loop(cols, body, fconst(fty, 0.0) if operands == "dot" else None)
    h.finish(acc)
    return h.name


def b_xor(b: Builder, x: Value, y: Value) -> Value:
    kx, ky = const_int(x), const_int(y)
    if kx is not None and ky is not None:
        return Builder.iconst(T.i1, kx ^ ky)
    return b.xor(x, y)


def matrix_op(b: Builder, iface: Interface, operation: str, row: Value, m: Value, n: Value, *rest: Value,
              upper: Value | None = None) -> Value:
    """One helper call over an m x n matrix (or, with `upper`, the n x n triangle; m ignored):
    `dot` (X, ldx, Y, ldy) -> sum, `scal` (a, X, ldx), `zero` (X, ldx), `axpy` (a, X, ldx, Y, ldy)."""
    triangle = upper is not None
    name = _matrix_helper(b.module, iface, ("t" if triangle else "m") + operation, triangle, operation)
    fnty = b.module.function_type_of(name)
    head = [row] + ([upper, i64(b, n)] if triangle else [i64(b, m), i64(b, n)])
    tail = [i64(b, v) if isinstance(v.type, T.IntType) else v for v in rest]
    return b.call(GlobalRef(name), fnty.ret, head + tail, fnty=fnty)


def triangle_ger(b: Builder, iface: Interface, row: Value, upper: Value, unit: Value, n: Value, alpha: Value,
                 u: Value, v: Value, a: Value, lda: Value) -> None:
    """A_tri += alpha u v^T on the stored triangle only (without the diagonal when unit); u and v
    contiguous. Row-major storage is the transpose: the other triangle of v u^T."""
    fty = iface.float_type
    h = Helper(b.module, iface, "tger", T.void, [T.i1, T.i1, T.i1, T.i64, fty, T.ptr, T.ptr, T.ptr, T.i64])
    if h.fresh:
        row_, upper_, unit_, n_, alpha_, u_, v_, a_, lda_ = h.fn.args
        hb = h.b
        up = b_xor(hb, upper_, row_)
        uu, vv = hb.select(row_, v_, u_), hb.select(row_, u_, v_)

        def body(bb: Builder, j: Value, acc):
            start, length = _triangle(bb, up, n_, j, unit_)
            coef = bb.fmul(alpha_, bb.load(fty, element(bb, fty, vv, j)))
            one = Builder.iconst(T.i64, 1)
            call(bb, iface, "axpy", n=length, alpha=coef, x=element(bb, fty, uu, start), incx=one,
                 y=element(bb, fty, a_, bb.add(bb.mul(j, lda_), start)), incy=one)
            return None

        h.loop(n_, body)
        h.finish()
    fnty = b.module.function_type_of(h.name)
    b.call(GlobalRef(h.name), T.void, [row, upper, unit, i64(b, n), alpha, u, v, a, i64(b, lda)], fnty=fnty)


def line_axpy(b: Builder, iface: Interface, n: Value, k: Value, alpha: Value, g: Value, ldg: Value,
              x: Value, line: Value, step: Value, y: Value) -> None:
    """For i < n: Y_i += alpha * G[i,i] * X_i, where line i of X and Y (k elements) starts at
    i*line with stride `step` (rows or columns of a matrix, in either storage order)."""
    fty = iface.float_type
    h = Helper(b.module, iface, "laxpy", T.void, [T.i64, T.i64, fty, T.ptr, T.i64, T.ptr, T.i64, T.i64, T.ptr])
    if h.fresh:
        n_, k_, alpha_, g_, ldg_, x_, line_, step_, y_ = h.fn.args

        def body(bb: Builder, i: Value, acc):
            gii = bb.load(fty, element(bb, fty, g_, bb.mul(i, bb.add(ldg_, Builder.iconst(T.i64, 1)))))
            off = bb.mul(i, line_)
            call(bb, iface, "axpy", n=k_, alpha=bb.fmul(alpha_, gii), x=element(bb, fty, x_, off), incx=step_,
                 y=element(bb, fty, y_, off), incy=step_)
            return None

        h.loop(n_, body)
        h.finish()
    fnty = b.module.function_type_of(h.name)
    b.call(GlobalRef(h.name), T.void, [i64(b, n), i64(b, k), alpha, g, i64(b, ldg), x, i64(b, line), i64(b, step), y],
           fnty=fnty)


def sign_op(b: Builder, iface: Interface, dot: bool, n: Value, x: Value, incx: Value, y: Value, incy: Value,
            alpha: Value | None = None) -> Value | None:
    """The one elementwise operation BLAS lacks (asum's derivative), positive increments:
    dot: sum sign(x_i) y_i; otherwise y_i += alpha sign(x_i). sign(0) = 0."""
    fty = iface.float_type
    params = [T.i64, T.ptr, T.i64, T.ptr, T.i64] + ([] if dot else [fty])
    h = Helper(b.module, iface, "sdot" if dot else "saxpy", fty if dot else T.void, params)
    if h.fresh:
        n_, x_, incx_, y_, incy_, *a_ = h.fn.args

        def body(bb: Builder, i: Value, acc):
            xi = bb.load(fty, element(bb, fty, x_, bb.mul(i, incx_)))
            py = element(bb, fty, y_, bb.mul(i, incy_))
            zero = fconst(fty, 0.0)
            sign = bb.select(bb.fcmp("ogt", xi, zero), fconst(fty, 1.0),
                             bb.select(bb.fcmp("olt", xi, zero), fconst(fty, -1.0), zero))
            if dot:
                return bb.fadd(acc, bb.fmul(sign, bb.load(fty, py)))
            bb.store(bb.fadd(bb.load(fty, py), bb.fmul(a_[0], sign)), py)
            return None

        h.finish(h.loop(n_, body, fconst(fty, 0.0) if dot else None))
    fnty = b.module.function_type_of(h.name)
    args = [i64(b, n), x, i64(b, incx), y, i64(b, incy)] + ([] if dot else [alpha])
    return b.call(GlobalRef(h.name), fnty.ret, args, fnty=fnty)
