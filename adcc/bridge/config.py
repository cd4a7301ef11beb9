"""Kernel declarations kept next to the code: `adcc.toml`, or `[tool.adcc]` in pyproject.toml.

    [tool.adcc]                       # in adcc.toml: the same keys at top level
    flags = ["-O2"]
    [tool.adcc.functions]
    energy = "(x: f64[n]) -> (e: f64)"

The nearest such file at or above the source's directory (the working directory for source
text) is used; `adcc.compile(config=PATH)` names one explicitly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Config:
    path: str | None = None
    functions: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    lang: str | None = None


def load(path: str) -> Config:
    import tomli
    try:
        with open(path, "rb") as f:
            data = tomli.load(f)
    except tomli.TOMLDecodeError as e:
        raise ValueError(f"{path}: {e}") from None
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("adcc", {})
    return _from_table(path, data)


def find(start_dir: str) -> Config:
    """The configuration that governs sources in `start_dir`, or an empty one."""
    d = os.path.abspath(start_dir)
    while True:
        candidate = os.path.join(d, "adcc.toml")
        if os.path.isfile(candidate):
            return load(candidate)
        pyproject = os.path.join(d, "pyproject.toml")
        if os.path.isfile(pyproject) and _has_tool_adcc(pyproject):
            return load(pyproject)
        parent = os.path.dirname(d)
        if parent == d:
            return Config()
        d = parent


def _has_tool_adcc(path: str) -> bool:
    with open(path, "rb") as f:
        return b"tool.adcc" in f.read()


def _from_table(path: str, data: dict) -> Config:
    functions = data.get("functions", {})
    flags = data.get("flags", [])
    lang = data.get("lang")
    if not isinstance(functions, dict) or not all(isinstance(v, str) for v in functions.values()):
        raise ValueError(f"{path}: 'functions' must be a table of name = \"signature\" entries")
    if not isinstance(flags, list) or not all(isinstance(v, str) for v in flags):
        raise ValueError(f"{path}: 'flags' must be a list of strings")
    if lang is not None and not isinstance(lang, str):
        raise ValueError(f"{path}: 'lang' must be a string")
    return Config(path, dict(functions), tuple(flags), lang)
