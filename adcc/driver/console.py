"""All terminal output of adcc: clang-style diagnostics, `-v` stage lines, reports, tables.

The library raises and returns; only this module writes. Errors are plain stderr text (no
rich import on error paths); rich is loaded lazily for tables only.
"""
from __future__ import annotations

import os
import sys

from adcc.diagnostics import CompileError, CompileWarning, Diagnostic, SourceLocation

_COLORS = {"error": "\033[0;1;31m", "warning": "\033[0;1;35m", "note": "\033[0;1;30m"}
_BOLD, _GREEN, _RESET = "\033[1m", "\033[0;1;32m", "\033[0m"


def report_error(error: CompileError, program: str = "adcc") -> None:
    color = _use_color()
    for k, diag in enumerate(error.diagnostics):
        sys.stderr.write(render(diag, program, color, snippet=(k == 0)))
    sys.stderr.flush()


def render(diag: Diagnostic, program: str = "adcc", color: bool = False, snippet: bool = True) -> str:
    """A diagnostic as clang prints it: `file:line:col: error: message`, then the source line and
    a caret under the column (colour only on a terminal)."""
    if not color:
        text = diag.render(program) + "\n"
    else:
        where = f"{diag.location}: " if diag.location else f"{program}: "
        first, _, rest = diag.message.partition("\n")
        text = (f"{_BOLD}{where}{_COLORS.get(diag.severity, _BOLD)}{diag.severity}: {_RESET}{_BOLD}{first}{_RESET}"
                + (f"\n{rest}" if rest else "") + "\n")
    if snippet and diag.location is not None:
        text += source_snippet(diag.location, color)
    return text


def source_snippet(loc: SourceLocation, color: bool = False) -> str:
    """`    5 | the source line` and `      |     ^` (empty when the line cannot be read)."""
    line = _source_line(loc)
    if line is None:
        return ""
    shown = line.expandtabs(8)
    gutter = f"{loc.line:>5} | "
    out = gutter + shown + "\n"
    if loc.column:
        column = len(line[:loc.column - 1].expandtabs(8))
        caret = "^" if not color else f"{_GREEN}^{_RESET}"
        out += " " * (len(gutter) - 2) + "| " + " " * column + caret + "\n"
    return out


def _source_line(loc: SourceLocation) -> str | None:
    if loc.line <= 0:
        return None
    try:
        with open(loc.path, "rb") as f:
            for k, raw in enumerate(f, 1):
                if k == loc.line:
                    return raw.decode("utf-8", "replace").rstrip("\r\n")
    except OSError:
        return None
    return None


def _use_color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def report_warning(warning: CompileWarning, program: str = "adcc") -> None:
    color = _use_color()
    for diag in warning.diagnostics():
        sys.stderr.write(render(diag, program, color))
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
