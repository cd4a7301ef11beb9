"""The differentiation stage's entry point, as the driver sees it.

`differentiate_text` takes a whole module as LLVM text (after pre-AD optimization)
and returns the module with every `__enzyme_*` call replaced by a call to a
synthesized derivative. It raises `adcc.diagnostics.CompileError` for user errors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from adcc.diagnostics import CompileError

ENZYME_CALL_RE = re.compile(r"@\"?([\w.$]*__enzyme_(?:autodiff|fwddiff|augmentfwd|reverse|virtualreverse)\w*)\"?\(")


@dataclass(frozen=True)
class ADOptions:
    """Options of the differentiation stage (frozen; passed explicitly)."""
    source_file: str = "<input>"
    print_types: bool = False       # --print-types: report type analysis
    print_activity: bool = False    # --print-activity: report activity analysis
    opt_level: int = 2              # user's -O level (for decisions only; the driver optimizes)
    ad_stage: str = "optimized"     # --ad-stage: "optimized" (after pre-AD O2) or "unoptimized"


@dataclass
class ADResult:
    text: str                                   # the new module text
    call_sites: list[str] = field(default_factory=list)   # callee names of handled __enzyme_* calls
    reports: list[str] = field(default_factory=list)      # printer outputs (--print-types, ...)


def has_enzyme_calls(text: str) -> bool:
    return "__enzyme_" in text and ENZYME_CALL_RE.search(text) is not None


def differentiate_text(text: str, options: ADOptions) -> ADResult:
    """Replace every __enzyme_* call site in `text`. Stub until the synthesizers land."""
    sites = [m.group(1) for m in ENZYME_CALL_RE.finditer(text) if not _is_declaration_line(text, m.start())]
    if not sites:
        return ADResult(text=text)
    raise CompileError(f"differentiation is not implemented yet ({len(sites)} call site(s): {', '.join(sorted(set(sites)))})")


def _is_declaration_line(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return text.startswith("declare", line_start)
