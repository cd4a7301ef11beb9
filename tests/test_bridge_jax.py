"""adcc.jax: kernels under jit, grad, vjp, jvp and vmap, through the XLA FFI and through
jax.pure_callback, checked with jax.test_util.check_grads and against NumPy references."""
import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is not installed (pip install -e '.[test]')")
import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

import adcc  # noqa: E402
import adcc.jax  # noqa: E402
from bridge_helpers import library, mix_inputs, mix_reference  # noqa: E402

jax.config.update("jax_enable_x64", True)
BACKENDS = ["ffi", "callback"]


@pytest.fixture(params=BACKENDS)
def mix(request):
    return adcc.jax.function(library(), "mix", backend=request.param)


def test_default_backend_is_the_ffi():
    assert adcc.jax._choose_backend(None) == "ffi"


def test_primal_eager_and_jit(mix):
    x, w, c = mix_inputs(np.random.default_rng(0))
    y_ref, s_ref = mix_reference(x, w, c)
    for fn in (mix, jax.jit(mix)):
        y, s = fn(jnp.asarray(x), jnp.asarray(w), jnp.asarray(c))
        np.testing.assert_allclose(y, y_ref, rtol=1e-13)
        np.testing.assert_allclose(s, s_ref, rtol=1e-13)


def test_check_grads_forward_and_reverse(mix):
    x, w, c = (jnp.asarray(a) for a in mix_inputs(np.random.default_rng(1)))
    check_grads(lambda x, w: mix(x, w, c), (x, w), order=1, modes=("fwd", "rev"))
    scan = adcc.jax.function(library(), "scan")
    check_grads(scan, (jnp.linspace(-1.5, 2.0, 9),), order=1, modes=("fwd", "rev"))


def test_grad_under_jit_matches_the_analytic_gradient(mix):
    x, w, c = (jnp.asarray(a) for a in mix_inputs(np.random.default_rng(2)))

    def loss(x, w):
        y, s = mix(x, w, c)
        return jnp.sum(y ** 2) + 3.0 * s

    gx, gw = jax.jit(jax.grad(loss, argnums=(0, 1)))(x, w)
    t = np.tanh(np.asarray(x) @ np.asarray(w))
    dy = 2 * (t + c[0]) * (1 - t * t)
    np.testing.assert_allclose(gx, np.asarray(w) @ dy + 3.0 * 2 * c[1] * np.asarray(x), rtol=1e-12)
    np.testing.assert_allclose(gw, np.outer(x, dy), rtol=1e-12)


def test_vjp_and_jvp_agree(mix):
    rng = np.random.default_rng(3)
    x, w, c = (jnp.asarray(a) for a in mix_inputs(rng))
    dx = jnp.asarray(rng.normal(size=x.shape))
    cy, cs = jnp.asarray(rng.normal(size=3)), jnp.asarray(rng.normal())
    (_, _), (ty, ts) = jax.jvp(lambda x: mix(x, w, c), (x,), (dx,))
    _, pullback = jax.vjp(lambda x: mix(x, w, c), x)
    (gx,) = pullback((cy, cs))
    np.testing.assert_allclose(jnp.dot(gx, dx), jnp.dot(cy, ty) + cs * ts, rtol=1e-12)


def test_vmap_of_primal_and_of_grad(mix):
    rng = np.random.default_rng(4)
    x, w, c = (jnp.asarray(a) for a in mix_inputs(rng))
    xs = jnp.asarray(rng.normal(size=(4, 5)))
    ys, ss = jax.jit(jax.vmap(lambda x: mix(x, w, c)))(xs)
    for i in range(4):
        np.testing.assert_allclose(ys[i], mix_reference(np.asarray(xs[i]), w, c)[0], rtol=1e-13)
    loss = lambda x, w: jnp.sum(mix(x, w, c)[0]) + mix(x, w, c)[1]  # noqa: E731
    batched = jax.vmap(jax.grad(loss), in_axes=(0, None))(xs, w)
    for i in range(4):
        np.testing.assert_allclose(batched[i], jax.grad(loss)(xs[i], w), rtol=1e-13)
    ws = jnp.stack([w, 2 * w, -w])  # batch axis 0 on w, x broadcast; nested vmap over axis 1 of xs
    nested = jax.vmap(jax.vmap(lambda x, w: mix(x, w, c)[1], in_axes=(0, None)), in_axes=(None, 0))(xs, ws)
    assert nested.shape == (3, 4)
    np.testing.assert_allclose(nested[1, 2], mix_reference(np.asarray(xs[2]), 2 * w, c)[1], rtol=1e-13)
    jt = jax.vmap(lambda x, t: jax.jvp(lambda x: mix(x, w, c)[0], (x,), (t,))[1])(xs, xs)
    np.testing.assert_allclose(jt[1], jax.jvp(lambda x: mix(x, w, c)[0], (xs[1],), (xs[1],))[1], rtol=1e-13)


def test_float32_kernel(mix):
    f = adcc.jax.function(library(), "smooth32")
    x = jnp.linspace(-1, 1, 8, dtype=jnp.float32).reshape(2, 4)
    g = jax.jit(jax.grad(lambda x: jnp.sum(f(x))))(x)
    assert g.dtype == jnp.float32
    np.testing.assert_allclose(g, np.sqrt(1 + x * x) + x * x / np.sqrt(1 + x * x), rtol=1e-5)


def test_errors_name_the_argument():
    mix = adcc.jax.function(library(), "mix")
    x, w, c = (jnp.asarray(a) for a in mix_inputs(np.random.default_rng(5)))
    with pytest.raises(TypeError, match="input 'x' must be float64, got float32"):
        mix(x.astype(jnp.float32), w, c)
    with pytest.raises(ValueError, match="input 'w' has n=4"):
        jax.jit(mix)(x, w[:4], c)
    with pytest.raises(TypeError, match="input 'c' is declared const"):
        jax.grad(lambda c: mix(x, w, c)[1])(c)
    with pytest.raises(TypeError, match="takes 3 input"):
        mix(x, w)
    with pytest.raises(ValueError, match="out_shapes gives 1 shapes for 2 outputs"):
        adcc.jax.function(library(), "mix", out_shapes=[(3,)])
    checked = adcc.jax.function(library(), "mix", out_shapes=[(4,), ()])
    with pytest.raises(ValueError, match="output 'y' has shape \\(3,\\), out_shapes says \\(4,\\)"):
        checked(x, w, c)
    ok = adcc.jax.function(library(), "mix", out_shapes=[jax.ShapeDtypeStruct((3,), jnp.float64), ()])
    assert ok(x, w, c)[0].shape == (3,)
    with pytest.raises(ValueError, match="backend must be one of"):
        adcc.jax.function(library(), "mix", backend="gpu")


def test_second_derivatives_are_a_clear_error():
    scan = adcc.jax.function(library(), "scan")
    with pytest.raises(NotImplementedError, match="second derivative"):
        jax.hessian(lambda x: jnp.sum(scan(x)))(jnp.ones(3))


@pytest.mark.parametrize("backend", BACKENDS)
def test_kernel_crash_is_a_runtime_error(backend):
    crash = adcc.jax.function(library(), "crash", backend=backend)
    with pytest.raises(Exception, match="SIGSEGV|Segmentation fault|signal 11"):
        jax.block_until_ready(jax.jit(crash)(jnp.array([-1.0, 1.0])))
    np.testing.assert_allclose(jax.jit(crash)(jnp.array([1.0, 3.0])), [2.0, 6.0])
