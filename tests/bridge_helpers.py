"""Shared helpers of the bridge tests: the test kernels and a finite-difference oracle."""
from __future__ import annotations

from pathlib import Path

import numpy as np

KERNELS = Path(__file__).resolve().parent / "bridge" / "kernels.c"
SIGNATURES = [
    "mix(x: f64[n], w: f64[n, m], const c: f64[2]) -> (y: f64[m], s: f64)",
    "scan(x: f64[n]) -> (y: f64[n])",
    "smooth32(x: f32[2, k]) -> (y: f32[2, k])",
    "crash(x: f64[n]) -> (y: f64[n])",
]
_libraries = {}


def library(opt: str = "-O2"):
    """The test kernels compiled at `opt` (once per process; cached on disk across processes)."""
    import adcc
    if opt not in _libraries:
        _libraries[opt] = adcc.compile(KERNELS, functions=SIGNATURES, flags=[opt])
    return _libraries[opt]


def mix_reference(x, w, c):
    return np.tanh(x @ w) + c[0], np.sum(x * x) * c[1]


def mix_inputs(rng, n=5, m=3):
    return rng.normal(size=n), rng.normal(size=(n, m)), np.array([0.5, 1.5])


def central_difference(f, inputs, directions, h=1e-6):
    """Directional derivative of f (tuple of outputs) at inputs along directions (None: fixed)."""
    plus = [x + h * d if d is not None else x for x, d in zip(inputs, directions)]
    minus = [x - h * d if d is not None else x for x, d in zip(inputs, directions)]
    fp, fm = f(*plus), f(*minus)
    if not isinstance(fp, tuple):
        fp, fm = (fp,), (fm,)
    return tuple((np.asarray(a) - np.asarray(b)) / (2 * h) for a, b in zip(fp, fm))
