"""The AD path: runs the stages of stages.py in order for one translation unit (compile
step) or for the merged bitcode of several objects (link step), with `-v` showing each.
"""
from __future__ import annotations

import time

from adcc.diagnostics import CompileError
from adcc.driver import stages, toolchain
from adcc.driver.files import write_atomic


class StageLog:
    """Collects `-v` stage lines; rendering happens in console.py."""

    def __init__(self, verbose: bool):
        self.verbose = verbose

    def stage(self, name: str, detail: str = ""):
        return _Timed(self, name, detail)

    def emit(self, line: str) -> None:
        if self.verbose:
            from adcc.driver import console
            console.stage_line(line)


class _Timed:
    def __init__(self, log: StageLog, name: str, detail: str):
        self.log, self.name, self.detail = log, name, detail

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            ms = (time.perf_counter() - self.start) * 1000
            self.log.emit(f"adcc: stage {self.name:<20} {ms:8.1f} ms {self.detail}")
        return False


def machine_for(driver, opt: int):
    p = driver.parsed
    cpu = p.last("-mcpu=") or p.last("-march=")
    return stages.target_machine(cpu=cpu, opt=opt)


def compile_with_ad(driver, inp, kind: str, front_end: str, args: list[str], out: str, action: str) -> int:
    """Compile one source through the AD pipeline into `out` (already a temp path)."""
    from adcc.driver.main import input_words
    toolchain.check_llvm_versions(front_end)
    log = StageLog(driver.verbose)
    bc_path = driver.outputs.scratch_file(".bc")
    keep = stages.keeps_registrations(front_end, inp.path)
    if keep:
        args = [*args, stages.KEEP_STATICS]
    with log.stage("front end", inp.path):
        rc = stages.front_end(front_end, args, input_words(inp), kind, bc_path, driver.verbose)
    if rc != 0:
        return rc
    with open(bc_path, "rb") as f:
        bitcode = f.read()
    options = driver.ad_options(inp.path)
    import dataclasses
    if keep:
        options = dataclasses.replace(options, kept_statics=True)
    if action == "obj":
        # a gradient of a function defined in another unit is synthesized by the link step
        options = dataclasses.replace(options, defer_unresolved=True)
    if options.check_derivatives and not _has_debug_info(args):
        # the run-time check names the line of each call: take it from a compile with line tables
        bitcode_g = _recompile(driver, inp, kind, front_end, args, "-gline-tables-only")
        if bitcode_g is not None:
            from adcc.ad.api import call_site_lines
            lines = call_site_lines(stages.read_bitcode(bitcode_g), options.kept_statics)
            options = dataclasses.replace(options, call_site_lines=lines)
    tm = machine_for(driver, options.opt_level)

    def warn(warnings):
        report_warnings(driver, warnings, lambda: _warnings_with_debug_info(driver, inp, kind, front_end, args,
                                                                             options, tm))
    try:
        data = differentiate_and_emit(bitcode, options, tm, action, log,
                                      embed=(action == "obj"), on_warnings=warn)
    except CompileError as err:
        if err.diagnostic.location is not None or _has_debug_info(args):
            raise
        raise _located(err, driver, inp, kind, front_end, args, options, tm) from None
    write_atomic(out, data)
    return 0


def _located(err, driver, inp, kind, front_end, args, options, tm):
    """An AD error found without debug info: recompile with line tables only to say where (and
    with full debug info when the error is about a global, such as an Enzyme registration, that
    only full debug info places)."""
    quiet = StageLog(False)
    for flag in ("-gline-tables-only", "-g"):
        bitcode = _recompile(driver, inp, kind, front_end, args, flag)
        if bitcode is None:
            return err
        try:
            differentiate_and_emit(bitcode, options, tm, "obj", quiet, embed=False)
        except CompileError as located:
            if located.diagnostic.message == err.diagnostic.message and located.diagnostic.location is not None:
                return located
    return err


def report_warnings(driver, warnings, relocate=None) -> None:
    """Show adcc's warnings as the -W flags ask, or stop at those made errors. `relocate()`
    gives the same warnings from a compile with debug information (for names and lines)."""
    from adcc.driver import console
    from adcc.driver.main import PROGRAMS
    state = driver.parsed.warning_state
    shown = [w for w in warnings if state(w.group) != "off"]
    if relocate is not None and any(not w.precise for w in shown):
        better = {w.key: w for w in relocate()}
        shown = [better.get(w.key, w) for w in shown]
    program = PROGRAMS[driver.mode]
    errors = [w for w in shown if state(w.group) == "error"]
    for w in shown:
        if w not in errors:
            console.report_warning(w, program)
    for w in errors[:-1]:
        console.report_error(w.as_error(), program)
    if errors:
        raise errors[-1].as_error()


def _warnings_with_debug_info(driver, inp, kind, front_end, args, options, tm) -> list:
    """The differentiation stage's warnings again, on a compile with full debug information."""
    import dataclasses
    bitcode = _recompile(driver, inp, kind, front_end, args, "-g")
    if bitcode is None:
        return []
    text = stages.separate_call_sites(stages.read_bitcode(bitcode), options.kept_statics)
    if options.ad_stage == "optimized":
        text = stages.pre_ad_optimize(text, tm)
    try:
        return stages.differentiate(text, dataclasses.replace(options, check_derivatives=False)).warnings
    except CompileError:
        return []


def _has_debug_info(args: list[str]) -> bool:
    return any(a.startswith("-g") for a in args)


def _recompile(driver, inp, kind, front_end, args, debug_flag: str) -> bytes | None:
    """The front end's bitcode again, with debug information (for diagnostics only)."""
    from adcc.driver.main import input_words
    bc_path = driver.outputs.scratch_file(".g.bc")
    if stages.front_end(front_end, [*args, debug_flag], input_words(inp), kind, bc_path, False) != 0:
        return None
    with open(bc_path, "rb") as f:
        return f.read()


def differentiate_and_emit(bitcode: bytes | None, options, tm, action: str, log: StageLog,
                           embed: bool, module=None, on_warnings=None) -> bytes:
    """read -> pre-AD opt -> differentiate -> verify -> [embed] -> optimize -> emit.

    Calls on functions defined in another unit are left for the link step when
    `options.defer_unresolved` is set (compiling to an object). The differentiation stage's
    warnings go to `on_warnings` (dropped when None)."""
    with log.stage("read"):
        text = str(module) if module is not None else stages.read_bitcode(bitcode)
    with log.stage("separate call sites"):
        text = stages.separate_call_sites(text, options.kept_statics)
    if options.ad_stage == "optimized":
        with log.stage("pre-AD optimization", "O2, no vectorization/unrolling"):
            text = stages.pre_ad_optimize(text, tm)
    with log.stage("differentiate"):
        result = stages.differentiate(text, options)  # defers calls on functions of other units
    if result.warnings and on_warnings is not None:
        on_warnings(result.warnings)
    for report in result.reports:
        from adcc.driver import console
        console.report(report)
    if result.call_sites:
        log.emit(f"adcc: differentiated {len(result.call_sites)} call site(s): {', '.join(result.call_sites)}")
    with log.stage("verify"):
        mod = stages.verify(result.text)
    if embed:
        with log.stage("embed bitcode", ".llvm.lto"):
            full = mod if result.bitcode_text is None else stages.verify(result.bitcode_text)
            stages.embed_bitcode(mod, full.as_bitcode())
    with log.stage("optimize", f"O{options.opt_level}"):
        stages.optimize(mod, tm, options.opt_level)
    with log.stage("emit", action):
        return stages.emit(mod, tm, action)
