"""A loaded bridge library and its kernels, callable on NumPy arrays.

`Kernel.invoke` is the one raw call every front end (NumPy, JAX, PyTorch, TensorFlow) goes
through: buffer addresses in the order of codegen's ABI, the dimension values, a batch count.
The NumPy methods check every argument (dtype: TypeError; shape: ValueError; both name the
argument) before any address reaches C.
"""
from __future__ import annotations

import ctypes
import signal

import numpy as np

from adcc.bridge import codegen
from adcc.bridge.signature import Param, Signature

_VOID_P_ARRAYS: dict[int, type] = {}


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
        self._entries = {}
        for mode in codegen.MODES:
            fn = getattr(cdll, codegen.entry_name(signature.name, mode))
            fn.restype = ctypes.c_int
            fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
            self._entries[mode] = fn
        for mode, last in (("forward", ctypes.POINTER(ctypes.c_void_p)), ("backward", ctypes.c_void_p)):
            fn = getattr(cdll, codegen.entry_name(signature.name, mode))
            fn.restype = ctypes.c_int
            fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, last)
            self._entries[mode] = fn
        self._release = getattr(cdll, codegen.entry_name(signature.name, "release"))
        self._release.restype = None
        self._release.argtypes = (ctypes.c_void_p,)
        self._dtypes = {p.name: np.dtype(p.dtype) for p in (*signature.inputs, *signature.outputs)}

    @property
    def name(self) -> str:
        return self.signature.name

    def entry_address(self, mode: str) -> int:
        return ctypes.cast(self._entries[mode], ctypes.c_void_p).value

    def __repr__(self) -> str:
        return f"<adcc kernel {self.signature.text()}>"

    # -- raw call ------------------------------------------------------------------------

    def invoke(self, mode: str, addresses: list[int], dims: tuple[int, ...], batch: int = 1) -> None:
        self._check(mode, self._entries[mode](*self._frame(addresses, dims), batch))

    def record(self, addresses: list[int], dims: tuple[int, ...], batch: int = 1) -> "Tape":
        """The forward call (buffers: outputs..., inputs...) keeping its recording for `replay`."""
        handle = ctypes.c_void_p()
        self._check("forward", self._entries["forward"](*self._frame(addresses, dims), batch, ctypes.byref(handle)))
        return Tape(self, handle.value, dims, batch)

    def replay(self, tape: "Tape", addresses: list[int]) -> None:
        """The reverse pass on a recording (buffers: input gradients..., output cotangents...);
        consumes it."""
        handle = tape._take()
        self._check("backward", self._entries["backward"](*self._frame(addresses, tape.dims), tape.batch, handle))

    @staticmethod
    def _frame(addresses: list[int], dims: tuple[int, ...]):
        n = len(addresses)
        array_type = _VOID_P_ARRAYS.get(n) or _VOID_P_ARRAYS.setdefault(n, ctypes.c_void_p * n)
        return array_type(*addresses), (ctypes.c_int64 * max(len(dims), 1))(*dims)

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

    def _inputs(self, values) -> tuple[list[np.ndarray], tuple[int, ...]]:
        sig = self.signature
        if len(values) != len(sig.inputs):
            raise TypeError(f"{self.name}() takes {len(sig.inputs)} input(s) "
                            f"({', '.join(p.name for p in sig.inputs)}), got {len(values)}")
        arrays = [self._array(v, p, "input") for v, p in zip(values, sig.inputs)]
        return arrays, sig.bind([a.shape for a in arrays])

    def _like(self, values, params, shapes, role: str, allow_none: bool) -> list[np.ndarray | None]:
        out = []
        for v, p, shape in zip(values, params, shapes):
            if v is None:
                out.append(None if allow_none else np.zeros(shape, self._dtypes[p.name]))
                continue
            a = self._array(v, p, role)
            if a.shape != shape:
                raise ValueError(f"{self.name}(): {role} of '{p.name}' must have shape {shape}, got {a.shape}")
            out.append(a)
        return out

    def _empty(self, params, dims) -> list[np.ndarray]:
        return [np.empty(self.signature.shape_of(p, dims), self._dtypes[p.name]) for p in params]

    def __call__(self, *inputs):
        """The kernel's outputs (one array, or a tuple when it has several)."""
        arrays, dims = self._inputs(inputs)
        outs = self._empty(self.signature.outputs, dims)
        self.invoke("primal", [a.ctypes.data for a in (*outs, *arrays)], dims)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def jvp(self, primals, tangents):
        """(outputs, output tangents) for one tangent per input (None: zero; must be None for
        const inputs)."""
        sig = self.signature
        arrays, dims = self._inputs(tuple(primals))
        tangents = tuple(tangents)
        if len(tangents) != len(sig.inputs):
            raise TypeError(f"{self.name}(): expected {len(sig.inputs)} tangents (one per input), got {len(tangents)}")
        for t, p in zip(tangents, sig.inputs):
            if t is not None and not p.differentiable:
                raise ValueError(f"{self.name}(): input '{p.name}' is const (declared without a derivative); "
                                 "its tangent must be None")
        diff = [(t, p, a.shape) for t, p, a in zip(tangents, sig.inputs, arrays) if p.differentiable]
        tins = self._like([d[0] for d in diff], [d[1] for d in diff], [d[2] for d in diff], "tangent", False)
        outs = self._empty(sig.outputs, dims)
        touts = self._empty(sig.outputs, dims)
        self.invoke("jvp", [a.ctypes.data for a in (*outs, *touts, *arrays, *tins)], dims)
        if len(outs) == 1:
            return outs[0], touts[0]
        return tuple(outs), tuple(touts)

    def forward(self, *inputs):
        """(outputs, tape): the outputs as `kernel(*inputs)` gives them, and the recording the
        reverse pass needs (`backward`), kept in C memory (a split-mode tape per call)."""
        arrays, dims = self._inputs(inputs)
        outs = self._empty(self.signature.outputs, dims)
        tape = self.record([a.ctypes.data for a in (*outs, *arrays)], dims)
        return (outs[0] if len(outs) == 1 else tuple(outs)), tape

    def backward(self, tape: "Tape", cotangents):
        """Gradients (one per input; None for const inputs) of <cotangents, outputs> from a
        `forward` recording, which this consumes (its inputs need not exist any more)."""
        sig = self.signature
        if not isinstance(tape, Tape) or tape.kernel is not self:
            raise TypeError(f"{self.name}(): backward needs a tape from {self.name}.forward")
        cotangents = self._cotangents(cotangents)
        cts = self._like(cotangents, sig.outputs, sig.output_shapes(tape.dims), "cotangent", False)
        grads = self._empty(sig.differentiable_inputs, tape.dims)
        self.replay(tape, [a.ctypes.data for a in (*grads, *cts)])
        it = iter(grads)
        return tuple(next(it) if p.differentiable else None for p in sig.inputs)

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
        sig = self.signature
        arrays, dims = self._inputs(tuple(primals))
        cotangents = self._cotangents(cotangents)
        cts = self._like(cotangents, sig.outputs, sig.output_shapes(dims), "cotangent", False)
        grads = self._empty(sig.differentiable_inputs, dims)
        self.invoke("vjp", [a.ctypes.data for a in (*grads, *arrays, *cts)], dims)
        it = iter(grads)
        return tuple(next(it) if p.differentiable else None for p in sig.inputs)


class Tape:
    """A kernel's forward recording (split-mode tapes in C memory), consumed by one reverse pass
    (`Kernel.backward`); released when it is garbage collected unreversed. Any thread may reverse
    it, one at a time."""

    def __init__(self, kernel: Kernel, handle: int | None, dims: tuple[int, ...], batch: int):
        self.kernel, self._handle, self.dims, self.batch = kernel, handle, dims, batch

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
