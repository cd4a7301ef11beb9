"""adcc.torch: kernels as torch.autograd.Function applications; gradcheck (reverse and forward
AD) in float64, non-contiguous tensors, requires_grad on any subset. Run by `make test-torch`
(which installs torch); skipped when torch is missing."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: run `make test-torch`")
import adcc  # noqa: E402
import adcc.torch  # noqa: E402
from bridge_helpers import library, mix_inputs, mix_reference  # noqa: E402


def tensors(seed=0, requires=(True, True, False)):
    return [torch.tensor(a, requires_grad=r) for a, r in zip(mix_inputs(np.random.default_rng(seed)), requires)]


def test_primal_matches_numpy():
    mix = adcc.torch.function(library(), "mix")
    x, w, c = tensors()
    y, s = mix(x, w, c)
    y_ref, s_ref = mix_reference(x.detach().numpy(), w.detach().numpy(), c.numpy())
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=1e-13)
    np.testing.assert_allclose(s.item(), s_ref, rtol=1e-13)


def test_gradcheck_reverse_and_forward_ad():
    mix = adcc.torch.function(library(), "mix")
    scan = adcc.torch.function(library(), "scan")
    x, w, c = tensors(1)
    assert torch.autograd.gradcheck(lambda x, w: mix(x, w, c), (x, w), check_forward_ad=True)
    xs = torch.linspace(-1.5, 2.0, 9, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(scan, (xs,), check_forward_ad=True)


@pytest.mark.parametrize("requires", [(True, False), (False, True), (True, True)])
def test_requires_grad_on_any_subset(requires):
    mix = adcc.torch.function(library(), "mix")
    x, w, c = tensors(2, (*requires, False))
    y, s = mix(x, w, c)
    (y.square().sum() + s).backward()
    for t, r in zip((x, w), requires):
        assert (t.grad is not None) == r
    reference = tensors(2, (True, True, False))
    y, s = mix(*reference)
    (y.square().sum() + s).backward()
    for t, ref, r in zip((x, w), reference, requires):
        if r:
            torch.testing.assert_close(t.grad, ref.grad)


def test_non_contiguous_inputs_and_gradients():
    scan = adcc.torch.function(library(), "scan")
    base = torch.linspace(-1.0, 1.0, 12, dtype=torch.float64).reshape(3, 4)
    x = base.t()[1].clone().requires_grad_(True)
    strided = base.t()[1]  # stride 4
    assert not strided.is_contiguous()
    torch.testing.assert_close(scan(strided), scan(x.detach().clone()))
    (scan(x) * torch.arange(3.0, dtype=torch.float64)).sum().backward()
    wide = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    y = scan(wide[:, 0] + x.detach())  # its upstream gradient arrives non-contiguous in wide
    y.sum().backward()
    assert torch.autograd.gradcheck(lambda v: scan(v[::2]), (torch.linspace(-1, 1, 6, dtype=torch.float64,
                                                                              requires_grad=True),))


def test_forward_ad_dual_numbers():
    import torch.autograd.forward_ad as fwAD
    mix = adcc.torch.function(library(), "mix")
    x, w, c = (t.detach() for t in tensors(3))
    dx = torch.ones_like(x)
    with fwAD.dual_level():
        y, s = mix(fwAD.make_dual(x, dx), w, c)
        ty, ts = fwAD.unpack_dual(y).tangent, fwAD.unpack_dual(s).tangent
    eps = 1e-6
    yp, sp = mix(x + eps * dx, w, c)
    ym, sm = mix(x - eps * dx, w, c)
    torch.testing.assert_close(ty, (yp - ym) / (2 * eps), rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(ts, (sp - sm) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_float32():
    smooth = adcc.torch.function(library(), "smooth32")
    x = torch.linspace(-1, 1, 8).reshape(2, 4).requires_grad_(True)
    smooth(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.sqrt(1 + x * x) + x * x / torch.sqrt(1 + x * x))


def test_optimizer_reduces_the_loss():
    mix = adcc.torch.function(library(), "mix")
    x, w, c = tensors(4)
    opt = torch.optim.SGD([x, w], lr=0.05)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        y, s = mix(x, w, c)
        loss = (y - 0.25).square().sum() + s
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_calls_without_gradients_build_no_graph():
    mix = adcc.torch.function(library(), "mix")
    x, w, c = tensors(requires=(False, False, False))
    y_ref, s_ref = mix_reference(x.numpy(), w.numpy(), c.numpy())
    for args in ((x, w, c), tensors(requires=(True, False, False))):
        with torch.no_grad():
            y, s = mix(*args)
        assert y.grad_fn is None and not y.requires_grad
        np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-13)
    y, s = mix(x, w, c)  # no input requires grad
    assert s.grad_fn is None and not s.requires_grad
    np.testing.assert_allclose(s.item(), s_ref, rtol=1e-13)
    xg = x.clone().requires_grad_(True)
    y, s = mix(xg, w, c)
    assert y.grad_fn is not None
    s.backward()
    assert xg.grad is not None and xg.grad.shape == x.shape


def test_errors_name_the_argument():
    mix = adcc.torch.function(library(), "mix")
    x, w, c = tensors(5)
    with pytest.raises(TypeError, match="input 'x' must be torch.float64, got torch.float32"):
        mix(x.float(), w, c)
    with pytest.raises(ValueError, match="input 'w' has n=4"):
        mix(x, w[:4], c)
    with pytest.raises(TypeError, match="input 'c' must be a torch.Tensor, got list"):
        mix(x, w, [0.5, 1.5])
    with pytest.raises(ValueError, match="input 'c' is declared const .* requires grad"):
        mix(x, w, c.clone().requires_grad_(True))
    with pytest.raises(TypeError, match="takes 3 input"):
        mix(x, w)
    y, s = mix(x, w, c)
    with pytest.raises(RuntimeError, match="does not require grad"):  # once_differentiable
        (g,) = torch.autograd.grad(s, x, create_graph=True)
        g.sum().backward()


def test_kernel_crash_is_an_exception():
    crash = adcc.torch.function(library(), "crash")
    with pytest.raises(adcc.KernelError, match="SIGSEGV"):
        crash(torch.tensor([-1.0, 2.0], dtype=torch.float64))
    torch.testing.assert_close(crash(torch.tensor([1.0, 2.0], dtype=torch.float64)),
                               torch.tensor([2.0, 4.0], dtype=torch.float64))


def test_backward_reverses_the_forward_calls_tape():
    """The forward call records a split-mode tape that backward reverses (no second run of the
    kernel); retain_graph's second backward recomputes; a graph freed unreversed frees its tape."""
    lib = library()
    mix = adcc.torch.function(lib, "mix")
    x, w, c = tensors(5)
    before = lib.live_tapes()
    y, s = mix(x, w, c)
    assert lib.live_tapes() == before + 1
    loss = y.square().sum() + s
    loss.backward(retain_graph=True)
    assert lib.live_tapes() == before
    first = (x.grad.clone(), w.grad.clone())
    x.grad, w.grad = None, None
    loss.backward()  # the tape is consumed: from the saved inputs
    np.testing.assert_allclose(x.grad.numpy(), first[0].numpy(), rtol=1e-13)
    np.testing.assert_allclose(w.grad.numpy(), first[1].numpy(), rtol=1e-13)
    y, s = mix(x, w, c)
    assert lib.live_tapes() == before + 1
    del y, s  # the graph goes without a backward pass: its tape is released
    import gc
    gc.collect()
    assert lib.live_tapes() == before
    with torch.no_grad():
        mix(x, w, c)
    assert lib.live_tapes() == before
