"""Fit a physics model written in C from Python: the damped, driven oscillator of
oscillator.c, compiled by adcc.compile and differentiated inside jax.jit(jax.grad(...)).

The parameters (stiffness k, damping c, drive a) are recovered from a noisy trajectory by
Adam steps; the loss printed every 50 steps goes down. The adcc gradient is first checked
against central differences. Prints PASS and exits 0 when the fit recovers the parameters.
Run: .venv/bin/python samples/bridge_fit/fit.py
"""
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import adcc
import adcc.jax

jax.config.update("jax_enable_x64", True)

lib = adcc.compile(Path(__file__).with_name("oscillator.c"),
                   functions=["oscillator(params: f64[3], const times: f64[t]) -> (x: f64[t])"])
oscillator = adcc.jax.function(lib, "oscillator")

times = jnp.linspace(0.1, 10.0, 100)
truth = jnp.array([4.0, 0.3, 0.8])
observed = oscillator(truth, times) + 0.01 * jax.random.normal(jax.random.PRNGKey(0), times.shape)


def loss(params):
    return jnp.mean((oscillator(params, times) - observed) ** 2)


value_and_grad = jax.jit(jax.value_and_grad(loss))
start = jnp.array([3.0, 0.8, 0.2])

# the gradient from adcc against central differences
_, g = value_and_grad(start)
h = 1e-6
fd = np.array([(loss(start + h * e) - loss(start - h * e)) / (2 * h) for e in np.eye(3)])
fd_error = float(np.max(np.abs(np.asarray(g) - fd) / (np.abs(fd) + 1e-12)))
print(f"gradient at the start: {np.asarray(g)}  (central differences {fd}, max rel err {fd_error:.1e})")

params, m, v = start, jnp.zeros(3), jnp.zeros(3)
lr, b1, b2 = 0.02, 0.9, 0.999
losses = []
for step in range(1, 601):
    value, g = value_and_grad(params)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    params = params - lr * (m / (1 - b1 ** step)) / (jnp.sqrt(v / (1 - b2 ** step)) + 1e-12)
    losses.append(float(value))
    if step % 50 == 0 or step == 1:
        print(f"step {step:4d}  loss {float(value):.6e}  k={params[0]:.4f} c={params[1]:.4f} a={params[2]:.4f}")

print(f"true parameters: k={truth[0]} c={truth[1]} a={truth[2]}")
ok = (fd_error < 1e-5 and losses[-1] < 1e-2 * losses[0]
      and bool(jnp.all(jnp.abs(params - truth) < 0.05 * jnp.abs(truth) + 0.02)))
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
