"""The link step: plain `clang` linking plus the adcc runtime, and cross-unit differentiation.

When an object still calls `__enzyme_*` (its unit could not be differentiated alone), the
bitcode embedded in every object that carries a `.llvm.lto` section is merged, run through
the AD pipeline, and linked as one object in place of those objects; other inputs are untouched.
"""
from __future__ import annotations

import os

from adcc.driver import objfile, toolchain
from adcc.driver import options as opts
from adcc.driver.files import spawn

_OBJECT_EXTS = (".o", ".obj", ".lo")


def is_object(path: str) -> bool:
    return path.endswith(_OBJECT_EXTS) or os.path.basename(path).startswith("adcc-")


def link(driver, line: list[str], out: str) -> int:
    """Link `line` (options and inputs in command-line order) into `out` (a temp path
    committed by the caller), with the adcc runtime archive last."""
    line = differentiate_across_units(driver, line)
    from adcc.driver.runtime import ensure_runtime
    rt = ensure_runtime()
    linker = toolchain.driver_for(driver.mode)
    extra = []
    if any(opts.input_kind(i) != "linker" for i in driver.parsed.inputs):
        extra.append("-Qunused-arguments")  # one clang invocation would not warn about compile flags
    return spawn([linker, *extra, *line, rt.lib_a, "-o", out], driver.verbose)


def differentiate_across_units(driver, inputs: list[str]) -> list[str]:
    """Return the link line `inputs` with the bitcode-carrying objects replaced by one
    differentiated object, if any object needs AD; otherwise `inputs` unchanged."""
    datas = {}
    for path in inputs:
        if not path.startswith("-") and is_object(path) and os.path.isfile(path):
            try:
                datas[path] = objfile.read(path)
            except OSError:
                continue  # the linker will report it
    if not any(objfile.native_mentions_enzyme(d) for d in datas.values()):
        return inputs
    carriers = [p for p, d in datas.items() if objfile.embedded_bitcode(d) is not None]
    if not carriers:
        return inputs  # nothing to differentiate with; the linker reports the undefined symbol
    from adcc.driver import pipeline, stages
    toolchain.check_llvm_versions(toolchain.driver_for(driver.mode))
    log = pipeline.StageLog(driver.verbose)
    with log.stage("link: merge bitcode", f"{len(carriers)} object(s)"):
        merged = stages.link_bitcode([objfile.embedded_bitcode(datas[p]) for p in carriers])
    options = driver.ad_options(driver.parsed.output or "a.out")
    tm = pipeline.machine_for(driver, options.opt_level)
    data = pipeline.differentiate_and_emit(None, options, tm, "obj", log, embed=False, module=merged)
    merged_obj = driver.outputs.scratch_file(".o")
    with open(merged_obj, "wb") as f:
        f.write(data)
    first = inputs.index(carriers[0])
    rest = [p for p in inputs if p not in carriers]
    rest.insert(min(first, len(rest)), merged_obj)
    return rest
