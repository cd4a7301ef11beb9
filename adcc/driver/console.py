"""All terminal output of adcc: clang-style diagnostics, `-v` stage lines, reports, tables.

The library raises and returns; only this module writes. Errors are plain stderr text (no
rich import on error paths); rich is loaded lazily for tables only.
"""
from __future__ import annotations

import sys

from adcc.diagnostics import CompileError


def report_error(error: CompileError, program: str = "adcc") -> None:
    for diag in error.diagnostics:
        sys.stderr.write(diag.render(program) + "\n")
    sys.stderr.flush()


def error_text(message: str, program: str = "adcc") -> None:
    sys.stderr.write(f"{program}: error: {message}\n")
    sys.stderr.flush()


_warned: set[str] = set()
_program = "adcc"


def set_program(name: str) -> None:
    """The name messages start with (adcc, adcc++, adflang)."""
    global _program
    _program = name


def warning(message: str) -> None:
    """A driver warning, printed once per invocation however often it is raised."""
    if message in _warned:
        return
    _warned.add(message)
    sys.stderr.write(f"{_program}: warning: {message}\n")
    sys.stderr.flush()


def stage_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def report(text: str) -> None:
    """Analysis printers' output (--print-types, --print-activity)."""
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


def table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*r)
    Console().print(t)


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
