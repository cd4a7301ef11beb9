"""Parse LLVM 22 textual IR into adcc's model.

Module-level entities are split by line; function bodies are parsed on demand
(`Module.function(name)`), everything else is kept verbatim. Instructions are cut
into template text and operand slots; opcode-specific fields (load type, GEP
source type, predicates, call signature) are recorded in `Instruction.info`.
"""
from __future__ import annotations

import re

from adcc.ir import types as T
from adcc.ir.lexer import Token, tokenize, strip_comment
from adcc.ir.values import Block, Constant, Function, GlobalRef, Instruction, Value


class ParseError(ValueError):
    pass


FLOAT_WORDS = frozenset(T.FLOAT_KINDS)
FAST_MATH = frozenset({"fast", "nnan", "ninf", "nsz", "arcp", "contract", "afn", "reassoc"})
INT_FLAGS = frozenset({"nuw", "nsw", "exact", "disjoint", "nneg", "samesign", "inbounds", "nusw"})
BINARY = frozenset({"add", "sub", "mul", "udiv", "sdiv", "urem", "srem", "shl", "lshr", "ashr",
                    "and", "or", "xor", "fadd", "fsub", "fmul", "fdiv", "frem"})
CASTS = frozenset({"trunc", "zext", "sext", "fptrunc", "fpext", "fptoui", "fptosi", "uitofp",
                   "sitofp", "ptrtoint", "inttoptr", "bitcast", "addrspacecast", "ptrtoaddr"})
VALUE_WORDS = frozenset({"true", "false", "null", "undef", "poison", "zeroinitializer", "none"})
CONSTEXPR_WORDS = frozenset({"getelementptr", "bitcast", "ptrtoint", "inttoptr", "addrspacecast",
                             "trunc", "add", "sub", "mul", "xor", "shl", "splat", "blockaddress",
                             "dso_local_equivalent", "no_cfi", "ptrauth", "icmp", "fcmp", "extractelement",
                             "insertelement", "shufflevector", "ptrtoaddr"})
CALL_PREFIX = frozenset({"tail", "musttail", "notail"})
RESULT_ATTR_WORDS = frozenset({"noundef", "nonnull", "zeroext", "signext", "inreg", "noalias",
                               "dereferenceable", "dereferenceable_or_null", "align", "range",
                               "nofpclass", "noext"})
# `x86_\w+` conventions (x86_stdcallcc, ...) share a prefix with the types x86_fp80 and x86_amx.
CALLING_CONVS = re.compile(r"^(?!x86_fp80$|x86_amx$)(ccc|fastcc|coldcc|cc|tailcc|swiftcc|swifttailcc|webkit_jscc|"
                           r"anyregcc|preserve_\w+|cxx_fast_tlscc|ghccc|x86_\w+|intel_ocl_bicc|win64cc|"
                           r"x86_64_sysvcc|spir_\w+|amdgpu_\w+|ptx_\w+|arm_\w+|msp430_intrcc|"
                           r"avr_\w+|riscv_\w+|aarch64_\w+|graalcc|m68k_\w+)$")
# `asm [sideeffect] [alignstack] [inteldialect] [unwind] "text", "constraints"` as a callee.
INLINE_ASM_FLAGS = frozenset({"sideeffect", "alignstack", "inteldialect", "unwind"})


class LineParser:
    """Recursive-descent parser over the tokens of one instruction line."""

    def __init__(self, line: str, fn_parser: "FunctionParser"):
        self.line = line
        self.toks = tokenize(line)
        self.i = 0
        self.fp = fn_parser
        self.spans: list[tuple[int, int, Value]] = []  # operand spans in the line

    # --- token helpers ------------------------------------------------------------
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at(self, text: str) -> bool:
        t = self.peek()
        return t is not None and t.text == text

    def next(self) -> Token:
        if self.i >= len(self.toks):
            raise ParseError(f"unexpected end of line: {self.line.strip()!r}")
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text: str) -> Token:
        t = self.next()
        if t.text != text:
            raise ParseError(f"expected {text!r}, got {t.text!r} in {self.line.strip()!r}")
        return t

    def skip_balanced(self) -> None:
        """Skip one token, or a whole bracketed group if it opens one."""
        pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
        t = self.next()
        if t.text not in pairs:
            return
        depth = [pairs[t.text]]
        while depth:
            t = self.next()
            if t.text in pairs:
                depth.append(pairs[t.text])
            elif t.text == depth[-1]:
                depth.pop()

    # --- types --------------------------------------------------------------------
    def parse_type(self) -> T.Type:
        t = self.next()
        tx = t.text
        if t.kind == "word":
            if tx[0] == "i" and tx[1:].isdigit():
                ty: T.Type = T.IntType(int(tx[1:]))
            elif tx in FLOAT_WORDS:
                ty = T.FloatType(tx)
            elif tx == "ptr":
                ty = T.ptr
                if self.at("addrspace"):
                    self.next(); self.expect("(")
                    n = int(self.next().text); self.expect(")")
                    ty = T.PointerType(n)
            elif tx == "void":
                ty = T.void
            elif tx == "label":
                ty = T.label
            elif tx == "metadata":
                ty = T.metadata
            elif tx == "token":
                ty = T.token
            elif tx == "target":
                start = t.start
                self.skip_balanced()
                ty = T.OpaqueType(self.line[start:self.toks[self.i - 1].end])
            else:
                ty = T.OpaqueType(tx)
        elif tx == "<":
            if self.at("{"):
                ty = self._struct_body(packed=True)
                self.expect(">")
            else:
                scalable = False
                if self.at("vscale"):
                    self.next(); self.expect("x"); scalable = True
                n = int(self.next().text); self.expect("x")
                elem = self.parse_type(); self.expect(">")
                ty = T.VectorType(n, elem, scalable)
        elif tx == "[":
            n = int(self.next().text); self.expect("x")
            elem = self.parse_type(); self.expect("]")
            ty = T.ArrayType(n, elem)
        elif tx == "{":
            self.i -= 1
            ty = self._struct_body(packed=False)
        elif t.kind == "local":
            ty = T.NamedStructType(tx[1:])
        else:
            raise ParseError(f"expected a type, got {tx!r} in {self.line.strip()!r}")
        return ty

    def _struct_body(self, packed: bool) -> T.StructType:
        self.expect("{")
        elems: list[T.Type] = []
        if not self.at("}"):
            elems.append(self.parse_type())
            while self.at(","):
                self.next()
                elems.append(self.parse_type())
        self.expect("}")
        return T.StructType(tuple(elems), packed)

    # --- values -------------------------------------------------------------------
    def parse_value(self, ty: T.Type) -> Value:
        """Parse one value of type `ty` and record its span as an operand."""
        t = self.peek()
        if t is None:
            raise ParseError(f"expected a value in {self.line.strip()!r}")
        start = t.start
        if t.kind == "local":
            self.next()
            v = self.fp.lookup(t.text[1:], ty)
        elif t.kind == "global":
            self.next()
            v = GlobalRef(t.text[1:], ty)
        elif t.kind == "word" and t.text == "asm":
            self._skip_inline_asm()
            v = Constant(ty, self.line[start:self.toks[self.i - 1].end])
        elif t.kind == "meta" and ty == T.metadata:
            self.next()
            if self.at("(") or self.at("{"):
                self.skip_balanced()
            v = Constant(ty, self.line[start:self.toks[self.i - 1].end])
        elif ty == T.metadata:
            # `metadata <type> <value>` (e.g. in intrinsic calls): keep verbatim
            inner_ty = self.parse_type()
            self.parse_value(inner_ty)
            self.spans.pop()
            v = Constant(ty, self.line[start:self.toks[self.i - 1].end])
        elif t.text in ("<", "[", "{") or (t.kind == "word" and t.text in CONSTEXPR_WORDS) or t.kind == "string":
            if t.kind == "word":
                self.next()
                while self.peek() is not None and self.peek().kind == "word" and not self.at("("):
                    self.next()  # flags like inbounds
            self.skip_balanced()
            while self.at("("):  # `inrange(-16, 32) (i8, ptr @vt, i64 16)`
                self.skip_balanced()
            v = Constant(ty, self.line[start:self.toks[self.i - 1].end])
        elif t.kind in ("number", "word"):
            self.next()
            v = Constant(ty, t.text)
        else:
            raise ParseError(f"unexpected {t.text!r} where a value was expected in {self.line.strip()!r}")
        self.spans.append((start, self.toks[self.i - 1].end, v))
        return v

    def _skip_inline_asm(self) -> None:
        self.expect("asm")
        while self.peek() is not None and self.peek().text in INLINE_ASM_FLAGS:
            self.next()
        for k in range(2):  # the assembly text, then the constraints
            t = self.next()
            if t.kind != "string":
                raise ParseError(f"expected an inline assembly string, got {t.text!r} in {self.line.strip()!r}")
            if k == 0:
                self.expect(",")

    def parse_typed_value(self) -> tuple[T.Type, Value]:
        ty = self.parse_type()
        return ty, self.parse_value(ty)

    def skip_param_attrs(self) -> None:
        """Skip parameter/return attributes before a value."""
        while True:
            t = self.peek()
            if t is not None and t.kind == "string" and t.text.startswith('"'):  # "key" or "key"="value"
                self.next()
                if self.at("="):
                    self.next()
                    self.next()
                continue
            if t is None or t.kind != "word" or t.text in VALUE_WORDS or t.text in CONSTEXPR_WORDS:
                return
            self.next()
            if self.at("("):
                self.skip_balanced()
            elif t.text == "align" and self.peek() is not None and self.peek().kind == "number":
                self.next()

    def parse_label(self) -> Block:
        self.expect("label")
        t = self.next()
        b = self.fp.block(t.text[1:])
        self.spans.append((t.start, t.end, b))
        return b

    # --- tail: `, align 8, !dbg !5` -----------------------------------------------
    def parse_tail(self) -> tuple[int, list[tuple[str, str]]]:
        """Return the char offset where metadata attachments start, and the attachments."""
        md: list[tuple[str, str]] = []
        md_start = len(self.line.rstrip())
        j = self.i
        toks = self.toks
        # find first top-level ", !name" sequence
        depth = 0
        k = j
        while k < len(toks):
            tx = toks[k].text
            if tx in "([{<":
                depth += 1
            elif tx in ")]}>":
                depth -= 1
            elif tx == "," and depth == 0 and k + 1 < len(toks) and toks[k + 1].kind == "meta" \
                    and k + 2 < len(toks) and toks[k + 2].kind == "meta":
                md_start = toks[k].start
                break
            k += 1
        # collect attachments
        while k < len(toks):
            if toks[k].text != ",":
                raise ParseError(f"bad metadata attachment in {self.line.strip()!r}")
            kind = toks[k + 1].text[1:]
            self.i = k + 2
            s = toks[k + 2].start
            self.next()
            if self.at("(") or self.at("{"):
                self.skip_balanced()
            md.append((kind, self.line[s:toks[self.i - 1].end]))
            k = self.i
        return md_start, md


class FunctionParser:
    """Parses one function definition's text into a `Function`."""

    def __init__(self, module, text: str):
        self.module = module
        self.text = text
        self.values: dict[str, Value] = {}
        self.forward: dict[str, Value] = {}
        self.blocks: dict[str, Block] = {}
        self.fn: Function | None = None

    def lookup(self, name: str, ty: T.Type) -> Value:
        v = self.values.get(name)
        if v is not None:
            return v
        b = self.blocks.get(name)
        if b is not None:
            return b
        fwd = self.forward.get(name)
        if fwd is None:
            fwd = Value(ty, "__fwd__" + name)
            self.forward[name] = fwd
        return fwd

    def block(self, name: str) -> Block:
        b = self.blocks.get(name)
        if b is None:
            raise ParseError(f"unknown block label %{name} in @{self.fn.fname if self.fn else '?'}")
        return b

    def define(self, name: str | None, v: Value) -> None:
        if name is None:
            return
        self.values[name] = v
        fwd = self.forward.pop(name, None)
        if fwd is not None:
            fwd.replace_all_uses_with(v)

    def parse(self) -> Function:
        lines = self.text.split("\n")
        header = lines[0]
        fn = self._parse_header(header)
        self.fn = fn
        body = _join_multiline(lines[1:])
        # first pass: block labels
        label_re = re.compile(r'^([-a-zA-Z$._0-9]+|"(?:[^"\\]|\\.)*"):')
        n_unnamed_args = sum(1 for a in fn.args if a.name is None)
        first_code = next((l for l in body if l.strip() and not l.strip().startswith(";") and l.strip() != "}"), "")
        if not label_re.match(first_code):
            entry_name = str(n_unnamed_args)
            b = Block(None, fn)
            fn.blocks.append(b)
            self.blocks[entry_name] = b
        for l in body:
            m = label_re.match(l)
            if m:
                nm = m.group(1)
                b = Block(None if nm.isdigit() else nm, fn)
                fn.blocks.append(b)
                self.blocks[nm] = b
        cur = fn.blocks[0] if fn.blocks else None
        for l in body:
            s = l.strip()
            if not s or s.startswith(";") or s == "}":
                continue
            m = label_re.match(l)
            if m:
                cur = self.blocks[m.group(1)]
                continue
            self._parse_instruction(strip_comment(l).rstrip(), cur)
        if self.forward:
            names = ", ".join("%" + n for n in self.forward)
            raise ParseError(f"undefined value(s) {names} in @{fn.fname}")
        return fn

    def _parse_header(self, header: str) -> Function:
        # define [linkage...] <ret attrs> <ret type> @name(<params>) <fn attrs> {
        m = re.search(r'@("(?:[^"\\]|\\.)*"|[-a-zA-Z$._0-9]+)\(', header)
        if not m:
            raise ParseError(f"cannot parse function header {header!r}")
        name = m.group(1)
        pre = header[len("define"):m.start()]
        lp = LineParser(pre, self)
        # return type is the last type in `pre`: parse tokens, the type starts after attrs
        ret_ty = _last_type(lp)
        # params
        lp2 = LineParser(header, self)
        lp2.i = next(k for k, t in enumerate(lp2.toks) if t.start == m.end() - 1) + 1
        arg_types: list[T.Type] = []
        arg_names: list[str | None] = []
        arg_attrs: list[str] = []
        vararg = False
        while not lp2.at(")"):
            if lp2.at("..."):
                lp2.next(); vararg = True
                continue
            ty = lp2.parse_type()
            a0 = lp2.peek().start if lp2.peek() else 0
            lp2.skip_param_attrs()
            attrs = header[a0:lp2.peek().start].strip() if lp2.peek() else ""
            nm = None
            if lp2.peek() is not None and lp2.peek().kind == "local":
                nm = lp2.next().text[1:]
            arg_types.append(ty)
            arg_names.append(nm)
            arg_attrs.append(attrs)
            if lp2.at(","):
                lp2.next()
        fn = Function(name, ret_ty, arg_types, vararg)
        fn.header = header
        fn.param_attrs = arg_attrs
        for a, nm in zip(fn.args, arg_names):
            if nm is not None and not nm.isdigit():
                a.name = nm
            if nm is not None:
                self.values[nm] = a
        return fn

    def _parse_instruction(self, line: str, block: Block) -> None:
        lp = LineParser(line, self)
        name = None
        t0 = lp.peek()
        if t0 is None:
            return
        if t0.kind == "dbgrec":
            inst = self._generic(lp, "#dbg", T.void, None)
            block.append(inst)
            return
        if t0.kind == "local" and lp.peek(1) is not None and lp.peek(1).text == "=":
            name = t0.text[1:]
            lp.i = 2
        body_start = lp.peek().start
        opt = lp.next()
        op = opt.text
        if op in CALL_PREFIX:
            op = lp.next().text
        handler = _HANDLERS.get(op)
        info: dict = {}
        if handler is None:
            lp.i -= 1
            inst = self._generic(lp, op, T.OpaqueType("?") if name is not None else T.void, name, body_start)
        else:
            ty = handler(lp, info)
            md_start, md = lp.parse_tail()
            template = _template(line, body_start, md_start, lp.spans)
            inst = Instruction(op, ty, [v for _, _, v in lp.spans], template,
                               None if (name is None or name.isdigit()) else name, md, info)
        block.append(inst)
        if name is not None:
            self.define(name, inst)

    def _generic(self, lp: LineParser, op: str, ty: T.Type, name, body_start=None) -> Instruction:
        """Unknown opcode or debug record: every `%ref` becomes an operand slot."""
        if body_start is None:
            body_start = lp.peek().start
        lp.i = 0 if name is None else 2
        spans = []
        toks = lp.toks
        k = lp.i
        while k < len(toks):
            t = toks[k]
            if t.kind == "local":
                prev = toks[k - 1].text if k else ""
                nm = t.text[1:]
                if prev == "label" or (nm in self.blocks and nm not in self.values):
                    v: Value = self.block(nm)
                else:
                    v = self.lookup(nm, T.OpaqueType("?"))
                spans.append((t.start, t.end, v))
            k += 1
        lp.spans = spans
        lp.i = k
        md_start, md = len(lp.line.rstrip()), []
        if op != "#dbg":
            lp.i = 0
            # attachments only at top level after the body
            lp.i = len(toks)
            md_start, md = _scan_md(lp)
            spans = [s for s in spans if s[0] < md_start]
        template = _template(lp.line, body_start, md_start, spans)
        return Instruction(op, ty, [v for _, _, v in spans], template,
                           None if (name is None or name.isdigit()) else name, md, {"generic": True})


def _join_multiline(lines: list[str]) -> list[str]:
    """Join the lines LLVM prints one instruction on: switch cases, and the indented continuations of
    invoke/callbr (`to label ...`) and landingpad clauses (a block labelled `cleanup:` is in column 0)."""
    out: list[str] = []
    k = 0
    while k < len(lines):
        l = lines[k]
        if l.rstrip().endswith("[") and "switch " in l:
            parts = [l.rstrip()]
            k += 1
            while k < len(lines) and not lines[k].strip().startswith("]"):
                parts.append(lines[k].strip())
                k += 1
            if k < len(lines):
                parts.append(lines[k].strip())
            out.append(" ".join(parts))
        elif out and l[:1].isspace() and l.strip().startswith(("to label", "cleanup", "catch ", "filter ", "unwind ")):
            out[-1] = out[-1].rstrip() + " " + l.strip()
        else:
            out.append(l)
        k += 1
    return out


def _scan_md(lp: LineParser) -> tuple[int, list]:
    toks = lp.toks
    depth = 0
    for k, t in enumerate(toks):
        tx = t.text
        if tx in "([{<":
            depth += 1
        elif tx in ")]}>":
            depth -= 1
        elif tx == "," and depth == 0 and k + 2 < len(toks) and toks[k + 1].kind == "meta" and toks[k + 2].kind == "meta":
            lp.i = k
            return lp.parse_tail()
    return len(lp.line.rstrip()), []


def _last_type(lp: LineParser) -> T.Type:
    """Return type in a `define` prefix: skip linkage/attrs words until a type parses at the end."""
    toks = lp.toks
    for k in range(len(toks)):
        lp.i = k
        try:
            ty = lp.parse_type()
        except (ParseError, ValueError, IndexError):
            continue
        if lp.i == len(toks) and not isinstance(ty, T.OpaqueType):
            return ty
    raise ParseError(f"cannot find the return type in {lp.line!r}")


def _template(line: str, start: int, end: int, spans) -> list:
    out: list = []
    pos = start
    for k, (s, e, _) in enumerate(spans):
        if s > pos:
            out.append(line[pos:s])
        out.append(k)
        pos = e
    if end > pos:
        out.append(line[pos:end])
    return out


# --- opcode handlers: parse operands, fill info, return the result type -------------

def _skip_flags(lp: LineParser, words=FAST_MATH | INT_FLAGS) -> None:
    while lp.peek() is not None and lp.peek().text in words:
        lp.next()


def _binary(lp: LineParser, info: dict) -> T.Type:
    _skip_flags(lp)
    ty = lp.parse_type()
    lp.parse_value(ty)
    lp.expect(",")
    lp.parse_value(ty)
    return ty


def _fneg(lp: LineParser, info: dict) -> T.Type:
    _skip_flags(lp)
    ty = lp.parse_type()
    lp.parse_value(ty)
    return ty


def _cast(lp: LineParser, info: dict) -> T.Type:
    _skip_flags(lp)
    lp.parse_typed_value()
    lp.expect("to")
    return lp.parse_type()


def _cmp(lp: LineParser, info: dict) -> T.Type:
    _skip_flags(lp)
    info["predicate"] = lp.next().text
    ty = lp.parse_type()
    lp.parse_value(ty)
    lp.expect(",")
    lp.parse_value(ty)
    if isinstance(ty, T.VectorType):
        return T.VectorType(ty.count, T.i1, ty.scalable)
    return T.i1


def _select(lp: LineParser, info: dict) -> T.Type:
    _skip_flags(lp)
    lp.parse_typed_value()
    lp.expect(",")
    ty, _ = lp.parse_typed_value()
    lp.expect(",")
    lp.parse_typed_value()
    return ty


def _phi(lp: LineParser, info: dict) -> T.Type:
    _skip_flags(lp)
    ty = lp.parse_type()
    while True:
        lp.expect("[")
        lp.parse_value(ty)
        lp.expect(",")
        t = lp.next()
        b = lp.fp.block(t.text[1:])
        lp.spans.append((t.start, t.end, b))
        lp.expect("]")
        if lp.at(",") and lp.peek(1) is not None and lp.peek(1).text == "[":
            lp.next()
            continue
        break
    return ty


def _load(lp: LineParser, info: dict) -> T.Type:
    while lp.peek().text in ("atomic", "volatile"):
        info[lp.next().text] = True
    ty = lp.parse_type()
    lp.expect(",")
    lp.parse_typed_value()
    return ty


def _store(lp: LineParser, info: dict) -> T.Type:
    while lp.peek().text in ("atomic", "volatile"):
        info[lp.next().text] = True
    lp.parse_typed_value()
    lp.expect(",")
    lp.parse_typed_value()
    return T.void


def _atomicrmw(lp: LineParser, info: dict) -> T.Type:
    """`atomicrmw [volatile] <operation> ptr <p>, <ty> <v> ...`: the result has the value's type."""
    if lp.peek().text == "volatile":
        info[lp.next().text] = True
    info["operation"] = lp.next().text
    lp.parse_typed_value()
    lp.expect(",")
    ty, _ = lp.parse_typed_value()
    return ty


def _gep(lp: LineParser, info: dict) -> T.Type:
    flags = []
    while lp.peek().text in ("inbounds", "nuw", "nusw", "inrange"):
        w = lp.next().text
        if w == "inrange":
            lp.skip_balanced()
        flags.append(w)
    info["source_type"] = lp.parse_type()
    info["flags"] = tuple(flags)
    lp.expect(",")
    bty, _ = lp.parse_typed_value()
    result = bty
    while lp.at(",") and lp.peek(1) is not None and lp.peek(1).kind != "meta":
        lp.next()
        if lp.at("inrange"):
            lp.next(); lp.skip_balanced()
        ity, _ = lp.parse_typed_value()
        if isinstance(ity, T.VectorType) and not isinstance(result, T.VectorType):
            result = T.VectorType(ity.count, T.ptr)
    return result


def _alloca(lp: LineParser, info: dict) -> T.Type:
    if lp.at("inalloca"):
        lp.next()
    info["alloc_type"] = lp.parse_type()
    if lp.at(",") and lp.peek(1) is not None and lp.peek(1).kind == "word" and lp.peek(1).text not in ("align", "addrspace"):
        lp.next()
        lp.parse_typed_value()
    return T.ptr


def _call(lp: LineParser, info: dict) -> T.Type:
    _skip_flags(lp, FAST_MATH)
    while True:
        t = lp.peek()
        if t.kind == "word" and CALLING_CONVS.match(t.text):
            lp.next()
            if t.text == "cc":
                lp.next()
            continue
        if t.kind == "word" and t.text in RESULT_ATTR_WORDS:
            lp.next()
            if lp.at("("):
                lp.skip_balanced()
            elif t.text == "align":
                lp.next()
            continue
        if t.text == "addrspace":
            lp.next(); lp.skip_balanced()
            continue
        break
    ret = lp.parse_type()
    fnty = None
    if lp.at("("):
        lp.next()
        params = []
        vararg = False
        while not lp.at(")"):
            if lp.at("..."):
                lp.next(); vararg = True
            else:
                params.append(lp.parse_type())
            if lp.at(","):
                lp.next()
        lp.expect(")")
        fnty = T.FunctionType(ret, tuple(params), vararg)
    info["callee_slot"] = len(lp.spans)
    lp.parse_value(T.ptr)
    lp.expect("(")
    arg_types = []
    arg_attrs = []
    while not lp.at(")"):
        ty = lp.parse_type()
        a0 = lp.peek().start
        lp.skip_param_attrs()
        arg_attrs.append(lp.line[a0:lp.peek().start].strip())
        lp.parse_value(ty)
        arg_types.append(ty)
        if lp.at(","):
            lp.next()
    lp.expect(")")
    info["nargs"] = len(arg_types)
    info["arg_attrs"] = arg_attrs
    info["fn_type"] = fnty or T.FunctionType(ret, tuple(arg_types), False)
    # function attributes, operand bundles (an invoke continues with `to label`)
    while lp.peek() is not None and lp.peek().text != "," and lp.peek().text != "to":
        t = lp.peek()
        if t.text == "[":
            lp.next()
            while not lp.at("]"):
                lp.next()  # bundle tag string
                lp.expect("(")
                while not lp.at(")"):
                    lp.parse_typed_value()
                    if lp.at(","):
                        lp.next()
                lp.expect(")")
                if lp.at(","):
                    lp.next()
            lp.expect("]")
        else:
            lp.skip_balanced()
    return ret


def _invoke(lp: LineParser, info: dict) -> T.Type:
    ret = _call(lp, info)
    lp.expect("to")
    lp.parse_label()
    lp.expect("unwind")
    lp.parse_label()
    return ret


def _landingpad(lp: LineParser, info: dict) -> T.Type:
    ty = lp.parse_type()
    while lp.peek() is not None and lp.peek().text in ("cleanup", "catch", "filter"):
        if lp.next().text != "cleanup":
            lp.parse_typed_value()
    return ty


def _ret(lp: LineParser, info: dict) -> T.Type:
    if lp.at("void"):
        lp.next()
    else:
        lp.parse_typed_value()
    return T.void


def _br(lp: LineParser, info: dict) -> T.Type:
    if lp.at("label"):
        lp.parse_label()
    else:
        lp.parse_typed_value()
        lp.expect(",")
        lp.parse_label()
        lp.expect(",")
        lp.parse_label()
    return T.void


def _switch(lp: LineParser, info: dict) -> T.Type:
    ty, _ = lp.parse_typed_value()
    lp.expect(",")
    lp.parse_label()
    lp.expect("[")
    while not lp.at("]"):
        lp.parse_typed_value()
        lp.expect(",")
        lp.parse_label()
    lp.expect("]")
    return T.void


def _unreachable(lp: LineParser, info: dict) -> T.Type:
    return T.void


def _extractvalue(lp: LineParser, info: dict) -> T.Type:
    ty, _ = lp.parse_typed_value()
    idx = []
    while lp.at(",") and lp.peek(1).kind == "number":
        lp.next()
        idx.append(int(lp.next().text))
    info["indices"] = tuple(idx)
    return aggregate_member(lp.fp.module, ty, idx)


def _insertvalue(lp: LineParser, info: dict) -> T.Type:
    ty, _ = lp.parse_typed_value()
    lp.expect(",")
    lp.parse_typed_value()
    idx = []
    while lp.at(",") and lp.peek(1).kind == "number":
        lp.next()
        idx.append(int(lp.next().text))
    info["indices"] = tuple(idx)
    return ty


def _extractelement(lp: LineParser, info: dict) -> T.Type:
    ty, _ = lp.parse_typed_value()
    lp.expect(",")
    lp.parse_typed_value()
    return ty.elem  # type: ignore[attr-defined]


def _insertelement(lp: LineParser, info: dict) -> T.Type:
    ty, _ = lp.parse_typed_value()
    lp.expect(",")
    lp.parse_typed_value()
    lp.expect(",")
    lp.parse_typed_value()
    return ty


def _shufflevector(lp: LineParser, info: dict) -> T.Type:
    ty, _ = lp.parse_typed_value()
    lp.expect(",")
    lp.parse_typed_value()
    lp.expect(",")
    mty, _ = lp.parse_typed_value()
    return T.VectorType(mty.count, ty.elem, mty.scalable)  # type: ignore[attr-defined]


def _freeze(lp: LineParser, info: dict) -> T.Type:
    ty, _ = lp.parse_typed_value()
    return ty


def aggregate_member(module, ty: T.Type, idx) -> T.Type:
    for k in idx:
        if isinstance(ty, T.NamedStructType) and module is not None:
            ty = module.struct_body(ty.name)
        if isinstance(ty, T.StructType):
            ty = ty.elems[k]
        elif isinstance(ty, (T.ArrayType, T.VectorType)):
            ty = ty.elem
        else:
            raise ParseError(f"cannot index into {ty}")
    return ty


_HANDLERS = {op: _binary for op in BINARY}
_HANDLERS.update({op: _cast for op in CASTS})
_HANDLERS.update({
    "fneg": _fneg, "icmp": _cmp, "fcmp": _cmp, "select": _select, "phi": _phi,
    "load": _load, "store": _store, "atomicrmw": _atomicrmw, "getelementptr": _gep, "alloca": _alloca, "call": _call,
    "invoke": _invoke, "landingpad": _landingpad,
    "ret": _ret, "br": _br, "switch": _switch, "unreachable": _unreachable,
    "extractvalue": _extractvalue, "insertvalue": _insertvalue, "extractelement": _extractelement,
    "insertelement": _insertelement, "shufflevector": _shufflevector, "freeze": _freeze,
})


def parse_function(module, text: str) -> Function:
    fn = FunctionParser(module, text).parse()
    fn.source_text = text
    return fn
