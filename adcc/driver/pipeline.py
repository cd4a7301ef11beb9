"""The AD path: runs the stages of stages.py in order for one translation unit (compile
step) or for the merged bitcode of several objects (link step), with `-v` showing each.
"""
from __future__ import annotations

import time

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
    with log.stage("front end", inp.path):
        rc = stages.front_end(front_end, args, input_words(inp), kind, bc_path, driver.verbose)
    if rc != 0:
        return rc
    with open(bc_path, "rb") as f:
        bitcode = f.read()
    options = driver.ad_options(inp.path)
    if action == "obj":
        # a gradient of a function defined in another unit is synthesized by the link step
        import dataclasses
        options = dataclasses.replace(options, defer_unresolved=True)
    data = differentiate_and_emit(bitcode, options, machine_for(driver, options.opt_level), action, log,
                                  embed=(action == "obj"), defer_undefined=(action == "obj"))
    write_atomic(out, data)
    return 0


def differentiate_and_emit(bitcode: bytes | None, options, tm, action: str, log: StageLog,
                           embed: bool, module=None, defer_undefined: bool = False) -> bytes:
    """read -> pre-AD opt -> differentiate -> verify -> [embed] -> optimize -> emit.

    With `defer_undefined` (compiling to an object), a unit whose Enzyme calls name functions
    defined elsewhere is left undifferentiated; the link step differentiates the merged module."""
    with log.stage("read"):
        text = str(module) if module is not None else stages.read_bitcode(bitcode)
    if options.ad_stage == "optimized":
        with log.stage("pre-AD optimization", "O2, no vectorization/unrolling"):
            text = stages.pre_ad_optimize(text, tm)
    deferred = stages.undefined_ad_targets(text) if defer_undefined else []
    if deferred:
        log.emit(f"adcc: {', '.join(sorted(set(deferred)))} defined in another unit: differentiating at link time")
        from adcc.ad.api import ADResult
        result = ADResult(text=text)
    else:
        with log.stage("differentiate"):
            result = stages.differentiate(text, options)
    for report in result.reports:
        from adcc.driver import console
        console.report(report)
    if result.call_sites:
        log.emit(f"adcc: differentiated {len(result.call_sites)} call site(s): {', '.join(result.call_sites)}")
    with log.stage("verify"):
        mod = stages.verify(result.text)
    if embed:
        with log.stage("embed bitcode", ".llvm.lto"):
            stages.embed_bitcode(mod, mod.as_bitcode())
    with log.stage("optimize", f"O{options.opt_level}"):
        stages.optimize(mod, tm, options.opt_level)
    with log.stage("emit", action):
        return stages.emit(mod, tm, action)
