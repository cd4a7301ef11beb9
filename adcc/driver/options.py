"""adcc's own table of clang options and the argv parser.

Only options the driver acts on, or whose value is a separate argv word, are listed;
everything else passes to the front end unchanged. Kept free of heavy imports (no re,
no dataclasses): this module runs on every compile, including the fast path.
"""
from __future__ import annotations

import os


# Option kinds.
FLAG = 0          # -c
JOINED = 1        # -O2, -Wl,x, -std=c11
SEPARATE = 2      # -Xclang x
JOINED_OR_SEP = 3  # -I dir / -Idir
JOINED_AND_SEP = 4  # -Xarch_x86_64 x: a prefix with a joined part, then a separate value

# Roles: what the driver does with an option besides forwarding it.
COMPILE_ONLY = "compile"   # preprocessor/codegen options: not given to the link step
LINK_ONLY = "link"         # linker options: not given to per-file compile steps
BOTH = "both"
QUERY = "query"            # prints something, no compilation: hand argv to clang as is
ADCC = "adcc"              # adcc's own: never forwarded

_TABLE: dict[str, tuple[int, str]] = {
    # actions and outputs
    "-c": (FLAG, COMPILE_ONLY), "-S": (FLAG, COMPILE_ONLY), "-E": (FLAG, COMPILE_ONLY),
    "-o": (JOINED_OR_SEP, BOTH), "-emit-llvm": (FLAG, COMPILE_ONLY), "-x": (JOINED_OR_SEP, BOTH),
    "-O": (JOINED, BOTH), "-Ofast": (FLAG, BOTH), "-g": (JOINED, BOTH),
    "-v": (FLAG, BOTH), "-###": (FLAG, QUERY), "-fsyntax-only": (FLAG, COMPILE_ONLY),
    "-fdriver-only": (FLAG, BOTH),
    # preprocessor
    "-I": (JOINED_OR_SEP, COMPILE_ONLY), "-D": (JOINED_OR_SEP, COMPILE_ONLY),
    "-U": (JOINED_OR_SEP, COMPILE_ONLY), "-include": (JOINED_OR_SEP, COMPILE_ONLY),
    "-imacros": (JOINED_OR_SEP, COMPILE_ONLY), "-isystem": (JOINED_OR_SEP, COMPILE_ONLY),
    "-iquote": (JOINED_OR_SEP, COMPILE_ONLY), "-idirafter": (JOINED_OR_SEP, COMPILE_ONLY),
    "-isysroot": (JOINED_OR_SEP, BOTH), "-iprefix": (JOINED_OR_SEP, COMPILE_ONLY),
    "-iwithprefix": (JOINED_OR_SEP, COMPILE_ONLY), "-iwithprefixbefore": (JOINED_OR_SEP, COMPILE_ONLY),
    "-std=": (JOINED, COMPILE_ONLY),
    "-MD": (FLAG, COMPILE_ONLY), "-MMD": (FLAG, COMPILE_ONLY), "-MP": (FLAG, COMPILE_ONLY),
    "-M": (FLAG, COMPILE_ONLY), "-MM": (FLAG, COMPILE_ONLY), "-MG": (FLAG, COMPILE_ONLY),
    "-MF": (JOINED_OR_SEP, COMPILE_ONLY), "-MT": (JOINED_OR_SEP, COMPILE_ONLY),
    "-MQ": (JOINED_OR_SEP, COMPILE_ONLY), "-MJ": (JOINED_OR_SEP, COMPILE_ONLY),
    # Fortran modules (flang-new: -J is -module-dir's gfortran spelling)
    "-J": (JOINED_OR_SEP, COMPILE_ONLY), "-module-dir": (SEPARATE, COMPILE_ONLY),
    "-fintrinsic-modules-path": (SEPARATE, COMPILE_ONLY),
    # target selection (also drives llvmlite's target machine on the AD path)
    "-march=": (JOINED, BOTH), "-mcpu=": (JOINED, BOTH), "-mtune=": (JOINED, BOTH),
    "-fveclib=": (JOINED, BOTH),  # also for adcc's own vectorizer (adcc.ir.veclib)
    "-target": (SEPARATE, BOTH), "--target=": (JOINED, BOTH), "--sysroot": (JOINED_OR_SEP, BOTH),
    "--sysroot=": (JOINED, BOTH),
    # pass-through with a separate value
    "-Xclang": (SEPARATE, COMPILE_ONLY), "-mllvm": (SEPARATE, BOTH), "-Xpreprocessor": (SEPARATE, COMPILE_ONLY),
    "-Xassembler": (SEPARATE, COMPILE_ONLY), "-Xlinker": (SEPARATE, LINK_ONLY), "-Xflang": (SEPARATE, COMPILE_ONLY),
    "-Xarch_": (JOINED_AND_SEP, BOTH), "-Xoffload-linker": (JOINED_AND_SEP, LINK_ONLY),
    "-arch": (SEPARATE, BOTH), "--param": (SEPARATE, COMPILE_ONLY),
    "-working-directory": (JOINED_OR_SEP, BOTH), "-ivfsoverlay": (JOINED_OR_SEP, COMPILE_ONLY),
    "-ccc-install-dir": (SEPARATE, BOTH),
    "-module-dependency-dir": (SEPARATE, COMPILE_ONLY), "-serialize-diagnostics": (SEPARATE, COMPILE_ONLY),
    "-dependency-file": (SEPARATE, COMPILE_ONLY), "-dependency-dot": (SEPARATE, COMPILE_ONLY),
    "--config": (SEPARATE, BOTH), "--config=": (JOINED, BOTH),
    # linker
    "-l": (JOINED_OR_SEP, LINK_ONLY), "-L": (JOINED_OR_SEP, LINK_ONLY), "-Wl,": (JOINED, LINK_ONLY),
    "-shared": (FLAG, LINK_ONLY), "-static": (FLAG, LINK_ONLY), "-rdynamic": (FLAG, LINK_ONLY),
    "-u": (JOINED_OR_SEP, LINK_ONLY), "-z": (SEPARATE, LINK_ONLY), "-T": (SEPARATE, LINK_ONLY),
    "-e": (SEPARATE, LINK_ONLY), "-include-pch": (SEPARATE, COMPILE_ONLY), "-nostdlib": (FLAG, LINK_ONLY), "-nodefaultlibs": (FLAG, LINK_ONLY),
    "-nostartfiles": (FLAG, LINK_ONLY), "-pie": (FLAG, LINK_ONLY), "-no-pie": (FLAG, LINK_ONLY),
    "-fuse-ld=": (JOINED, LINK_ONLY), "-pthread": (FLAG, BOTH), "-rpath": (SEPARATE, LINK_ONLY),
    # queries: clang answers them, adcc stays out of the way
    "--version": (FLAG, QUERY), "-dumpversion": (FLAG, QUERY), "-dumpmachine": (FLAG, QUERY),
    "-print-": (JOINED, QUERY), "--print-": (JOINED, QUERY), "--help": (FLAG, QUERY), "-help": (FLAG, QUERY),
    "-dumpfullversion": (FLAG, QUERY), "--help-hidden": (FLAG, QUERY), "--autocomplete=": (JOINED, QUERY),
    # adcc's own
    "--print-types": (FLAG, ADCC), "--print-activity": (FLAG, ADCC), "--ad-stage=": (JOINED, ADCC),
    "-fno-adcc-fast-path": (FLAG, ADCC), "-fadcc-fast-path": (FLAG, ADCC),
    "--adcc-fast-path-done": (FLAG, ADCC),  # internal: the native launcher already compiled this unit once
    "-fadcc-check-derivatives": (FLAG, ADCC), "-fno-adcc-check-derivatives": (FLAG, ADCC),
    # keep the bitcode of units without floating point too (the link step may differentiate through them)
    "-fadcc-embed-all-bitcode": (FLAG, ADCC), "-fno-adcc-embed-all-bitcode": (FLAG, ADCC),
    "-fadcc-tape-limit=": (JOINED, ADCC),  # SIZE (512M, 64K, 2G, bytes) or none: checkpointed loops
    # adcc's own warning groups (clang would warn about an unknown warning option)
    "-Wadcc-": (JOINED, ADCC), "-Wno-adcc-": (JOINED, ADCC), "-Werror=adcc-": (JOINED, ADCC),
    "-Wno-error=adcc-": (JOINED, ADCC),
}

ADCC_WARNINGS = ("dropped-derivative",)   # -Wadcc-<name>

# clang's GCC-compatible long spellings (a hidden alias of each table entry; `--output x.o` is
# `-o x.o`). The words go to clang as the user wrote them; the driver acts on the canonical name.
_ALIASES: dict[str, str] = {
    "--output": "-o", "--output=": "-o", "--compile": "-c", "--assemble": "-S", "--preprocess": "-E",
    "--language": "-x", "--language=": "-x", "--verbose": "-v", "--optimize": "-O", "--optimize=": "-O",
    "--debug": "-g", "--include-directory": "-I", "--include-directory=": "-I",
    "--include-directory-after": "-idirafter", "--include-directory-after=": "-idirafter",
    "--include-prefix": "-iprefix", "--include-prefix=": "-iprefix",
    "--include-with-prefix": "-iwithprefix", "--include-with-prefix=": "-iwithprefix",
    "--include-with-prefix-after": "-iwithprefix", "--include-with-prefix-after=": "-iwithprefix",
    "--include-with-prefix-before": "-iwithprefixbefore", "--include-with-prefix-before=": "-iwithprefixbefore",
    "--define-macro": "-D", "--define-macro=": "-D", "--undefine-macro": "-U", "--undefine-macro=": "-U",
    "--include": "-include", "--include=": "-include", "--imacros": "-imacros", "--imacros=": "-imacros",
    "--library-directory": "-L", "--library-directory=": "-L", "--for-linker": "-Xlinker",
    "--for-linker=": "-Xlinker", "--force-link": "-u", "--force-link=": "-u", "--std": "-std=", "--std=": "-std=",
    "--dependencies": "-M", "--user-dependencies": "-MM", "--write-dependencies": "-MD",
    "--write-user-dependencies": "-MMD", "--print-missing-file-dependencies": "-MG",
    "--serialize-diagnostics": "-serialize-diagnostics",  # (no joined spelling)
}
_FLAG_ALIASES = frozenset({"--compile", "--assemble", "--preprocess", "--verbose", "--optimize", "--debug",
                           "--dependencies", "--user-dependencies", "--write-dependencies",
                           "--write-user-dependencies", "--print-missing-file-dependencies"})


def _alias_entry(alias: str, canonical: str) -> tuple[int, str]:
    """`--x=` is joined, the flags above take no value, every other long alias a separate one."""
    kind = JOINED if alias.endswith("=") else FLAG if alias in _FLAG_ALIASES else SEPARATE
    return kind, _TABLE[canonical][1]


_ENTRIES: dict[str, tuple[int, str]] = {**_TABLE, **{a: _alias_entry(a, c) for a, c in _ALIASES.items()}}

# Prefixes reserved for adcc: an unknown option here is a user error, not a clang flag.
_ADCC_PREFIXES = ("--ad-", "-fadcc-", "-fno-adcc-", "--adcc")

_JOINED_PREFIXES = sorted((name for name, (kind, _) in _ENTRIES.items()
                           if kind in (JOINED, JOINED_OR_SEP, JOINED_AND_SEP)), key=len, reverse=True)

AD_STAGES = ("optimized", "unoptimized")
SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str | None) -> int | None:
    """`-fadcc-tape-limit=` sizes: bytes, or a number with K, M, G or T (powers of 1024; `KB`, `KiB`
    too); `none` is -1 (no loop is checkpointed). None when malformed."""
    import re
    if not text:
        return None
    if text == "none":
        return -1
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?", text.strip(), re.I)
    if m is None:
        return None
    bytes_ = int(float(m.group(1)) * SIZE_UNITS[m.group(2).upper()])
    return bytes_ if bytes_ > 0 else None


def known_spellings() -> list[str]:
    """Every option spelling the table names (the option probe checks them against clang)."""
    return sorted(_ENTRIES)


class Arg:
    """One parsed option: its table name (canonical; None if unknown), value, and argv words."""
    __slots__ = ("name", "value", "words", "role")

    def __init__(self, name, value, words, role):
        self.name, self.value, self.words, self.role = name, value, words, role

    def __repr__(self) -> str:
        return f"Arg({self.name!r}, {self.value!r}, {self.words!r})"


class Input:
    """An input file with the language `-x` gave it (None: decided by extension)."""
    __slots__ = ("path", "lang")

    def __init__(self, path, lang=None):
        self.path, self.lang = path, lang

    def __repr__(self) -> str:
        return f"Input({self.path!r}, {self.lang!r})"

    def words(self) -> list[str]:
        """How the input is named to the front end (with its -x language when one was given)."""
        return ["-x", self.lang, self.path] if self.lang else [self.path]


class ParsedArgs:
    """The result of parsing argv: options in order, inputs in order, and the interleaving."""

    def __init__(self, argv: list[str]):
        self.argv = argv                    # after response-file expansion
        self.items: list[Arg | Input] = []  # options and inputs in command-line order
        self.warnings: list[str] = []       # about flags adcc translated or dropped (printed once)

    @property
    def args(self) -> list[Arg]:
        return [a for a in self.items if isinstance(a, Arg)]

    @property
    def inputs(self) -> list[Input]:
        return [a for a in self.items if isinstance(a, Input)]

    def has(self, *names: str) -> bool:
        return any(a.name in names for a in self.args)

    def last(self, name: str):
        value = None
        for a in self.args:
            if a.name == name:
                value = a.value
        return value

    def values(self, name: str) -> list[str]:
        return [a.value for a in self.args if a.name == name]

    @property
    def output(self):
        return self.last("-o")

    @property
    def opt_level(self) -> str:
        """The last -O flag's level as clang spells it ("0".."3", "s", "z", "fast"); "0" when absent."""
        level = "0"
        for a in self.args:
            if a.name == "-O":
                level = a.value or "1"
            elif a.name == "-Ofast":
                level = "fast"
        return level

    @property
    def ad_stage(self) -> str:
        return self.last("--ad-stage=") or "optimized"

    @property
    def tape_limit(self) -> int:
        """-fadcc-tape-limit=SIZE in bytes: 0 when absent (the runtime's default), -1 for `none`."""
        value = self.last("-fadcc-tape-limit=")
        return 0 if value is None else parse_size(value)

    @property
    def fast_path(self) -> bool:
        # --adcc-fast-path-done: the native launcher already compiled this unit once
        return self.switch(("-fadcc-fast-path",), ("-fno-adcc-fast-path", "--adcc-fast-path-done"), True)

    @property
    def embed_all_bitcode(self) -> bool:
        """Whether objects keep the bitcode of units without any floating-point type."""
        return self.switch(("-fadcc-embed-all-bitcode",), ("-fno-adcc-embed-all-bitcode",), False)

    @property
    def check_derivatives(self) -> bool:
        return self.switch(("-fadcc-check-derivatives",), ("-fno-adcc-check-derivatives",), False)

    def warning_state(self, group: str) -> str:
        """"off", "warning" or "error" for warning group `group` ("adcc-dropped-derivative"), as
        clang decides: -W<group>, -Wno-<group>, -Werror=<group>, -Wno-error=<group>, -Werror,
        -Wno-error and -w, the last of each kind winning."""
        enabled, explicit_error, all_errors, silent = True, None, False, False
        for a in self.args:
            word = a.words[0]
            if word == "-w":
                silent = True
            elif word in ("-Werror", "-Wno-error"):
                all_errors = word == "-Werror"
            elif word in (f"-W{group}", f"-Wno-{group}"):
                enabled = word == f"-W{group}"
            elif word == f"-Werror={group}":
                enabled, explicit_error = True, True
            elif word == f"-Wno-error={group}":
                explicit_error = False
        if not enabled or (silent and not explicit_error):
            return "off"
        error = explicit_error if explicit_error is not None else all_errors
        return "error" if error else "warning"

    def switch(self, on: tuple[str, ...], off: tuple[str, ...], default: bool) -> bool:
        """A -fX / -fno-X pair: the last one given wins."""
        enabled = default
        for a in self.args:
            if a.name in on or a.name in off:
                enabled = a.name in on
        return enabled


def expand_response_files(argv: list[str], depth: int = 0) -> list[str]:
    """Expand `@file` arguments (GNU quoting: whitespace separates, quotes and backslash escape).

    Bytes that are not UTF-8 survive as surrogate escapes, as in sys.argv, and reach the
    front end unchanged. A missing file stays a literal argument (clang then reports it)."""
    out: list[str] = []
    for word in argv:
        if word.startswith("@") and len(word) > 1:
            path = word[1:]
            if depth > 16:
                raise _error(f"response file nesting too deep: '{path}'")
            try:
                with open(path, encoding="utf-8", errors="surrogateescape") as f:
                    text = f.read()
            except FileNotFoundError:
                out.append(word)  # clang treats a missing @file as a literal argument
                continue
            except OSError as e:
                raise _error(f"cannot read response file '{path}': {e.strerror}") from None
            out.extend(expand_response_files(split_gnu(text), depth + 1))
        else:
            out.append(word)
    return out


def split_gnu(text: str) -> list[str]:
    words: list[str] = []
    cur: list[str] = []
    in_word = False
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"' and i + 1 < len(text):
                i += 1
                cur.append(text[i])
            else:
                cur.append(ch)
        elif ch in "'\"":
            quote, in_word = ch, True
        elif ch == "\\" and i + 1 < len(text):
            i += 1
            cur.append(text[i])
            in_word = True
        elif ch.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(ch)
            in_word = True
        i += 1
    if in_word:
        words.append("".join(cur))
    return words


def _match(word: str):
    """(canonical name, kind, role, joined value or None, value words) for an option word;
    None if adcc's table does not know it."""
    entry = _ENTRIES.get(word)
    if entry is not None:
        return _ALIASES.get(word, word), entry[0], entry[1], None, 1
    from adcc.driver.option_names import CLANG_SEPARATE, FLANG_SEPARATE
    count = CLANG_SEPARATE.get(word) or FLANG_SEPARATE.get(word)
    if count:  # a clang option the driver does not act on, with its value words (an exact
        return word, SEPARATE, BOTH, None, count  # name wins over a joined prefix: -isystem-after)
    for prefix in _JOINED_PREFIXES:
        if word.startswith(prefix):
            kind, role = _ENTRIES[prefix]
            return _ALIASES.get(prefix, prefix), kind, role, word[len(prefix):], 1
    return None


def parse_args(argv: list[str], mode: str = "c") -> ParsedArgs:
    """Parse compiler argv (without the program name). Raises CompileError for adcc-flag misuse.
    In Fortran mode gfortran's spellings are translated for flang-new (adcc.driver.fortran_flags)."""
    argv = expand_response_files(argv)
    parsed = ParsedArgs(argv)
    pending = list(reversed(argv))
    lang = None
    only_inputs = False
    while pending:
        word = pending.pop()
        if only_inputs or not word.startswith("-") or word == "-":
            parsed.items.append(Input(word, lang))
            continue
        if word == "--":
            only_inputs = True
            continue
        if mode == "fortran":
            from adcc.driver.fortran_flags import translate
            replacement, warning = translate(word)
            if warning:
                parsed.warnings.append(warning)
            if replacement != [word]:
                pending.extend(reversed(replacement))
                continue
        m = _match(word)
        if m is None:
            if word.startswith(_ADCC_PREFIXES):
                raise _error(f"unknown argument: '{word}'")
            parsed.items.append(Arg(None, None, [word], BOTH))
            continue
        name, kind, role, value, count = m
        words = [word]
        if kind in (SEPARATE, JOINED_AND_SEP) or (kind == JOINED_OR_SEP and not value):
            if kind == SEPARATE and value is not None:
                # a longer unknown option sharing a separate option's spelling as prefix
                parsed.items.append(Arg(None, None, [word], BOTH))
                continue
            if len(pending) < count:
                raise _error(f"argument to '{word}' is missing (expected {count} value{'s' * (count > 1)})")
            taken = [pending.pop() for _ in range(count)]
            value = taken[0] if kind != JOINED_AND_SEP else value
            words.extend(taken)
        if name == "-x":
            lang = None if value == "none" else value
        if name in ("-Wadcc-", "-Wno-adcc-", "-Werror=adcc-", "-Wno-error=adcc-") and value not in ADCC_WARNINGS:
            raise _error(f"unknown warning option '{word}' (adcc's warning groups: "
                         f"{', '.join('adcc-' + w for w in ADCC_WARNINGS)})")
        if name == "-fadcc-tape-limit=" and parse_size(value) is None:
            raise _error(f"invalid value '{value}' in '{word}' (expected a size such as 64K, 512M or 2G, "
                         f"or 'none')")
        if name == "--ad-stage=" and value not in AD_STAGES:
            raise _error(f"invalid value '{value}' in '{word}' (expected one of: {', '.join(AD_STAGES)})")
        parsed.items.append(Arg(name, value, words, role))
    return parsed


# Input classification -------------------------------------------------------

C_EXTS = {".c", ".i"}
CXX_EXTS = {".cc", ".cpp", ".cxx", ".c++", ".C", ".cp", ".ii"}
HEADER_EXTS = {".h", ".hpp", ".hh", ".hxx", ".H", ".h++"}
FORTRAN_EXTS = {".f", ".for", ".f77", ".f90", ".f95", ".f03", ".f08", ".F", ".F90", ".F95", ".F03", ".F08", ".FOR"}
ASM_EXTS = {".s", ".S", ".asm"}
IR_EXTS = {".ll", ".bc"}

_LANG_KIND = {"c": "c", "c-header": "header", "cpp-output": "c", "c++": "c++", "c++-header": "header",
              "c++-cpp-output": "c++", "f95": "fortran", "f95-cpp-input": "fortran", "fortran": "fortran",
              "assembler": "asm", "assembler-with-cpp": "asm", "ir": "ir"}


def input_kind(inp: Input) -> str:
    """'c', 'c++', 'fortran', 'asm', 'ir' (compiled), 'header' (precompiled by clang) or
    'linker' (objects, archives, libraries)."""
    if inp.lang is not None:
        return _LANG_KIND.get(inp.lang, "c")
    ext = os.path.splitext(inp.path)[1]
    if ext in C_EXTS:
        return "c"
    if ext in CXX_EXTS:
        return "c++"
    if ext in HEADER_EXTS:
        return "header"
    if ext in FORTRAN_EXTS:
        return "fortran"
    if ext in ASM_EXTS:
        return "asm"
    if ext in IR_EXTS:
        return "ir"
    return "linker"


def _error(message: str):
    from adcc.diagnostics import CompileError  # lazy: the dataclasses import is not free
    return CompileError(message)
