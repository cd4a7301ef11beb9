"""The AD path: runs the stages of stages.py in order for one translation unit (compile
step) or for the merged bitcode of several objects (link step), with `-v` showing each.
The front end runs here; everything llvmlite does runs in a worker (adcc.driver.worker).
"""
from __future__ import annotations

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
                    quiet: bool = False) -> int:
    """Compile one source through the AD pipeline into `out` (already a temp path). `quiet`:
    the fast path compiled it already and printed its warnings."""
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
    options = driver.ad_options(inp.path)
    if keep:
        import dataclasses
        options = dataclasses.replace(options, kept_statics=True)
    if action == "obj":
        # a gradient whose call tree needs another unit is synthesized by the link step
        import dataclasses
        options = dataclasses.replace(options, defer_unresolved=True)
    relocate = _Relocator(driver, inp, kind, front_end, [*args, *QUIET])

    def work() -> None:
        with open(bc_path, "rb") as f:
            bitcode = f.read()
        tm = machine_for(driver, options.opt_level)
        try:
            data = differentiate_and_emit(bitcode, options, tm, action, log, embed=(action == "obj"),
                                          locate_deferred=relocate.deferred_calls)
        except CompileError as err:
            if err.diagnostic.location is not None or any(a.startswith("-g") for a in args):
                raise
            raise relocate.error(err, options, tm) from None
        write_atomic(out, data)
    return worker.run(work, log, inp.path, driver.program)


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
                if located.diagnostic.message == err.diagnostic.message and located.diagnostic.location is not None:
                    return located
        return err

    def deferred_calls(self, module_text: str, targets: set[str]):
        """(target, location) of the `__enzyme_*` calls on `targets` left for the link step."""
        return deferred_call_locations(module_text, targets, self.bitcode)


def deferred_call_locations(module_text: str, targets: set[str], bitcode_with_lines):
    """Where the requests for `targets` are: from the module's own debug info, else from
    `bitcode_with_lines()` (a compile of the same unit with line tables)."""
    from adcc.ad.srcloc import location_of
    from adcc.analysis.linking import enzyme_requests
    from adcc.ir import parse_module
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
        if len(found) == len(targets):
            break
    return sorted(found.items())


def differentiate_and_emit(bitcode: bytes | None, options, tm, action: str, log: StageLog,
                           embed: bool, module=None, locate_deferred=None) -> bytes:
    """read -> pre-AD opt -> differentiate -> verify -> [embed] -> optimize -> emit.

    Calls on functions defined in another unit are left for the link step when
    `options.defer_unresolved` is set (compiling to an object); `locate_deferred(text,
    targets)` then says where they are, recorded in the embedded bitcode."""
    with log.stage("read"):
        text = str(module) if module is not None else stages.read_bitcode(bitcode)
    with log.stage("separate call sites"):
        text = stages.separate_call_sites(text, options.kept_statics)
    if options.ad_stage == "optimized":
        with log.stage("pre-AD optimization", "O2, no vectorization/unrolling"):
            text = stages.pre_ad_optimize(text, tm)
    with log.stage("differentiate"):
        result = stages.differentiate(text, options)  # defers calls on functions of other units
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
    if embed:
        from adcc.analysis.linking import calls_enzyme
        full = mod if result.bitcode_text is None else stages.verify(result.bitcode_text)
        if locate_deferred is not None and calls_enzyme(result.text):
            with log.stage("locate deferred calls"):
                stages.record_deferred(full, result.text, locate_deferred)
        with log.stage("embed bitcode", ".adcc.bc"):
            stages.embed_bitcode(mod, full.as_bitcode())
    with log.stage("optimize", f"O{options.opt_level}"):
        stages.optimize(mod, tm, options.opt_level)
    with log.stage("emit", action):
        data = stages.emit(mod, tm, action)
    if embed and action == "obj":
        from adcc.driver.objfile import compress_embedded_bitcode
        with log.stage("compress bitcode"):
            data = compress_embedded_bitcode(data)
    return data
