"""The link step: plain `clang` linking plus the adcc runtime, and cross-unit differentiation.

When an object, or a member the link pulls from a static library (named by path or found
with -L/-l), still calls `__enzyme_*` (its unit could not be differentiated alone), the
bitcode embedded in those objects and members is merged, run through the AD pipeline (in a
worker, adcc.driver.worker), and linked as one object in their place; other inputs are
untouched. Members are pulled as a linker would: those defining a symbol still undefined.
"""
from __future__ import annotations

import os

from adcc.driver import objfile, toolchain, worker
from adcc.driver import options as opts
from adcc.driver.files import spawn

_OBJECT_EXTS = (".o", ".obj", ".lo")


def is_object(path: str) -> bool:
    return path.endswith(_OBJECT_EXTS) or os.path.basename(os.path.dirname(path)).startswith("adcc-")


def link(driver, line: list[str], out: str) -> int:
    """Link `line` (options and inputs in command-line order) into `out` (a temp path
    committed by the caller), with the adcc runtime archive last."""
    rc, line = differentiate_across_units(driver, line)
    if rc != 0:
        return rc
    from adcc.driver.runtime import ensure_runtime
    rt = ensure_runtime()
    linker = toolchain.driver_for(driver.mode)
    extra = []
    if any(opts.input_kind(i) != "linker" for i in driver.parsed.inputs):
        extra.append("-Qunused-arguments")  # one clang invocation would not warn about compile flags
    from adcc.driver import mpi_runtime
    inputs = [p for p in line if not p.startswith("-") and is_object(p)]
    inputs += [path for path, _ in static_libraries(driver, line)]
    mpi = [mpi_runtime.ensure_mpi_runtime(line)] if mpi_runtime.needed(inputs) else []
    return spawn([linker, *extra, *line, *mpi, rt.lib_a, "-o", out], driver.verbose)


class _Unit:
    """An object or archive member of the link: its bytes and its symbols."""

    def __init__(self, name: str, data: bytes, archive: str | None = None):
        self.name, self.data, self.archive = name, data, archive
        self.defined, self.undefined = objfile.symbols(data)


def differentiate_across_units(driver, line: list[str]) -> tuple[int, list[str]]:
    """(0, the link line with the bitcode-carrying objects replaced by one differentiated
    object) when an object or pulled member needs AD; (0, `line`) when none does; (rc, line)
    when the link-time AD failed (it printed why)."""
    objects: dict[str, _Unit] = {}
    for path in line:
        if not path.startswith("-") and is_object(path) and os.path.isfile(path):
            try:
                objects[path] = _Unit(path, objfile.read(path))
            except OSError:
                continue  # the linker will report it
    libraries = static_libraries(driver, line)
    members = _pulled_members(list(objects.values()), [path for path, _ in libraries])
    units = [*objects.values(), *members]
    if not any(objfile.native_mentions_enzyme(u.data) for u in units):
        return 0, line
    carriers = [p for p, u in objects.items() if objfile.embedded_bitcode(u.data) is not None]
    blobs = [objfile.embedded_bitcode(u.data) for u in [*(objects[p] for p in carriers), *members]]
    blobs = [b for b in blobs if b is not None]
    if not blobs:
        return 0, line  # nothing to differentiate with; the linker reports the undefined symbol
    from adcc.driver import pipeline
    toolchain.check_llvm_versions(toolchain.driver_for(driver.mode))
    log = pipeline.StageLog(driver.verbose)
    merged_members = [m for m in members if objfile.embedded_bitcode(m.data) is not None]
    if merged_members:
        log.emit(f"adcc: link: bitcode of {len(merged_members)} archive member(s) merged: "
                 f"{', '.join(m.name for m in merged_members)}")
    omitted = {sym: u.name for u in units if objfile.bitcode_omitted(u.data) for sym in u.defined}
    merged_obj = driver.outputs.scratch_file(".o")
    output = driver.parsed.output or "a.out"

    def work() -> None:
        from adcc.driver import stages
        with log.stage("link: merge bitcode", f"{len(blobs)} module(s)"):
            merged = stages.link_bitcode(blobs)
        if omitted:
            with log.stage("link: check calls into objects without bitcode"):
                refuse_omitted_callees(merged, omitted)
        options = driver.ad_options(output)
        tm = pipeline.machine_for(driver, options.opt_level)
        from adcc.diagnostics import CompileError
        try:
            data = pipeline.differentiate_and_emit(None, options, tm, "obj", log, embed=False, module=merged,
                                                   on_warnings=lambda ws: pipeline.report_warnings(driver, ws))
        except CompileError as err:
            raise _located_at_request(err, merged) from None
        with open(merged_obj, "wb") as f:
            f.write(data)
    rc = worker.run(work, log, f"the link of '{output}'", driver.program)
    if rc != 0:
        return rc, line
    # in place of the first carrier, and before any library a merged member came from (the
    # linker then finds those members' symbols defined and does not pull them again)
    sources = {m.archive for m in members}
    places = [line.index(p) for p in carriers] + [where for path, where in libraries if path in sources]
    first = min(places)
    rest = [*line[:first], merged_obj, *[p for p in line[first:] if p not in carriers]]
    return 0, rest


def refuse_omitted_callees(merged, omitted: dict[str, str]) -> None:
    """A located error when a differentiation request's call tree calls, or takes the address
    of, a function whose object left its bitcode out (`omitted`: symbol -> object;
    objfile.compress_embedded_bitcode): without its body the link step cannot tell what it does
    to active memory. (An active indirect call that reaches one misses its derivative at run
    time, adcc_fatal, as for any function without one; an inactive one runs the primal, as
    for every function.)"""
    text = str(merged)
    if not any(f"@{name}" in text or f'@"{name}"' in text for name in omitted):
        return
    from adcc.ad.common import RULE_NAMES
    from adcc.ad.srcloc import location_of
    from adcc.analysis.calls import install_rule_names
    from adcc.analysis.linking import deferred_requests, enzyme_requests, reached_among
    from adcc.ir import parse_module
    module = parse_module(text)
    install_rule_names(module, RULE_NAMES)
    recorded = dict(reversed(deferred_requests(module)))  # target or "call:NAME" -> the first location
    for request, target in enzyme_requests(module):
        if target is None:
            continue
        asked = location_of(module, request) or recorded.get(target)
        for callee, inst in reached_among(module, target, set(omitted)):
            where = (location_of(module, inst) if inst is not None else None) or recorded.get(f"call:{callee}") \
                or asked
            raise _omitted_error(callee, omitted[callee], where, target, asked)


def _omitted_error(callee: str, obj: str, where, target: str, asked):
    from adcc.diagnostics import CompileError, Diagnostic
    notes = [Diagnostic("note", f"'{obj}' has no floating-point code, so adcc left its bitcode out; compile "
                                f"it with -fadcc-embed-all-bitcode to differentiate through '{callee}'", None)]
    if target != callee:
        notes.append(Diagnostic("note", f"while differentiating '{target}', requested here", asked))
    return CompileError(f"cannot differentiate through '{callee}': its object '{obj}' carries no bitcode", where,
                        notes=notes)


def static_libraries(driver, line: list[str]) -> list[tuple[str, int]]:
    """The static libraries of the link and where they stand in `line`: `.a` inputs, and
    `-lNAME` found as libNAME.a in a -L directory (where the linker would not take libNAME.so)."""
    static = driver.parsed.has("-static")
    dirs = driver.parsed.values("-L")
    out = []
    for item in driver.parsed.items:
        if isinstance(item, opts.Input):
            if item.path.endswith(".a") and item.path in line and os.path.isfile(item.path):
                out.append((item.path, line.index(item.path)))
        elif item.name == "-l" and item.value:
            found = _find_library(item.value, dirs, static)
            where = _position(line, item.words)
            if found is not None and where is not None:
                out.append((found, where))
    return out


def _position(line: list[str], words: list[str]) -> int | None:
    for k in range(len(line) - len(words) + 1):
        if line[k:k + len(words)] == words:
            return k
    return None


def _find_library(name: str, dirs: list[str], static: bool) -> str | None:
    names = [name[1:]] if name.startswith(":") else ([] if static else [f"lib{name}.so"]) + [f"lib{name}.a"]
    for d in dirs:
        for candidate in names:
            path = os.path.join(d, candidate)
            if os.path.isfile(path):
                return path if candidate.endswith(".a") or name.startswith(":") else None
    return None


def _pulled_members(objects: list[_Unit], archives: list[str]) -> list[_Unit]:
    """The archive members a linker would pull for these objects: those defining a symbol
    still undefined, repeatedly (members may need other members)."""
    pool: list[_Unit] = []
    for path in archives:
        try:
            data = objfile.read(path)
        except OSError:
            continue
        for name, body in objfile.archive_members(data):
            if body[:4] == b"\x7fELF":
                pool.append(_Unit(f"{os.path.basename(path)}({name})", body, path))
    defined = set().union(*(u.defined for u in objects)) if objects else set()
    undefined = set().union(*(u.undefined for u in objects)) if objects else set()
    pulled: list[_Unit] = []
    changed = True
    while changed:
        changed = False
        for member in list(pool):
            if member.defined & (undefined - defined):
                pool.remove(member)
                pulled.append(member)
                defined |= member.defined
                undefined |= member.undefined
                changed = True
    return pulled


def _located_at_request(err, merged):
    """A link-time AD error without a location: point at the `__enzyme_*` call(s) the
    compile steps recorded (adcc.analysis.linking) instead."""
    from adcc.diagnostics import CompileError, Diagnostic
    if err.diagnostic.location is not None:
        return err
    from adcc.analysis.linking import deferred_requests
    from adcc.ir import parse_module
    try:
        module = parse_module(str(merged))
        requests = deferred_requests(module)
    except Exception:  # the error stands as it is
        return err
    message = err.diagnostic.message
    calls = [(t[5:], loc) for t, loc in requests if t.startswith("call:")]
    requests = [(t, loc) for t, loc in requests if not t.startswith("call:")]
    asked = [Diagnostic("note", f"while differentiating '{t}', requested here", loc) for t, loc in requests]
    for callee, loc in calls:  # the call the error is about, where a compile step saw it
        if f"'{callee}'" in message and not module.is_defined(callee):
            notes = [n if n.location is not None else Diagnostic(n.severity, n.message, loc) for n in err.notes]
            notes.append(Diagnostic("note", f"no object or static library of this link defines '{callee}'", loc))
            return CompileError(message, loc, notes=[*notes, *asked], exit_code=err.exit_code)
    for target, loc in requests:
        if not module.is_defined(target) and f"'{target}'" in message:
            note = Diagnostic("note", f"no object or static library of this link defines '{target}'")
            return CompileError(message, loc, notes=[*err.notes, note], exit_code=err.exit_code)
    return CompileError(message, None, notes=[*err.notes, *asked], exit_code=err.exit_code)
