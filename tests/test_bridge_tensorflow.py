"""adcc.tensorflow: kernels under tf.custom_gradient, eager and inside tf.function, checked
with tf.test.compute_gradient. Run by `make test-tf` (which installs TensorFlow CPU); skipped
when TensorFlow is missing."""
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed: run `make test-tf`")
import adcc  # noqa: E402
import adcc.tensorflow  # noqa: E402
from bridge_helpers import library, mix_inputs, mix_reference  # noqa: E402


def constants(seed=0):
    return [tf.constant(a) for a in mix_inputs(np.random.default_rng(seed))]


def test_primal_eager_and_in_tf_function():
    mix = adcc.tensorflow.function(library(), "mix")
    x, w, c = constants()
    y_ref, s_ref = mix_reference(x.numpy(), w.numpy(), c.numpy())
    for fn in (mix, tf.function(mix)):
        y, s = fn(x, w, c)
        np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-13)
        np.testing.assert_allclose(s.numpy(), s_ref, rtol=1e-13)
        assert y.shape == (3,) and s.shape == ()


@pytest.mark.parametrize("wrap", [lambda f: f, tf.function], ids=["eager", "tf.function"])
def test_compute_gradient_agrees(wrap):
    mix = adcc.tensorflow.function(library(), "mix")
    scan = adcc.tensorflow.function(library(), "scan")
    x, w, c = constants(1)
    for f, args in ((wrap(lambda x, w: mix(x, w, c)[0]), (x, w)),
                    (wrap(lambda x, w: mix(x, w, c)[1]), (x, w)),
                    (wrap(scan), (tf.linspace(tf.constant(-1.5, tf.float64), 2.0, 9),))):
        theoretical, numerical = tf.test.compute_gradient(f, list(args))
        for t, n in zip(theoretical, numerical):
            np.testing.assert_allclose(t, n, rtol=1e-6, atol=1e-8)


def test_gradient_tape_with_variables_and_const_input():
    mix = adcc.tensorflow.function(library(), "mix")
    x, w, c = constants(2)
    xv, wv = tf.Variable(x), tf.Variable(w)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y, s = mix(xv, wv, c)
            loss = tf.reduce_sum(y * y) + s
        return loss, tape.gradient(loss, [xv, wv, c])

    losses = []
    for _ in range(10):
        loss, (gx, gw, gc) = step()
        assert gc is None  # const input: no gradient
        xv.assign_sub(0.05 * gx)
        wv.assign_sub(0.05 * gw)
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_float32_and_errors():
    smooth = adcc.tensorflow.function(library(), "smooth32")
    x = tf.reshape(tf.linspace(-1.0, 1.0, 8), (2, 4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(smooth(x))
    g = tape.gradient(y, x).numpy()
    xn = x.numpy()
    np.testing.assert_allclose(g, np.sqrt(1 + xn * xn) + xn * xn / np.sqrt(1 + xn * xn), rtol=1e-5)
    with pytest.raises(TypeError, match="input 'x' must be float32, got float64"):
        smooth(tf.cast(x, tf.float64))
    mix = adcc.tensorflow.function(library(), "mix")
    x, w, c = constants(3)
    with pytest.raises(ValueError, match="input 'w' has n=4"):
        mix(x, w[:4], c)
    with pytest.raises(TypeError, match="takes 3 input"):
        mix(x, w)


def test_kernel_crash_is_an_exception():
    crash = adcc.tensorflow.function(library(), "crash")
    with pytest.raises(Exception, match="SIGSEGV"):
        crash(tf.constant([-1.0, 2.0], tf.float64))
    np.testing.assert_allclose(crash(tf.constant([1.0, 2.0], tf.float64)).numpy(), [2.0, 4.0])
