"""What a program declares to Enzyme about its own functions and globals.

Enzyme programs customize differentiation with registration globals
(`void *__enzyme_register_gradient_f[3] = {f, f_aug, f_rev}`, `__enzyme_function_like`,
`__enzyme_allocation_like`, `__enzyme_inactivefn`, `__enzyme_inactive_global`, ...) and with
attributes that reach the IR as `llvm.global.annotations` entries (`enzyme_inactive`,
`enzyme_nofree`, `enzyme_function_like`). This module reads them all into one frozen
`EnzymeDeclarations` per module; the analyses and the rule table consult it. A malformed
registration is a `CompileError` naming the registration (and its line when known).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from adcc.diagnostics import CompileError, SourceLocation
from adcc.ir.lexer import LexError, tokenize


@dataclass(frozen=True)
class CustomGradient:
    """`__enzyme_register_gradient_*`: reverse mode of `function` is `augment` + `reverse`.
    `byref`: parameters of the augmented and reverse passes that take their value through a
    pointer (the registration's trailing `"byref_N"` strings)."""
    function: str
    augment: str
    reverse: str
    registration: str
    byref: frozenset[int] = frozenset()
    location: SourceLocation | None = None     # the registration's line (with debug info)


@dataclass(frozen=True)
class CustomDerivative:
    """`__enzyme_register_derivative_*`: forward mode of `function` is `derivative`."""
    function: str
    derivative: str
    registration: str
    location: SourceLocation | None = None


@dataclass(frozen=True)
class CustomSplitDerivative:
    """`__enzyme_register_splitderivative_*`: split forward mode of `function` (__enzyme_fwdsplit):
    `augment` runs in the recorded pass and returns a tape, `split` computes the tangent from it."""
    function: str
    augment: str
    split: str
    registration: str
    location: SourceLocation | None = None


@dataclass(frozen=True)
class AllocationLike:
    """`__enzyme_allocation_like`: `function` allocates `size_arg` bytes; `deallocator` frees
    them, called with the allocator's arguments `dealloc_args` (-1: the returned pointer)."""
    function: str
    size_arg: int
    dealloc_args: tuple[int, ...]
    deallocator: str


@dataclass(frozen=True)
class EnzymeDeclarations:
    gradients: dict[str, CustomGradient] = field(default_factory=dict)
    derivatives: dict[str, CustomDerivative] = field(default_factory=dict)
    function_like: dict[str, str] = field(default_factory=dict)        # function -> what it behaves as
    allocation_like: dict[str, AllocationLike] = field(default_factory=dict)
    inactive_functions: frozenset[str] = frozenset()
    inactive_globals: frozenset[str] = frozenset()
    nofree: frozenset[str] = frozenset()
    recompute: frozenset[str] = frozenset()                            # enzyme_shouldrecompute
    shadows: dict[str, str] = field(default_factory=dict)              # global -> its shadow (!enzyme_shadow)
    split_derivatives: dict[str, CustomSplitDerivative] = field(default_factory=dict)
    # `__enzyme_emptyfnconst` is present: calls of functions the link defines nowhere, with no rule, are inactive
    empty_functions_inactive: bool = False
    sparse_accumulate: frozenset[str] = frozenset()                    # enzyme_sparse_accumulate (a hint)

    @property
    def customized(self) -> frozenset[str]:
        """Functions whose calls must survive pre-AD optimization as calls (never inlined)."""
        return frozenset(self.gradients) | frozenset(self.derivatives) | frozenset(self.split_derivatives) | \
            frozenset(self.function_like) | \
            frozenset(self.allocation_like) | self.inactive_functions | \
            frozenset(a.deallocator for a in self.allocation_like.values())

    @property
    def deallocators(self) -> frozenset[str]:
        """Deallocators of allocation-like functions that take the allocated pointer first:
        their calls free memory like `free` (shadows adcc allocated are adcc's to release)."""
        return frozenset(a.deallocator for a in self.allocation_like.values() if a.dealloc_args[:1] == (-1,))

    def is_empty(self) -> bool:
        return not (self.gradients or self.derivatives or self.split_derivatives or self.function_like
                    or self.allocation_like or self.inactive_functions or self.inactive_globals or self.nofree
                    or self.recompute or self.shadows or self.empty_functions_inactive or self.sparse_accumulate)


EMPTY = EnzymeDeclarations()

# registration globals by the substring Enzyme matches, and what each holds
REGISTRATIONS = ("__enzyme_register_gradient", "__enzyme_register_derivative",
                 "__enzyme_register_splitderivative", "__enzyme_function_like", "__enzyme_allocation_like",
                 "__enzyme_inactivefn", "__enzyme_inactivenoblockfn", "__enzyme_inactive_global",
                 "__enzyme_nofree", "__enzyme_shouldrecompute", "__enzyme_sparse_accumulate",
                 "__enzyme_emptyfnconst")
# annotation strings (`__attribute__((annotate("...")))`, or Enzyme's attribute spellings lowered to
# them): what each marks; `enzyme_function_like=NAME` carries the name after '='
INACTIVE_ANNOTATIONS = ("enzyme_inactive", "enzyme_inactivefn", "enzyme_inactive_noblock",
                        "enzyme_inactivenoblockfn", "enzyme_inactive_global")
# hints that let Enzyme's analyses succeed or save work, with no effect on the derivatives' values:
# adcc's own analyses need none of them, so they are accepted and have no effect
HINT_ANNOTATIONS = ("enzyme_elementwise_read", "enzyme_notypeanalysis", "enzyme_no_escaping_allocation",
                    "enzyme_sparse_accumulate")
ANNOTATIONS = {*INACTIVE_ANNOTATIONS, *HINT_ANNOTATIONS, "enzyme_nofree", "enzyme_function_like",
               "enzyme_shouldrecompute", "enzyme_shadow"}


def is_registration(name: str) -> bool:
    n = name.strip('"')
    return any(r in n for r in REGISTRATIONS)


def declarations_of(module) -> EnzymeDeclarations:
    """The module's declarations (read once, cached on the module)."""
    cached = getattr(module, "_adcc_declarations", None)
    if cached is None:
        cached = module._adcc_declarations = read_declarations(module)
    return cached


def mentions_declarations(text: str) -> bool:
    """Cheap test on module text: might it declare anything?"""
    return any(r in text for r in REGISTRATIONS) or ("llvm.global.annotations" in text and "enzyme_" in text) \
        or "!enzyme_shadow" in text


# --- reading ---------------------------------------------------------------------------------

def read_declarations(module) -> EnzymeDeclarations:
    if not mentions_declarations_in(module):
        return EMPTY
    acc = _Builder()
    for name, g in module.globals.items():
        plain = name.strip('"')
        kind = next((r for r in REGISTRATIONS if r in plain), None)
        if kind == "__enzyme_emptyfnconst":
            acc.empty_functions_inactive = True  # a flag: its value, if any, does not matter
            continue
        if kind is None or not g.initializer:
            continue
        acc.registration(module, plain, kind, _constant(g.initializer), global_location(module, g))
    ann = module.globals.get("llvm.global.annotations")
    if ann is not None and ann.initializer:
        for entry in _elements(_constant(ann.initializer)):
            acc.annotation(module, entry)
    for name, g in module.globals.items():
        if "!enzyme_shadow" in g.text:
            acc.shadow(module, name, g)
    return acc.freeze()


def mentions_declarations_in(module) -> bool:
    return any(is_registration(n) for n in module.globals) or "llvm.global.annotations" in module.globals \
        or any("!enzyme_shadow" in g.text for g in module.globals.values())


class _Builder:
    def __init__(self):
        self.gradients: dict[str, CustomGradient] = {}
        self.derivatives: dict[str, CustomDerivative] = {}
        self.split_derivatives: dict[str, CustomSplitDerivative] = {}
        self.function_like: dict[str, str] = {}
        self.allocation_like: dict[str, AllocationLike] = {}
        self.inactive_functions: set[str] = set()
        self.inactive_globals: set[str] = set()
        self.nofree: set[str] = set()
        self.recompute: set[str] = set()
        self.shadows: dict[str, str] = {}
        self.empty_functions_inactive = False
        self.sparse_accumulate: set[str] = set()

    def freeze(self) -> EnzymeDeclarations:
        return EnzymeDeclarations(dict(self.gradients), dict(self.derivatives), dict(self.function_like),
                                  dict(self.allocation_like), frozenset(self.inactive_functions),
                                  frozenset(self.inactive_globals), frozenset(self.nofree),
                                  frozenset(self.recompute), dict(self.shadows), dict(self.split_derivatives),
                                  self.empty_functions_inactive, frozenset(self.sparse_accumulate))

    def shadow(self, module, name: str, g) -> None:
        """`@g = global ..., !enzyme_shadow !{ptr @dg}`: the program provides g's shadow (Enzyme's
        convention for globals, in LLVM IR)."""
        from adcc.ir.metadata import metadata_index
        from adcc.ir.symbols import global_refs
        m = re.search(r"!enzyme_shadow (![0-9]+)", g.text)
        refs = global_refs(metadata_index(module).text.get(m.group(1), "")) if m else []
        if len(refs) != 1 or refs[0] not in module.globals:
            raise CompileError(f"the !enzyme_shadow of global '{name}' must name one global variable "
                               f"(!{{ptr @shadow}})", global_location(module, g))
        self.shadows[name] = refs[0]

    def registration(self, module, name: str, kind: str, value, loc: SourceLocation | None) -> None:
        elems = _elements(value)
        where = f"registration '{name}'"

        def malformed(what: str) -> CompileError:
            return CompileError(f"malformed {where}: {what}", loc)

        def function(k: int, role: str) -> str:
            if k >= len(elems) or not _is_ref(elems[k]) or elems[k].name not in module.functions:
                raise malformed(f"element {k + 1} ({role}) must be a function")
            return elems[k].name

        if kind == "__enzyme_register_gradient":
            if len(elems) < 3:
                raise malformed(f"expected {{function, augmented forward pass, reverse pass}}, "
                                f"found {len(elems)} element(s)")
            f = function(0, "the function")
            self.gradients[f] = CustomGradient(f, function(1, "the augmented forward pass"),
                                               function(2, "the reverse pass"), name,
                                               self._byref(module, elems[3:], malformed), loc)
        elif kind == "__enzyme_register_derivative":
            if len(elems) != 2:
                raise malformed(f"expected {{function, forward derivative}}, found {len(elems)} element(s)")
            f = function(0, "the function")
            self.derivatives[f] = CustomDerivative(f, function(1, "the forward derivative"), name, loc)
        elif kind == "__enzyme_register_splitderivative":
            if len(elems) != 3:
                raise malformed(f"expected {{function, augmented forward pass, split derivative}}, found "
                                f"{len(elems)} element(s)")
            f = function(0, "the function")
            self.split_derivatives[f] = CustomSplitDerivative(f, function(1, "the augmented forward pass"),
                                                              function(2, "the split derivative"), name, loc)
        elif kind == "__enzyme_function_like":
            if len(elems) < 2:
                raise malformed("expected {function, \"name\"}")
            f = function(0, "the function")
            like = _string(module, elems[1])
            if not like:
                raise malformed("element 2 must be the name of a function (a string)")
            self.function_like[f] = like
        elif kind == "__enzyme_allocation_like":
            if len(elems) != 4:
                raise malformed(f"expected {{allocator, size argument index, \"deallocator argument indices\", "
                                f"deallocator}}, found {len(elems)} element(s)")
            f = function(0, "the allocator")
            size = 0 if elems[1] is None else _integer(elems[1])  # a literal 0 may arrive as a null pointer
            inds = _string(module, elems[2])
            if size is None or inds is None or not re.fullmatch(r"-?\d+(,-?\d+)*", inds):
                raise malformed("element 2 must be an argument index and element 3 a string of comma-separated "
                                "argument indices (\"-1\" is the returned pointer)")
            self.allocation_like[f] = AllocationLike(f, size, tuple(int(x) for x in inds.split(",")),
                                                     function(3, "the deallocator"))
        elif kind in ("__enzyme_inactivefn", "__enzyme_inactivenoblockfn", "__enzyme_nofree",
                      "__enzyme_shouldrecompute", "__enzyme_sparse_accumulate"):
            target = {"__enzyme_nofree": self.nofree, "__enzyme_shouldrecompute": self.recompute,
                      "__enzyme_sparse_accumulate": self.sparse_accumulate}.get(
                kind, self.inactive_functions)
            refs = [e for e in elems if _is_ref(e)] if elems else ([value] if _is_ref(value) else [])
            if not refs or any(r.name not in module.functions for r in refs) or \
                    (elems and len(refs) != len(elems)):
                raise malformed("its elements must be functions")
            target.update(r.name for r in refs)
        elif kind == "__enzyme_inactive_global":
            refs = [e for e in elems if _is_ref(e)] if elems else ([value] if _is_ref(value) else [])
            if not refs or any(r.name not in module.globals for r in refs) or (elems and len(refs) != len(elems)):
                raise malformed("its elements must be global variables")
            self.inactive_globals.update(r.name for r in refs)

    @staticmethod
    def _byref(module, extra: list, malformed) -> frozenset[int]:
        """Enzyme's trailing `"byref_N"` strings: parameter N of the augmented forward and reverse
        passes receives a pointer to its value."""
        out = set()
        for k, e in enumerate(extra):
            s = _string(module, e)
            m = re.fullmatch(r"byref_(\d+)", s or "")
            if m is None:
                raise malformed(f"element {k + 4} must be a string \"byref_N\" (parameter N of the augmented "
                                f"forward and reverse passes is passed by reference)")
            out.add(int(m.group(1)))
        return frozenset(out)

    def annotation(self, module, entry) -> None:
        parts = _elements(entry)
        if len(parts) < 2 or not _is_ref(parts[0]):
            return
        what = _string(module, parts[1])
        if what is None or not what.startswith("enzyme_"):
            return
        subject = parts[0].name
        loc = None
        if len(parts) >= 4:
            file = _string(module, parts[2])
            line = _integer(parts[3])
            if file:
                loc = SourceLocation(file, line or 0)
        is_fn = subject in module.functions
        what, _, named = what.partition("=")  # Enzyme's plugin spells `enzyme_function_like=log1p`
        if what not in ANNOTATIONS:
            raise CompileError(f"unknown Enzyme attribute '{what}' (adcc implements: "
                               f"{', '.join(sorted(ANNOTATIONS))})", loc)
        if what in INACTIVE_ANNOTATIONS:
            (self.inactive_functions if is_fn else self.inactive_globals).add(subject)
        elif what == "enzyme_nofree":
            self.nofree.add(subject)
        elif what == "enzyme_shouldrecompute" and is_fn:
            self.recompute.add(subject)
        elif what == "enzyme_shadow":
            # `__attribute__((enzyme_shadow(dg)))` on a global g: annotate("enzyme_shadow", &dg)
            args = _elements(_resolve(module, parts[4])) if len(parts) >= 5 else []
            if is_fn or len(args) != 1 or not _is_ref(args[0]) or args[0].name not in module.globals:
                raise CompileError("enzyme_shadow names the shadow of a global variable, another global "
                                   "variable of its type: double g __attribute__((enzyme_shadow(dg)))", loc)
            self.shadows[subject] = args[0].name
        elif what == "enzyme_function_like" and is_fn:
            args = _elements(_resolve(module, parts[4])) if len(parts) >= 5 else []
            like = named or (_string(module, args[0]) if args else None)
            if not like:
                raise CompileError("enzyme_function_like needs the name of the function it behaves like, e.g. "
                                   "__attribute__((enzyme_function_like(\"log1p\")))", loc)
            self.function_like[subject] = like


_DBG = re.compile(r"!dbg (![0-9]+)")
_DI_FIELD = re.compile(r'\b(var|file|line|filename): ("(?:[^"\\]|\\.)*"|![0-9]+|\d+)')


def global_location(module, g) -> SourceLocation | None:
    """Where a global variable is defined, from its `!dbg` DIGlobalVariableExpression (present
    when the unit was compiled with -g)."""
    m = _DBG.search(g.text)
    if m is None:
        return None
    from adcc.ir.metadata import metadata_index
    nodes = metadata_index(module).text

    def fields(ref: str | None) -> dict[str, str]:
        return dict(_DI_FIELD.findall(nodes.get(ref, ""))) if ref else {}

    var = fields(fields(m.group(1)).get("var"))
    file = fields(var.get("file")).get("filename")
    if not file:
        return None
    return SourceLocation(file.strip('"'), int(var.get("line", "0")))


# --- constant expressions --------------------------------------------------------------------

@dataclass(frozen=True)
class _Ref:
    name: str


def _is_ref(x) -> bool:
    return isinstance(x, _Ref)


def _elements(x) -> list:
    return list(x) if isinstance(x, tuple) else []


def _integer(x) -> int | None:
    if isinstance(x, int):
        return x
    return None


def _resolve(module, x):
    """A reference to a constant global: its value."""
    if _is_ref(x) and x.name in module.globals:
        g = module.globals[x.name]
        if g.initializer:
            return _constant(g.initializer)
    return x


def _string(module, x) -> str | None:
    """The C string a constant (or a reference to a constant global) holds."""
    if isinstance(x, str):
        return x
    x = _resolve(module, x) if _is_ref(x) else x
    return x if isinstance(x, str) else None


def _constant(text: str):
    """Parse the constant at the start of `text` (a global's initializer) into nested tuples of
    _Ref (a global), int, str (a c"..." string) and None (null, undef, anything else)."""
    try:
        toks = [t for t in tokenize(text)]
    except LexError:
        return None
    value, _ = _value(toks, 0)
    return value


_CAST_WORDS = {"bitcast", "addrspacecast", "inttoptr", "ptrtoint", "getelementptr"}


def _value(toks, k: int):
    """(value, next index): a typed or untyped constant starting at toks[k]."""
    if k >= len(toks):
        return None, k
    t = toks[k]
    if t.text in ("[", "{", "<"):
        close = {"[": "]", "{": "}", "<": ">"}[t.text]
        items = []
        k += 1
        while k < len(toks) and toks[k].text != close:
            k = _skip_type(toks, k)
            v, k = _value(toks, k)
            items.append(v)
            if k < len(toks) and toks[k].text == ",":
                k += 1
        return tuple(items), k + 1
    if t.kind == "global":
        return _Ref(t.text[1:]), k + 1
    if t.kind == "number":
        try:
            return int(t.text, 0), k + 1
        except ValueError:
            return None, k + 1
    if t.kind == "string" and t.text.startswith("c"):
        return _c_string(t.text[2:-1]), k + 1
    if t.kind == "word" and t.text in _CAST_WORDS:
        # cast (T v to T) / getelementptr [inbounds] (T, ptr @g, ...): the global it is based on
        while k < len(toks) and toks[k].text != "(":
            k += 1
        depth, found = 0, None
        while k < len(toks):
            if toks[k].text == "(":
                depth += 1
            elif toks[k].text == ")":
                depth -= 1
                if depth == 0:
                    break
            elif toks[k].kind == "global" and found is None:
                found = _Ref(toks[k].text[1:])
            elif toks[k].kind == "number" and found is None and t.text == "inttoptr":
                found = _value(toks, k)[0]
            k += 1
        return found, k + 1
    return None, k + 1


def _skip_type(toks, k: int) -> int:
    """Index after the type at toks[k] (if a type is there; values are left alone)."""
    if k >= len(toks):
        return k
    t = toks[k]
    if t.kind == "word" and (t.text in ("ptr", "void", "half", "bfloat", "float", "double", "x86_fp80", "fp128",
                                        "label", "metadata") or re.fullmatch(r"i\d+", t.text)):
        k += 1
    elif t.kind == "local":  # %struct.S
        k += 1
    elif t.text in ("[", "{", "<") and k + 1 < len(toks) and (toks[k + 1].kind == "number" and k + 2 < len(toks)
                                                             and toks[k + 2].text == "x" or t.text == "{"
                                                             and _looks_like_struct_type(toks, k)):
        close = {"[": "]", "{": "}", "<": ">"}[t.text]
        depth = 0
        while k < len(toks):
            if toks[k].text in ("[", "{", "<"):
                depth += 1
            elif toks[k].text in ("]", "}", ">"):
                depth -= 1
                if depth == 0:
                    k += 1
                    break
            k += 1
        del close
    else:
        return k
    while k < len(toks) and toks[k].text == "*":
        k += 1
    return k


def _looks_like_struct_type(toks, k: int) -> bool:
    """`{ ptr, i32 }` (a type) rather than `{ ptr @a, i32 1 }` (a value): no value tokens inside."""
    depth = 0
    while k < len(toks):
        t = toks[k]
        if t.text in ("[", "{", "<"):
            depth += 1
        elif t.text in ("]", "}", ">"):
            depth -= 1
            if depth == 0:
                return True
        elif t.kind in ("global", "string") or (t.kind == "word" and t.text in ("null", "zeroinitializer",
                                                                                  "undef", "poison")):
            return False
        k += 1
    return False


def _c_string(body: str) -> str:
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 2 < len(body) + 1:
            out.append(int(body[i + 1:i + 3], 16))
            i += 3
        else:
            out.extend(body[i].encode())
            i += 1
    return out.split(b"\0", 1)[0].decode(errors="replace")
