"""Shadows of globals: the program's own for a mutable global (`!enzyme_shadow`), else one
zero-initialized twin per mutable global, created on first use; and for a constant (or inactive)
global that meets active memory, a zero twin as well (read-only in forward mode, where nothing may
write it; writable in reverse mode, where loads through it accumulate adjoints nobody reads)."""
from __future__ import annotations

from adcc.ad import naming
from adcc.analysis.activity import global_is_active
from adcc.analysis.declarations import declarations_of
from adcc.ir import types as T
from adcc.ir.symbols import substitute_globals
from adcc.ir.values import Constant, GlobalRef


def shadow_of_global(module, name: str) -> GlobalRef:
    given = declarations_of(module).shadows.get(name)
    if given is not None:
        return GlobalRef(given)  # the program's own shadow (!enzyme_shadow)
    sname = naming.shadow_global(name)
    if sname not in module.globals:
        g = module.globals[name]
        vt = g.value_type if g.value_type is not None else T.ArrayType(8, T.i8)
        tl = "thread_local " if g.thread_local else ""
        qn = sname if '"' not in sname else sname
        module.add_global(sname, f"@{qn} = internal {tl}global {vt} zeroinitializer, align 16", vt, False)
    return GlobalRef(sname)


def shadow_constant(module, c: Constant) -> Constant:
    """The shadow of a constant pointer: the same expression over the globals' shadows."""
    if isinstance(c, GlobalRef):
        return shadow_of_global(module, c.gname)
    def rename(name: str) -> str | None:
        return shadow_of_global(module, name).gname if global_is_active(module, name) else None
    return Constant(c.type, substitute_globals(c.text, rename))


def zero_twin(module, name: str, writable: bool) -> GlobalRef:
    """A zero-initialized global shaped like data global `name` (its shadow when it has none)."""
    if writable:
        return shadow_of_global(module, name)
    tname = naming.zero_global(name)
    if tname not in module.globals:
        g = module.globals[name]
        vt = g.value_type if g.value_type is not None else T.ArrayType(8, T.i8)
        module.add_global(tname, f"@{tname} = internal constant {vt} zeroinitializer, align 16", vt, True)
    return GlobalRef(tname)


def inactive_constant_shadow(module, c: Constant, writable: bool) -> Constant:
    """The shadow of a constant pointer into memory without derivatives (null, a constant or
    inactive global, an expression over them): the same expression over zero twins; functions
    stay themselves (indirect calls dispatch on the primal)."""
    if c.text in ("null", "undef", "poison", "zeroinitializer"):
        return Constant(c.type, "null") if isinstance(c.type, T.PointerType) else c

    def rename(name: str) -> str | None:
        if name not in module.globals:
            return None  # a function
        if global_is_active(module, name):
            return shadow_of_global(module, name).gname
        return zero_twin(module, name, writable).gname
    if isinstance(c, GlobalRef):
        new = rename(c.gname)
        return c if new is None else GlobalRef(new)
    return Constant(c.type, substitute_globals(c.text, rename))
