"""Call rules for the C library's functions that take callbacks: qsort, qsort_r and bsearch.

Sorting moves values; the permutation (decided by the comparator on primal values) has no
derivative. The runtime sorts the primal by a stable merge sort of indices under the program's
comparator and returns the permutation it applied (`adcc_sort_permutation`): forward mode applies
it to each tangent array; reverse mode moves pointer/integer shadows along with it in the
augmented pass and moves float adjoints back (`adcc_unpermute`) in the reverse pass, reading the
permutation from the tape. bsearch returns a pointer into the array: its shadow is the same
offset into the array's shadow.
"""
from __future__ import annotations

from adcc.ad.rules.calls import AugmentSite, CallRule, CallView, ForwardSite, ReverseSite
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Constant, Value

NULL = Constant(T.ptr, "null")


def _i64(b: Builder, v: Value) -> Value:
    from adcc.ad.support import convert
    return v if v.type == T.i64 else convert(b, v, T.i64)


def _element_layout(view: CallView, base: Value, size: Value) -> str:
    """What one array element holds, from type analysis: "float", "bits" (pointers, integers),
    "mixed", or "unknown"."""
    from adcc.analysis.types import Anything, Float, Unknown
    from adcc.ir import layout as L
    n = L.constant_int(size)
    tree = view.act.types.value_tree(base)
    kinds = set()
    for path, kind in tree.paths.items():
        if len(path) == 1 and (n is None or path[0] == -1 or 0 <= path[0] % max(n, 1) < n) \
                and kind is not Unknown and kind is not Anything:
            kinds.add("float" if isinstance(kind, Float) else "bits")
    if not kinds:
        return "unknown"
    return kinds.pop() if len(kinds) == 1 else "mixed"


# --- qsort / qsort_r --------------------------------------------------------------------------------

def _sort_primal(site, with_arg: bool) -> Value:
    """Sort the primal array; the permutation applied (to be released with adcc_permutation_free)."""
    b, a = site.b, site.args
    arg = site.primal(a[4]) if with_arg else NULL
    return b.call("adcc_sort_permutation", T.ptr,
                  [site.primal(a[0]), _i64(b, site.primal(a[1])), _i64(b, site.primal(a[2])),
                   site.primal(a[3]), arg, Builder.iconst(T.i32, 1 if with_arg else 0)])


def _sort_forward(with_arg: bool):
    def forward(site: ForwardSite) -> None:
        b, a = site.b, site.args
        perm = _sort_primal(site, with_arg)
        n, size = _i64(b, site.primal(a[1])), _i64(b, site.primal(a[2]))
        for shadow in site.shadows(a[0]) or []:
            b.call("adcc_permute", T.void, [shadow, perm, n, size])  # tangents move with their values
        b.call("adcc_permutation_free", T.void, [perm])
    return forward


def _sort_augment(with_arg: bool):
    def augment(site: AugmentSite) -> None:
        b, a = site.b, site.args
        layout = _element_layout(site, a[0], a[2])
        if layout == "mixed" and site.has_shadow(a[0]):
            from adcc.ad.support import unsupported
            raise unsupported(site.module, site.inst, "cannot differentiate qsort in reverse mode of elements that "
                                                      "mix floating-point and other fields")
        perm = _sort_primal(site, with_arg)
        shadow = site.shadow(a[0])
        if shadow is not None and layout == "bits":  # pointer/integer shadows move forward
            b.call("adcc_permute", T.void, [shadow, perm, _i64(b, site.primal(a[1])), _i64(b, site.primal(a[2]))])
        site.save(0, perm)
    return augment


def _sort_reverse(site: ReverseSite) -> None:
    b, a = site.b, site.args
    perm = site.saved(0)
    shadow = site.shadow(a[0])
    if shadow is not None and _element_layout(site, a[0], a[2]) != "bits":
        # the adjoint of old element perm[i] is that of new element i
        b.call("adcc_unpermute", T.void, [shadow, perm, _i64(b, site.primal(a[1])), _i64(b, site.primal(a[2]))])
    b.call("adcc_permutation_free", T.void, [perm])


def _sort_reads(view: CallView):
    a = view.args
    return [("p", a[1]), ("p", a[2])] + ([("s", a[0])] if view.has_shadow(a[0]) else [])


def _sort_rule(name: str, with_arg: bool) -> CallRule:
    return CallRule("libc", (name,), forward=_sort_forward(with_arg), augment=_sort_augment(with_arg),
                    reverse=_sort_reverse, saved_types=lambda view: (T.ptr,), reverse_reads=_sort_reads,
                    writes=lambda callee: (0,), description=f"libc's {name}")


# --- bsearch --------------------------------------------------------------------------------------------

def _search(site) -> Value:
    b = site.b
    fty = site.inst.info["fn_type"]
    return b.call(site.inst.callee_name, fty.ret, [site.primal(x) for x in site.args], fnty=fty)


def _offset_shadow(b: Builder, found: Value, base: Value, shadow: Value | None) -> Value:
    """The shadow of `found` (NULL or a pointer into base's array): the same offset into its shadow."""
    if shadow is None:
        return NULL
    off = b.sub(b.cast("ptrtoint", found, T.i64), b.cast("ptrtoint", base, T.i64))
    hit = b.icmp("ne", found, NULL)
    return b.select(hit, b.byte_gep(shadow, off), NULL)


def _bsearch_forward(site: ForwardSite) -> None:
    r = _search(site)
    site.set_result(r)
    base = site.primal(site.args[1])
    shadows = site.shadows(site.args[1]) or [None] * site.width
    if site.has_shadow(site.inst):
        site.set_shadows([_offset_shadow(site.b, r, base, s) for s in shadows])


def _bsearch_augment(site: AugmentSite) -> None:
    r = _search(site)
    site.set_result(r)
    if site.has_shadow(site.inst):
        site.set_shadow(_offset_shadow(site.b, r, site.primal(site.args[1]), site.shadow(site.args[1])))


RULES: tuple[CallRule, ...] = (
    _sort_rule("qsort", False),
    _sort_rule("qsort_r", True),
    CallRule("libc", ("bsearch",), forward=_bsearch_forward, augment=_bsearch_augment,
             reverse=lambda site: None, writes=lambda callee: (), description="libc's bsearch"),
)

