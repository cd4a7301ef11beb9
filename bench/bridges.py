"""`make bench-bridges`: cost of calling adcc kernels from Python (issue #12).

1. Per-call overhead of the bridge on a 1,000-element kernel: time per call from NumPy, JAX
   (jit; XLA FFI and pure_callback) and PyTorch, minus the kernel's own time measured by a C
   loop in the same library. Targets: NumPy < 20 us, JAX jit and PyTorch < 50 us.
2. The GMM gradient (ADBench d10 K25, 1000 points; gmm.c's objective) from jax.jit(jax.grad)
   through adcc against the same __enzyme_autodiff gradient called from C. Target: <= 1.2x.

Writes bench/results/bridges.md and bridges.json. Times: the rows of a table are measured in
interleaved rounds (each round times every row once: the minimum per call over 7 samples), and each
row reports its median over the rounds, so that a change in the machine's load during the run
affects all rows alike. `--quick`: few repetitions (smoke run).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from programs import ADBENCH  # noqa: E402

import adcc  # noqa: E402

FLAGS = ["-O2", "-march=native"]
SIGNATURES = [
    "gmm(alphas: f64[k], means: f64[k, d], icf: f64[k, t], const x: f64[n, d], const hyper: f64[2]) -> (err: f64)",
    "scale(x: f64[n]) -> (y: f64[n])",
]


def per_call(fn, reps: int, samples: int = 7) -> float:
    fn()
    best = float("inf")
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def interleaved(fns: list, rounds: int) -> list[float]:
    """Median over `rounds` rounds of each timer's value; a round calls every timer once, in turn."""
    values = [[] for _ in fns]
    for _ in range(rounds):
        for v, fn in zip(values, fns):
            v.append(fn())
    return [statistics.median(v) for v in values]


def overhead(lib, reps: int, rounds: int) -> list[dict]:
    n = 1000
    x = np.linspace(0.0, 1.0, n)
    y = np.empty(n)
    c_lib = ctypes.CDLL(lib.path)
    c_lib.scale_seconds.restype = ctypes.c_double
    c_lib.scale_seconds.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64]
    kernel_s = c_lib.scale_seconds(y.ctypes.data, x.ctypes.data, n, 20000)
    # (framework, call, function, target in us or None: a reference or the fallback path)
    rows = [("numpy", "lib.scale(x)", lambda: lib.scale(x), 20.0),
            ("numpy", "lib.vjp_scale((x,), ct)", lambda: lib.vjp_scale((x,), x), 20.0)]
    try:
        import jax
        import jax.numpy as jnp

        import adcc.jax
        jax.config.update("jax_enable_x64", True)
        xj = jnp.asarray(x)
        for backend in ("ffi", "callback"):
            f = jax.jit(adcc.jax.function(lib, "scale", backend=backend))
            g = jax.jit(jax.grad(lambda v, f=adcc.jax.function(lib, "scale", backend=backend): f(v).sum()))
            target = 50.0 if backend == "ffi" else None
            rows.append(("jax", f"jit(f) [{backend}]", lambda f=f: f(xj).block_until_ready(), target))
            rows.append(("jax", f"jit(grad(sum f)) [{backend}]", lambda g=g: g(xj).block_until_ready(), target))
        plain = jax.jit(lambda v: 2.0 * v * v)
        rows.append(("jax", "reference: jit(2 x^2) in XLA, no kernel", lambda: plain(xj).block_until_ready(), None))
    except ImportError:
        print("bench-bridges: JAX not installed; skipping its rows", file=sys.stderr)
    try:
        import torch

        import adcc.torch
        f = adcc.torch.function(lib, "scale")
        xt = torch.from_numpy(x.copy())
        xg = xt.clone().requires_grad_(True)
        rows.append(("torch", "f(x)", lambda: f(xt), 50.0))
        rows.append(("torch", "f(x).sum().backward()", lambda: f(xg).sum().backward(), None))
        rows.append(("torch", "reference: (2 * x * x).sum().backward(), no kernel",
                     lambda: (2.0 * xg * xg).sum().backward(), None))
    except ImportError:
        print("bench-bridges: PyTorch not installed; skipping its rows", file=sys.stderr)
    for _, _, fn, _ in rows:
        fn()  # warm up every row before the first round
    times = interleaved([lambda fn=fn: per_call(fn, reps) for _, _, fn, _ in rows], rounds)
    out = []
    for (framework, what, fn, target), t in zip(rows, times):
        out.append({"framework": framework, "call": what, "per_call_us": t * 1e6, "target_us": target,
                    "kernel_us": kernel_s * 1e6, "overhead_us": (t - kernel_s) * 1e6})
    return out


def read_gmm(path: Path):
    values = path.read_text().split()
    d, k, n = (int(v) for v in values[:3])
    t = d * (d + 1) // 2
    nums = np.array(values[3:], dtype=np.float64)
    nparams = k * (1 + d + t)
    params = nums[:nparams]
    x = nums[nparams:nparams + n * d].reshape(n, d)
    gamma, m = nums[nparams + n * d:nparams + n * d + 2]
    return d, k, n, params, x, np.array([gamma, m])


def gmm_ratio(lib, reps: int, rounds: int, quick: bool) -> dict:
    import jax
    import jax.numpy as jnp

    import adcc.jax
    jax.config.update("jax_enable_x64", True)
    d, k, n, params, x, hyper = read_gmm(ADBENCH / "gmm" / "1k" / "gmm_d10_K25.txt")
    if quick:
        n, x = 20, x[:20]
    t = d * (d + 1) // 2
    alphas, means, icf = params[:k], params[k:k + k * d].reshape(k, d), params[k + k * d:].reshape(k, t)
    c_lib = ctypes.CDLL(lib.path)
    grad = np.empty_like(params)
    xc = np.ascontiguousarray(x)
    c_timers = []
    for name in ("gmm_grad_seconds", "gmm_kernel_grad_seconds"):
        fn = getattr(c_lib, name)
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] * 4
        c_timers.append(lambda fn=fn: fn(params.ctypes.data, grad.ctypes.data, xc.ctypes.data, hyper.ctypes.data,
                                         k, d, n, reps))
    jax_timers = []
    for backend in ("ffi", "callback"):
        f = adcc.jax.function(lib, "gmm", backend=backend)
        xj, hj = jnp.asarray(x), jnp.asarray(hyper)
        g = jax.jit(jax.grad(lambda a, m, q, f=f, xj=xj, hj=hj: f(a, m, q, xj, hj), argnums=(0, 1, 2)))
        args = (jnp.asarray(alphas), jnp.asarray(means), jnp.asarray(icf))
        c_timers[0]()  # the C gradient into `grad`
        ga, gm, gq = g(*args)
        jax_grad = np.concatenate([np.ravel(ga), np.ravel(gm), np.ravel(gq)])
        np.testing.assert_allclose(jax_grad, grad, rtol=1e-10, atol=1e-12)  # the same gradient
        jax_timers.append(lambda g=g, args=args: per_call(lambda: jax.block_until_ready(g(*args)), reps))
    c_s, kernel_s, ffi_s, callback_s = interleaved(c_timers + jax_timers, rounds)
    result = {"size": f"d{d}_K{k}_n{n}", "c_grad_s": c_s, "c_kernel_form_grad_s": kernel_s, "rounds": rounds}
    for backend, t in (("ffi", ffi_s), ("callback", callback_s)):
        result[f"jax_{backend}_grad_s"] = t
        result[f"ratio_{backend}"] = t / c_s
    return result


def write(rows, gmm, quick: bool, load: tuple[float, float], rows_rounds: int) -> None:
    import jax
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}", f"JAX {jax.__version__}"]
    try:
        import torch
        versions.append(f"PyTorch {torch.__version__}")
    except ImportError:
        pass
    lines = ["# Bridge benchmarks (`make bench-bridges`, issue #12)", "",
             f"{platform.machine()}, {os.cpu_count()} CPUs, {', '.join(versions)}; kernels built with "
             f"`adcc.compile(..., flags={FLAGS})`." + (" **--quick run: not representative.**" if quick else ""),
             "", f"1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end (the machine's "
             "other work inflates every row alike; compare rows of one run, e.g. with the XLA reference row). "
             "Each table's rows are timed in interleaved rounds (each round: every row's minimum per call "
             f"over 7 samples); a row is its median over the rounds ({rows_rounds} rounds for the first "
             f"table, {gmm['rounds']} for the second).",
             "", "## Per-call overhead on a 1,000-element kernel (`scale`: y = 2 x^2)", "",
             "Targets apply to the default paths (NumPy, JAX through the XLA FFI, PyTorch forward); "
             "`callback` is JAX's fallback (jax.pure_callback, for a jaxlib without the FFI header); "
             "backward rows include the framework's own autograd cost (see its reference row).", "",
             "Overhead = time per call from Python minus the kernel's own time in a C loop "
             f"({rows[0]['kernel_us']:.2f} us).", "",
             "| framework | call | per call (us) | overhead (us) | target (us) | ok |", "|---|---|---|---|---|---|"]
    for r in rows:
        target = r["target_us"]
        ok = "" if target is None else ("yes" if r["overhead_us"] < target else "**no**")
        lines.append(f"| {r['framework']} | `{r['call']}` | {r['per_call_us']:.1f} | {r['overhead_us']:.1f} | "
                     f"{'' if target is None else f'< {target:.0f}'} | {ok} |")
    lines += ["", f"## GMM gradient ({gmm['size']}): jax.jit(jax.grad) through adcc vs C", "",
              "| path | gradient (ms) | ratio to C | target |", "|---|---|---|---|",
              f"| C: `__enzyme_autodiff` of `gmm_objective` called from C (as gmm.c) | {gmm['c_grad_s'] * 1e3:.3f} | 1.00 | |",
              f"| C: `__enzyme_autodiff` of the bridge kernel `gmm` (calls `gmm_objective`, writes `*err`) "
              f"called from C | {gmm['c_kernel_form_grad_s'] * 1e3:.3f} | "
              f"{gmm['c_kernel_form_grad_s'] / gmm['c_grad_s']:.2f} | |"]
    for backend in ("ffi", "callback"):
        ratio = gmm[f"ratio_{backend}"]
        lines.append(f"| JAX jit(grad) [{backend}] | {gmm[f'jax_{backend}_grad_s'] * 1e3:.3f} | {ratio:.2f} | "
                     f"<= 1.2 {'yes' if ratio <= 1.2 else '**no**'} |")
    lines += ["", "The second C row differentiates the same function the bridge differentiates, from C: "
              "the difference between it and the first row is the AD engine's (a gradient through a "
              "call of a noinline function with the result stored through a pointer), not the bridge's; "
              "the JAX rows are to be read against both.", "", "The VJP is split mode (the bridge's `vjp` entry runs `__enzyme_augmentfwd` and `__enzyme_reverse` "
              "of `gmm` back to back); under jit the separate primal call is dead code for jax.grad and XLA "
              "drops it (the compiled module is one custom call, the `vjp` entry).", ""]
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "bridges.md").write_text("\n".join(lines))
    (out / "bridges.json").write_text(json.dumps({"overhead": rows, "gmm": gmm, "quick": quick, "load": load}, indent=1) + "\n")
    print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=None, help="ignored (accepted for make bench BENCH_ARGS)")
    args = parser.parse_args()
    lib = adcc.compile(BENCH / "bridge_kernels.c", functions=SIGNATURES, flags=FLAGS + [f"-I{BENCH}"])
    load_start = os.getloadavg()[0]
    rows_rounds = 3 if args.quick else 15
    rows = overhead(lib, 50 if args.quick else 300, rows_rounds)
    gmm = gmm_ratio(lib, 2 if args.quick else 5, 3 if args.quick else 25, args.quick)
    write(rows, gmm, args.quick, (load_start, os.getloadavg()[0]), rows_rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
