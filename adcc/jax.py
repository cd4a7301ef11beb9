"""JAX front end of the bridge: `adcc.jax.function(lib, "f")` is a JAX function usable under
jit, grad, vjp, jvp and vmap.

Three primitives carry a kernel: `adcc_call` (the primal), `adcc_tangent` (the forward
derivative, linear in its tangent operands) and `adcc_cotangent` (the reverse derivative).
JVP of `adcc_call` = `adcc_tangent`; the transpose of `adcc_tangent` = `adcc_cotangent`, so
jax.grad/vjp use the reverse derivative and jax.jvp the forward one. vmap moves the batch axis
first and the C wrappers loop over it. On CPU each primitive lowers to an XLA FFI custom call
(a shim per library, bridge/xla_ffi.py) or, without jaxlib's FFI header or with
backend="callback", to `jax.pure_callback`. Second derivatives are not available.
"""
from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from adcc.bridge import xla_ffi
from adcc.bridge.library import address

BACKENDS = ("ffi", "callback")
_registered_targets: set[str] = set()


class _Target:
    """A kernel as the primitives see it (a static, hashable parameter)."""

    def __init__(self, kernel, backend: str):
        self.kernel = kernel
        self.signature = kernel.signature
        self.backend = backend
        self.ffi_names = {}
        if backend == "ffi":
            self._register_ffi()

    def _register_ffi(self):
        import ctypes
        import os
        lib = self.kernel.library
        shim_path = getattr(lib, "_xla_ffi_shim", None)
        if shim_path is None:
            shim_path = xla_ffi.build_shim(lib.path, list(lib.kernels))
            lib._xla_ffi_shim = shim_path
            lib._xla_ffi_cdll = ctypes.CDLL(shim_path)
        key = os.path.basename(os.path.dirname(lib.path))
        for mode in ("primal", "jvp", "vjp"):
            name = f"adcc_{key}_{self.signature.name}_{mode}"
            if name not in _registered_targets:
                handler = getattr(lib._xla_ffi_cdll, xla_ffi.handler_name(self.signature.name, mode))
                jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(handler), platform="cpu")
                _registered_targets.add(name)
            self.ffi_names[mode] = name

    def __repr__(self) -> str:
        return f"adcc:{self.signature.name}:{self.backend}"


def _choose_backend(backend: str | None) -> str:
    if backend is None:
        return "ffi" if xla_ffi.include_dir() is not None else "callback"
    if backend not in BACKENDS:
        raise ValueError(f"adcc.jax: backend must be one of {BACKENDS}, got '{backend}'")
    if backend == "ffi" and xla_ffi.include_dir() is None:
        raise RuntimeError("adcc.jax: this jaxlib ships no XLA FFI header; use backend='callback'")
    return backend


def function(library, name: str, out_shapes=None, backend: str | None = None):
    """A JAX function computing kernel `name` of `library` (an adcc.compile result).

    out_shapes: optional shapes (or ShapeDtypeStructs) of the outputs, checked against the
    signature at trace time. backend: "ffi" (default when jaxlib has the FFI header) or
    "callback" (jax.pure_callback)."""
    kernel = library[name]
    target = _Target(kernel, _choose_backend(backend))
    sig = kernel.signature
    expected = None if out_shapes is None else _normalize_out_shapes(out_shapes, len(sig.outputs), name)

    def call(*args):
        args = [_operand(a, p, name) for a, p in zip(args, sig.inputs)] if len(args) == len(sig.inputs) else args
        _check(target, [jax.typeof(a) if hasattr(jax, "typeof") else jax.core.get_aval(a) for a in args],
               batched=False)
        outs = call_p.bind(*args, target=target)
        if expected is not None:
            for o, want, p in zip(outs, expected, sig.outputs):
                if tuple(o.shape) != tuple(want):
                    raise ValueError(f"{name}(): output '{p.name}' has shape {tuple(o.shape)}, "
                                     f"out_shapes says {tuple(want)}")
        return outs[0] if len(outs) == 1 else tuple(outs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"adcc kernel {sig.text()}"
    return call


def _normalize_out_shapes(out_shapes, count: int, name: str):
    items = [out_shapes] if count == 1 and (hasattr(out_shapes, "shape") or
                                             all(isinstance(d, int) for d in out_shapes)) else list(out_shapes)
    if len(items) != count:
        raise ValueError(f"{name}(): out_shapes gives {len(items)} shapes for {count} outputs")
    return [tuple(getattr(s, "shape", s)) for s in items]


def _operand(value, param, name: str):
    if isinstance(value, (int, float)):
        return jnp.asarray(value, dtype=param.dtype)
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        raise TypeError(f"{name}(): input '{param.name}' must be a {param.dtype} array, got {type(value).__name__}")
    return value


# -- shapes and dtypes ----------------------------------------------------------------------

def _check(target, avals, batched: bool, roles=None):
    """(batch shape, dims) of the operands; TypeError/ValueError naming the argument."""
    sig = target.signature
    inputs = avals[:len(sig.inputs)]
    if len(inputs) != len(sig.inputs):
        raise TypeError(f"{sig.name}() takes {len(sig.inputs)} input(s) "
                        f"({', '.join(p.name for p in sig.inputs)}), got {len(inputs)}")
    for aval, p in zip(inputs, sig.inputs):
        if np.dtype(aval.dtype) != np.dtype(p.dtype):
            hint = (" (enable float64 in JAX: jax.config.update('jax_enable_x64', True))"
                    if p.dtype == "float64" and not jax.config.jax_enable_x64 else "")
            raise TypeError(f"{sig.name}(): input '{p.name}' must be {p.dtype}, got {aval.dtype}{hint}")
    batch_rank = len(inputs[0].shape) - sig.inputs[0].rank if (batched and inputs) else 0
    batch_shape = tuple(inputs[0].shape[:batch_rank]) if inputs else ()
    dims = sig.bind([tuple(a.shape[batch_rank:]) for a in inputs])
    return batch_shape, dims


def _result_avals(target, mode: str, avals):
    sig = target.signature
    batch_shape, dims = _check(target, avals, batched=True)
    params = {"primal": sig.outputs, "jvp": sig.outputs, "vjp": sig.differentiable_inputs}[mode]
    return [jax.core.ShapedArray(batch_shape + sig.shape_of(p, dims), np.dtype(p.dtype)) for p in params], \
        batch_shape, dims


def _ranks(target, mode: str) -> list[int]:
    sig = target.signature
    ins = [p.rank for p in sig.inputs]
    outs = [p.rank for p in sig.outputs]
    diff = [p.rank for p in sig.differentiable_inputs]
    return {"primal": outs + ins, "jvp": outs + outs + ins + diff, "vjp": diff + ins + outs}[mode]


# -- lowering: one computation per primitive, through the FFI or a host callback -------------

def _run(mode: str, *args, target):
    """Compute primitive `mode` on `args` (also used eagerly). For "jvp" only the output
    tangents are returned (the kernel also writes the outputs)."""
    sig = target.signature
    avals, batch_shape, dims = _result_avals(target, "vjp" if mode == "vjp" else "primal", args)
    results = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in avals]
    if mode == "jvp":
        results = results + results
    if target.backend == "ffi":
        outs = jax.ffi.ffi_call(target.ffi_names[mode], results)(
            *args, dims=np.array(list(dims) or [0], np.int64), ranks=np.array(_ranks(target, mode), np.int64))
    else:
        batch = math.prod(batch_shape)

        def host(*arrays):
            arrays = [np.ascontiguousarray(a) for a in arrays]
            outs = [np.empty(r.shape, r.dtype) for r in results]
            target.kernel.invoke(mode, [address(a) for a in (*outs, *arrays)], dims, batch)
            return outs

        outs = jax.pure_callback(host, results, *args, vmap_method="sequential")
    outs = list(outs)
    return outs[len(sig.outputs):] if mode == "jvp" else outs


def _primitive(name: str, mode: str) -> Primitive:
    p = Primitive(name)
    p.multiple_results = True
    p.def_impl(partial(_run, mode))
    p.def_abstract_eval(lambda *avals, target: _result_avals(target, mode, avals)[0])
    mlir.register_lowering(p, mlir.lower_fun(partial(_run, mode), multiple_results=True), platform="cpu")
    batching.primitive_batchers[p] = partial(_batch, p)
    return p


def _batch(primitive, args, batch_dims, *, target):
    size = next(a.shape[d] for a, d in zip(args, batch_dims) if d is not None)
    moved = [jnp.broadcast_to(a, (size, *a.shape)) if d is None else jnp.moveaxis(a, d, 0)
             for a, d in zip(args, batch_dims)]
    outs = primitive.bind(*moved, target=target)
    return outs, [0] * len(outs)


call_p = _primitive("adcc_call", "primal")
tangent_p = _primitive("adcc_tangent", "jvp")
cotangent_p = _primitive("adcc_cotangent", "vjp")


def _zero_like(aval):
    return ad.Zero(aval.to_tangent_aval())


def _aval(x):
    return jax.typeof(x) if hasattr(jax, "typeof") else jax.core.get_aval(x)


def _call_jvp(primals, tangents, *, target):
    sig = target.signature
    outs = call_p.bind(*primals, target=target)
    for t, p in zip(tangents, sig.inputs):
        if not p.differentiable and type(t) is not ad.Zero:
            raise TypeError(f"{sig.name}(): input '{p.name}' is declared const (no derivative), "
                            "but JAX differentiates with respect to it")
    diff = [(x, t) for x, t, p in zip(primals, tangents, sig.inputs) if p.differentiable]
    if all(type(t) is ad.Zero for _, t in diff):
        return outs, [_zero_like(_aval(o)) for o in outs]
    touts = tangent_p.bind(*primals, *[ad.instantiate_zeros(t) for _, t in diff], target=target)
    return outs, touts


def _tangent_transpose(cotangents, *args, target):
    sig = target.signature
    primals = args[:len(sig.inputs)]
    if any(ad.is_undefined_primal(x) for x in primals):
        raise NotImplementedError(f"adcc kernel '{sig.name}': second derivatives through JAX are not "
                                  "supported (only first-order grad/vjp/jvp)")
    tangents = args[len(sig.inputs):]
    if all(type(c) is ad.Zero for c in cotangents):
        return [None] * len(primals) + [ad.Zero(t.aval) for t in tangents]
    cts = [ad.instantiate_zeros(c) for c in cotangents]
    return [None] * len(primals) + list(cotangent_p.bind(*primals, *cts, target=target))


def _no_higher_order(name):
    def rule(primals, tangents, *, target):
        raise NotImplementedError(f"adcc kernel '{target.signature.name}': differentiating its {name} "
                                  "(a second derivative) is not supported")
    return rule


ad.primitive_jvps[call_p] = _call_jvp
ad.primitive_transposes[tangent_p] = _tangent_transpose
ad.primitive_jvps[tangent_p] = _no_higher_order("forward derivative")
ad.primitive_jvps[cotangent_p] = _no_higher_order("reverse derivative")
