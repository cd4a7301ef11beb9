"""Every symbol adcc generates, in one place: deterministic and grep-able (`adcc.`-prefixed)."""
from __future__ import annotations

import hashlib
import re

from adcc.analysis.spec import FunctionSpec


def _tag(spec: FunctionSpec) -> str:
    acts = "".join(a.value[0] for a in spec.args)  # c(onst) d(up) d(upnoneed) o(ut)
    extra = ("r" if spec.ret_active else "") + ("s" if spec.ret_shadow else "")
    w = f"w{spec.width}" if spec.width != 1 else ""
    h = hashlib.sha1(repr(spec).encode()).hexdigest()[:6]
    return f"{acts}{extra}{w}.{h}"


def _base(name: str) -> str:
    return name.strip('"')


def forward(spec: FunctionSpec) -> str:
    flavour = f"{spec.replay}." if spec.replay else ""
    return f"adcc.fwd.{flavour}{_base(spec.name)}.{_tag(spec)}"


def augmented(spec: FunctionSpec) -> str:
    return f"adcc.aug.{_base(spec.name)}.{_tag(spec)}"


def reverse(spec: FunctionSpec) -> str:
    return f"adcc.rev.{_base(spec.name)}.{_tag(spec)}"


def gradient(spec: FunctionSpec) -> str:
    return f"adcc.grad.{_base(spec.name)}.{_tag(spec)}"


def shadow_global(name: str, lane: int = 0) -> str:
    """The implicit shadow of global `name` (lane w > 0 of vector forward mode: its own global)."""
    return f"adcc.shadow.{_base(name)}" if lane == 0 else f"adcc.shadow-{lane}.{_base(name)}"


_IMPLICIT_SHADOW = re.compile(r"adcc\.shadow(?:-(\d+))?\.(.+)$")


def implicit_shadow_parts(name: str) -> tuple[str, int] | None:
    """(the global's name, lane) when `name` is an implicit shadow (`shadow_global`)."""
    m = _IMPLICIT_SHADOW.match(_base(name))
    return (m.group(2), int(m.group(1) or 0)) if m else None


def context(k: str) -> str:
    """The descriptor of `__enzyme_context` call k of a module (adcc.ad.contexts; k: the unit's tag
    and the call's number)."""
    return f"adcc.ctx.{k}"


# `adcc.ctx.pin(&g, &shadow)`: keeps a global whose context shadow the program uses, and that
# shadow, from being optimized away between differentiation levels (an inactive call to
# adcc.analysis.calls; removed once every derivative is built)
CONTEXT_PIN = "adcc.ctx.pin"


def is_context(name: str) -> bool:
    return name.startswith("adcc.ctx.")


def context_shadow(ctx: str, name: str, lane: int = 0) -> str:
    """Context `ctx`'s shadow of global `name` in `lane`."""
    k = ctx[len('adcc.ctx.'):]
    return f"adcc.ctxshadow.{k}.{_base(name)}" if lane == 0 else f"adcc.ctxshadow.{k}-{lane}.{_base(name)}"


def context_shadow_parts(ctx: str, name: str) -> tuple[str, int] | None:
    """(the global's name, lane) when `name` is one of context `ctx`'s shadows."""
    k = re.escape(ctx[len('adcc.ctx.'):])
    m = re.match(rf"adcc\.ctxshadow\.{k}(?:-(\d+))?\.(.+)$", _base(name))
    return (m.group(2), int(m.group(1) or 0)) if m else None


def context_heap(name: str) -> str:
    """{block, bytes}: the last heap allocation stored into pointer global `name` (for the heap
    shadows contexts give such globals; adcc.analysis.activity keeps these inactive)."""
    return f"adcc.ctxheap.{_base(name)}"


def context_clone(fname: str, ctx: str) -> str:
    """The copy of derivative function `fname` that uses context `ctx`'s shadows."""
    return f"{_base(fname)}.ctx{ctx[len('adcc.ctx.'):]}"


def zero_global(name: str) -> str:
    return f"adcc.zero.{_base(name)}"


def external_stub(name: str) -> str:
    """A defined function that calls external `name` directly: what an indirect call that may reach
    `name` differentiates (adcc.ad.common.external_stub)."""
    return f"adcc.stub.{_base(name)}"


def message(k: int) -> str:
    return f"adcc.msg.{k}"


def blas_helper(what: str, interface: str) -> str:
    """A column-loop helper of the BLAS rules (adcc.ad.rules.blas_interface), per interface."""
    return f"adcc.blas.{what}.{interface}"


def openmp_entry(pass_name: str, spec: FunctionSpec) -> str:
    """The microtask that runs a parallel region's augmented ("aug") or reverse ("rev") function on
    the thread's slot of the team record (adcc.ad.rules.openmp)."""
    return f"adcc.omp.{pass_name}.{_base(spec.name)}.{_tag(spec)}"


def checkpoint_helper(pass_name: str, spec: FunctionSpec) -> str:
    """The function that runs a checkpointed loop's augmented ("aug") or reverse ("rev") pass
    (adcc.ad.rules.checkpoint)."""
    return f"adcc.ckpt.{pass_name}.{_base(spec.name)}.{_tag(spec)}"


def checkpoint_step(kind: str, step: str) -> str:
    """A function of (i, env) that runs step i of a checkpointed loop: its "primal", "grad"ient or
    "fwd" tangent (adcc.ad.rules.checkpoint_api)."""
    return f"adcc.ckptfor.{kind}.{_base(step)}"
