#!/usr/bin/env python3
"""The bench/ kernels in JAX (float64, CPU): primal jax.jit(f) and gradient jax.jit(jax.grad(f))
(BA: jax.jit(jax.vmap(jax.jacrev(residuals))) for the Jacobian blocks), timed like bench.h.
Usage: jax_kernels.py NAME [--quick] [--size N] [DATA]; prints the same JSON lines as the C
programs, with max_rel_err from one directional central difference (4th order)."""
from __future__ import annotations

import json
import math
import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)


def read_numbers(path):
    with open(path) as f:
        return f.read().split()


# ---------------------------------------------------------------- timing and checking

def time_call(fn, args, quick):
    def once():
        jax.block_until_ready(fn(*args))
    once()  # compile
    start = time.perf_counter(); once(); one = time.perf_counter() - start
    reps = 1 if one > 2e-3 else int(2e-3 / max(one, 1e-9)) + 1
    best, spent, samples = math.inf, 0.0, 0
    while samples < 5 or spent < (0.005 if quick else 0.5):
        start = time.perf_counter()
        for _ in range(reps):
            once()
        dt = time.perf_counter() - start
        spent += dt
        samples += 1
        best = min(best, dt / reps)
    return best


def check(loss, x, grad, h):
    rng = np.random.default_rng(5)
    v = rng.uniform(-1, 1, x.shape)
    v /= np.linalg.norm(v)
    f = [float(loss(x + s * h * v)) for s in (2, 1, -1, -2)]
    fd = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h)
    gv = float(np.vdot(np.asarray(grad), v))
    return abs(gv - fd) / max(abs(fd), abs(gv), 1e-8 * float(np.linalg.norm(grad)))


def report(name, size, loss, x, h, quick, grad_fn=None, grad_args=None, grad_check=None, variant=None):
    primal = jax.jit(loss)
    grad = grad_fn or jax.jit(jax.grad(loss))
    gargs = grad_args or (x,)
    tp = time_call(primal, (x,), quick)
    tg = time_call(grad, gargs, quick)
    err = grad_check() if grad_check else check(primal, x, grad(x), h)
    rec = {"name": name, "size": size, "primal_s": tp, "grad_s": tg, "ratio": tg / tp, "max_rel_err": err}
    if variant:
        rec["variant"] = variant  # another algorithm for the same function, reported beside the main one
    print(json.dumps(rec), flush=True)


# ---------------------------------------------------------------- kernels

def gmm(args):
    nums = read_numbers(args.data)
    d, k, n = (int(t) for t in nums[:3])
    icf_sz = d * (d + 1) // 2
    pos = 3
    nparams = k * (1 + d + icf_sz)
    params = np.array(nums[pos:pos + nparams], dtype=np.float64); pos += nparams
    x = np.array(nums[pos:pos + n * d], dtype=np.float64).reshape(n, d); pos += n * d
    gamma, m = float(nums[pos]), int(float(nums[pos + 1]))
    n = min(n, args.size or n, 20 if args.quick else n)
    x = jnp.asarray(x[:n])
    rows, cols = zip(*[(r, c) for c in range(d) for r in range(c + 1, d)]) if d > 1 else ((), ())
    rows, cols = np.array(rows, dtype=int), np.array(cols, dtype=int)
    nw = d + m + 1
    log_gamma_p = 0.25 * d * (d - 1) * math.log(math.pi) + sum(math.lgamma(0.5 * nw + 0.5 * (1 - j))
                                                                for j in range(1, d + 1))
    prior_const = nw * d * (math.log(gamma) - 0.5 * math.log(2.0)) - log_gamma_p

    def loss(p):
        alphas = p[:k]
        means = p[k:k + k * d].reshape(k, d)
        icf = p[k + k * d:].reshape(k, icf_sz)
        logdiag = icf[:, :d]
        sum_qs = logdiag.sum(axis=1)
        q = jnp.zeros((k, d, d)).at[:, rows, cols].set(icf[:, d:])
        q = q + jax.vmap(jnp.diag)(jnp.exp(logdiag))
        xc = x[:, None, :] - means[None, :, :]
        qxc = jnp.einsum("kij,nkj->nki", q, xc)
        main = alphas + sum_qs - 0.5 * jnp.sum(qxc * qxc, axis=-1)
        slse = jnp.sum(jax.scipy.special.logsumexp(main, axis=1))
        frob = jnp.sum(jnp.exp(2 * logdiag), axis=1) + jnp.sum(icf[:, d:] ** 2, axis=1)
        prior = jnp.sum(0.5 * gamma * gamma * frob - m * sum_qs) - k * prior_const
        return (-n * d * 0.5 * math.log(2 * math.pi) + slse
                - n * jax.scipy.special.logsumexp(alphas) + prior)

    report("gmm", f"d{d}_K{k}_n{n}", loss, jnp.asarray(params), 1e-3, args.quick)


def ba_residuals(cam, pt, w, feat):
    rot, centre = cam[0:3], cam[3:6]
    x = pt - centre
    theta = jnp.sqrt(jnp.sum(rot * rot))
    axis = rot / theta
    c, s = jnp.cos(theta), jnp.sin(theta)
    xc = x * c + jnp.cross(axis, x) * s + axis * jnp.dot(axis, x) * (1 - c)
    uv = xc[:2] / xc[2]
    rsq = jnp.sum(uv * uv)
    proj = cam[6] * (1 + cam[9] * rsq + cam[10] * rsq * rsq) * uv + cam[7:9]
    return jnp.concatenate([w * (proj - feat), jnp.reshape(1 - w * w, (1,))])


def ba(args):
    nums = read_numbers(args.data)
    n, m, p = (int(t) for t in nums[:3])
    vals = np.array(nums[3:3 + 17], dtype=np.float64)
    p = min(p, args.size or p, 200 if args.quick else p)
    n, m = min(n, p), min(m, p)
    cams = jnp.tile(vals[:11], (n, 1)); pts = jnp.tile(vals[11:14], (m, 1))
    ws = jnp.full((p,), vals[14]); feats = jnp.tile(vals[15:17], (p, 1))
    ci, pi = jnp.arange(p) % n, jnp.arange(p) % m

    def primal(ws_):
        return jnp.sum(jax.vmap(ba_residuals)(cams[ci], pts[pi], ws_, feats))

    jac = jax.jit(lambda ws_: jax.vmap(jax.jacrev(ba_residuals, argnums=(0, 1, 2)))(cams[ci], pts[pi], ws_, feats))

    def grad_check():
        blocks = jac(ws)
        x0 = jnp.concatenate([cams[0], pts[0], ws[:1]])
        full = np.concatenate([np.asarray(b[0]).reshape(3, -1) for b in blocks], axis=1)  # 3 x 15
        seed = np.random.default_rng(3).uniform(-1, 1, 3)
        loss = jax.jit(lambda x: jnp.dot(seed, ba_residuals(x[:11], x[11:14], x[14], feats[0])))
        return check(loss, x0, seed @ full, 1e-4)

    report("ba", f"n{n}_m{m}_p{p}", primal, ws, 1e-4, args.quick, grad_fn=jac, grad_check=grad_check)


def lstm(args):
    nums = read_numbers(args.data)
    l, c, b = (int(t) for t in nums[:3])
    pos = 3
    nmain = 8 * l * b
    params = np.array(nums[pos:pos + nmain + 3 * b], dtype=np.float64); pos += nmain + 3 * b
    state0 = jnp.asarray(np.array(nums[pos:pos + 2 * l * b], dtype=np.float64).reshape(l, 2, b))
    pos += 2 * l * b
    seq = np.array(nums[pos:pos + c * b], dtype=np.float64).reshape(c, b)
    c = min(c, args.size or c, 16 if args.quick else c)
    seq = jnp.asarray(seq[:c])

    def loss(p):
        main = p[:nmain].reshape(l, 2, 4, b)
        extra = p[nmain:].reshape(3, b)

        def step(state, t):
            x = seq[t] * extra[0]
            new = []
            for layer in range(l):
                w, bias = main[layer, 0], main[layer, 1]
                hidden, cell = state[layer, 0], state[layer, 1]
                forget = jax.nn.sigmoid(x * w[0] + bias[0])
                ingate = jax.nn.sigmoid(hidden * w[1] + bias[1])
                outgate = jax.nn.sigmoid(x * w[2] + bias[2])
                change = jnp.tanh(hidden * w[3] + bias[3])
                cell = cell * forget + ingate * change
                hidden = outgate * jnp.tanh(cell)
                new.append(jnp.stack([hidden, cell]))
                x = hidden
            pred = x * extra[1] + extra[2]
            lse = jnp.log(jnp.sum(jnp.exp(pred)) + 2.0)
            return jnp.stack(new), jnp.dot(seq[t + 1], pred - lse)

        _, terms = jax.lax.scan(step, state0, jnp.arange(c - 1))
        return -jnp.sum(terms) / ((c - 1) * b)

    report("lstm", f"l{l}_c{c}_b{b}", loss, jnp.asarray(params), 1e-3, args.quick)


NOSC = 8


def oscillator_rhs(y, par):
    q, p = y[:NOSC], y[NOSC:]
    lap = jnp.concatenate([q[1:], jnp.zeros(1)]) + jnp.concatenate([jnp.zeros(1), q[:-1]]) - 2 * q
    return jnp.concatenate([p, -par[0] ** 2 * jnp.sin(q) + par[1] * lap - par[2] * p])


def ode(args):
    steps = args.size or (1000 if args.quick else 100000)
    dt = min(10.0 / steps, 1e-3)
    i = np.arange(NOSC)
    x0 = jnp.asarray(np.concatenate([0.8 * np.sin(0.9 * i + 0.3), 0.3 * np.cos(1.7 * i), [1.3, 0.7, 0.05]]))

    def euler_step(_, y, par):
        return y + dt * oscillator_rhs(y, par)

    def rk4_step(_, y, par):
        k1 = oscillator_rhs(y, par)
        k2 = oscillator_rhs(y + 0.5 * dt * k1, par)
        k3 = oscillator_rhs(y + 0.5 * dt * k2, par)
        k4 = oscillator_rhs(y + dt * k3, par)
        return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    for name, stepper in (("ode_euler", euler_step), ("ode_rk4", rk4_step)):
        def loss(x, stepper=stepper):
            y = jax.lax.fori_loop(0, steps, lambda s, y: stepper(s, y, x[2 * NOSC:]), x[:2 * NOSC])
            return jnp.sum(y * y)
        report(name, f"N{NOSC}_steps{steps}", loss, x0, 1e-4, args.quick)


def fft_radix2(re, im, sign):
    """fft.c's algorithm: bit reversal, then log2(n) radix-2 decimation-in-time stages, each one
    vectorized over all butterflies of the stage (blocks of `length`, halves a and b)."""
    n = re.shape[0]
    bits = n.bit_length() - 1
    perm = np.array([int(format(i, f"0{bits}b")[::-1], 2) for i in range(n)]) if bits else np.arange(n)
    re, im = re[perm], im[perm]
    length = 2
    while length <= n:
        half = length // 2
        angle = sign * 2.0 * np.pi / length * np.arange(half)
        wr, wi = np.cos(angle), np.sin(angle)
        r, i = re.reshape(n // length, 2, half), im.reshape(n // length, 2, half)
        tr = r[:, 1] * wr - i[:, 1] * wi
        ti = r[:, 1] * wi + i[:, 1] * wr
        re = jnp.stack([r[:, 0] + tr, r[:, 0] - tr], axis=1).reshape(n)
        im = jnp.stack([i[:, 0] + ti, i[:, 0] - ti], axis=1).reshape(n)
        length *= 2
    return re, im


def fft(args):
    logn = args.size or (6 if args.quick else 14)
    n = 1 << logn
    x = jnp.asarray(np.random.default_rng(14).uniform(-1.5, 1.5, 2 * n))

    def loss(v):  # the same radix-2 transforms as fft.c: forward, then inverse without 1/n
        re, im = fft_radix2(*fft_radix2(v[0::2], v[1::2], -1.0), 1.0)
        return jnp.sum(jnp.sin(re / n) ** 2) + jnp.sum(jnp.sin(im / n) ** 2)

    def library_loss(v):  # what a JAX user would write: jnp.fft (pocketfft), another algorithm
        z = jnp.fft.ifft(jnp.fft.fft(v[0::2] + 1j * v[1::2]))
        return jnp.sum(jnp.sin(z.real) ** 2) + jnp.sum(jnp.sin(z.imag) ** 2)

    report("fft", f"n{n}", loss, x, 1e-3, args.quick)
    report("fft", f"n{n}", library_loss, x, 1e-3, args.quick, variant="jnp.fft")


def brusselator(args):
    N = 32
    steps = args.size or (20 if args.quick else 500)
    dt = 1e-3
    g = np.arange(N) / N
    xg, yg = np.meshgrid(g, g, indexing="ij")
    forcing = jnp.asarray(np.where((xg - 0.3) ** 2 + (yg - 0.6) ** 2 <= 0.01, 5.0, 0.0))
    u0 = 22.0 * (yg * (1 - yg)) ** 1.5
    v0 = 27.0 * (xg * (1 - xg)) ** 1.5
    x0 = jnp.asarray(np.concatenate([u0.ravel(), v0.ravel(), [3.4, 1.0, 0.01]]))

    def lap(f):
        return jnp.roll(f, 1, 0) + jnp.roll(f, -1, 0) + jnp.roll(f, 1, 1) + jnp.roll(f, -1, 1) - 4 * f

    def loss(x):
        a, b, alpha = x[2 * N * N], x[2 * N * N + 1], x[2 * N * N + 2] * N * N

        def step(_, uv):
            u, v = uv
            uuv = u * u * v
            return (u + dt * (b + uuv - (a + 1) * u + alpha * lap(u) + forcing),
                    v + dt * (a * u - uuv + alpha * lap(v)))

        u, v = jax.lax.fori_loop(0, steps, step, (x[:N * N].reshape(N, N), x[N * N:2 * N * N].reshape(N, N)))
        return (jnp.sum(u * u) + jnp.sum(v * v)) / (N * N)

    report("brusselator", f"{N}x{N}_steps{steps}", loss, x0, 1e-4, args.quick)


KERNELS = {"gmm": gmm, "ba": ba, "lstm": lstm, "ode": ode, "fft": fft, "brusselator": brusselator}


class Args:
    def __init__(self, argv):
        self.quick, self.size, self.data = False, 0, None
        it = iter(argv)
        for a in it:
            if a == "--quick":
                self.quick = True
            elif a == "--size":
                self.size = int(next(it))
            else:
                self.data = a


def main(argv):
    if not argv or argv[0] not in KERNELS:
        sys.exit(f"usage: jax_kernels.py {{{','.join(KERNELS)}}} [--quick] [--size N] [DATA]")
    KERNELS[argv[0]](Args(argv[1:]))


if __name__ == "__main__":
    main(sys.argv[1:])
