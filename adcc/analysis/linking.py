"""What a translation unit cannot differentiate alone, and where it asked for it.

Compiling with `-c`, a differentiation request whose call tree reaches a function the unit
only declares, and that no rule covers, waits for the link step, which merges the bitcode of
every object and so may find the definition (Enzyme's LTO flow does the same). The request's
source location travels with the object's bitcode as named metadata (`!adcc.deferred`), so
that the link step can say where a request was made when no definition exists anywhere.
"""
from __future__ import annotations

import re

from adcc.diagnostics import SourceLocation
from adcc.ir.values import GlobalRef, Instruction

DEFERRED_METADATA = "adcc.deferred"


def unresolved_callee(module, name: str) -> str | None:
    """The first function in the call tree of `name` (itself included) that the module only
    declares and that no rule or declaration of the program covers; None if none."""
    from adcc.analysis.calls import CallKind, classify_call, rule_names
    kind = _kind_of(module, name)
    if kind is CallKind.UNKNOWN:
        return name
    is_library = rule_names(module).is_library
    seen = {name}
    work = [name] if kind is CallKind.DEFINED else []
    while work:
        fn = module.function(work.pop())
        for inst in fn.instructions():
            if inst.opcode not in ("call", "invoke") or inst.callee_name is None:
                continue
            kind = classify_call(module, inst)
            callee = inst.callee_name
            if kind is CallKind.UNKNOWN and not callee.startswith("llvm.") and not is_library(callee):
                return callee  # (a library routine without a rule is an error now, not at link)
            if kind is CallKind.DEFINED and callee not in seen:
                seen.add(callee)
                work.append(callee)
    return None


def call_tree(module, name: str) -> list[str]:
    """The defined functions that a call of `name` may run through direct calls, `name` first."""
    from adcc.analysis.calls import CallKind, classify_call
    if _kind_of(module, name) is not CallKind.DEFINED:
        return []
    tree, work = [name], [name]
    while work:
        for inst in module.function(work.pop()).instructions():
            callee = inst.callee_name if inst.opcode in ("call", "invoke") else None
            if callee is not None and callee not in tree and classify_call(module, inst) is CallKind.DEFINED:
                tree.append(callee)
                work.append(callee)
    return tree


def reached_among(module, name: str, names: set[str]) -> list[tuple[str, Instruction | None]]:
    """The functions of `names` (ones the module only declares) that the call tree of `name`
    calls or takes the address of, each with the first instruction that does (None: `name`
    itself is one of them). A link step that lacks their bodies cannot tell what they do."""
    if name in names and not module.is_defined(name):
        return [(name, None)]
    found: dict[str, Instruction] = {}
    for fn in call_tree(module, name):
        for inst in module.function(fn).instructions():
            for op in inst.operands:
                ref = getattr(op, "gname", None)
                if ref in names and ref not in found and ref in module.functions and not module.is_defined(ref):
                    found[ref] = inst  # (a global variable is used as at -c, where no unit sees others')
    return sorted(found.items())


class _Named:
    """A call as classify_call sees it: only the callee's name matters."""

    def __init__(self, callee_name: str):
        self.callee_name = callee_name


def _kind_of(module, name: str):
    from adcc.analysis.calls import classify_call
    return classify_call(module, _Named(name))


def calls_enzyme(text: str) -> bool:
    """Whether module text still calls `__enzyme_*` (a declaration left behind does not count)."""
    return any(("call " in line or "invoke " in line) and not line.startswith("declare")
               for line in text.splitlines() if "__enzyme_" in line)


def enzyme_requests(module) -> list[tuple[Instruction, str | None]]:
    """Every `__enzyme_*` call of the module with the name of the function it differentiates
    (None when that is not a known function)."""
    from adcc.analysis.calls import CallKind, classify_call
    out = []
    for name in module.defined_function_names():
        entry = module.functions[name]
        if entry.parsed is None and "__enzyme_" not in entry.text:
            continue
        for inst in module.function(name).instructions():
            if inst.opcode in ("call", "invoke") and inst.callee_name and \
                    classify_call(module, inst) is CallKind.ENZYME:
                out.append((inst, request_target(inst)))
    return out


def request_target(inst: Instruction) -> str | None:
    """The function an `__enzyme_*` call differentiates: its first argument after a hidden
    struct-return pointer."""
    args = inst.args
    attrs = inst.info.get("arg_attrs", [])
    if args and attrs and "sret" in attrs[0]:
        args = args[1:]
    return args[0].gname if args and isinstance(args[0], GlobalRef) else None


def deferred_metadata(records: list[tuple[str, SourceLocation]]) -> str:
    """Named metadata text recording deferred requests: (target, where the call is)."""
    nodes = [f'!{k} = !{{!"{_escape(t)}", !"{_escape(loc.file)}", i32 {loc.line}, i32 {loc.column}}}'
             for k, (t, loc) in enumerate(records)]
    refs = ", ".join(f"!{k}" for k in range(len(records)))
    return f"!{DEFERRED_METADATA} = !{{{refs}}}\n" + "\n".join(nodes) + "\n"


_NAMED = re.compile(r"^!" + re.escape(DEFERRED_METADATA) + r"\s*=\s*!\{(.*)\}\s*$", re.M)
_RECORD = re.compile(r'^!\{!"((?:[^"\\]|\\.)*)", !"((?:[^"\\]|\\.)*)", i32 (\d+), i32 (\d+)\}$')


def deferred_requests(module) -> list[tuple[str, SourceLocation]]:
    """The deferred requests recorded in a (merged) module, in order."""
    from adcc.ir.metadata import metadata_index
    text = "\n".join(it for it in module.items if isinstance(it, str) and DEFERRED_METADATA in it)
    index = metadata_index(module).text
    out = []
    for m in _NAMED.finditer(text):
        for ref in m.group(1).replace(" ", "").split(","):
            r = _RECORD.match(index.get(ref, ""))
            if r:
                out.append((_unescape(r.group(1)), SourceLocation(_unescape(r.group(2)), int(r.group(3)),
                                                                  int(r.group(4)))))
    return out


def _escape(text: str) -> str:
    """LLVM's metadata string escapes (`\\XX` for bytes outside printable ASCII)."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\{b:02X}"
                   for b in text.encode("utf-8", "surrogateescape"))


def _unescape(text: str) -> str:
    raw = re.sub(rb"\\([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", "surrogateescape")
