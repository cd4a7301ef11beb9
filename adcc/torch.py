"""PyTorch front end of the bridge: `adcc.torch.function(lib, "f")` applies a
torch.autograd.Function whose backward is the kernel's reverse derivative and whose jvp (forward
AD, torch.func.jvp) is its forward derivative.

CPU tensors of the declared dtype, any strides (non-contiguous ones are copied); requires_grad
on any subset of the inputs. When gradients are wanted, the forward call records the kernel's
split-mode tape (`Kernel.record`) and the backward pass reverses it instead of running the kernel
again; a second backward through the same graph (retain_graph=True) recomputes from the saved
inputs, and a tape whose graph is freed unreversed is released with it. A const input that requires grad is an error (its gradient would
silently be zero). Double backward and the torch.func transforms (vmap, jvp, grad) are not
supported; forward AD works through torch.autograd.forward_ad.
"""
from __future__ import annotations

import threading

import torch
from torch.autograd.function import once_differentiable

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def function(library, name: str):
    """A callable applying kernel `name` of `library` (an adcc.compile result) to tensors."""
    kernel = library[name]
    sig = kernel.signature

    def call(*inputs):
        if len(inputs) != len(sig.inputs):
            raise TypeError(f"{name}() takes {len(sig.inputs)} input(s) "
                            f"({', '.join(p.name for p in sig.inputs)}), got {len(inputs)}")
        tensors = [_tensor(x, p, "input", name) for x, p in zip(inputs, sig.inputs)]
        for t, p in zip(tensors, sig.inputs):
            if not p.differentiable and t.requires_grad:
                raise ValueError(f"{name}(): input '{p.name}' is declared const (no derivative) but "
                                 "requires grad; detach it or declare it differentiable")
        record = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
        return _KernelFunction.apply(kernel, record, *tensors)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"adcc kernel {sig.text()}"
    return call


def _tensor(value, param, role: str, name: str) -> torch.Tensor:
    dtype = _DTYPES[param.dtype]
    if not isinstance(value, torch.Tensor):
        if isinstance(value, (int, float)):
            return torch.tensor(value, dtype=dtype)
        raise TypeError(f"{name}(): {role} '{param.name}' must be a torch.Tensor, got {type(value).__name__}")
    if value.device.type != "cpu":
        raise TypeError(f"{name}(): {role} '{param.name}' must be a CPU tensor, got device {value.device}")
    if value.dtype != dtype:
        raise TypeError(f"{name}(): {role} '{param.name}' must be {dtype}, got {value.dtype}")
    return value


def _buffers(tensors, params, role: str, name: str, shapes=None):
    """Contiguous, checked versions of `tensors` (shape checked against `shapes` when given)."""
    out = []
    for i, (t, p) in enumerate(zip(tensors, params)):
        t = _tensor(t, p, role, name).detach()
        if shapes is not None and tuple(t.shape) != tuple(shapes[i]):
            raise ValueError(f"{name}(): {role} of '{p.name}' must have shape {tuple(shapes[i])}, got {tuple(t.shape)}")
        out.append(t.contiguous())
    return out


def _empty(sig, params, dims):
    return [torch.empty(sig.shape_of(p, dims), dtype=_DTYPES[p.dtype]) for p in params]


# the tape a forward call recorded, handed to setup_context (which runs right after forward, on
# the same thread)
_recorded = threading.local()


class _KernelFunction(torch.autograd.Function):
    @staticmethod
    def forward(kernel, record, *inputs):
        sig = kernel.signature
        arrays = _buffers(inputs, sig.inputs, "input", sig.name)
        dims = sig.bind([tuple(a.shape) for a in arrays])
        outs = _empty(sig, sig.outputs, dims)
        addresses = [t.data_ptr() for t in (*outs, *arrays)]
        if record:
            _recorded.tape = kernel.record(addresses, dims)
        else:
            kernel.invoke("primal", addresses, dims)
        return outs[0] if len(outs) == 1 else tuple(outs)

    @staticmethod
    def setup_context(ctx, inputs, output):
        kernel, _record, *tensors = inputs
        ctx.tape = getattr(_recorded, "tape", None)
        _recorded.tape = None
        ctx.kernel = kernel
        ctx.dims = kernel.signature.bind([tuple(t.shape) for t in tensors])
        ctx.set_materialize_grads(False)  # None marks an input without a tangent (const inputs)
        ctx.save_for_backward(*tensors)
        ctx.save_for_forward(*tensors)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grad_outputs):
        kernel, dims = ctx.kernel, ctx.dims
        sig = kernel.signature
        wanted = ctx.needs_input_grad[2:]
        if not any(w and p.differentiable for w, p in zip(wanted, sig.inputs)):
            return (None,) * (2 + len(sig.inputs))
        shapes = sig.output_shapes(dims)
        grad_outputs = [torch.zeros(shape, dtype=_DTYPES[p.dtype]) if g is None else g
                        for g, p, shape in zip(grad_outputs, sig.outputs, shapes)]
        cts = _buffers(grad_outputs, sig.outputs, "gradient", sig.name, shapes)
        grads = _empty(sig, sig.differentiable_inputs, dims)
        tape = ctx.tape
        if tape is not None and not tape.consumed:  # the forward call's recording
            kernel.replay(tape, [t.data_ptr() for t in (*grads, *cts)])
        else:  # no recording, or reversed already (retain_graph): from the saved inputs
            arrays = _buffers(ctx.saved_tensors, sig.inputs, "input", sig.name)
            kernel.invoke("vjp", [t.data_ptr() for t in (*grads, *arrays, *cts)], dims)
        it = iter(grads)
        result = [next(it) if p.differentiable else None for p in sig.inputs]
        return (None, None, *[g if w else None for g, w in zip(result, wanted)])

    @staticmethod
    def jvp(ctx, _kernel_tangent, _record_tangent, *tangents):
        kernel, dims = ctx.kernel, ctx.dims
        sig = kernel.signature
        arrays = _buffers(ctx.saved_tensors, sig.inputs, "input", sig.name)
        tins = []
        for t, p, a in zip(tangents, sig.inputs, arrays):
            if not p.differentiable:
                if t is not None:
                    raise ValueError(f"{sig.name}(): input '{p.name}' is declared const (no derivative) "
                                     "but has a forward-mode tangent")
                continue
            tins.append(torch.zeros_like(a) if t is None else _buffers([t], [p], "tangent", sig.name, [a.shape])[0])
        outs = _empty(sig, sig.outputs, dims)
        touts = _empty(sig, sig.outputs, dims)
        kernel.invoke("jvp", [t.data_ptr() for t in (*outs, *touts, *arrays, *tins)], dims)
        return touts[0] if len(touts) == 1 else tuple(touts)
