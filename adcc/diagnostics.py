"""Diagnostics shared by every layer: the library raises, the CLI renders.

A `CompileError` carries one or more `Diagnostic`s; a `CompileWarning` (returned, never raised,
by the library) one warning and its notes in a group the user can silence or make an error.
Nothing below adcc/cli.py or adcc/driver/console.py prints anything.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int = 0
    column: int = 0
    directory: str = ""  # where a relative `file` lives (to show the source line); not printed

    @property
    def path(self) -> str:
        import os
        return os.path.join(self.directory, self.file) if self.directory else self.file

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error" | "warning" | "note"
    message: str
    location: SourceLocation | None = None

    def render(self, program: str = "adcc") -> str:
        where = f"{self.location}: " if self.location else f"{program}: "
        return f"{where}{self.severity}: {self.message}"


class CompileError(Exception):
    """A user-facing error: bad input, unsupported construct, failed tool."""

    def __init__(self, message: str, location: SourceLocation | None = None,
                 notes: list[Diagnostic] | None = None, exit_code: int = 1):
        super().__init__(message)
        self.diagnostic = Diagnostic("error", message, location)
        self.notes = list(notes or [])
        self.exit_code = exit_code

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [self.diagnostic, *self.notes]


@dataclass(frozen=True)
class CompileWarning:
    """A warning of adcc's own in group `group` (`-W<group>`, `-Wno-<group>`, `-Werror=<group>`)."""
    group: str
    diagnostic: Diagnostic
    notes: tuple[Diagnostic, ...] = ()
    key: tuple = ()          # the same finding in another compile of the same source
    precise: bool = True     # located, and its names come from debug information

    def diagnostics(self, as_error: bool = False) -> list[Diagnostic]:
        flag = f"[-Werror,-W{self.group}]" if as_error else f"[-W{self.group}]"
        d = self.diagnostic
        return [Diagnostic("error" if as_error else "warning", f"{d.message} {flag}", d.location), *self.notes]

    def as_error(self) -> CompileError:
        main, *notes = self.diagnostics(as_error=True)
        return CompileError(main.message, main.location, notes)
