"""Shadows of mutable globals: the program's own (`!enzyme_shadow`), else one zero-initialized
twin per global, created on first use."""
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
