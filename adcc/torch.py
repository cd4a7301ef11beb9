"""PyTorch front end of the bridge: `adcc.torch.function(lib, "f")` applies a
torch.autograd.Function whose backward is the kernel's reverse derivative and whose jvp (forward
AD, torch.func.jvp) is its forward derivative.

CPU tensors of the declared dtype, any strides (non-contiguous ones are copied); requires_grad
on any subset of the inputs. When gradients are wanted, the forward call records the kernel's
split-mode tape (`Kernel.record`) and the backward pass reverses it instead of running the kernel
again; a second backward through the same graph (retain_graph=True) recomputes from the saved
inputs, and a tape whose graph is freed unreversed is released with it. A call that needs no
derivative (no input requires grad, or grad mode is off, and no forward-AD dual level is open)
runs the kernel without an autograd node. A const input that requires grad is an error (its
gradient would silently be zero). Double backward and the torch.func transforms (vmap, jvp, grad) are not
supported; forward AD works through torch.autograd.forward_ad.
"""
from __future__ import annotations

import torch
from torch.autograd import forward_ad
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
        if not record and forward_ad._current_level < 0:
            # nothing to differentiate (no input requires grad, no dual level for forward AD):
            # the kernel alone, without an autograd node (what `apply` would give, for less)
            outs = _primal(kernel, tensors)
            return outs[0] if len(outs) == 1 else tuple(outs)
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
    if not value.is_cpu:
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


def _empty(shapes, params):
    return [torch.empty(shape, dtype=_DTYPES[p.dtype]) for shape, p in zip(shapes, params)]


def _contiguous(tensors):
    return [t if t.is_contiguous() else t.contiguous() for t in tensors]


def _primal(kernel, tensors):
    """The kernel's outputs on checked input tensors, outside autograd."""
    sig = kernel.signature
    arrays = _contiguous(tensors)
    shapes = kernel.shapes(tuple([tuple(a.shape) for a in arrays]))
    outs = _empty(shapes.outputs, sig.outputs)
    kernel.invoke("primal", [t.data_ptr() for t in (*outs, *arrays)], shapes)
    return outs


class _KernelFunction(torch.autograd.Function):
    # forward takes ctx itself (no setup_context): with a setup_context, torch binds apply's
    # arguments with inspect.signature on every call, tens of microseconds; the torch.func
    # transforms, which would need one, are not supported anyway
    @staticmethod
    def forward(ctx, kernel, record, *inputs):
        sig = kernel.signature
        arrays = _contiguous(inputs)
        shapes = kernel.shapes(tuple([tuple(a.shape) for a in arrays]))
        outs = _empty(shapes.outputs, sig.outputs)
        addresses = [t.data_ptr() for t in (*outs, *arrays)]
        if record:
            ctx.tape = kernel.record(addresses, shapes)
        else:
            ctx.tape = None
            kernel.invoke("primal", addresses, shapes)
        ctx.kernel = kernel
        ctx.shapes = shapes
        ctx.set_materialize_grads(False)  # None marks an input without a tangent (const inputs)
        ctx.save_for_backward(*inputs)
        ctx.save_for_forward(*inputs)
        return outs[0] if len(outs) == 1 else tuple(outs)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grad_outputs):
        kernel, shapes = ctx.kernel, ctx.shapes
        sig = kernel.signature
        wanted = ctx.needs_input_grad[2:]
        if not any(w and p.differentiable for w, p in zip(wanted, sig.inputs)):
            return (None,) * (2 + len(sig.inputs))
        grad_outputs = [torch.zeros(shape, dtype=_DTYPES[p.dtype]) if g is None else g
                        for g, p, shape in zip(grad_outputs, sig.outputs, shapes.outputs)]
        cts = _buffers(grad_outputs, sig.outputs, "gradient", sig.name, shapes.outputs)
        grads = _empty(shapes.differentiable, sig.differentiable_inputs)
        tape = ctx.tape
        if tape is not None and not tape.consumed:  # the forward call's recording
            kernel.replay(tape, [t.data_ptr() for t in (*grads, *cts)])
        else:  # no recording, or reversed already (retain_graph): from the saved inputs
            arrays = _buffers(ctx.saved_tensors, sig.inputs, "input", sig.name)
            kernel.invoke("vjp", [t.data_ptr() for t in (*grads, *arrays, *cts)], shapes)
        it = iter(grads)
        result = [next(it) if p.differentiable else None for p in sig.inputs]
        return (None, None, *[g if w else None for g, w in zip(result, wanted)])

    @staticmethod
    def jvp(ctx, _kernel_tangent, _record_tangent, *tangents):
        kernel, shapes = ctx.kernel, ctx.shapes
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
        outs = _empty(shapes.outputs, sig.outputs)
        touts = _empty(shapes.outputs, sig.outputs)
        kernel.invoke("jvp", [t.data_ptr() for t in (*outs, *touts, *arrays, *tins)], shapes)
        return touts[0] if len(touts) == 1 else tuple(touts)
