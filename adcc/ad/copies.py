"""What a memcpy/memmove carries, for its shadow: from type analysis (per field for mixed
memory), with clang's TBAA names as the fallback when the analysis knows nothing."""
from __future__ import annotations

from adcc.ir import types as T
from adcc.ir.values import Instruction


class CopyLayout:
    """What a memcpy/memmove moves, for its shadow: floats (adjoints flow back in the reverse
    pass), bits (pointers/integers: the shadow is copied forward), a fixed mix of both, or
    unknown (nothing tells: each 8-byte word is told apart at run time, see tape.py)."""

    def __init__(self, kind: str, elem: T.Type | None = None, floats=(), bits=()):
        self.kind = kind          # "float" | "bits" | "mixed" | "unknown"
        self.elem = elem          # element type when kind == "float"
        self.floats = list(floats)  # mixed: (offset, FloatType)
        self.bits = list(bits)      # mixed: (offset, size) copied forward


def copy_layout(module, act, inst: Instruction) -> CopyLayout:
    return layout_from_types(module, act.types, inst)


def layout_from_types(module, types, inst: Instruction) -> CopyLayout:
    """copy_layout from a type analysis `types` of the function that holds `inst`."""
    from adcc.analysis.types import Float, Integer, Pointer, Unknown
    from adcc.ir import layout as L
    k = types.copy_element(inst)
    if k is not Unknown and any(_conflicted(types, v) for v in (inst.args[0], inst.args[1])):
        return CopyLayout("unknown")
    if isinstance(k, Float):
        return CopyLayout("float", T.FloatType(k.kind))
    if k is Pointer or k is Integer:
        return CopyLayout("bits")
    n = L.constant_int(inst.args[2])
    if k == "mixed" and n is not None:
        floats, bits = [], []
        trees = [types.value_tree(v) for v in (inst.args[0], inst.args[1])]
        off = 0
        while off < n:
            kinds = [t.paths.get((off,), t.paths.get((-1,))) for t in trees]
            fk = next((x for x in kinds if isinstance(x, Float)), None)
            size = (T.FloatType(fk.kind).bits + 7) // 8 if fk is not None else 0
            if fk is not None and off % min(size, 8) == 0:  # fields are naturally aligned; padding is not
                floats.append((off, T.FloatType(fk.kind)))
                off += size
            elif any(x is Pointer for x in kinds) and off % 8 == 0:
                bits.append((off, 8))
                off += 8
            else:
                off += 1
        return CopyLayout("mixed", floats=floats, bits=bits)
    # no type information: fall back to the TBAA names clang attached to the copy
    from adcc.ir.metadata import metadata_index
    names = metadata_index(module).tbaa_type_names(inst)
    from adcc.analysis.fortran import DESCRIPTOR_TBAA
    if DESCRIPTOR_TBAA in names:  # a Fortran descriptor: its address and bounds, never float data
        return CopyLayout("bits")
    if any(nm == "any pointer" or nm.startswith(("p1 ", "p2 ")) for nm in names) and \
            not any(nm in ("double", "float") for nm in names):
        return CopyLayout("bits")
    from adcc.analysis.types import TBAA_FLOATS
    kinds = {TBAA_FLOATS.get(nm) for nm in names}
    if names and len(kinds) == 1 and None not in kinds:  # one float type throughout (float, long double, ...)
        return CopyLayout("float", T.FloatType(kinds.pop()))
    if all(nm == "omnipotent char" for nm in names):  # raw bytes: pointers or doubles, told at run time
        return CopyLayout("unknown")
    return CopyLayout("float", T.f64)


def _conflicted(types, ptr) -> bool:
    """Does the object `ptr` points into (through GEPs) hold bytes the analysis found used as two
    types? A pointer selected between a float array and a struct's float field gives the struct
    the array's "floats at every offset", and a copy of one struct then looked like four floats
    (the double in it had its adjoint moved as two floats' bits: fuzz, the float scratch
    constructs). Such a copy's words are told apart at run time instead, or refused where
    floats narrower than double take part."""
    from adcc.analysis.types import Conflict
    seen = 0
    while isinstance(ptr, Instruction) and ptr.opcode in ("getelementptr", "bitcast", "addrspacecast") and seen < 64:
        ptr, seen = ptr.operands[0], seen + 1
    return any(k is Conflict for k in types.value_tree(ptr).paths.values())


def has_untyped_copy(module, fn, depth: int = 8) -> bool:
    """Does `fn`, or a function it calls directly, move memory whose type its own analysis cannot
    tell: a copy through `void *` in a helper, or an integer load or store of a float's width
    (a double or two floats moved as an i64)? Its reverse would move such words as doubles or
    pointers told apart at run time (a pair of float adjoints added as one double), or as bits
    without adjoints, so the derivatives of these functions are specialized on the types their
    callers know (`FunctionSpec.arg_types`). Cached on the module per function object."""
    cache = getattr(module, "_adcc_untyped_copy", None)
    if cache is None:
        cache = module._adcc_untyped_copy = {}
    return _untyped(module, fn, depth, cache, set())


def _untyped_integer(types, v) -> bool:
    """An integer (vector) of a float's lane width that type analysis cannot place."""
    from adcc.analysis.signbits import lane_bits
    from adcc.analysis.types import Anything, Unknown
    ty = v.type
    if not (isinstance(ty, T.IntType) or isinstance(ty, T.VectorType) and isinstance(ty.elem, T.IntType)):
        return False
    return lane_bits(ty) in (16, 32, 64) and types.scalar_kind(v) in (Unknown, Anything)


def _untyped(module, fn, depth, cache, stack) -> bool:
    from adcc.analysis.calls import CallKind, classify_call
    from adcc.analysis.types import cached_types
    got = cache.get(fn)
    if got is not None:
        return got
    if fn.fname in stack or depth <= 0:
        return False
    stack.add(fn.fname)
    found = False
    types = None
    for inst in fn.instructions():
        op = inst.opcode
        if op in ("load", "store"):
            if types is None:
                types = cached_types(module, fn)
            if _untyped_integer(types, inst if op == "load" else inst.operands[0]):
                found = True
                break
            continue
        if op not in ("call", "invoke"):
            continue
        kind = classify_call(module, inst)
        if kind is CallKind.MEMCPY:
            if types is None:
                types = cached_types(module, fn)
            if layout_from_types(module, types, inst).kind == "unknown":
                found = True
                break
        elif kind is CallKind.DEFINED and module.is_defined(inst.callee_name or ""):
            if _untyped(module, module.function(inst.callee_name), depth - 1, cache, stack):
                found = True
                break
    stack.discard(fn.fname)
    cache[fn] = found
    return found


def _narrow(ty) -> bool:
    elem = ty.elem if isinstance(ty, T.VectorType) else ty
    return isinstance(elem, T.FloatType) and elem.kind != "double"


def has_narrow_floats(ctx) -> bool:
    """Do the derivatives being synthesized (the functions whose reverse has begun: the callers of
    the one at hand among them) carry adjoints of floats other than double (float, half, long
    double)? Only then can a copy whose type nothing tells hold them (floats that no derivative
    varies, such as a hash table's load factor, do not count)."""
    seen = getattr(ctx, "_narrow_checked", 0)
    found = getattr(ctx, "_narrow_found", False)
    acts = ctx.reverse_activities
    for act in acts[seen:]:
        if found:
            break
        fn = act.fn
        found = any(act.is_varied(v) and (_narrow(v.type) or _narrow(act.adjoint_type(v)))
                    for v in list(fn.args) + list(fn.instructions()))
    ctx._narrow_checked, ctx._narrow_found = len(acts), found
    return found


def untyped_copy_error(module, inst: Instruction):
    """The reverse of a copy whose type nothing tells moves each 8-byte word as a double adjoint or
    a pointer (told apart at run time): wrong for floats (two in a word, or one beside an integer),
    so it is refused where derivatives carry such floats."""
    from adcc.ad.support import unsupported
    return unsupported(module, inst, "cannot differentiate a copy of memory whose type adcc cannot tell in a "
                                     "derivative that carries floats other than double (float, half, long double: "
                                     "their adjoints would be moved as doubles, #9); copy through a typed pointer, or mark the memory "
                                     "with __enzyme_float(p, bytes) or __enzyme_double(p, bytes)")
