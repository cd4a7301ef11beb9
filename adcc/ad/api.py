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
    defer_unresolved: bool = False  # -c: leave calls whose target is defined in another unit to the link step


@dataclass
class ADResult:
    text: str                                   # the new module text
    call_sites: list[str] = field(default_factory=list)   # callee names of handled __enzyme_* calls
    reports: list[str] = field(default_factory=list)      # printer outputs (--print-types, ...)


def prepare_for_optimization(text: str) -> str:
    """Give every __enzyme_* call site its own callee before pre-AD optimization.

    Optimizations may otherwise merge two call sites (`if (c) grad(f) else grad(g)` becomes
    one call of `select(c, f, g)`); LLVM never replaces a call's callee by a select, so
    distinct callees keep each site's target a known function."""
    from adcc.analysis.declarations import mentions_declarations
    declares = mentions_declarations(text)
    if "__enzyme_" not in text and not declares:
        return text
    calls = [m for m in ENZYME_CALL_RE.finditer(text) if not _is_declaration_line(text, m.start())]
    if len(calls) < 2 and not declares:
        return text  # one site cannot be merged with another: skip parsing
    from adcc.ad.rewrite import find_call_sites
    from adcc.analysis.declarations import declarations_of
    from adcc.ir import parse_module
    from adcc.ir.values import GlobalRef
    module = parse_module(text)
    # functions with custom rules, inactive or function-like ones stay calls through optimization
    for name in sorted(declarations_of(module).customized):
        module.make_opaque(name)
    sites = find_call_sites(module)
    if len(sites) < 2:
        return str(module) if declares else text
    for k, inst in enumerate(sites):
        name = f"{inst.callee_name.strip(chr(34))}.adcc.{k}"
        module.ensure_declaration(name, inst.info["fn_type"])
        inst.set_operand(inst.info["callee_slot"], GlobalRef(name))
    return str(module)


def differentiate_text(text: str, options: ADOptions) -> ADResult:
    """Replace every __enzyme_* call site in `text` by a call to a synthesized derivative."""
    if "__enzyme_" not in text and '"adcc.linkage"' not in text:
        return ADResult(text=text)
    from adcc.ad.rewrite import rewrite_module
    from adcc.ir import ParseError, parse_module
    try:
        module = parse_module(text)
        sites, reports = rewrite_module(module, options)
    except ParseError as e:
        raise CompileError(f"internal error: cannot read the optimized IR: {e}") from e
    if module.restore_linkage():  # functions kept opaque for differentiation get their own back
        return ADResult(text=str(module), call_sites=sites, reports=reports)
    if not sites:
        return ADResult(text=text)
    return ADResult(text=str(module), call_sites=sites, reports=reports)


def _is_declaration_line(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return text.startswith("declare", line_start)
