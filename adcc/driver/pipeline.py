"""The AD path: runs the stages of stages.py in order for one translation unit (compile
step) or for the merged bitcode of several objects (link step), with `-v` showing each.
The front end runs here; everything llvmlite does runs in a worker (adcc.driver.worker).
"""
from __future__ import annotations

import os
import time

from adcc.diagnostics import CompileError
from adcc.driver import stages, toolchain, worker
from adcc.driver.files import write_atomic

QUIET = ["-w", "-Qunused-arguments"]  # a rerun of the front end: its warnings were printed once


class StageLog:
    """Collects `-v` stage lines (rendering happens in console.py) and tells a worker's trace
    which stage runs, for the message should LLVM crash in it."""

    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.trace = worker.StageTrace()

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
        self.log.trace.enter(self.name)
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


def compile_with_ad(driver, inp, kind: str, front_end: str, args: list[str], out: str, action: str,
                    quiet: bool = False, plain=None) -> int:
    """Compile one source through the AD pipeline into `out` (already a temp path). `quiet`:
    the fast path compiled it already and printed its warnings. `plain(quiet_args)`: the
    fast path's compile (its exit status, or None when its object calls Enzyme after all), taken
    instead when the front end's bitcode names no `__enzyme_` symbol (a source that mentions the
    API without calling it, e.g. under an #ifdef)."""
    toolchain.check_llvm_versions(front_end)
    log = StageLog(driver.verbose)
    if quiet:
        args = [*args, *QUIET]
    bc_path = driver.outputs.scratch_file(".bc")
    keep = stages.keeps_registrations(front_end, inp.path)
    if keep:
        args = [*args, stages.KEEP_STATICS]
    with log.stage("front end", inp.path):
        rc = stages.front_end(front_end, args, inp.words(), kind, bc_path, driver.verbose, driver.stdin_for(inp))
    if rc != 0:
        return rc
    if not os.path.exists(bc_path):
        return 0  # the front end wrote nothing (e.g. -Xclang -fsyntax-only): nor do we, as clang
    if plain is not None:
        with open(bc_path, "rb") as f:
            calls = b"__enzyme_" in f.read()
        rc = None if calls else plain(QUIET)  # its warnings were printed by this front end
        if rc is not None:
            return rc
    options = driver.ad_options(inp.path)
    if keep:
        import dataclasses
        options = dataclasses.replace(options, kept_statics=True)
    if action == "obj":
        # a gradient whose call tree needs another unit is synthesized by the link step
        import dataclasses
        options = dataclasses.replace(options, defer_unresolved=True)
    relocate = _Relocator(driver, inp, kind, front_end, [*args, *QUIET])
    debug_info = any(a.startswith("-g") for a in args)

    def work() -> None:
        with open(bc_path, "rb") as f:
            bitcode = f.read()
        tm = machine_for(driver, options.opt_level)
        unit = relocate.with_call_site_lines(options) if options.check_derivatives and not debug_info else options

        def warn(warnings) -> None:
            report_warnings(driver, warnings, lambda: relocate.warnings(unit, tm))
        try:
            data = differentiate_and_emit(bitcode, unit, tm, action, log, embed=(action == "obj"),
                                          locate_deferred=relocate.deferred_calls, on_warnings=warn,
                                          scratch_dir=lambda: _fresh_dir(driver))
        except CompileError as err:
            where = err.diagnostic.location
            if (where is not None and where.line) or any(a.startswith("-g") for a in args):
                raise
            raise relocate.error(err, options, tm) from None
        write_atomic(out, data)
    return worker.run(work, log, inp.path, driver.program)


def _fresh_dir(driver) -> str:
    """A new directory inside this invocation's scratch directory (removed with it)."""
    path = driver.outputs.scratch_file(".parts")
    os.mkdir(path, 0o700)
    return path


class _Relocator:
    """Source locations for a unit compiled without debug info: the front end runs again with
    line tables only (or full debug info, for errors about a global such as an Enzyme
    registration, which only that places), and what is looked up there is reported with its line."""

    def __init__(self, driver, inp, kind, front_end, args):
        self.driver, self.inp, self.kind, self.front_end, self.args = driver, inp, kind, front_end, args

    def bitcode(self, flag: str = "-gline-tables-only") -> bytes | None:
        bc_path = self.driver.outputs.scratch_file(".g.bc")
        if stages.front_end(self.front_end, [*self.args, flag], self.inp.words(), self.kind,
                            bc_path, False, self.driver.stdin_for(self.inp)) != 0:
            return None
        with open(bc_path, "rb") as f:
            return f.read()

    def error(self, err: CompileError, options, tm) -> CompileError:
        """The same AD error, found again in a compile with debug info, now located."""
        for flag in ("-gline-tables-only", "-g"):
            bitcode = self.bitcode(flag)
            if bitcode is None:
                return err
            try:
                differentiate_and_emit(bitcode, options, tm, "obj", StageLog(False), embed=False)
            except CompileError as located:
                where = located.diagnostic.location
                if located.diagnostic.message == err.diagnostic.message and where is not None and where.line:
                    return located
        return err

    def with_call_site_lines(self, options):
        """`options` with the line of each `__enzyme_*` call (the run-time check names it)."""
        import dataclasses
        from adcc.ad.api import call_site_lines
        bitcode = self.bitcode()
        if bitcode is None:
            return options
        lines = call_site_lines(stages.read_bitcode(bitcode), options.kept_statics)
        return dataclasses.replace(options, call_site_lines=lines)

    def warnings(self, options, tm) -> list:
        """The differentiation stage's warnings again, on a compile with full debug information
        (for the names and lines they give)."""
        import dataclasses
        bitcode = self.bitcode("-g")
        if bitcode is None:
            return []
        text = stages.separate_call_sites(stages.read_bitcode(bitcode), options.kept_statics)
        if options.ad_stage == "optimized":
            text = stages.pre_ad_optimize(text, tm)
        try:
            return stages.differentiate(text, dataclasses.replace(options, check_derivatives=False)).warnings
        except CompileError:
            return []

    def deferred_calls(self, module_text: str, targets: set[str]):
        """(target, location) of the `__enzyme_*` calls on `targets` left for the link step."""
        return deferred_call_locations(module_text, targets, self.bitcode)


def deferred_call_locations(module_text: str, targets: set[str], bitcode_with_lines):
    """Where the requests for `targets` are, and where their call trees call the functions this
    unit could not resolve (recorded as "call:NAME", so that a link step that finds no
    definition anywhere points at the call): from the module's own debug info, else from
    `bitcode_with_lines()` (a compile of the same unit with line tables)."""
    from adcc.ad.common import RULE_NAMES
    from adcc.ad.srcloc import location_of
    from adcc.analysis.calls import install_rule_names
    from adcc.analysis.linking import enzyme_requests, unresolved_callee
    from adcc.ir import parse_module
    optimized = parse_module(module_text)
    install_rule_names(optimized, RULE_NAMES)
    callees = {c for t in targets if t in optimized.functions and (c := unresolved_callee(optimized, t))}
    wanted = set(targets) | {f"call:{c}" for c in callees}
    found: dict[str, object] = {}
    for source in (module_text, None):
        if source is None:
            bitcode = bitcode_with_lines()
            if bitcode is None:
                break
            source = stages.read_bitcode(bitcode)
        module = parse_module(source)
        for inst, target in enzyme_requests(module):
            loc = location_of(module, inst)
            if target in targets and loc is not None and target not in found:
                found[target] = loc
        for name in module.defined_function_names():
            if not callees:
                break
            for inst in module.function(name).instructions():
                key = f"call:{inst.callee_name}" if inst.opcode in ("call", "invoke") else None
                if key in wanted and key not in found:
                    loc = location_of(module, inst)
                    if loc is not None:
                        found[key] = loc
        if len(found) == len(wanted):
            break
    return sorted(found.items())


def report_warnings(driver, warnings, relocate=None) -> None:
    """Show adcc's warnings as the -W flags ask, or stop at those made errors. `relocate()`
    gives the same warnings from a compile with debug information (for names and lines)."""
    from adcc.driver import console
    state = driver.parsed.warning_state
    shown = [w for w in warnings if state(w.group) != "off"]
    if relocate is not None and any(not w.precise for w in shown):
        better = {w.key: w for w in relocate()}
        shown = [better.get(w.key, w) for w in shown]
    errors = [w for w in shown if state(w.group) == "error"]
    for w in shown:
        if w not in errors:
            console.report_warning(w, driver.program)
    for w in errors[:-1]:
        console.report_error(w.as_error(), driver.program)
    if errors:
        raise errors[-1].as_error()


def differentiate_and_emit(bitcode: bytes | None, options, tm, action: str, log: StageLog,
                           embed: bool, module=None, locate_deferred=None, on_warnings=None,
                           scratch_dir=None) -> bytes:
    """read -> pre-AD opt -> differentiate -> verify -> [embed] -> optimize -> emit.

    Calls on functions defined in another unit are left for the link step when
    `options.defer_unresolved` is set (compiling to an object); `locate_deferred(text,
    targets)` then says where they are, recorded in the embedded bitcode. The differentiation
    stage's warnings go to `on_warnings` (dropped when None). With `scratch_dir()` (a private
    temporary directory), a large module's object code is generated in parts on several
    cores (adcc.driver.codegen)."""
    with log.stage("read"):
        text = str(module) if module is not None else stages.read_bitcode(bitcode)
    with log.stage("separate call sites"):
        text = stages.separate_call_sites(text, options.kept_statics)
    if options.ad_stage == "optimized":
        with log.stage("pre-AD optimization", "O2, no vectorization/unrolling"):
            text = stages.pre_ad_optimize(text, tm)
    with log.stage("differentiate"), worker.no_cycle_collection():
        # defers calls on functions of other units
        result = stages.differentiate(text, options, tm if options.ad_stage == "optimized" else None)
    if result.warnings and on_warnings is not None:
        on_warnings(result.warnings)
    for report in result.reports:
        from adcc.driver import console
        console.report(report)
    if result.call_sites:
        log.emit(f"adcc: differentiated {len(result.call_sites)} call site(s): {', '.join(result.call_sites)}")
    text = result.text
    if options.vector_library and options.opt_level > 0:
        with log.stage("vector library", options.vector_library):
            text = stages.inject_vector_variants(text, options.vector_library)
    with log.stage("verify"):
        mod = stages.verify(text)
    from adcc.driver import codegen
    parts = codegen.parts_for(len(text), action, text) if scratch_dir is not None else 1
    embedded = None
    if embed:
        from adcc.analysis.linking import calls_enzyme
        full = mod if result.bitcode_text is None else stages.verify(result.bitcode_text)
        if locate_deferred is not None and calls_enzyme(result.text):
            with log.stage("locate deferred calls"):
                stages.record_deferred(full, result.text, locate_deferred)
        with log.stage("embed bitcode", ".adcc.bc"):
            embedded = full.as_bitcode()
            if parts == 1:
                stages.embed_bitcode(mod, embedded)
    with log.stage("optimize", f"O{options.opt_level}"):
        stages.optimize(mod, tm, options.opt_level)
    with log.stage("emit", action if parts == 1 else f"{action}, {parts} parts"):
        if parts == 1:
            data = stages.emit(mod, tm, action)
        else:
            data = codegen.emit_in_parts(mod, tm, parts, scratch_dir(), embedded)
    if embed and action == "obj":
        from adcc.driver.objfile import compress_embedded_bitcode
        with log.stage("compress bitcode"):
            data = compress_embedded_bitcode(data)
    return data
