"""Enzyme's shadow contexts: `ctx = __enzyme_context(1)` holds a shadow of every global,
`__enzyme_shadow(ctx, &g, 0)` is g's shadow in it, `__enzyme_zero_shadows(ctx)` zeroes them all,
and `enzyme_context, ctx` at a combined-mode call makes the derivative use them (a context of width
W: W lanes of shadows, for forward vector mode of width W).

Contexts are resolved at compile time, as Enzyme resolves them: each `__enzyme_context` call is
one context (`adcc.ctx.K`, a descriptor global its result becomes), so every use of its result
must see that call (made in the function that uses it). Context K's shadow of g is the global
`adcc.ctxshadow.K.g`, shaped and initialized as g's implicit shadow (floats zero, integers as
g's, pointers to other globals pointing to their shadows in K). A derivative called with
`enzyme_context` is a copy of the derivative functions that touch implicit shadows, with every
implicit shadow replaced by context K's; it is not reset before the call (the program seeds and
reads those shadows); a pointer global holding heap memory the program allocated outside
derivatives gets a zeroed shadow of that block there. Reverse mode takes contexts of width 1.
"""
from __future__ import annotations

import re

from adcc.ad import naming
from adcc.ad.srcloc import location_of
from adcc.analysis.declarations import declarations_of
from adcc.diagnostics import CompileError
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.printer import print_function
from adcc.ir.symbols import global_refs, substitute_globals
from adcc.ir.values import Constant, GlobalRef, Instruction

CONTEXT = "__enzyme_context"
CONTEXT_PIN = naming.CONTEXT_PIN
SHADOW = "__enzyme_shadow"
ZERO = "__enzyme_zero_shadows"
_NAMES = (CONTEXT, SHADOW, ZERO)
MAX_WIDTH = 64


def _which(callee: str | None) -> str | None:
    """CONTEXT, SHADOW or ZERO when `callee` is (a spelling of) that entry point."""
    if not callee or "__enzyme_" not in callee:
        return None
    from adcc.ad import enzyme_names as names
    info = names.entry_point(callee.strip('"'))
    return info.name if info is not None and info.name in _NAMES else None


def mentions_contexts(text: str) -> bool:
    return any(n in text for n in _NAMES)


def lower_contexts(module) -> bool:
    """Replace each `__enzyme_context(1)` by its descriptor and each `__enzyme_shadow(ctx, p, 0)`
    by the address in context ctx's shadow of the global p points into. `__enzyme_zero_shadows`
    calls stay until `finish_contexts` (the derivatives decide which shadows a context holds)."""
    found = False
    for fname in module.defined_function_names():
        e = module.functions[fname]
        if e.parsed is None and not mentions_contexts(e.text) and naming.CONTEXT_PIN not in e.text:
            continue
        fn = module.function(fname)
        # (lowered by the compile step, whose call sites the link step differentiates)
        found = found or any(i.opcode == "call" and i.callee_name == naming.CONTEXT_PIN for i in fn.instructions())
        for inst in [i for i in fn.instructions() if i.opcode in ("call", "invoke") and _which(i.callee_name)]:
            if inst.opcode == "invoke":
                raise CompileError(f"{_which(inst.callee_name)} called where an exception may unwind through it "
                                   "(declare it noexcept)", location_of(module, inst))
            which = _which(inst.callee_name)
            if which == CONTEXT:
                _lower_context(module, inst)
            elif which == SHADOW:
                _lower_shadow(module, inst)
            else:
                context_of(module, inst, inst.args[0] if inst.args else None, ZERO)
            found = True
    if found:
        note_heap_stores(module)
    return found


_GLOBAL_POINTER_STORE = re.compile(r"store ptr [^,]+, ptr @")


def note_heap_stores(module) -> None:
    """After each store of a heap allocation into a pointer global g, record {block, bytes} in
    g's note (naming.context_heap): a context, or the implicit shadow of g (adcc.ad.globals),
    gives g a zeroed shadow of that size when a derivative that uses it is called (Enzyme does so
    for memory allocated outside derivatives)."""
    from adcc.analysis.calls import CallKind, classify_call
    for fname in module.defined_function_names():
        e = module.functions[fname]
        if e.parsed is None and not _GLOBAL_POINTER_STORE.search(e.text):
            continue  # (not parsed for nothing)
        fn = module.function(fname)
        for inst in [i for i in fn.instructions() if i.opcode == "store"]:
            val, ptr = inst.operands
            g = getattr(ptr, "gname", None)
            if g is None or g not in module.globals or module.globals[g].value_type != T.ptr:
                continue
            if not (isinstance(val, Instruction) and val.opcode == "call" and
                    classify_call(module, val) is CallKind.ALLOC):
                continue
            nxt = inst.block.instructions[inst.block.instructions.index(inst) + 1]  # (a store ends no block)
            if nxt.opcode == "store" and getattr(nxt.operands[1], "gname", None) == naming.context_heap(g):
                continue  # noted by the compile step already
            b = Builder(module, fn).position_before(nxt)
            size = _allocation_bytes(module, b, val)
            if size is None:
                continue
            note = _note(module, g)
            b.store(val, note)
            b.store(size, b.byte_gep(note, 8))


def _note(module, g: str) -> GlobalRef:
    name = naming.context_heap(g)
    if name not in module.globals:
        ty = T.StructType((T.ptr, T.i64))
        module.add_global(name, f"@{name} = internal global {ty} zeroinitializer, align 8", ty, False)
    return GlobalRef(name)


def _allocation_bytes(module, b, call: Instruction):
    from adcc.ad.common import convert
    from adcc.analysis.calls import ALLOC_FUNCTIONS, effective_callee
    custom = declarations_of(module).allocation_like.get(call.callee_name)
    args = call.args
    if custom is not None:
        return convert(b, args[custom.size_arg], T.i64)
    name = effective_callee(module, call.callee_name)
    if ALLOC_FUNCTIONS.get(name) == "calloc":
        return b.mul(convert(b, args[0], T.i64), convert(b, args[1], T.i64))
    if name == "aligned_alloc":
        return convert(b, args[1], T.i64)
    if ALLOC_FUNCTIONS.get(name) == "malloc" and args:
        return convert(b, args[0], T.i64)
    return None


def fill_heap_shadows(module, b, root: str, ctx: str) -> None:
    """Before a call of derivative `root` with context ctx: each pointer global it reaches whose
    note describes the heap block it points to gets a zeroed shadow of that block in ctx (once)."""
    from adcc.ad.rewrite import call_tree
    shadows = sorted({r for f in call_tree(module, root) for r in module.references(f)
                      if naming.context_shadow_parts(ctx, r)})
    for name in shadows:
        g = _global_named(module, naming.context_shadow_parts(ctx, name)[0])
        if g is not None:
            heap_shadow(module, b, g, name)


def heap_shadow(module, b, g: str, shadow: str):
    """At b: if pointer global g points to the heap block its note describes (note_heap_stores),
    make shadow global `shadow` point to a shadow block of that size (the one it holds when the
    size matches, else a new one). The shadow pointer, or None when g has no note."""
    if g not in module.globals or module.globals[g].value_type != T.ptr or naming.context_heap(g) not in module.globals:
        return None
    new = b.call("adcc_context_heap_shadow", T.ptr, [b.load(T.ptr, GlobalRef(g)), b.load(T.ptr, GlobalRef(shadow)),
                                                     GlobalRef(naming.context_heap(g))])
    b.store(new, GlobalRef(shadow))
    return new




def _lower_context(module, inst: Instruction) -> None:
    where = location_of(module, inst)
    width = layout.constant_int(inst.args[0]) if len(inst.args) == 1 else None
    if width is None:
        raise CompileError(f"{CONTEXT} takes one argument, the context's width, an integer constant", where)
    if not 1 <= width <= MAX_WIDTH:
        raise CompileError(f"{CONTEXT}({width}): a context's width is the number of lanes of the derivatives "
                           f"that use it, from 1 to {MAX_WIDTH}", where)
    unit = _unit_tag(module)  # contexts of two units linked together keep apart
    k = 0
    while naming.context(f"{unit}_{k}") in module.globals:
        k += 1
    name = naming.context(f"{unit}_{k}")
    module.add_global(name, f"@{name} = internal constant i32 {width}", T.i32, True)
    inst.replace_all_uses_with(GlobalRef(name))
    inst.erase()


def _unit_tag(module) -> str:
    import hashlib
    from adcc.ad.enzyme_uses import _source_file
    key = _source_file(module) + "\0" + "\0".join(sorted(module.defined_function_names()))
    return hashlib.sha1(key.encode()).hexdigest()[:8]


def context_of(module, inst: Instruction, v, what: str) -> str:
    """The descriptor of the context value `v` passed to `inst` (a located error if it is not one)."""
    name = getattr(v, "gname", None)
    if name is None or not naming.is_context(name) or name not in module.globals:
        raise CompileError(f"the context given to {what} must be the result of an __enzyme_context call in the "
                           "same function (adcc resolves contexts at compile time, as Enzyme does)",
                           location_of(module, inst))
    return name


def context_width(module, ctx: str) -> int:
    """The width a context was created with (its descriptor's value)."""
    m = re.search(r"constant i32 (\d+)", module.globals[ctx].text)
    return int(m.group(1)) if m else 1


def _lower_shadow(module, inst: Instruction) -> None:
    where = location_of(module, inst)
    if len(inst.args) != 3:
        raise CompileError(f"{SHADOW} takes three arguments: the context, the address of a global variable "
                           "and the lane", where)
    ctx = context_of(module, inst, inst.args[0], SHADOW)
    p, lane = inst.args[1], layout.constant_int(inst.args[2])
    width = context_width(module, ctx)
    if lane is None or not 0 <= lane < width:
        raise CompileError(f"the lane given to {SHADOW} must be an integer constant from 0 to {width - 1} (the "
                           f"context's width is {width})", where)
    refs = global_refs(p.text) if isinstance(p, Constant) else []
    if isinstance(p, GlobalRef):
        refs = [p.gname]
    if len(refs) != 1 or refs[0] not in module.globals or refs[0].startswith("adcc."):
        raise CompileError(f"the second argument of {SHADOW} must be the address of a global variable (or of "
                           "part of one), known at compile time", where)
    g = refs[0]
    shadow = context_shadow(module, ctx, g, lane)
    b = Builder(module, inst.block.function).position_before(inst)
    # g and its shadow stay visibly used until the derivatives are built: an optimization between
    # two levels of differentiation would otherwise fold a global nothing writes into its value,
    # or drop the program's stores into a shadow no derivative reads yet
    module.ensure_declaration(naming.CONTEXT_PIN, T.FunctionType(T.void, (T.ptr, T.ptr)))
    b.call(naming.CONTEXT_PIN, T.void, [GlobalRef(g), shadow], declare=False)
    if isinstance(p, GlobalRef):
        at = shadow
    else:  # &g.field, &g[k]: the same byte offset into the shadow
        offset = b.sub(b.cast("ptrtoint", p, T.i64), b.cast("ptrtoint", GlobalRef(g), T.i64))
        at = b.byte_gep(shadow, offset)
    inst.replace_all_uses_with(at)
    inst.erase()


def _shadow_name_in(module, ctx: str, name: str) -> str | None:
    """Context ctx's name for the shadow global `name` (an implicit `adcc.shadow.*`, of any lane,
    or one the program declared with enzyme_shadow); None for any other global."""
    declared = {s: g for g, s in declarations_of(module).shadows.items()}
    if name in declared:
        return context_shadow(module, ctx, declared[name]).gname
    parts = naming.implicit_shadow_parts(name)
    if parts is not None:
        primal = _global_named(module, parts[0])
        if primal is not None:
            return context_shadow(module, ctx, primal, parts[1]).gname
    return None


def _global_named(module, base: str) -> str | None:
    return next((g for g in (base, f'"{base}"') if g in module.globals), None)


def context_shadow(module, ctx: str, g: str, lane: int = 0) -> GlobalRef:
    """Context ctx's shadow of global g in `lane` (created on first use, like g's implicit shadow)."""
    from adcc.ad.globals import shadow_of_global
    name = naming.context_shadow(ctx, g, lane)
    if name not in module.globals:
        implicit = shadow_of_global(module, g, lane)
        sg = module.globals[implicit.gname]
        vt = sg.value_type if sg.value_type is not None else T.ArrayType(8, T.i8)
        tl = "thread_local " if sg.thread_local else ""
        module.add_global(name, f"@{name} = internal {tl}global {vt} zeroinitializer, align 16", vt, False)
        init = _leading(sg)
        if init is not None and "@" in init:
            init = substitute_globals(init, lambda r: _shadow_name_in(module, ctx, r))
        if init is not None and init != "zeroinitializer":
            new = module.globals[name]
            new.text = f"@{name} = internal {tl}global {vt} {init}, align 16"
            new.initializer = f"{init}, align 16"
    return GlobalRef(name)


def _leading(g) -> str | None:
    """The constant a (shadow) global starts with: its initializer's leading constant."""
    from adcc.ad.globals import _leading_constant
    text = g.initializer or ""
    if not text:
        marker = f" {g.value_type} " if g.value_type is not None else None
        if marker is None or marker not in g.text:
            return None
        text = g.text.split(marker, 1)[1]
    return _leading_constant(text)


def specialize(module, root: str, ctx: str) -> str:
    """The derivative `root` with context ctx's shadows instead of the implicit ones: a copy of
    each function of its call tree that touches an implicit (or declared) shadow, or calls such a
    function; `root` itself if none does."""
    from adcc.ad.rewrite import call_tree
    tree = call_tree(module, root)
    refs = {f: module.references(f) for f in tree}
    clone = {f for f in tree if any(_shadow_name_in(module, ctx, r) is not None for r in refs[f])}
    changed = True
    while changed:
        more = {f for f in tree if f not in clone and refs[f] & clone}
        changed = bool(more)
        clone |= more
    if not clone:
        return root
    names = {f: naming.context_clone(f, ctx) for f in clone}

    def rename(r: str) -> str | None:
        if r in names:
            return names[r]
        return _shadow_name_in(module, ctx, r)
    texts = []
    for f in sorted(clone):
        if names[f] in module.functions:
            continue  # this context's copy exists (another call with the same derivative)
        e = module.functions[f]
        text = print_function(e.parsed, with_debug=False) if e.parsed is not None else \
            print_function(module.function(f), with_debug=False)
        texts.append(substitute_globals(text, rename))
    if texts:
        module.add_definitions("\n\n".join(texts))
    return names[root]


def finish_contexts(module) -> bool:
    """Each `__enzyme_zero_shadows(ctx)` becomes the zeroing of the floating-point contents of
    every shadow context ctx holds (pointers and integers stay: a shadow pointing to another
    shadow keeps pointing there)."""
    from adcc.ad.globals import zero_floats
    done = False
    for fname in module.defined_function_names():
        e = module.functions[fname]
        if e.parsed is None and ZERO not in e.text and naming.CONTEXT_PIN not in e.text:
            continue
        for inst in [i for i in module.function(fname).instructions()
                     if i.opcode == "call" and i.callee_name == naming.CONTEXT_PIN]:
            inst.erase()
            done = True
        for inst in [i for i in module.function(fname).instructions()
                     if i.opcode == "call" and _which(i.callee_name) == ZERO]:
            ctx = context_of(module, inst, inst.args[0] if inst.args else None, ZERO)
            b = Builder(module, inst.block.function).position_before(inst)
            for name in sorted(n for n in module.globals if naming.context_shadow_parts(ctx, n)):
                if module.globals[name].value_type == T.ptr:  # a heap shadow adcc gave the global
                    b.call("adcc_context_zero_heap", T.void, [b.load(T.ptr, GlobalRef(name))])
                if not zero_floats(module, b, name):
                    raise CompileError(f"{ZERO}: the shadow of '{naming.context_shadow_parts(ctx, name)[0]}' mixes more "
                                       "than 64 floating-point fields with other data; zeroing it is not "
                                       "supported yet", location_of(module, inst))
            inst.erase()
            done = True
    return done
