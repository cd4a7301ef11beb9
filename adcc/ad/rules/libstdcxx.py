"""Call rules for libstdc++'s out-of-line helpers that differentiated C++ code reaches.

- The red-black tree under std::map/std::set: the shadow tree mirrors the primal tree's shape (its
  nodes are the shadows of the primal nodes), so every structural operation (insert and
  rebalance, rebalance for erase, step to the next/previous node) is applied to the shadow nodes
  too; the values in the nodes carry the derivatives, the links none.
- Functions without derivatives that touch no floats adcc differentiates: stream output (the value
  printed is only read) and the hash table's rehash policy (integers).
"""
from __future__ import annotations

from adcc.ad.rules.calls import AugmentSite, CallRule, CallView, ForwardSite
from adcc.ir import types as T
from adcc.ir.values import Constant, Instruction, Value

NULL = Constant(T.ptr, "null")

TREE_STEPS = ("_ZSt18_Rb_tree_incrementPSt18_Rb_tree_node_base", "_ZSt18_Rb_tree_incrementPKSt18_Rb_tree_node_base",
              "_ZSt18_Rb_tree_decrementPSt18_Rb_tree_node_base", "_ZSt18_Rb_tree_decrementPKSt18_Rb_tree_node_base")
TREE_CHANGES = ("_ZSt29_Rb_tree_insert_and_rebalancebPSt18_Rb_tree_node_baseS0_RS_",
                "_ZSt28_Rb_tree_rebalance_for_erasePSt18_Rb_tree_node_baseRS_")

# output streams, std::ios state, the locale facet widen() initializes, the rehash policy
INACTIVE_PREFIXES = ("_ZNSo", "_ZNSt9basic_iosIcSt11char_traitsIcEE", "_ZNKSt5ctypeIcE13_M_widen_initEv",
                     "_ZSt16__ostream_insertIcSt11char_traitsIcEE", "_ZStlsISt11char_traitsIcEE",
                     "_ZSt4endlIcSt11char_traitsIcEE", "_ZNKSt8__detail20_Prime_rehash_policy")


def _clone(site, inst: Instruction, operand) -> Value:
    """The call again (its attributes kept) on operand(v) for each operand."""
    return site.b.clone(inst, [operand(o) for o in inst.operands], name="")


def _pointer_args(view: CallView) -> list[Value]:
    return [a for a in view.args if isinstance(a.type, T.PointerType)]


def _mirrored(site, shadow_of) -> Value | None:
    """The operation on the shadow tree (pointer arguments replaced by their shadows); None when
    the tree has no shadow."""
    args = _pointer_args(site)
    if not args or any(shadow_of(a) is None for a in args):
        return None
    inst = site.inst
    return _clone(site, inst, lambda o: shadow_of(o) if any(o is a for a in args) else site.primal(o))


def _tree_forward(site: ForwardSite) -> None:
    site.set_result(_clone(site, site.inst, site.primal))
    shadows = []
    for w in range(site.width):
        r = _mirrored(site, lambda v, w=w: (site.shadows(v) or [None] * site.width)[w])
        shadows.append(r if r is not None else NULL)
    if site.has_shadow(site.inst):
        site.set_shadows(shadows)


def _tree_augment(site: AugmentSite) -> None:
    site.set_result(_clone(site, site.inst, site.primal))
    r = _mirrored(site, site.shadow)
    if site.has_shadow(site.inst):
        site.set_shadow(r if r is not None else NULL)


def _inactive_forward(site: ForwardSite) -> None:
    r = _clone(site, site.inst, site.primal)
    if not isinstance(site.inst.type, T.VoidType):
        site.set_result(r)
        if site.has_shadow(site.inst):
            site.set_shadows([NULL] * site.width)


def _inactive_augment(site: AugmentSite) -> None:
    r = _clone(site, site.inst, site.primal)
    if not isinstance(site.inst.type, T.VoidType):
        site.set_result(r)
        if site.has_shadow(site.inst):
            site.set_shadow(NULL)


def _nothing(site) -> None:
    return None


RULES: tuple[CallRule, ...] = (
    CallRule("libstdc++", TREE_STEPS + TREE_CHANGES, forward=_tree_forward, augment=_tree_augment, reverse=_nothing,
             description="libstdc++'s red-black tree"),
    CallRule("libstdc++", (), forward=_inactive_forward, augment=_inactive_augment, reverse=_nothing,
             prefixes=INACTIVE_PREFIXES, shadows_result=False, writes=lambda callee: (),
             description="libstdc++'s streams (no derivative)"),
)
