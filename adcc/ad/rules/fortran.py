"""Rules for flang's runtime library (`_FortranA*`): assignment with reallocation, ALLOCATE and
DEALLOCATE, MOVE_ALLOC, derived-type destruction and initialization, copy-in/copy-out temporaries,
array constructors, and the intrinsics flang does not expand inline (NORM2, reductions,
DOT_PRODUCT, MATMUL, PACK, UNPACK, SPREAD, RESHAPE, TRANSPOSE, CSHIFT, EOSHIFT, RANDOM_NUMBER,
input statements). Calls that never carry derivatives (I/O output, inquiries, characters, ...) are
inactive (adcc.analysis.fortran); any other runtime call is a located error.

Every argument that is a descriptor has, as its shadow, a descriptor of the same shape whose base
address is the shadow data. Each entry is data: the runtime spellings it covers, and the helper of
runtime/adcc_fortran.h each mode calls, written as `ret name(args)` where an argument is `pN` (the
call's argument N), `sN` (its shadow; null without one), `r` (the primal result, as a double) or
`c:K` (the constant K); `pN:i32` converts. Forward helpers run after the primal call, once per
tangent lane. Augmented helpers run after the primal call, or instead of it (`replaces`), and
return a record that `adcc_fortran_reverse(record, adjoint of the result)` consumes in the reverse.
Entries with `shadow_args` instead make the same call again on the shadows (bounds, association).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from adcc.ad.rules.calls import AugmentSite, CallRule, ForwardSite, ReverseSite, call_primal
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import GlobalRef, Value

_RETURN_TYPES = {"void": T.void, "ptr": T.ptr, "f64": T.f64}
_ARG_TYPES = {"i32": T.i32, "i64": T.i64, "ptr": T.ptr, "f64": T.f64}
_HELPER = re.compile(r"(\w+) (\w+)\((.*)\)")


@dataclass(frozen=True)
class Helper:
    """A call of a runtime/adcc_fortran.h helper, parsed from its template."""
    ret: T.Type
    name: str
    args: tuple[str, ...]

    @staticmethod
    def parse(text: str) -> "Helper":
        m = _HELPER.fullmatch(text)
        if m is None:
            raise ValueError(f"bad helper template {text!r}")
        return Helper(_RETURN_TYPES[m.group(1)], m.group(2), tuple(m.group(3).split()))


@dataclass(frozen=True)
class Entry:
    names: tuple[str, ...]
    forward: str | None = None
    augment: str | None = None
    replaces: bool = False                 # the augmented helper performs the call itself
    shadow_args: tuple[int, ...] = ()      # structural: the same call on these arguments' shadows
    forward_shadow_args: tuple[int, ...] = ()   # structural in forward mode only
    raw: tuple[int, ...] = ()              # shadowed arguments that are not descriptors
    established: tuple[int, ...] = ()      # descriptors the call sets up from nothing (results)
    what: str = ""

    def descriptors(self) -> tuple[int, ...]:
        """The arguments whose shadows are descriptors (made consistent before each call)."""
        tokens = [t for h in (self.forward, self.augment) if h for t in Helper.parse(h).args]
        found = {int(t[1:].partition(":")[0]) for t in tokens if t[0] == "s" and t[1:2].isdigit()}
        found |= set(self.shadow_args) | set(self.forward_shadow_args)
        return tuple(sorted(found - set(self.raw) - set(self.established)))


def _real_kinds(stem: str) -> tuple[str, ...]:
    return tuple(f"_FortranA{stem}{k}" for k in ("Real4", "Real8"))


def _reduce(stem: str, op: int) -> Entry:
    return Entry(_real_kinds(stem), forward=f"f64 adcc_fortran_reduce_fwd(c:{op} p0 s0 p4 r)",
                 augment=f"ptr adcc_fortran_reduce_aug(c:{op} p0 s0 p4 r)", what=stem.upper())


def _reduce_dim(name: str, op: int) -> Entry:
    return Entry((f"_FortranA{name}",), forward=f"void adcc_fortran_reduce_dim_fwd(c:{op} p0 s0 p1 s1 p2 p5)",
                 augment=f"ptr adcc_fortran_reduce_dim_aug(c:{op} p0 s0 p1 s1 p2 p5)", established=(0,),
                 what=name)


def _permute(names: tuple[str, ...], op: int, operands: str) -> Entry:
    """`operands`: the helper's a, s(a), b, s(b), extra1, extra2, int1, int2 from the call's arguments."""
    return Entry(names, forward=f"void adcc_fortran_permute_fwd(c:{op} p0 s0 {operands})",
                 augment=f"ptr adcc_fortran_permute_aug(c:{op} p0 s0 {operands} file line)",
                 established=(0,), what=names[0][9:].upper())


_ENTRIES: tuple[Entry, ...] = (
    # assignment: realloc-on-assign, conversion, broadcast, deep copies of derived types
    Entry(("_FortranAAssign",), forward="void adcc_fortran_assign_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_assign_aug(p0 s0 p1 s1 p2 p3 c:0)", replaces=True, what="assignment"),
    Entry(("_FortranAAssignTemporary",), forward="void adcc_fortran_assign_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_assign_aug(p0 s0 p1 s1 p2 p3 c:1)", replaces=True, what="assignment"),
    Entry(("_FortranAAssignPolymorphic",), forward="void adcc_fortran_assign_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_assign_aug(p0 s0 p1 s1 p2 p3 c:2)", replaces=True, what="assignment"),
    Entry(("_FortranACopyInAssign",), forward="void adcc_fortran_copy_in_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_copy_in_aug(p0 s0 p1 s1 p2 p3)", replaces=True, established=(0,),
          what="copy-in"),
    Entry(("_FortranACopyOutAssign",), forward="void adcc_fortran_copy_out_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_copy_out_aug(p0 s0 p1 s1 p2 p3)", replaces=True, what="copy-out"),
    # ALLOCATE, DEALLOCATE, MOVE_ALLOC, destruction and initialization of derived types
    Entry(("_FortranAAllocatableAllocate", "_FortranAPointerAllocate"),
          forward="void adcc_fortran_allocate_fwd(p0 s0)", augment="ptr adcc_fortran_allocate_aug(p0 s0)",
          what="ALLOCATE"),
    Entry(("_FortranAAllocatableAllocateSource", "_FortranAPointerAllocateSource"),
          forward="void adcc_fortran_allocate_source_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_allocate_source_aug(p0 s0 p1 s1)", what="ALLOCATE with SOURCE="),
    Entry(("_FortranAAllocatableDeallocate", "_FortranAPointerDeallocate", "_FortranAAllocatableDeallocatePolymorphic",
           "_FortranAPointerDeallocatePolymorphic", "_FortranAAllocatableDeallocateNoFinal"),
          forward="void adcc_fortran_deallocate_fwd(s0)", augment="ptr adcc_fortran_deallocate_aug(p0 s0)",
          replaces=True, what="DEALLOCATE"),
    Entry(("_FortranAMoveAlloc",), forward="void adcc_fortran_move_alloc_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_move_alloc_aug(p0 s0 p1 s1 p2 p3:i32 p4 p5 p6)", replaces=True,
          what="MOVE_ALLOC"),
    Entry(("_FortranADestroy", "_FortranADestroyWithoutFinalization"), forward="void adcc_fortran_destroy_fwd(s0)",
          augment="ptr adcc_fortran_destroy_aug(p0 s0)", replaces=True, what="deallocation of components"),
    Entry(("_FortranAInitialize",), forward="void adcc_fortran_initialize_shadow(s0 p1 p2)",
          augment="void adcc_fortran_initialize_shadow(s0 p1 p2)", what="default initialization"),
    Entry(("_FortranAAllocatableInitIntrinsic", "_FortranAAllocatableInitIntrinsicForAllocate",
           "_FortranAAllocatableInitCharacter", "_FortranAAllocatableInitCharacterForAllocate",
           "_FortranAAllocatableInitDerived", "_FortranAAllocatableInitDerivedForAllocate",
           "_FortranAAllocatableSetBounds", "_FortranAAllocatableSetDerivedLength", "_FortranAAllocatableApplyMold",
           "_FortranAPointerNullifyIntrinsic", "_FortranAPointerNullifyCharacter", "_FortranAPointerNullifyDerived",
           "_FortranAPointerSetBounds", "_FortranAPointerSetDerivedLength", "_FortranAPointerApplyMold"),
          shadow_args=(0,), what="descriptor set-up"),
    Entry(("_FortranAPointerAssociate", "_FortranAPointerAssociateLowerBounds", "_FortranAPointerAssociateRemapping",
           "_FortranAPointerAssociateRemappingMonomorphic"),
          shadow_args=(0, 1), what="pointer association"),
    Entry(("_FortranAPointerAssociateScalar",), shadow_args=(0, 1), raw=(1,), what="pointer association"),
    # array constructors whose size is known only at run time
    Entry(("_FortranAInitArrayConstructorVector",), forward_shadow_args=(0, 1),
          augment="ptr adcc_fortran_constructor_init_aug(p0 s0 p1 s1)", raw=(0,), established=(1,),
          what="array constructor"),
    Entry(("_FortranAPushArrayConstructorValue",), forward="void adcc_fortran_constructor_push_fwd(s0 p1 s1 c:0)",
          augment="ptr adcc_fortran_constructor_push_aug(p0 s0 p1 s1 c:0)", raw=(0,), what="array constructor"),
    Entry(("_FortranAPushArrayConstructorSimpleScalar",),
          forward="void adcc_fortran_constructor_push_fwd(s0 p1 s1 c:1)",
          augment="ptr adcc_fortran_constructor_push_aug(p0 s0 p1 s1 c:1)", raw=(0, 1), what="array constructor"),
    # intrinsics
    Entry(("_FortranANorm2_4", "_FortranANorm2_8"), forward="f64 adcc_fortran_norm2_fwd(p0 s0 r)",
          augment="ptr adcc_fortran_norm2_aug(p0 s0 r)", what="NORM2"),
    Entry(("_FortranANorm2Dim",), forward="void adcc_fortran_norm2_dim_fwd(p0 s0 p1 s1 p2)",
          augment="ptr adcc_fortran_norm2_dim_aug(p0 s0 p1 s1 p2)", established=(0,), what="NORM2"),
    _reduce("Sum", 0), _reduce("Product", 1), _reduce("Maxval", 2), _reduce("Minval", 3),
    _reduce_dim("SumDim", 0), _reduce_dim("ProductDim", 1), _reduce_dim("MaxvalDim", 2),
    _reduce_dim("MinvalDim", 3),
    Entry(_real_kinds("DotProduct"), forward="f64 adcc_fortran_dot_fwd(p0 s0 p1 s1)",
          augment="ptr adcc_fortran_dot_aug(p0 s0 p1 s1)", what="DOT_PRODUCT"),
    Entry(("_FortranAMatmul", "_FortranAMatmulReal4Real4", "_FortranAMatmulReal4Real8", "_FortranAMatmulReal8Real4",
           "_FortranAMatmulReal8Real8"),
          forward="void adcc_fortran_matmul_fwd(p0 s0 p1 s1 p2 s2)",
          augment="ptr adcc_fortran_matmul_aug(p0 s0 p1 s1 p2 s2)", established=(0,), what="MATMUL"),
    _permute(("_FortranAPack",), 0, "p1 s1 p3 s3 p2 n z z"),
    _permute(("_FortranAUnpack",), 1, "p1 s1 p3 s3 p2 n z z"),
    _permute(("_FortranASpread",), 2, "p1 s1 n n n n p2:i64 p3:i64"),
    _permute(("_FortranAReshape",), 3, "p1 s1 p3 s3 p2 p4 z z"),
    _permute(("_FortranATranspose",), 4, "p1 s1 n n n n z z"),
    _permute(("_FortranACshift",), 5, "p1 s1 n n p2 n p3:i64 z"),
    _permute(("_FortranACshiftVector",), 6, "p1 s1 n n n n p2:i64 z"),
    _permute(("_FortranAEoshift",), 7, "p1 s1 p3 s3 p2 n p4:i64 z"),
    _permute(("_FortranAEoshiftVector",), 8, "p1 s1 p3 s3 n n p2:i64 z"),
    # values without derivative written into memory
    Entry(("_FortranARandomNumber",), forward="void adcc_fortran_zero_fwd(s0)",
          augment="ptr adcc_fortran_zero_aug(s0)", what="RANDOM_NUMBER"),
    Entry(("_FortranAioInputDescriptor",), forward="void adcc_fortran_zero_fwd(s1)",
          augment="ptr adcc_fortran_zero_aug(s1)", what="READ"),
    *(Entry((f"_FortranAioInput{t}",), forward=f"void adcc_fortran_zero_scalar_fwd(s1 c64:{n})",
            augment=f"ptr adcc_fortran_zero_scalar_aug(s1 c64:{n})", raw=(1,), what="READ")
      for t, n in (("Real32", 4), ("Real64", 8), ("Complex32", 8), ("Complex64", 16))),
)

# the file name and line arguments of the augmented permutation helper, by runtime spelling
_FILE_LINE = {"_FortranAPack": (4, 5), "_FortranAUnpack": (4, 5), "_FortranASpread": (4, 5),
              "_FortranAReshape": (5, 6), "_FortranATranspose": (2, 3), "_FortranACshift": (4, 5),
              "_FortranACshiftVector": (3, 4), "_FortranAEoshift": (5, 6), "_FortranAEoshiftVector": (4, 5)}


# --- emitting helper calls -----------------------------------------------------------------------

def _operand(site, name: str, token: str, primal, shadow, result: Value | None) -> Value:
    b = site.b
    token, _, conv = token.partition(":")
    if token == "c64":
        return Builder.iconst(T.i64, int(conv))
    if token == "c":
        return Builder.iconst(T.i32, int(conv))
    if token == "n":
        return Builder.null()
    if token == "z":
        return Builder.iconst(T.i64, 0)
    if token == "r":
        return _convert(b, result, T.f64)
    if token in ("file", "line"):
        k = _FILE_LINE[name][0 if token == "file" else 1]
        return _convert(b, primal(site.args[k]), T.ptr if token == "file" else T.i32)
    k = int(token[1:])
    a = site.args[k] if k < len(site.args) else None
    if token[0] == "s":
        s = shadow(a) if a is not None and isinstance(a.type, T.PointerType) else None
        return s if s is not None else Builder.null()
    v = primal(a)
    return _convert(b, v, _ARG_TYPES[conv]) if conv else v


def _convert(b: Builder, v: Value, to: T.Type) -> Value:
    if v.type == to:
        return v
    if v.type == T.i1 and isinstance(to, T.IntType):
        return b.cast("zext", v, to)
    from adcc.ad.support import convert
    return convert(b, v, to)


def _emit(site, helper: Helper, primal, shadow, result: Value | None = None) -> Value:
    name = (site.inst.callee_name or "").strip('"')
    args = [_operand(site, name, t, primal, shadow, result) for t in helper.args]
    return site.b.call(helper.name, helper.ret, args)


def _synced(site, entry: Entry, primal, shadow):
    """`shadow`, with each shadow descriptor replaced by what adcc_fortran_shadow makes of it
    (its primal's bounds; null when it is the primal's own data)."""
    got: dict[int, Value] = {}
    for k in entry.descriptors():
        a = site.args[k] if k < len(site.args) else None
        if a is not None and isinstance(a.type, T.PointerType):
            s = shadow(a)
            if s is not None:
                got[id(a)] = site.b.call("adcc_fortran_shadow", T.ptr, [primal(a), s])
    return lambda a: got.get(id(a)) if id(a) in got else shadow(a)


def _same_call(site, positions: tuple[int, ...], primal, shadow) -> None:
    """The call again with the descriptors at `positions` replaced by their shadows; skipped when
    the descriptor it sets up has none. A target without shadow stands for itself (Enzyme's
    convention for pointers into memory without derivative)."""
    first = shadow(site.args[positions[0]])
    if first is None:
        return
    args = []
    for k, a in enumerate(site.args):
        s = shadow(a) if k in positions and isinstance(a.type, T.PointerType) else None
        args.append(s if s is not None else primal(a))
    fty = site.inst.info["fn_type"]
    site.b.call(GlobalRef(site.inst.callee_name), fty.ret, args, fnty=fty)


def _result_of(site, primal_result: Value | None) -> Value | None:
    fty = site.inst.info["fn_type"]
    if isinstance(fty.ret, T.VoidType):
        return None
    return primal_result if primal_result is not None else Builder.zero(fty.ret)


# --- the three halves ----------------------------------------------------------------------------

def _forward(entry: Entry, site: ForwardSite) -> None:
    lanes = [_synced(site, entry, site.primal, lambda a, w=w: (site.shadows(a) or [None] * site.width)[w])
             for w in range(site.width)]
    r = call_primal(site)
    if not isinstance(r.type, T.VoidType):
        site.set_result(r)
    positions = entry.shadow_args or entry.forward_shadow_args
    tangents: list[Value | None] = []
    for w, shadow in enumerate(lanes):
        if positions:  # the descriptors were synchronized; their shadows are used as they are
            _same_call(site, positions, site.primal, lambda a, w=w: (site.shadows(a) or [None] * site.width)[w])
        elif entry.forward is not None:
            t = _emit(site, Helper.parse(entry.forward), site.primal, shadow, r)
            if isinstance(r.type, T.FloatType):
                tangents.append(_convert(site.b, t, r.type))
    if tangents and site.varied(site.inst):
        site.set_tangents(tangents)


def _augment(entry: Entry, site: AugmentSite) -> None:
    shadow = _synced(site, entry, site.primal, site.shadow)
    if entry.shadow_args:
        r = call_primal(site)
        _same_call(site, entry.shadow_args, site.primal, site.shadow)
        if not isinstance(r.type, T.VoidType):
            site.set_result(r)
        return
    helper = Helper.parse(entry.augment)
    if entry.replaces:
        record = _emit(site, helper, site.primal, shadow)
        result = _result_of(site, None)
    else:
        result = call_primal(site)
        if isinstance(result.type, T.VoidType):
            result = None
        record = _emit(site, helper, site.primal, shadow, result)
    if result is not None:
        site.set_result(result)
    if helper.ret == T.ptr:
        site.save(0, record)


def _reverse(entry: Entry, site: ReverseSite) -> None:
    if entry.shadow_args or Helper.parse(entry.augment).ret != T.ptr:
        return
    adj = site.result_adjoint() if isinstance(site.inst.type, T.FloatType) else None
    adj = _convert(site.b, adj, T.f64) if adj is not None else Builder.fconst(T.f64, 0.0)
    site.b.call("adcc_fortran_reverse", T.void, [site.saved(0), adj])


def _saved_types(entry: Entry, view) -> tuple[T.Type, ...]:
    if entry.shadow_args or Helper.parse(entry.augment).ret != T.ptr:
        return ()
    return (T.ptr,)


def _rule(entry: Entry) -> CallRule:
    return CallRule(family="fortran", callees=entry.names, forward=partial(_forward, entry),
                    augment=partial(_augment, entry) if (entry.augment or entry.shadow_args) else None,
                    reverse=partial(_reverse, entry) if (entry.augment or entry.shadow_args) else None,
                    saved_types=partial(_saved_types, entry),
                    description=f"flang's runtime ({entry.what or entry.names[0]})")


RULES: tuple[CallRule, ...] = tuple(_rule(e) for e in _ENTRIES)
