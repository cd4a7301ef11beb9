"""The BLAS call as a rule sees it (`BlasCall`: logical parameters, activity, values in the pass
being built, what the augmented pass saves), and the data every routine's entry holds (`Routine`,
`Shape`). The routines themselves are in blas_level1/2/3.py, the table in blas.py."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from adcc.ad.rules.blas_interface import (RETURNS_FLOAT, ROUTINES, absolute, call, fconst, free, i64, icmp, kind_of,
                                          malloc, matrix_op, parse_spelling, select, zero_vector)
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Value

# CBLAS enum values that mean "true" for each flag (Fortran: the characters)
_TRUE_CBLAS = {"trans": None, "transa": None, "transb": None, "uplo": 121, "diag": 132, "side": 141, "order": 101}
_TRUE_CHARS = {"uplo": "Uu", "diag": "Uu", "side": "Ll"}


class BlasCall:
    """A BLAS call as its rule sees it: logical parameters by name, their activity, and (during
    code generation) their values in the pass being built."""

    def __init__(self, view, entry: "Routine", phase: str = "static"):
        self.view = view
        self.entry = entry
        self.iface, self.routine = parse_spelling(view.inst.callee_name)
        self.params = self.iface.parameters(self.routine)
        self._check_signature()
        if not self.iface.fortran and view.args[self.params.index("n")].type == T.i64:
            self.iface = replace(self.iface, wide=True)  # the program's cblas.h has 64-bit integers
        self.arg = {p: view.args[i] for i, p in enumerate(self.params)}
        self.fty = self.iface.float_type
        self.phase = phase
        self.lanes = range(getattr(view, "width", 1))  # forward vector mode
        self.b: Builder = getattr(view, "b", None)
        self._values: dict[str, Value] = {}
        self._copies: dict[str, Value] = {}

    def _check_signature(self) -> None:
        """A call that does not fit the routine's standard signature (a program's own function of
        that name, a wrong prototype) is a located error, not a wrong derivative."""
        args, fty = self.view.args, self.iface.float_type
        expected = {"pointer": T.PointerType, "flag": T.IntType, "int": T.IntType}
        ok = len(args) >= len(self.params)
        for p, a in zip(self.params, args):
            kind = "pointer" if self.iface.fortran else ("flag" if p == "order" else kind_of(p))
            ok = ok and (a.type == fty if kind == "scalar" else isinstance(a.type, expected[kind]))
        if self.routine in RETURNS_FLOAT and self.view.inst.type != fty:
            ok = False
        if not ok:
            from adcc.ad.srcloc import location_of
            what = "Fortran" if self.iface.fortran else "CBLAS"
            name = self.view.inst.callee_name.strip('"')
            raise CompileError(f"cannot differentiate call to '{name}': its arguments do not match the {what} "
                               f"signature of {self.routine} ({', '.join(self.params)}), which adcc's BLAS rule "
                               f"expects", location_of(self.view.module, self.view.inst))

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
            for name, when in self.entry.reads(self):
                if self._twin(name, got) is None and \
                        (when == "old" or self.view.may_be_overwritten(self.arg[name])):
                    got.append(("copy", name))
            cache[id(self.view.inst)] = got
        return got

    def _twin(self, name: str, plan: list) -> str | None:
        """An operand already copied that is the same memory with the same step (dot(x, x))."""
        shapes = self.entry.shapes

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
            elif kind == "copy" and self.entry.when(self, name) in when:
                self.view.save(k, self._copy(name))

    def _copy(self, name: str) -> Value:
        b, shape = self.b, self.entry.shape(self, name)
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
        shape = self.entry.shape(self, name)
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


def positive(c: BlasCall, n: Value, inc: Value) -> Value:
    """n, or 0 when inc <= 0 (scal and asum do nothing for such increments)."""
    return select(c.b, icmp(c.b, "sgt", inc, Builder.zero(inc.type)), n, Builder.zero(n.type))


@dataclass(frozen=True)
class Shape:
    """How much memory an operand covers: a vector (length, increment parameter) or a matrix
    (rows, columns, leading-dimension parameter)."""
    kind: str
    sizes: tuple[Callable, ...]
    step: str

    def __call__(self, c: BlasCall):
        return (self.kind, *(f(c) for f in self.sizes), c.raw(self.step))


def vec(n: Callable, inc: str) -> Shape:
    return Shape("vec", (n,), inc)


def mat(rows: Callable, cols: Callable, ld: str) -> Shape:
    return Shape("mat", (rows, cols), ld)


def size_n(c):
    return c.n


def flagged(flag: str, yes: str, no: str) -> Callable:
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


def need(cond: bool, *items):
    return list(items) if cond else []
