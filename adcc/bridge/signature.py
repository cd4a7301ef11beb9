"""Kernel signatures: which arrays a C kernel reads and writes, their element types and shapes.

A signature is written as `name(x: f64[n], const data: f64[n, 3]) -> (y: f64[n], loss: f64)`.
Dimensions are integers or names; every name must be fixed by an input (outputs are allocated
by the bridge). `const` inputs get no derivative. Parsing raises ValueError with the offending
text; binding array shapes raises TypeError/ValueError naming the argument.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DTYPES = {"f64": "float64", "float64": "float64", "double": "float64",
          "f32": "float32", "float32": "float32", "float": "float32"}
C_TYPES = {"float64": "double", "float32": "float"}
ITEM_SIZES = {"float64": 8, "float32": 4}

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PARAM = re.compile(rf"^\s*(?:(const)\s+)?({_IDENT})\s*:\s*({_IDENT})\s*(?:\[([^\]]*)\])?\s*$")
_SIGNATURE = re.compile(rf"^\s*({_IDENT})?\s*\((.*?)\)\s*->\s*(.+?)\s*$", re.S)


@dataclass(frozen=True)
class Param:
    name: str
    dtype: str                       # "float64" | "float32"
    shape: tuple[int | str, ...]     # ints and dimension names
    differentiable: bool = True

    @property
    def c_type(self) -> str:
        return C_TYPES[self.dtype]

    @property
    def item_size(self) -> int:
        return ITEM_SIZES[self.dtype]

    @property
    def rank(self) -> int:
        return len(self.shape)

    def text(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        return f"{'' if self.differentiable else 'const '}{self.name}: {'f64' if self.dtype == 'float64' else 'f32'}[{dims}]"


@dataclass(frozen=True)
class Signature:
    name: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]

    @property
    def dim_names(self) -> tuple[str, ...]:
        """Dimension names in order of first appearance in the inputs: the kernel's trailing
        `int64_t` parameters and the order of the bridge's `dims` array."""
        seen: list[str] = []
        for p in self.inputs:
            for d in p.shape:
                if isinstance(d, str) and d not in seen:
                    seen.append(d)
        return tuple(seen)

    @property
    def differentiable_inputs(self) -> tuple[Param, ...]:
        return tuple(p for p in self.inputs if p.differentiable)

    def text(self) -> str:
        ins = ", ".join(p.text() for p in self.inputs)
        outs = ", ".join(p.text() for p in self.outputs)
        return f"{self.name}({ins}) -> ({outs})"

    def c_prototype(self) -> str:
        """The prototype the kernel must have (outputs, inputs, then one int64_t per dimension name)."""
        params = [f"{p.c_type} *{p.name}" for p in self.outputs]
        params += [f"const {p.c_type} *{p.name}" for p in self.inputs]
        params += [f"int64_t {d}" for d in self.dim_names]
        return f"void {self.name}({', '.join(params) or 'void'})"

    def bind(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """The dimension values fixed by the input shapes (checked: ValueError naming the input)."""
        if len(shapes) != len(self.inputs):
            raise TypeError(f"{self.name}() takes {len(self.inputs)} input(s) "
                            f"({', '.join(p.name for p in self.inputs)}), got {len(shapes)}")
        values: dict[str, int] = {}
        for p, shape in zip(self.inputs, shapes):
            if len(shape) != p.rank:
                raise ValueError(f"{self.name}(): input '{p.name}' must have rank {p.rank} "
                                 f"(shape [{', '.join(map(str, p.shape))}]), got shape {tuple(shape)}")
            for axis, (want, got) in enumerate(zip(p.shape, shape)):
                if isinstance(want, int):
                    if got != want:
                        raise ValueError(f"{self.name}(): input '{p.name}' must have {want} elements "
                                         f"along axis {axis}, got shape {tuple(shape)}")
                elif values.setdefault(want, got) != got:
                    raise ValueError(f"{self.name}(): input '{p.name}' has {want}={got} along axis {axis}, "
                                     f"but an earlier input fixed {want}={values[want]}")
        return tuple(values[d] for d in self.dim_names)

    def shape_of(self, param: Param, dims: tuple[int, ...]) -> tuple[int, ...]:
        values = dict(zip(self.dim_names, dims))
        return tuple(d if isinstance(d, int) else values[d] for d in param.shape)

    def output_shapes(self, dims: tuple[int, ...]) -> list[tuple[int, ...]]:
        return [self.shape_of(p, dims) for p in self.outputs]


def parse(text: str, name: str | None = None) -> Signature:
    """Parse `name(inputs) -> outputs`; the name may be left out when given separately."""
    m = _SIGNATURE.match(text)
    if m is None:
        raise ValueError(f"bad kernel signature '{text}': expected 'name(x: f64[n], ...) -> (y: f64[n], ...)'")
    written, inputs_text, outputs_text = m.groups()
    if written and name and written != name:
        raise ValueError(f"signature '{text}' names '{written}' but is declared for '{name}'")
    fname = written or name
    if not fname:
        raise ValueError(f"signature '{text}' does not name its function")
    if outputs_text.startswith("(") and outputs_text.endswith(")"):
        outputs_text = outputs_text[1:-1]
    inputs = tuple(_param(t, text) for t in _split(inputs_text))
    outputs = tuple(_param(t, text) for t in _split(outputs_text))
    sig = Signature(fname, inputs, outputs)
    _check(sig, text)
    return sig


def _split(text: str) -> list[str]:
    """Split on commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _param(text: str, whole: str) -> Param:
    m = _PARAM.match(text)
    if m is None:
        raise ValueError(f"bad parameter '{text.strip()}' in signature '{whole}': expected "
                         "'[const] name: f64[dims]' (types f64, f32)")
    const, pname, tname, dims_text = m.groups()
    if tname not in DTYPES:
        raise ValueError(f"parameter '{pname}' in signature '{whole}': unknown type '{tname}' (use f64 or f32)")
    shape: list[int | str] = []
    for d in (dims_text or "").split(","):
        d = d.strip()
        if not d:
            continue
        if d.isdigit():
            shape.append(int(d))
        elif re.fullmatch(_IDENT, d):
            shape.append(d)
        else:
            raise ValueError(f"parameter '{pname}' in signature '{whole}': bad dimension '{d}'")
    return Param(pname, DTYPES[tname], tuple(shape), differentiable=const is None)


def _check(sig: Signature, whole: str) -> None:
    names = [p.name for p in (*sig.inputs, *sig.outputs)] + list(sig.dim_names)
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ValueError(f"signature '{whole}': the name '{duplicate}' is used twice")
    if not sig.outputs:
        raise ValueError(f"signature '{whole}': a kernel needs at least one output")
    for p in sig.outputs:
        if not p.differentiable:
            raise ValueError(f"signature '{whole}': output '{p.name}' cannot be const")
        for d in p.shape:
            if isinstance(d, str) and d not in sig.dim_names:
                raise ValueError(f"signature '{whole}': dimension '{d}' of output '{p.name}' "
                                 "is not fixed by any input")
