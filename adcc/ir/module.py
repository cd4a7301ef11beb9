"""A module: top-level entities split by line, function bodies parsed on demand.

Everything adcc does not touch is printed back verbatim; parsed functions are
printed from the model; new functions and declarations are appended.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from adcc.ir import types as T
from adcc.ir.lexer import tokenize
from adcc.ir.parser import LineParser, ParseError, parse_function
from adcc.ir.printer import print_function
from adcc.ir.symbols import global_refs
from adcc.ir.values import Function

_DEFINE_NAME = re.compile(r'@("(?:[^"\\]|\\.)*"|[-a-zA-Z$._0-9]+)\(')
_GLOBAL_LINE = re.compile(r'^@("(?:[^"\\]|\\.)*"|[-a-zA-Z$._0-9]+)\s*=\s*(.*)$')
_TYPE_LINE = re.compile(r'^%("(?:[^"\\]|\\.)*"|[-a-zA-Z$._0-9]+)\s*=\s*type\s+(.*)$')
_ATTR_GROUP_REF = re.compile(r"#(\d+)")
_ATTR_GROUP = re.compile(r"^attributes #(\d+) = \{(.*)\}\s*$", re.M)
_TARGET_ATTR = re.compile(r'"(target-cpu|target-features|tune-cpu)"="([^"]*)"')
_NOINLINE = re.compile(r"(?<![\w\"])noinline\b")
_SANITIZE_ATTR = re.compile(r"(?<![\w\"])(sanitize_(?:thread|address|memory|hwaddress))\b")
_DEFINE_LINKAGE = re.compile(r"define\s+(private|internal|available_externally|linkonce_odr|linkonce|weak_odr|weak|"
                             r"common|appending|extern_weak|external)?\s*")
_OPAQUE = "adcc.opaque:"
_MD_ID = re.compile(r"^!(\d+) = ", re.M)
_OPAQUE_RE = re.compile(r'"adcc\.opaque:([^"=]+)=(\w+)"')
_LINKAGE = ("private", "internal", "available_externally", "linkonce", "weak", "common", "appending",
            "extern_weak", "linkonce_odr", "weak_odr", "external")


@dataclass
class FunctionEntry:
    name: str
    text: str            # `define ... }` or `declare ...`
    is_definition: bool
    parsed: Function | None = None


@dataclass
class GlobalVariable:
    name: str
    text: str
    value_type: T.Type | None
    is_constant: bool
    linkage: str
    initializer: str  # text after the value type (may be empty for external)
    thread_local: bool = False


class Module:
    def __init__(self, text: str):
        self.items: list = []  # str (verbatim line block) | FunctionEntry | GlobalVariable
        self.functions: dict[str, FunctionEntry] = {}
        self.globals: dict[str, GlobalVariable] = {}
        self.type_defs: dict[str, T.Type] = {}
        self.new_texts: list[str] = []  # appended top-level text (declarations, globals)
        self._split(text)

    # --- construction ---------------------------------------------------------------
    def _split(self, text: str) -> None:
        lines = text.split("\n")
        i = 0
        n = len(lines)
        verbatim: list[str] = []

        def flush():
            if verbatim:
                self.items.append("\n".join(verbatim))
                verbatim.clear()

        while i < n:
            line = lines[i]
            if line.startswith("define "):
                j = i
                while j < n and lines[j] != "}":
                    j += 1
                body = "\n".join(lines[i:j + 1])
                m = _DEFINE_NAME.search(line)
                if not m:
                    raise ParseError(f"cannot find the function name in {line!r}")
                flush()
                e = FunctionEntry(m.group(1), body, True)
                self.functions[e.name] = e
                self.items.append(e)
                i = j + 1
                continue
            if line.startswith("declare "):
                m = _DEFINE_NAME.search(line)
                if m:
                    flush()
                    e = FunctionEntry(m.group(1), line, False)
                    self.functions[e.name] = e
                    self.items.append(e)
                    i += 1
                    continue
            if line.startswith("@"):
                g = _parse_global(line)
                if g is not None:
                    flush()
                    self.globals[g.name] = g
                    self.items.append(g)
                    i += 1
                    continue
            if line.startswith("%"):
                m = _TYPE_LINE.match(line)
                if m:
                    try:
                        lp = LineParser(m.group(2), None)  # type: ignore[arg-type]
                        self.type_defs[m.group(1)] = lp.parse_type()
                    except (ParseError, ValueError, IndexError):
                        self.type_defs[m.group(1)] = T.OpaqueType("opaque")
            verbatim.append(line)
            i += 1
        flush()

    # --- queries ------------------------------------------------------------------
    def struct_body(self, name: str) -> T.Type:
        t = self.type_defs.get(name)
        if t is None:
            raise ParseError(f"unknown struct type %{name}")
        return t

    def resolve(self, ty: T.Type) -> T.Type:
        while isinstance(ty, T.NamedStructType):
            ty = self.struct_body(ty.name)
        return ty

    def is_defined(self, name: str) -> bool:
        e = self.functions.get(name)
        return e is not None and e.is_definition

    def has_symbol(self, name: str) -> bool:
        return name in self.functions or name in self.globals

    def function(self, name: str) -> Function:
        """The parsed definition of `name` (parsed on first request)."""
        e = self.functions.get(name)
        if e is None or not e.is_definition:
            raise KeyError(name)
        if e.parsed is None:
            e.parsed = parse_function(self, e.text)
        return e.parsed

    def function_type_of(self, name: str) -> T.FunctionType:
        """The type of function `name`, defined or only declared (KeyError if there is none)."""
        return self.function_header(name).function_type

    def function_header(self, name: str) -> Function:
        """Function `name` as its header describes it (type, `param_attrs`), defined or only
        declared, without parsing a body (KeyError if there is none)."""
        e = self.functions[name]
        if e.is_definition:
            return self.function(name)
        from adcc.ir.parser import FunctionParser
        header = e.text.split("\n", 1)[0]
        return FunctionParser(self, header)._parse_header("define" + header[len("declare"):])

    def references(self, name: str, calls: bool = True) -> set[str]:
        """Globals and functions a defined function mentions (with calls=False: other than as the
        callee of a call), from its parsed body when there is one, else from its text."""
        e = self.functions[name]
        out: set[str] = set()
        if e.parsed is None:
            first = e.text.find("{")
            return set(global_refs(e.text[first:] if first >= 0 else e.text, calls))
        from adcc.ir.values import Constant, GlobalRef
        for inst in e.parsed.instructions():
            for k, op in enumerate(inst.operands):
                if isinstance(op, GlobalRef):
                    if calls or not (inst.opcode in ("call", "invoke") and k == inst.info.get("callee_slot")):
                        out.add(op.gname)
                elif isinstance(op, Constant) and "@" in op.text:
                    out.update(global_refs(op.text))
        return out

    def defined_function_names(self) -> list[str]:
        return [n for n, e in self.functions.items() if e.is_definition]

    def target_attributes(self, name: str) -> str:
        """The code-generation attributes of function `name` ("target-cpu", "target-features",
        "tune-cpu" and the sanitizers it is instrumented for, from its attribute groups), as inline
        text for a function derived from it, so that derivatives are compiled for the same target as
        their primal (and checked by the same sanitizers)."""
        e = self.functions.get(name)
        if e is None:
            return ""
        header = e.parsed.header if e.parsed is not None and e.parsed.header else e.text.split("\n", 1)[0]
        groups = set(_ATTR_GROUP_REF.findall(header[header.rfind(")"):]))
        if not groups:
            return ""
        found: dict[str, str] = {}
        sanitizers: set[str] = set()
        for gid, body in self._attribute_groups().items():
            if gid in groups:
                for k, v in _TARGET_ATTR.findall(body):
                    found.setdefault(k, v)
                sanitizers.update(_SANITIZE_ATTR.findall(body))
        return " ".join([*sorted(sanitizers), *(f'"{k}"="{v}"' for k, v in sorted(found.items()))])

    def is_noinline(self, name: str) -> bool:
        """Whether defined or declared function `name` carries `noinline` (inline in its header or
        in one of its attribute groups)."""
        e = self.functions.get(name)
        if e is None:
            return False
        header = e.parsed.header if e.parsed is not None and e.parsed.header else e.text.split("\n", 1)[0]
        tail = header[header.rfind(")"):]
        if _NOINLINE.search(tail.split("{", 1)[0]):
            return True
        return any(body is not None and _NOINLINE.search(body)
                   for body in map(self._attribute_group, _ATTR_GROUP_REF.findall(tail)))

    # --- mutation -------------------------------------------------------------------
    def add_function(self, fn: Function) -> None:
        if fn.fname in self.functions:
            raise ValueError(f"function @{fn.fname} already exists")
        e = FunctionEntry(fn.fname, "", True, fn)
        self.functions[fn.fname] = e
        self.items.append(e)

    def unique_name(self, base: str) -> str:
        if not self.has_symbol(base):
            return base
        k = 1
        while self.has_symbol(f"{base}.{k}"):
            k += 1
        return f"{base}.{k}"

    def ensure_declaration(self, name: str, fnty: T.FunctionType, attrs: str = "") -> None:
        if name in self.functions:
            return
        ps = [str(p) for p in fnty.params]
        if fnty.vararg:
            ps.append("...")
        qn = name if re.match(r"^[-a-zA-Z$._][-a-zA-Z$._0-9]*$", name) else f'"{name}"'
        text = f"declare {fnty.ret} @{qn}({', '.join(ps)}){(' ' + attrs) if attrs else ''}"
        e = FunctionEntry(name, text, False)
        self.functions[name] = e
        self.items.append(e)

    def add_global(self, name: str, text: str, value_type: T.Type, is_constant: bool,
                   linkage: str = "internal") -> None:
        g = GlobalVariable(name, text, value_type, is_constant, linkage, "")
        self.globals[name] = g
        self.items.append(g)

    def add_text(self, text: str) -> None:
        self.items.append(text)
        if "attributes #" in text:
            self._groups_cache = None

    def remove_globals(self, names: set[str]) -> None:
        """Delete global variables `names`, and their entries in llvm.used/llvm.compiler.used."""
        names = {n for n in names if n in self.globals}
        if not names:
            return
        for used in ("llvm.used", "llvm.compiler.used"):
            g = self.globals.get(used)
            if g is None:
                continue
            kept = [e for e in _top_level_items(g.initializer) if not (set(global_refs(e)) & names)]
            if kept:
                g.text = f"@{used} = appending global [{len(kept)} x ptr] [{', '.join(kept)}], section \"llvm.metadata\""
                g.initializer = g.text[g.text.index("["):]
            else:
                names.add(used)
        gone = [self.globals.pop(n) for n in names]
        self.items = [it for it in self.items if not any(it is g for g in gone)]

    def _is_local(self, e: FunctionEntry) -> bool:
        header = self._header(e)
        if header is None:  # built by adcc: its linkage is an attribute
            return e.parsed.linkage in ("internal", "private")
        return re.match(r"define\s+(internal|private)\b", header) is not None

    def remove_unreferenced_functions(self) -> None:
        """Delete internal and private functions that nothing else mentions any more (what
        global dead-code elimination does; run after differentiation, also at -O0, so that a
        primal left unused does not keep references to functions only its rules stand for)."""
        while True:
            local = {n for n, e in self.functions.items() if e.is_definition and self._is_local(e)}
            if not local:
                return
            mentioned: set[str] = set()
            for it in self.items:
                if isinstance(it, FunctionEntry):
                    if it.is_definition:
                        mentioned.update(r for r in self.references(it.name) if r != it.name)
                        if it.parsed is not None:  # debug records name functions too (#dbg_value(ptr @f))
                            for inst in it.parsed.instructions():
                                if inst.opcode == "#dbg":
                                    mentioned.update(global_refs("".join(p for p in inst.template
                                                                         if isinstance(p, str))))
                else:
                    mentioned.update(global_refs(it if isinstance(it, str) else it.text))
            dead = local - mentioned
            if not dead:
                return
            for n in dead:
                del self.functions[n]
            self.items = [it for it in self.items if not (isinstance(it, FunctionEntry) and it.name in dead)]

    def add_definitions(self, text: str) -> None:
        """Add the function definitions of `text` (LLVM text) as real definitions of this module:
        parsed on demand, differentiable like any other."""
        for e in Module(text).functions.values():
            if e.name in self.functions:
                raise ValueError(f"function @{e.name} already exists")
            self.functions[e.name] = e
            self.items.append(e)

    def _header(self, e: FunctionEntry) -> str:
        return e.parsed.header if e.parsed is not None else e.text.split("\n", 1)[0]

    def _set_header(self, e: FunctionEntry, header: str) -> None:
        old = self._header(e)
        if e.parsed is not None:
            e.parsed.header = header
        else:
            e.text = header + e.text[len(old):]

    def add_parameter_attribute(self, name: str, index: int, attribute: str) -> None:
        """Add `attribute` (a keyword such as `noalias`) to parameter `index` of defined function
        `name`, right after the parameter's type."""
        e = self.functions.get(name)
        if e is None or not e.is_definition:
            return
        header = self._header(e)
        spans = _parameter_spans(header)
        if index >= len(spans):
            return
        lo, hi = spans[index]
        text = header[lo:hi]
        words = text.split()
        if not words or attribute in words:
            return
        ty_end = lo + text.index(words[0]) + len(words[0])
        self._set_header(e, header[:ty_end] + " " + attribute + header[ty_end:])

    def make_opaque(self, name: str, noinline: bool = True) -> None:
        """Keep optimization from looking into defined function `name` until `restore_linkage`:
        never inlined (`noinline`; with noinline=False only until `restore_linkage`: LLVM does not
        inline a `weak` function), and `weak` so that no interprocedural pass (dead-argument
        elimination, constant propagation, attribute inference) relies on its body. Its calls
        stay calls with all their arguments."""
        e = self.functions.get(name)
        if e is None or not e.is_definition:
            return
        if noinline:
            self.set_noinline(name)
        header = self._header(e)
        m = _DEFINE_LINKAGE.match(header)
        old = (m.group(1) if m else None) or "external"
        if old in ("weak", "weak_odr", "linkonce", "linkonce_odr"):
            return  # not an exact definition: optimization already leaves it alone
        rest = header[m.end():] if m else header[len("define "):]
        self._set_header(e, "define weak " + rest)
        # the original linkage, in named metadata (survives optimization; attributes would not)
        k = self._free_metadata_id()
        self.items.append(f'!adcc.opaque.{k} = !{{!{k}}}\n!{k} = !{{!"{_OPAQUE}{name.strip(chr(34))}={old}"}}')

    def _free_metadata_id(self) -> int:
        top = getattr(self, "_md_top", None)
        if top is None:
            top = max((int(x) for it in self.items if isinstance(it, str)
                       for x in _MD_ID.findall(it)), default=0)
        self._md_top = top + 1
        return top + 1

    def _opaque_names(self) -> list[tuple[str, str]]:
        out = []
        for it in self.items:
            if isinstance(it, str) and _OPAQUE in it:
                out.extend(_OPAQUE_RE.findall(it))
        return out

    def restore_linkage(self) -> bool:
        """Undo `make_opaque` on every function (True if any changed)."""
        found = self._opaque_names()
        if not found:
            return False
        for name, old in found:
            e = self.functions.get(name) or self.functions.get(f'"{name}"')
            if e is None or not e.is_definition:
                continue
            header = self._header(e)
            if header and header.startswith("define weak "):
                self._set_header(e, "define " + ("" if old == "external" else old + " ") + header[len("define weak "):])
        self.items = ["\n".join(l for l in it.split("\n") if _OPAQUE not in l and not l.startswith("!adcc.opaque"))
                      if isinstance(it, str) and "adcc.opaque" in it else it for it in self.items]
        return True

    def set_noinline(self, name: str) -> None:
        """Mark defined function `name` `noinline` (dropping `alwaysinline`): its calls must stay
        calls through optimization."""
        e = self.functions.get(name)
        if e is None or not e.is_definition:
            return
        header = self._header(e)
        close = header.rfind(")")
        tail = header[close:]
        groups = _ATTR_GROUP_REF.findall(tail)
        inline_words = re.compile(r"\b(noinline|alwaysinline|inlinehint)\b")
        for g in groups:
            body = self._attribute_group(g)
            if body is not None and inline_words.search(body):
                new_id = self._add_attribute_group(inline_words.sub("", body) + " noinline")
                tail = re.sub(rf"#{g}\b", f"#{new_id}", tail)
                break
        else:
            tail = tail.replace(")", ") noinline", 1) if "noinline" not in tail else tail
        self._set_header(e, header[:close] + tail)

    def _attribute_group(self, gid: str) -> str | None:
        return self._attribute_groups().get(gid)

    def _attribute_groups(self) -> dict[str, str]:
        """Attribute group number -> body, in module order (the first definition of a number
        wins). Cached: derivatives of every function of a large unit ask for their primal's
        groups, and scanning every item each time made that quadratic. Groups enter the module
        only by parsing, `_add_attribute_group` and `add_text`, which drop the cache, as does
        replacing the item list."""
        cached = getattr(self, "_groups_cache", None)
        if cached is not None and cached[0] is self.items:
            return cached[1]
        groups: dict[str, str] = {}
        for it in self.items:
            if isinstance(it, str) and "attributes #" in it:
                for m in _ATTR_GROUP.finditer(it):
                    groups.setdefault(m.group(1), m.group(2))
        self._groups_cache = (self.items, groups)
        return groups

    def _add_attribute_group(self, body: str) -> int:
        used = {int(m.group(1)) for it in self.items if isinstance(it, str) and "attributes #" in it
                for m in _ATTR_GROUP.finditer(it)}
        gid = max(used, default=0) + 1000
        self.items.append(f"attributes #{gid} = {{ {' '.join(body.split())} }}")
        self._groups_cache = None
        return gid

    # --- printing -------------------------------------------------------------------
    def __str__(self) -> str:
        out = []
        for it in self.items:
            if isinstance(it, str):
                out.append(it)
            elif isinstance(it, FunctionEntry):
                out.append(print_function(it.parsed) if it.parsed is not None else it.text)
            else:
                out.append(it.text)
        return "\n".join(out) + "\n"


def _parse_global(line: str) -> GlobalVariable | None:
    m = _GLOBAL_LINE.match(line)
    if not m:
        return None
    name, rest = m.group(1), m.group(2)
    try:
        toks = tokenize(rest)
    except ValueError:
        return None
    words = []
    k = 0
    linkage = "external"
    thread_local = False
    while k < len(toks) and toks[k].kind == "word" and toks[k].text not in ("global", "constant", "alias", "ifunc"):
        w = toks[k].text
        if w in _LINKAGE:
            linkage = w
        if w.startswith("thread_local"):
            thread_local = True
        words.append(w)
        k += 1
        if k < len(toks) and toks[k].text == "(":  # thread_local(initialexec), addrspace(1)
            depth = 0
            while k < len(toks):
                if toks[k].text == "(":
                    depth += 1
                elif toks[k].text == ")":
                    depth -= 1
                k += 1
                if depth == 0:
                    break
    if k >= len(toks) or toks[k].text in ("alias", "ifunc"):
        return None
    is_constant = toks[k].text == "constant"
    lp = LineParser(rest, None)  # type: ignore[arg-type]
    lp.i = k + 1
    try:
        vt = lp.parse_type()
    except (ParseError, ValueError, IndexError):
        vt = None
    init = rest[lp.peek().start:] if (vt is not None and lp.peek() is not None) else ""
    return GlobalVariable(name, line, vt, is_constant, linkage, init, thread_local)


def unpin_variables(module: Module, keep) -> None:
    """Remove one llvm.compiler.used entry of every global variable named there (what clang's
    -fkeep-persistent-storage-variables added), except those `keep(name)` selects."""
    g = module.globals.get("llvm.compiler.used")
    if g is None:
        return
    dropped: set[str] = set()
    kept = []
    for item in _top_level_items(g.initializer):
        refs = global_refs(item)
        name = refs[0] if len(refs) == 1 else None
        if name in module.globals and name not in dropped and not keep(name):
            dropped.add(name)
            continue
        kept.append(item)
    if not kept:
        del module.globals["llvm.compiler.used"]
        module.items = [it for it in module.items if it is not g]
        return
    g.text = f"@llvm.compiler.used = appending global [{len(kept)} x ptr] [{', '.join(kept)}], section \"llvm.metadata\""
    g.initializer = g.text[g.text.index("["):]


def _parameter_spans(header: str) -> list[tuple[int, int]]:
    """(start, end) of each parameter in a `define` line (commas inside parentheses ignored)."""
    open_at = header.index("(", header.index("@"))
    spans, depth, start = [], 0, open_at + 1
    for pos in range(open_at, len(header)):
        c = header[pos]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                if header[start:pos].strip():
                    spans.append((start, pos))
                break
        elif c == "," and depth == 1:
            spans.append((start, pos))
            start = pos + 1
    return spans


def _top_level_items(initializer: str) -> list[str]:
    """The comma-separated items of an array initializer `[a, b(c, d)], section ...`."""
    start = initializer.find("[")
    items, depth, cur = [], 0, ""
    for ch in initializer[start + 1:]:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def parse_module(text: str) -> Module:
    return Module(text)
