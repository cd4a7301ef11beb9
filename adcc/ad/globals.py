"""Shadows of globals: the program's own for a mutable global (`!enzyme_shadow`), else one
zero-initialized twin per mutable global, created on first use; and for a constant (or inactive)
global that meets active memory, a zero twin as well (read-only in forward mode, where nothing may
write it; writable in reverse mode, where loads through it accumulate adjoints nobody reads)."""
from __future__ import annotations

import re

from adcc.ad import naming
from adcc.analysis.activity import global_is_active
from adcc.analysis.declarations import declarations_of
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.symbols import substitute_globals
from adcc.ir.values import Constant, GlobalRef


def shadow_of_global(module, name: str, lane: int = 0) -> GlobalRef:
    """g's shadow (in `lane` of vector forward mode: each lane has its own)."""
    given = declarations_of(module).shadows.get(name)
    if given is not None:
        return GlobalRef(given)  # the program's own shadow (!enzyme_shadow), shared by the lanes
    sname = naming.shadow_global(name, lane)
    if sname not in module.globals:
        g = module.globals[name]
        vt = g.value_type if g.value_type is not None else T.ArrayType(8, T.i8)
        tl = "thread_local " if g.thread_local else ""
        qn = sname if '"' not in sname else sname
        module.add_global(sname, f"@{qn} = internal {tl}global {vt} zeroinitializer, align 16", vt, False)
        init = _shadow_initializer(module, g, lane)  # after adding it: the initializer may point back to g
        if init is not None:
            sg = module.globals[sname]
            sg.text = f"@{qn} = internal {tl}global {vt} {init}, align 16"
            sg.initializer = f"{init}, align 16"
    return GlobalRef(sname)


_FLOAT_LITERAL = re.compile(r"\b(half|bfloat|float|double|x86_fp80|fp128|ppc_fp128) (?!zeroinitializer\b)"
                            r"[-+0-9.a-zA-Z][^,\s\]\}>)]*")


def _shadow_initializer(module, g, lane: int = 0) -> str | None:
    """The shadow of a global whose initializer points to other globals: the same constant with
    its floating-point values zero, its integers as they are, and each global it points to replaced
    by that global's shadow (or a zero twin), as Enzyme shadows a descriptor (an array's address and
    size). None: zero-initialized is its shadow."""
    init = _leading_constant(g.initializer or "")
    if "@" not in init:
        return None
    zeroed = _FLOAT_LITERAL.sub(lambda m: f"{m.group(1)} zeroinitializer", init)

    def rename(name: str) -> str | None:
        if name not in module.globals:
            return None  # a function: stays itself (indirect calls dispatch on the primal)
        if global_is_active(module, name):
            return shadow_of_global(module, name, lane).gname
        return zero_twin(module, name, True).gname
    return substitute_globals(zeroed, rename)


def _leading_constant(text: str) -> str:
    """The constant at the start of a global's initializer text (before `, align 8`, `, section ...`)."""
    depth, quoted = 0, False
    for k, ch in enumerate(text):
        if quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            return text[:k].strip()
    return text.strip()


def shadow_constant(module, c: Constant, lane: int = 0) -> Constant:
    """The shadow of a constant pointer: the same expression over the globals' shadows."""
    if isinstance(c, GlobalRef):
        return shadow_of_global(module, c.gname, lane)
    def rename(name: str) -> str | None:
        return shadow_of_global(module, name, lane).gname if global_is_active(module, name) else None
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


# --- implicit shadows start at zero in each combined-mode derivative -----------------------------

MAX_FIELD_STORES = 64  # a mixed aggregate with more floating-point fields keeps its shadow as it is


def has_implicit_shadows(module) -> bool:
    """Whether the module has any implicit shadow global (`reset_implicit_shadows` has work)."""
    return any(naming.implicit_shadow_parts(name) for name in module.globals)


def reset_implicit_shadows(module, b, root: str, reached: set[str]) -> None:
    """Zero the floating-point contents of the implicit shadows (`adcc.shadow.*`) the derivative
    `root` reaches (`reached`: its call tree), at the call site, before the call.

    The program cannot seed or read them, so in a combined-mode call (__enzyme_autodiff,
    __enzyme_fwddiff) a global's tangent or adjoint is zero when the call starts. Without this, the
    adjoint a reverse pass accumulated for a global it only read was still there for the next call:
    a later forward call read it as the global's tangent, a later reverse call of code that
    overwrites and rereads the global added it to its result. Pointers a shadow holds (shadow
    memory set up by an earlier call) stay. Split-mode calls keep them all (the halves, and
    calls composed through a global, exchange derivatives there). The program's own shadows
    (`enzyme_shadow`) are the program's to reset.

    A pointer global g that the program set to a heap block allocated outside derivatives (noted
    by adcc.ad.contexts.note_heap_stores) gets a zeroed shadow block of the same size, kept in its
    implicit shadow from call to call: before, its shadow pointer was null and the derivative
    crashed on the first access through g."""
    from adcc.ad.contexts import heap_shadow
    names = sorted({r for f in reached for r in module.references(f) if naming.implicit_shadow_parts(r)})
    for name in names:
        zero_floats(module, b, name)
        shadow = heap_shadow(module, b, naming.implicit_shadow_parts(name)[0], name)
        if shadow is not None:
            b.call("adcc_context_zero_heap", T.void, [shadow])


def zero_floats(module, b, name: str) -> bool:
    """Zero the floating-point contents of shadow global `name` (its pointers and integers stay);
    False when it has too many floating-point fields among other data to zero them one by one."""
    g = module.globals.get(name)
    if g is None or g.value_type is None:
        return True
    fields = _float_fields(module, g.value_type, 0, [])
    if not fields:
        return True
    ptr = GlobalRef(name)
    total = layout.alloc_size(module, g.value_type)
    if sum(layout.alloc_size(module, t) for _, t in fields) == total:
        b.memset(ptr, 0, b.iconst(T.i64, total))
    elif len(fields) <= MAX_FIELD_STORES:
        for offset, t in fields:
            at = b.byte_gep(ptr, offset) if offset else ptr
            if isinstance(t, T.ArrayType):
                b.memset(at, 0, b.iconst(T.i64, layout.alloc_size(module, t)))
            else:
                b.store(b.fconst(t, 0.0), at)
    else:
        return False
    return True


def _float_fields(module, ty: T.Type, base: int, out: list) -> list:
    """(byte offset, type) of each floating-point scalar or vector in `ty` (stops counting past
    MAX_FIELD_STORES + 1 inside arrays of mixed aggregates; an all-float array is one entry)."""
    ty = module.resolve(ty) if isinstance(ty, T.NamedStructType) else ty
    if ty.is_float_or_float_vector():
        out.append((base, ty))
    elif isinstance(ty, T.ArrayType):
        inner = _float_fields(module, ty.elem, 0, [])
        size = layout.alloc_size(module, ty.elem)
        if inner and sum(layout.alloc_size(module, t) for _, t in inner) == size:
            out.append((base, ty))  # all floats: zeroed as one block
        else:
            for k in range(ty.count):
                if len(out) > MAX_FIELD_STORES:
                    break
                out.extend((base + k * size + o, t) for o, t in inner)
    elif isinstance(ty, T.StructType):
        for elem, offset in zip(ty.elems, layout.struct_offsets(module, ty)):
            _float_fields(module, elem, base + offset, out)
    return out
