"""The dropped-derivative warning (-Wadcc-dropped-derivative): what adcc.analysis.dropped finds
at an `__enzyme_*` call, as a located warning with the notes a user needs to fix the call."""
from __future__ import annotations

from adcc.analysis.dropped import DroppedDerivative, dropped_derivatives
from adcc.analysis.spec import FunctionSpec
from adcc.ad.srcloc import argument_name, global_name, location_of, source_name
from adcc.diagnostics import CompileWarning, Diagnostic, SourceLocation

GROUP = "adcc-dropped-derivative"


def dropped_derivative_warnings(module, site, spec: FunctionSpec, options) -> list[CompileWarning]:
    fn = module.function(spec.name)
    return [_warning(module, site, spec, options, found) for found in dropped_derivatives(module, fn, spec)]


def _warning(module, site, spec: FunctionSpec, options, found: DroppedDerivative) -> CompileWarning:
    where = _call_location(module, site, options)
    function = source_name(module, spec.name)
    if isinstance(found.root, str):
        source = global_name(module, found.root)
        named = source is not None
        name = source or found.root.strip('"')
        what, how = f"global '{name}'", "it is declared inactive"
        fix = f"remove '{name}' from the inactive globals, or keep active values out of it"
    else:
        name = argument_name(module, spec.name, found.root)
        named = name is not None
        what = f"'{name}'" if named else f"argument {found.root + 1} of '{function}'"
        how = "it is passed as enzyme_const"
        shadow = f"enzyme_dup, {name}, d_{name}" if named else "enzyme_dup, the pointer, then its shadow"
        fix = (f"pass it as enzyme_dup with a shadow of the same size (scratch memory, zero-initialized): "
               f"{shadow}")
    message = (f"derivatives flowing through {what} are dropped: {how} but active values are stored into it "
               f"and read back")
    notes = (Diagnostic("note", "an active value is stored into it here", location_of(module, found.store)),
             Diagnostic("note", "and read back here", location_of(module, found.load)),
             Diagnostic("note", fix, where))
    return CompileWarning(GROUP, Diagnostic("warning", message, where), notes,
                          key=(site.inst.callee_name, found.root), precise=named and where is not None)


def _call_location(module, site, options) -> SourceLocation | None:
    loc = location_of(module, site.inst)
    if loc is not None:
        return loc
    for callee, line, _ in getattr(options, "call_site_lines", ()):
        if callee == site.inst.callee_name:
            file, _, number = line.rpartition(":")
            return SourceLocation(file, int(number))
    return None
