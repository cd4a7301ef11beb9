"""Which optimization levels `make test` compiles a test program at, and which `make test-slow` adds.

Every program runs at -O0 and -O2, and at one of -O1/-O3 picked by a stable hash of its name, so
`make test` still covers every level across the suite (about half the programs at each of -O1 and
-O3); the other level is marked slow and runs with `make test-slow` (CI's 20-minute limit)."""
from __future__ import annotations

import zlib

import pytest

EVERY_LEVEL = ("-O0", "-O1", "-O2", "-O3")


def extra_level(name: str) -> str:
    """The one of -O1/-O3 that `make test` compiles `name` at."""
    return ("-O1", "-O3")[zlib.crc32(name.encode()) % 2]


def level_marks(name: str, opt: str) -> list:
    """[pytest.mark.slow] for the level of `name` that only `make test-slow` runs, else []."""
    return [pytest.mark.slow] if opt in ("-O1", "-O3") and opt != extra_level(name) else []


def heavy(src) -> bool:
    """Does the program declare a long compile (`// e2e-timeout: SECONDS`: Boost, the standard
    containers)? Its extra configurations (a second selftest level, the derivative-check sweep) run
    with `make test-slow`."""
    with open(src) as f:
        return "// e2e-timeout:" in f.read()


def in_half(name: str) -> bool:
    """Is `name` in the half of a sweep that `make test` runs (a stable hash picks it; the other
    half runs with `make test-slow`)?"""
    return zlib.crc32(name.encode()) % 2 == 0
