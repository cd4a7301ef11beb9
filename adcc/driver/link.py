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
        pulled = _pull_archive_members(merged, [p for p in inputs if p.endswith(".a") and os.path.isfile(p)])
    if pulled:
        log.emit(f"adcc: link: bitcode of {len(pulled)} archive member(s) merged: {', '.join(pulled)}")
    options = driver.ad_options(driver.parsed.output or "a.out")
    tm = pipeline.machine_for(driver, options.opt_level)
    data = pipeline.differentiate_and_emit(None, options, tm, "obj", log, embed=False, module=merged,
                                           on_warnings=lambda warnings: pipeline.report_warnings(driver, warnings))
    merged_obj = driver.outputs.scratch_file(".o")
    with open(merged_obj, "wb") as f:
        f.write(data)
    first = inputs.index(carriers[0])
    rest = [p for p in inputs if p not in carriers]
    rest.insert(min(first, len(rest)), merged_obj)
    return rest


def _pull_archive_members(merged, archives: list[str]) -> list[str]:
    """Merge the bitcode of archive members that define functions or globals the merged module
    still lacks, as the linker would pull them (repeatedly: members may need other members).
    A merged member defines everything it holds, so the linker never pulls it again."""
    from adcc.driver import stages
    b = stages.llvm()
    members = []
    for path in archives:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for name, body in objfile.archive_members(data):
            bc = objfile.embedded_bitcode(body) if body[:4] == b"\x7fELF" else None
            if bc is None:
                continue
            mod = b.parse_bitcode(bc)
            defined = {g.name for g in [*mod.functions, *mod.global_variables] if not g.is_declaration}
            members.append([f"{os.path.basename(path)}({name})", bc, defined])
    pulled = []
    changed = True
    while changed and members:
        changed = False
        missing = {g.name for g in [*merged.functions, *merged.global_variables] if g.is_declaration}
        for m in list(members):
            if m[2] & missing:
                merged.link_in(b.parse_bitcode(m[1]))
                pulled.append(m[0])
                members.remove(m)
                changed = True
    return pulled
