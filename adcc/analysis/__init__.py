"""Analyses over adcc IR: control flow (cfg), type analysis (types), activity (activity)."""
from __future__ import annotations


def format_types(module_text: str, function_name: str) -> str:
    """Type analysis of one function of `module_text`, as `adcc --print-types` shows it."""
    from adcc.analysis.types import format_types as _format
    return _format(module_text, function_name)


def format_loops(module_text: str, function_name: str) -> str:
    from adcc.analysis.cfg import format_loops as _format
    from adcc.ir import parse_module
    return _format(parse_module(module_text).function(function_name))
