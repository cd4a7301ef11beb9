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
    if keep:
        import dataclasses
        options = dataclasses.replace(options, kept_statics=True)
    if action == "obj":
        # a gradient of a function defined in another unit is synthesized by the link step
        import dataclasses
        options = dataclasses.replace(options, defer_unresolved=True)
    tm = machine_for(driver, options.opt_level)
    try:
        data = differentiate_and_emit(bitcode, options, tm, action, log,
                                      embed=(action == "obj"))
    except CompileError as err:
        if err.diagnostic.location is not None or any(a.startswith("-g") for a in args):
            raise
        raise _located(err, driver, inp, kind, front_end, args, options, tm) from None
    write_atomic(out, data)
    return 0


def _located(err, driver, inp, kind, front_end, args, options, tm):
    """An AD error found without debug info: recompile with line tables only to say where (and
    with full debug info when the error is about a global, such as an Enzyme registration, that
    only full debug info places)."""
    from adcc.driver.main import input_words
    bc_path = driver.outputs.scratch_file(".g.bc")
    quiet = StageLog(False)
    for flag in ("-gline-tables-only", "-g"):
        if stages.front_end(front_end, [*args, flag], input_words(inp), kind, bc_path, False) != 0:
            return err
        with open(bc_path, "rb") as f:
            bitcode = f.read()
        try:
            differentiate_and_emit(bitcode, options, tm, "obj", quiet, embed=False)
        except CompileError as located:
            if located.diagnostic.message == err.diagnostic.message and located.diagnostic.location is not None:
                return located
    return err


def differentiate_and_emit(bitcode: bytes | None, options, tm, action: str, log: StageLog,
                           embed: bool, module=None) -> bytes:
    """read -> pre-AD opt -> differentiate -> verify -> [embed] -> optimize -> emit.

    Calls on functions defined in another unit are left for the link step when
    `options.defer_unresolved` is set (compiling to an object)."""
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
