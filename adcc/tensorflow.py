"""TensorFlow front end of the bridge: `adcc.tensorflow.function(lib, "f")` wraps the kernel
with tf.custom_gradient (reverse derivative as the gradient), eagerly and inside tf.function.

The kernel runs through tf.numpy_function on the CPU, on the NumPy API of the bridge (which
checks every argument). Const inputs get a None gradient. Second derivatives are not available.
"""
from __future__ import annotations

import tensorflow as tf

_DTYPES = {"float64": tf.float64, "float32": tf.float32}


def function(library, name: str):
    """A TensorFlow function computing kernel `name` of `library` (an adcc.compile result)."""
    kernel = library[name]
    sig = kernel.signature
    n_inputs = len(sig.inputs)
    out_dtypes = [_DTYPES[p.dtype] for p in sig.outputs]
    grad_dtypes = [_DTYPES[p.dtype] for p in sig.differentiable_inputs]

    def primal(*arrays):
        outs = kernel(*arrays)
        return list(outs) if isinstance(outs, tuple) else [outs]

    def reverse(*arrays):
        grads = kernel.vjp(arrays[:n_inputs], tuple(arrays[n_inputs:]))
        return [g for g in grads if g is not None]

    @tf.custom_gradient
    def apply(*inputs):
        outs = _as_list(tf.numpy_function(primal, list(inputs), out_dtypes, stateful=False))
        shapes = _static_output_shapes(sig, inputs)
        for o, shape in zip(outs, shapes):
            o.set_shape(shape)

        def gradient(*upstream):
            upstream = [tf.zeros_like(o) if u is None else u for u, o in zip(upstream, outs)]
            grads = _as_list(tf.numpy_function(reverse, [*inputs, *upstream], grad_dtypes, stateful=False))
            it = iter(grads)
            result = []
            for p, x in zip(sig.inputs, inputs):
                if p.differentiable:
                    g = next(it)
                    g.set_shape(x.shape)
                    result.append(g)
                else:
                    result.append(None)
            return result

        return (outs[0] if len(outs) == 1 else tuple(outs)), gradient

    def call(*inputs):
        if len(inputs) != n_inputs:
            raise TypeError(f"{name}() takes {n_inputs} input(s) ({', '.join(p.name for p in sig.inputs)}), "
                            f"got {len(inputs)}")
        return apply(*[_tensor(x, p, name) for x, p in zip(inputs, sig.inputs)])

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"adcc kernel {sig.text()}"
    return call


def _as_list(values):
    return list(values) if isinstance(values, (list, tuple)) else [values]


def _tensor(value, param, name: str) -> tf.Tensor:
    dtype = _DTYPES[param.dtype]
    if isinstance(value, (int, float)):
        return tf.constant(value, dtype=dtype)
    if not (tf.is_tensor(value) or hasattr(value, "dtype")):
        raise TypeError(f"{name}(): input '{param.name}' must be a tensor, got {type(value).__name__}")
    tensor = tf.convert_to_tensor(value)
    if tensor.dtype != dtype:
        raise TypeError(f"{name}(): input '{param.name}' must be {dtype.name}, got {tensor.dtype.name}")
    return tensor


def _static_output_shapes(sig, inputs):
    """Output shapes when the input shapes are known (checked: ValueError naming the input);
    unknown dimensions stay unknown (checked when the kernel runs)."""
    shapes = [tuple(x.shape.as_list()) if x.shape.rank is not None else None for x in inputs]
    if all(s is not None and None not in s for s in shapes):
        return [tf.TensorShape(s) for s in sig.output_shapes(sig.bind(shapes))]
    return [tf.TensorShape([d if isinstance(d, int) else None for d in p.shape]) for p in sig.outputs]
