"""The differentiation stage's entry point, as the driver sees it.

`differentiate_text` takes a whole module as LLVM text (after pre-AD optimization)
and returns the module with every `__enzyme_*` call replaced by a call to a
synthesized derivative. It raises `adcc.diagnostics.CompileError` for user errors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from adcc.diagnostics import CompileError, CompileWarning

TYPE_HINTS = ("__enzyme_float", "__enzyme_double", "__enzyme_integer", "__enzyme_pointer")
# Enzyme's checkpointing hints: how Enzyme should spend memory on a loop, no value of a derivative
CHECKPOINT_HINTS = ("__enzyme_set_checkpointing", "__enzyme_set_mincut", "__enzyme_ptr_size_hint")
UTILITIES = ("__enzyme_iter", "__enzyme_call_inactive")  # stay calls until differentiation is done
CHECKPOINT_FOR = "__enzyme_checkpoint_"  # for/while: its primal, the plain loop, too (adcc.ad.rules.checkpoint_api)
ENZYME_CALL_RE = re.compile(r"@\"?([\w.$]*__enzyme_(?:autodiff|fwddiff|augmentfwd|augmentsize|reverse|fwdsplit|batch|virtualreverse|error_estimate)\w*)\"?\(")


@dataclass(frozen=True)
class ADOptions:
    """Options of the differentiation stage (frozen; passed explicitly)."""
    source_file: str = "<input>"
    print_types: bool = False       # --print-types: report type analysis
    print_activity: bool = False    # --print-activity: report activity analysis
    opt_level: int = 2              # user's -O level (for decisions only; the driver optimizes)
    ad_stage: str = "optimized"     # --ad-stage: "optimized" (after pre-AD O2) or "unoptimized"
    defer_unresolved: bool = False  # -c: leave calls whose target is defined in another unit to the link step
    kept_statics: bool = False      # the front end kept unused static variables (for static registrations)
    vector_library: str | None = None  # -fveclib=NAME: vector math variants for the post-AD vectorizer
    check_derivatives: bool = False  # -fadcc-check-derivatives: derivative calls checked at run time
    call_site_lines: tuple[tuple[str, str, str], ...] = ()  # (callee, "file:line", function) without -g
    tape_limit: int = 0  # -fadcc-tape-limit=SIZE: bytes of tape a checkpointed loop may take (0: the
                         # runtime's default, a quarter of physical memory; -1: no loop is checkpointed)


@dataclass
class ADResult:
    text: str                                   # the new module text
    call_sites: list[str] = field(default_factory=list)   # callee names of handled __enzyme_* calls
    reports: list[str] = field(default_factory=list)      # printer outputs (--print-types, ...)
    bitcode_text: str | None = None             # for the object's embedded bitcode, when it differs
                                                # (keeps the registrations a link step may need)
    warnings: list[CompileWarning] = field(default_factory=list)  # rendered (or made errors) by the driver


def prepare_for_optimization(text: str, kept_statics: bool = False) -> str:
    """Give every __enzyme_* call site its own callee before pre-AD optimization.

    Optimizations may otherwise merge two call sites (`if (c) grad(f) else grad(g)` becomes
    one call of `select(c, f, g)`); LLVM never replaces a call's callee by a select, so
    distinct callees keep each site's target a known function. `kept_statics`: the front end
    kept every static variable (`-fkeep-persistent-storage-variables`) so that static Enzyme
    registrations reach the IR; only those stay pinned."""
    from adcc.analysis.declarations import mentions_declarations
    if "__enzyme_fortran_" in text:
        text = _prepare_fortran(text)
    declares = mentions_declarations(text)
    if "__enzyme_" not in text and not declares and not kept_statics:
        return text
    calls = [m for m in ENZYME_CALL_RE.finditer(text) if not _is_declaration_line(text, m.start())]
    if len(calls) < 2 and not declares and not kept_statics:
        return text  # one site cannot be merged with another: skip parsing
    from adcc.ad.rewrite import find_call_sites
    from adcc.analysis.declarations import declarations_of
    from adcc.ir import parse_module
    from adcc.ir.values import GlobalRef
    module = parse_module(text)
    if kept_statics:
        _unpin_statics(module)
    from adcc.ad.enzyme_uses import check_names
    check_names(module)  # before the declarations are read: names adcc refuses are located errors
    # functions with custom rules, inactive or function-like ones stay calls through optimization
    for name in sorted(declarations_of(module).customized):
        module.make_opaque(name)
    sites = find_call_sites(module)
    if len(sites) < 2:
        return str(module) if declares or kept_statics else text
    for k, inst in enumerate(sites):
        name = f"{inst.callee_name.strip(chr(34))}.adcc.{k}"
        module.ensure_declaration(name, inst.info["fn_type"])
        inst.set_operand(inst.info["callee_slot"], GlobalRef(name))
    return str(module)


def _prepare_fortran(text: str) -> str:
    """The adcc_ad module's calls, made ready for optimization (adcc.ad.fortran_api)."""
    from adcc.ad.fortran_api import prepare
    from adcc.ir import parse_module
    module = parse_module(text)
    return str(module) if prepare(module) else text


def call_site_lines(text: str, kept_statics: bool = False) -> tuple[tuple[str, str, str], ...]:
    """(callee, "file:line", name of the differentiated function) of every __enzyme_* call of a
    module with line tables, each callee named as `prepare_for_optimization` names it (so the
    names identify the same calls in a compile of the same source without debug information)."""
    from adcc.ad.rewrite import _target_name as target_name, find_call_sites
    from adcc.ad.srcloc import location_of, source_name
    from adcc.ir import ParseError, parse_module
    try:
        module = parse_module(prepare_for_optimization(text, kept_statics))
        sites = find_call_sites(module)
    except ParseError:
        return ()
    out = []
    for inst in sites:
        loc, target = location_of(module, inst), target_name(inst)
        if inst.callee_name and loc is not None:
            out.append((inst.callee_name, f"{loc.file}:{loc.line}", source_name(module, target) if target else "?"))
    return tuple(out)


def differentiate_text(text: str, options: ADOptions, between_levels=None) -> ADResult:
    """Replace every __enzyme_* call site in `text` by a call to a synthesized derivative.

    `between_levels(text) -> text` (optional) optimizes the module between nesting levels of
    higher-order AD: derivatives of inner calls are synthesized first, the module is optimized
    (so an outer derivative differentiates clean, inlined code), then the next level."""
    if "__enzyme_" not in text and '"adcc.linkage"' not in text:
        return ADResult(text=text)
    from adcc.ad.rewrite import find_call_sites, rewrite_module
    from adcc.analysis.declarations import mentions_declarations
    from adcc.ir import ParseError, parse_module
    try:
        module = parse_module(text)
        if "__enzyme_fortran_" in text:
            from adcc.ad.fortran_api import lower
            lower(module, options.defer_unresolved)
        lowered = "__enzyme_virtualreverse" in text and _lower_virtual_reverse(module)
        if "__enzyme_truncate_" in text or "__enzyme_expand_mem_value" in text:
            from adcc.ad.truncate import lower_truncations
            lowered = lower_truncations(module) or lowered
        from adcc.ad.contexts import CONTEXT_PIN, finish_contexts, lower_contexts, mentions_contexts
        contexts = (mentions_contexts(text) or CONTEXT_PIN in text) and lower_contexts(module)
        sites, reports, warnings = [], [], []
        if between_levels is not None:
            module, sites, reports, warnings = _inner_levels(module, options, between_levels)
        more, more_reports, more_warnings = rewrite_module(module, options)
        sites, reports, warnings = sites + more, reports + more_reports, warnings + more_warnings
        if contexts and not find_call_sites(module):  # (else the link step differentiates the rest)
            finish_contexts(module)
            lowered = True
    except ParseError as e:
        raise CompileError(f"internal error: cannot read the optimized IR: {e}") from e
    _drop_passive_markers(module)
    restored = module.restore_linkage()  # functions kept opaque for differentiation get their own back
    if sites and "!DISubprogram" in text:
        _locate_new_calls(module)
    hinted = any(h in text for h in TYPE_HINTS + CHECKPOINT_HINTS)
    utilities = any(u in text for u in UTILITIES) or CHECKPOINT_FOR in text
    registers = mentions_declarations(text)
    if not sites and not restored and not hinted and not lowered and not registers and not utilities:
        return ADResult(text=text)
    full = str(module)
    consumed = _drop_type_hints(module) if hinted else False
    if utilities:
        from adcc.ad.rules.checkpoint_api import lower_checkpoint_calls
        from adcc.ad.utility_calls import lower_utility_calls
        consumed = lower_utility_calls(module) or consumed
        consumed = lower_checkpoint_calls(module) or consumed
    consumed = _consume_registrations(module) or consumed
    if consumed:  # the object's embedded bitcode keeps what a link step may still need
        return ADResult(text=str(module), call_sites=sites, reports=reports, bitcode_text=full, warnings=warnings)
    return ADResult(text=full, call_sites=sites, reports=reports, warnings=warnings)


def _inner_levels(module, options, optimize):
    """Differentiate the call sites nested inside other sites' targets, level by level from the
    innermost, optimizing the module after each level; returns the module with only the outermost
    level left, and the sites handled."""
    from adcc.ad.rewrite import find_call_sites, nested_sites, rewrite_module
    from adcc.ir import parse_module
    handled: list[str] = []
    reports: list[str] = []
    warnings: list = []
    while True:
        sites = find_call_sites(module)
        inner = nested_sites(module, sites)
        if not inner:
            return module, handled, reports, warnings
        done, more, warned = rewrite_module(module, options, only=inner)
        if not done:
            return module, handled, reports, warnings
        handled += done
        reports += more
        warnings += warned
        # the augmented and reverse functions stay calls through optimization (restored at the
        # end): their tape is then an argument, which the next level's activity analysis follows
        # from the call that passes it (inlined, the tape's records would look like memory no
        # active data reaches)
        module = parse_module(str(module))
        for name in list(module.functions):
            if name.startswith(("adcc.aug.", "adcc.rev.")) and module.is_defined(name):
                module.make_opaque(name, noinline=False)
        module = parse_module(optimize(str(module)))


def _drop_passive_markers(module) -> None:
    """`adcc.passive(p)` marks pointers without derivatives that a reverse pass reads back from its
    tape, for a derivative of that code (adcc/ad/adjoint.py); once every derivative is built, each
    call is its argument again."""
    from adcc.ad.adjoint import PASSIVE
    if PASSIVE not in module.functions:
        return
    for name in module.defined_function_names():
        e = module.functions[name]
        if e.parsed is None and PASSIVE not in e.text:
            continue
        for inst in list(module.function(name).instructions()):
            if inst.opcode == "call" and inst.callee_name == PASSIVE:
                inst.replace_all_uses_with(inst.args[0])
                inst.erase()
    # the declaration stays: an unused declaration emits nothing


_SUBPROGRAM = re.compile(r"!dbg (![0-9]+)\s*\{?\s*$")


def _locate_new_calls(module) -> None:
    """Calls adcc inserted into a function that has debug info (the calls of synthesized
    derivatives) get a compiler-generated location (line 0 of that function), as LLVM requires
    of inlinable calls: inlining then nests the callee's own locations (a rule function's, say)
    under it instead of leaving them in a function they do not describe."""
    for e in list(module.functions.values()):
        if not e.is_definition or e.parsed is None or not e.parsed.header:
            continue
        m = _SUBPROGRAM.search(e.parsed.header)
        if m is None:
            continue
        loc = None
        for inst in e.parsed.instructions():
            if inst.opcode in ("call", "invoke") and inst.get_metadata("dbg") is None and \
                    module.is_defined(inst.callee_name or ""):
                if loc is None:
                    loc = f"!{module._free_metadata_id()}"
                    module.items.append(f"{loc} = !DILocation(line: 0, scope: {m.group(1)})")
                inst.metadata.append(("dbg", loc))


def _lower_virtual_reverse(module) -> bool:
    """`__enzyme_virtualreverse(p)`: Enzyme's shadow of a function or vtable pointer, which a
    program stores into the shadow of a C++ object (its shadow vtable). adcc differentiates an
    indirect call through the primal pointer it calls, never through that shadow, so the call
    stands for `p` itself (a shadow object keeps a working vtable)."""
    from adcc.ad.common import convert
    from adcc.ir.builder import Builder
    found = False
    for name in module.defined_function_names():
        e = module.functions[name]
        if e.parsed is None and "__enzyme_virtualreverse" not in e.text:
            continue
        for inst in list(module.function(name).instructions()):
            if inst.opcode == "call" and "__enzyme_virtualreverse" in (inst.callee_name or "") and inst.args:
                b = Builder(module, inst.block.function).position_before(inst)
                inst.replace_all_uses_with(convert(b, inst.args[0], inst.type) if inst.uses else inst.args[0])
                inst.erase()
                found = True
    return found


def _drop_type_hints(module) -> bool:
    """Calls of Enzyme's type hints (`__enzyme_double(p, n)`, ...) only inform type analysis, and
    its checkpointing hints (`__enzyme_set_checkpointing`, ...) only how much Enzyme tapes: they
    are removed from the code (nothing defines those functions)."""
    from adcc.analysis.types import type_hint
    from adcc.ir.builder import Builder
    dropped = False
    for name in module.defined_function_names():
        e = module.functions[name]
        if e.parsed is None and not any(h in e.text for h in TYPE_HINTS + CHECKPOINT_HINTS):
            continue
        for inst in list(module.function(name).instructions()):
            if inst.opcode == "call" and (type_hint(inst.callee_name) is not None or
                                                      any(h in (inst.callee_name or "") for h in CHECKPOINT_HINTS)):
                if inst.uses:
                    inst.replace_all_uses_with(Builder.poison(inst.type))
                inst.erase()
                dropped = True
    return dropped


def _unpin_statics(module) -> None:
    """Undo what `-fkeep-persistent-storage-variables` added to llvm.compiler.used (one entry per
    variable; the program's own `used` variables appear a second time), except for the Enzyme
    registrations: they must survive optimization until differentiation has read them."""
    from adcc.analysis.declarations import is_registration
    from adcc.ir.module import unpin_variables
    unpin_variables(module, keep=is_registration)


def _consume_registrations(module) -> bool:
    """Once no call site is left, the program's registrations have done their work:
    like Enzyme, delete them from the code (their entries would keep references to functions
    that only their rules stand for, and that may be defined nowhere), and the primal functions
    nothing calls any more. False when call sites remain for the link step (it needs them)."""
    from adcc.analysis.declarations import is_registration
    regs = {n for n in module.globals if is_registration(n)}
    if not regs or any(ENZYME_CALL_RE.search(e.text if e.parsed is None else "")
                       or (e.parsed is not None and _calls_enzyme(e.parsed))
                       for e in module.functions.values() if e.is_definition):
        return False
    module.remove_globals(regs)
    module.remove_unreferenced_functions()
    return True


def _calls_enzyme(fn) -> bool:
    return any(inst.opcode in ("call", "invoke") and inst.callee_name and ENZYME_CALL_RE.search("@" + inst.callee_name + "(")
               for inst in fn.instructions())


def _is_declaration_line(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return text.startswith("declare", line_start)
