"""A loaded bridge library and its kernels, callable on NumPy arrays.

`Kernel.invoke` is the one raw call every front end (NumPy, JAX, PyTorch, TensorFlow) goes
through: buffer addresses in the order of codegen's ABI, the dimension values, a batch count.
The NumPy methods check every argument (dtype: TypeError; shape: ValueError; both name the
argument) before any address reaches C.
"""
from __future__ import annotations

import ctypes
import platform
import signal

import numpy as np

from adcc.bridge import codegen
from adcc.bridge.signature import Param, Signature

# Per-call cost matters (a 1,000-element kernel runs in about 0.1 us): the hot paths below avoid
# `ndarray.ctypes` (a few microseconds per array), ctypes' argument conversion to c_void_p (an
# exact argtypes match converts in a fraction of that) and re-deriving shapes from the signature
# (cached per input shapes).


def _data_offset() -> int | None:
    """Where an ndarray keeps its data pointer: numpy's C struct (PyArrayObject_fields) starts
    with the object header and then `char *data`. Used only when it agrees with `ndarray.ctypes`
    on probe arrays (views, transposes, read-only, float32) of this interpreter and numpy."""
    if platform.python_implementation() != "CPython":
        return None
    offset = object.__basicsize__
    base = np.arange(12.0)
    readonly = np.zeros(3)
    readonly.flags.writeable = False
    probes = (base, base[3:], base.reshape(3, 4).T, np.empty(5, np.float32), readonly, np.empty(0))
    try:
        if all(ctypes.c_void_p.from_address(id(a) + offset).value == a.ctypes.data for a in probes):
            return offset
    except (ValueError, OSError):
        pass
    return None


_DATA_OFFSET = _data_offset()
_pointer_at = ctypes.c_void_p.from_address


def address(array: np.ndarray) -> int:
    """The data address of an ndarray (0 for a NULL pointer)."""
    if _DATA_OFFSET is not None:
        return _pointer_at(id(array) + _DATA_OFFSET).value or 0
    return array.ctypes.data


def _buffer_counts(signature: Signature) -> dict[str, int]:
    """Buffers per entry point (codegen's ABI)."""
    outs, ins, diff = len(signature.outputs), len(signature.inputs), len(signature.differentiable_inputs)
    return {"primal": outs + ins, "jvp": 2 * outs + ins + diff, "vjp": diff + ins + outs,
            "forward": outs + ins, "backward": diff + outs}


class _Shapes:
    """What a tuple of input shapes fixes: the dimension values (also as the C array the entry
    points read; never written by C, so shared between calls and threads) and the shapes of the
    outputs and of the differentiable inputs."""

    __slots__ = ("dims", "c_dims", "outputs", "inputs", "differentiable")

    def __init__(self, kernel: "Kernel", shapes: tuple):
        sig = kernel.signature
        self.dims = sig.bind(list(shapes))
        self.c_dims = kernel._dims_type(*self.dims)
        self.outputs = tuple(sig.output_shapes(self.dims))
        self.inputs = shapes
        self.differentiable = tuple(s for s, p in zip(shapes, sig.inputs) if p.differentiable)


class KernelError(RuntimeError):
    """A kernel stopped with a signal (caught by the bridge's guard) or ran out of memory."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Kernel:
    """One exported function of a bridge library: primal, forward and reverse derivative."""

    def __init__(self, cdll: ctypes.CDLL, signature: Signature, library: "Library"):
        self.signature = signature
        self.library = library
        # argtypes are the exact array types passed (ctypes then converts without a search)
        self._dims_type = ctypes.c_int64 * max(len(signature.dim_names), 1)
        self._entries = {}  # mode: (function, its buffer-array type, buffer count)
        for mode, count in _buffer_counts(signature).items():
            fn = getattr(cdll, codegen.entry_name(signature.name, mode))
            fn.restype = ctypes.c_int
            buffers = ctypes.c_void_p * max(count, 1)
            last = {"forward": (ctypes.POINTER(ctypes.c_void_p),), "backward": (ctypes.c_void_p,)}.get(mode, ())
            fn.argtypes = (buffers, self._dims_type, ctypes.c_int64, *last)
            self._entries[mode] = (fn, buffers, count)
        self._shapes: dict[tuple, _Shapes] = {}
        self._release = getattr(cdll, codegen.entry_name(signature.name, "release"))
        self._release.restype = None
        self._release.argtypes = (ctypes.c_void_p,)
        self._dtypes = {p.name: np.dtype(p.dtype) for p in (*signature.inputs, *signature.outputs)}
        self._input_dtypes = tuple(self._dtypes[p.name] for p in signature.inputs)
        self._output_dtypes = tuple(self._dtypes[p.name] for p in signature.outputs)
        self._differentiable_dtypes = tuple(self._dtypes[p.name] for p in signature.differentiable_inputs)

    @property
    def name(self) -> str:
        return self.signature.name

    def entry_address(self, mode: str) -> int:
        return ctypes.cast(self._entries[mode][0], ctypes.c_void_p).value

    def __repr__(self) -> str:
        return f"<adcc kernel {self.signature.text()}>"

    # -- raw call ------------------------------------------------------------------------

    def invoke(self, mode: str, addresses: list[int], dims, batch: int = 1) -> None:
        """Entry point `mode` on buffers at `addresses` (codegen's order); `dims`: the dimension
        values, or the `_Shapes` (`shapes()`) that holds them."""
        fn, buffers, count = self._entries[mode]
        if len(addresses) != count:
            raise ValueError(f"adcc kernel '{self.name}' ({mode}): {count} buffers expected, got {len(addresses)}")
        rc = fn(buffers(*addresses), self._c_dims(dims), batch)
        if rc:
            self._check(mode, rc)

    def record(self, addresses: list[int], dims, batch: int = 1) -> "Tape":
        """The forward call (buffers: outputs..., inputs...) keeping its recording for `replay`."""
        fn, buffers, count = self._entries["forward"]
        if len(addresses) != count:
            raise ValueError(f"adcc kernel '{self.name}' (forward): {count} buffers expected, got {len(addresses)}")
        handle = ctypes.c_void_p()
        self._check("forward", fn(buffers(*addresses), self._c_dims(dims), batch, ctypes.byref(handle)))
        return Tape(self, handle.value, dims if type(dims) is _Shapes else tuple(dims), batch)

    def replay(self, tape: "Tape", addresses: list[int]) -> None:
        """The reverse pass on a recording (buffers: input gradients..., output cotangents...);
        consumes it."""
        fn, buffers, count = self._entries["backward"]
        if len(addresses) != count:
            raise ValueError(f"adcc kernel '{self.name}' (backward): {count} buffers expected, got {len(addresses)}")
        c_dims = self._c_dims(tape._dims)
        handle = tape._take()
        self._check("backward", fn(buffers(*addresses), c_dims, tape.batch, handle))

    def _c_dims(self, dims):
        return dims.c_dims if type(dims) is _Shapes else self._dims_type(*dims)

    def shapes(self, shapes: tuple) -> _Shapes:
        """The `_Shapes` of a tuple of input shapes (checked by the signature; cached)."""
        found = self._shapes.get(shapes)
        if found is None:
            found = _Shapes(self, shapes)
            if len(self._shapes) >= 64:
                self._shapes.clear()
            self._shapes[shapes] = found
        return found

    def _check(self, mode: str, rc: int) -> None:
        if rc != 0:
            if rc < 0:
                raise MemoryError(f"adcc kernel '{self.name}' ({mode}): out of memory for scratch buffers")
            raise KernelError(f"adcc kernel '{self.name}' ({mode}) crashed with {_signal_name(rc)}; the call "
                              "was abandoned (memory it allocated is not freed; the process may be unstable)")

    # -- NumPy API -------------------------------------------------------------------------

    def _array(self, value, param: Param, role: str) -> np.ndarray:
        want = self._dtypes[param.name]
        if isinstance(value, np.ndarray):
            if value.dtype != want:
                raise TypeError(f"{self.name}(): {role} '{param.name}' must be {want}, got {value.dtype}")
            return value if value.flags.c_contiguous else np.ascontiguousarray(value)
        if isinstance(value, (int, float, np.floating, np.integer, list, tuple)):
            try:
                return np.asarray(value, dtype=want)
            except (TypeError, ValueError):
                pass
        raise TypeError(f"{self.name}(): {role} '{param.name}' must be a {want} array, "
                        f"got {type(value).__name__}")

    def _arrays(self, values, params, dtypes, role: str) -> list[np.ndarray]:
        """`_array` of each value; a contiguous ndarray of the right dtype is taken as it is."""
        return [v if type(v) is np.ndarray and v.dtype == want and v.flags.c_contiguous
                else self._array(v, p, role) for v, p, want in zip(values, params, dtypes)]

    def _inputs(self, values) -> tuple[list[np.ndarray], _Shapes]:
        sig = self.signature
        if len(values) != len(sig.inputs):
            raise TypeError(f"{self.name}() takes {len(sig.inputs)} input(s) "
                            f"({', '.join(p.name for p in sig.inputs)}), got {len(values)}")
        arrays = self._arrays(values, sig.inputs, self._input_dtypes, "input")
        return arrays, self.shapes(tuple([a.shape for a in arrays]))

    def _like(self, values, params, shapes, dtypes, role: str) -> list[np.ndarray]:
        """Arrays of the given shapes (None: zeros), shape and dtype checked."""
        out = []
        for v, p, shape, want in zip(values, params, shapes, dtypes):
            if v is None:
                out.append(np.zeros(shape, want))
                continue
            a = v if type(v) is np.ndarray and v.dtype == want and v.flags.c_contiguous else self._array(v, p, role)
            if a.shape != shape:
                raise ValueError(f"{self.name}(): {role} of '{p.name}' must have shape {shape}, got {a.shape}")
            out.append(a)
        return out

    @staticmethod
    def _empty(shapes, dtypes) -> list[np.ndarray]:
        return [np.empty(shape, dtype) for shape, dtype in zip(shapes, dtypes)]

    def __call__(self, *inputs):
        """The kernel's outputs (one array, or a tuple when it has several)."""
        arrays, shapes = self._inputs(inputs)
        outs = [np.empty(shape, dtype) for shape, dtype in zip(shapes.outputs, self._output_dtypes)]
        self.invoke("primal", [address(a) for a in (*outs, *arrays)], shapes)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def jvp(self, primals, tangents):
        """(outputs, output tangents) for one tangent per input (None: zero; must be None for
        const inputs)."""
        sig = self.signature
        arrays, shapes = self._inputs(tuple(primals))
        tangents = tuple(tangents)
        if len(tangents) != len(sig.inputs):
            raise TypeError(f"{self.name}(): expected {len(sig.inputs)} tangents (one per input), got {len(tangents)}")
        for t, p in zip(tangents, sig.inputs):
            if t is not None and not p.differentiable:
                raise ValueError(f"{self.name}(): input '{p.name}' is const (declared without a derivative); "
                                 "its tangent must be None")
        tins = self._like([t for t, p in zip(tangents, sig.inputs) if p.differentiable], sig.differentiable_inputs,
                          shapes.differentiable, self._differentiable_dtypes, "tangent")
        outs = self._empty(shapes.outputs, self._output_dtypes)
        touts = self._empty(shapes.outputs, self._output_dtypes)
        self.invoke("jvp", [address(a) for a in (*outs, *touts, *arrays, *tins)], shapes)
        if len(outs) == 1:
            return outs[0], touts[0]
        return tuple(outs), tuple(touts)

    def forward(self, *inputs):
        """(outputs, tape): the outputs as `kernel(*inputs)` gives them, and the recording the
        reverse pass needs (`backward`), kept in C memory (a split-mode tape per call)."""
        arrays, shapes = self._inputs(inputs)
        outs = self._empty(shapes.outputs, self._output_dtypes)
        tape = self.record([address(a) for a in (*outs, *arrays)], shapes)
        return (outs[0] if len(outs) == 1 else tuple(outs)), tape

    def backward(self, tape: "Tape", cotangents):
        """Gradients (one per input; None for const inputs) of <cotangents, outputs> from a
        `forward` recording, which this consumes (its inputs need not exist any more)."""
        sig = self.signature
        if not isinstance(tape, Tape) or tape.kernel is not self:
            raise TypeError(f"{self.name}(): backward needs a tape from {self.name}.forward")
        cotangents = self._cotangents(cotangents)
        dims = tape.dims
        cts = self._like(cotangents, sig.outputs, tuple(sig.output_shapes(dims)), self._output_dtypes, "cotangent")
        grads = self._empty([sig.shape_of(p, dims) for p in sig.differentiable_inputs], self._differentiable_dtypes)
        self.replay(tape, [address(a) for a in (*grads, *cts)])
        return self._per_input(grads)

    def _per_input(self, grads) -> tuple:
        if len(grads) == len(self.signature.inputs):
            return tuple(grads)
        it = iter(grads)
        return tuple(next(it) if p.differentiable else None for p in self.signature.inputs)

    def _cotangents(self, cotangents) -> tuple:
        sig = self.signature
        if len(sig.outputs) == 1 and not isinstance(cotangents, tuple):
            cotangents = (cotangents,)  # a single output's cotangent given bare
        if not isinstance(cotangents, (tuple, list)):
            raise TypeError(f"{self.name}(): cotangents must be a tuple (one per output)")
        cotangents = tuple(cotangents)
        if len(cotangents) != len(sig.outputs):
            raise TypeError(f"{self.name}(): expected {len(sig.outputs)} cotangents (one per output), "
                            f"got {len(cotangents)}")
        return cotangents

    def vjp(self, primals, cotangents):
        """Gradients (one per input; None for const inputs) of <cotangents, outputs>. Cotangents
        are a tuple, one per output; a single output's cotangent may be given bare."""
        arrays, shapes = self._inputs(tuple(primals))
        cts = self._like(self._cotangents(cotangents), self.signature.outputs, shapes.outputs, self._output_dtypes,
                         "cotangent")
        grads = self._empty(shapes.differentiable, self._differentiable_dtypes)
        self.invoke("vjp", [address(a) for a in (*grads, *arrays, *cts)], shapes)
        return self._per_input(grads)


class Tape:
    """A kernel's forward recording (split-mode tapes in C memory), consumed by one reverse pass
    (`Kernel.backward`); released when it is garbage collected unreversed. Any thread may reverse
    it, one at a time."""

    def __init__(self, kernel: Kernel, handle: int | None, dims, batch: int):
        self.kernel, self._handle, self._dims, self.batch = kernel, handle, dims, batch

    @property
    def dims(self) -> tuple[int, ...]:
        """The dimension values of the recorded call."""
        return self._dims.dims if type(self._dims) is _Shapes else self._dims

    @property
    def consumed(self) -> bool:
        return self._handle is None

    def _take(self) -> int:
        handle, self._handle = self._handle, None
        if handle is None:
            raise RuntimeError(f"adcc kernel '{self.kernel.name}': this tape was reversed or released already "
                               "(a tape serves one reverse pass)")
        return handle

    def release(self) -> None:
        """Free a recording that will not be reversed."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self.kernel._release(handle)

    def __del__(self):
        self.release()

    def __repr__(self) -> str:
        return f"<adcc tape of {self.kernel.name}{' (consumed)' if self.consumed else ''}>"


class Library:
    """What `adcc.compile` returns: `lib.f(...)`, `lib.jvp_f(...)`, `lib.vjp_f(...)`, `lib["f"]`."""

    def __init__(self, path: str, signatures: list[Signature]):
        self.path = path
        self._cdll = ctypes.CDLL(path)
        self.kernels = {s.name: Kernel(self._cdll, s, self) for s in signatures}
        self._live_tapes = self._cdll.adcc_bridge_live_tapes
        self._live_tapes.restype = ctypes.c_int64
        self._live_tapes.argtypes = ()
        # `lib.f`, `lib.jvp_f`, `lib.vjp_f` as instance attributes (no __getattr__ on each call);
        # a name that is an attribute of the library already stays __getattr__'s, as before
        names = {}
        for name, kernel in self.kernels.items():
            names.setdefault(f"jvp_{name}", kernel.jvp)
            names.setdefault(f"vjp_{name}", kernel.vjp)
        for name, kernel in self.kernels.items():
            names[name] = kernel
        for attr, value in names.items():
            if attr not in self.__dict__ and not hasattr(type(self), attr):
                self.__dict__[attr] = value

    def live_tapes(self) -> int:
        """Split-mode tapes alive in this library (each forward recording holds one per batch item)."""
        return int(self._live_tapes())

    def __getitem__(self, name: str) -> Kernel:
        try:
            return self.kernels[name]
        except KeyError:
            raise KeyError(f"no kernel '{name}' in this library (has: {', '.join(self.kernels)})") from None

    def __getattr__(self, attr: str):
        kernels = self.__dict__.get("kernels", {})
        if attr in kernels:
            return kernels[attr]
        for prefix, method in (("jvp_", "jvp"), ("vjp_", "vjp")):
            if attr.startswith(prefix) and attr[len(prefix):] in kernels:
                return getattr(kernels[attr[len(prefix):]], method)
        raise AttributeError(f"no kernel '{attr}' in this library (has: {', '.join(kernels)})")

    def __dir__(self):
        names = list(self.kernels)
        return [*super().__dir__(), *names, *(f"jvp_{n}" for n in names), *(f"vjp_{n}" for n in names)]

    def __repr__(self) -> str:
        return f"<adcc library {self.path}: {', '.join(self.kernels)}>"
