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
    "-v": (FLAG, BOTH), "-###": (FLAG, QUERY),
    # preprocessor
    "-I": (JOINED_OR_SEP, COMPILE_ONLY), "-D": (JOINED_OR_SEP, COMPILE_ONLY),
    "-U": (JOINED_OR_SEP, COMPILE_ONLY), "-include": (JOINED_OR_SEP, COMPILE_ONLY),
    "-imacros": (JOINED_OR_SEP, COMPILE_ONLY), "-isystem": (JOINED_OR_SEP, COMPILE_ONLY),
    "-iquote": (JOINED_OR_SEP, COMPILE_ONLY), "-idirafter": (JOINED_OR_SEP, COMPILE_ONLY),
    "-isysroot": (JOINED_OR_SEP, BOTH), "-iprefix": (JOINED_OR_SEP, COMPILE_ONLY),
    "-iwithprefix": (JOINED_OR_SEP, COMPILE_ONLY), "-std=": (JOINED, COMPILE_ONLY),
    "-MD": (FLAG, COMPILE_ONLY), "-MMD": (FLAG, COMPILE_ONLY), "-MP": (FLAG, COMPILE_ONLY),
    "-M": (FLAG, COMPILE_ONLY), "-MM": (FLAG, COMPILE_ONLY), "-MG": (FLAG, COMPILE_ONLY),
    "-MF": (JOINED_OR_SEP, COMPILE_ONLY), "-MT": (JOINED_OR_SEP, COMPILE_ONLY),
    "-MQ": (JOINED_OR_SEP, COMPILE_ONLY), "-MJ": (JOINED_OR_SEP, COMPILE_ONLY),
    # target selection (also drives llvmlite's target machine on the AD path)
    "-march=": (JOINED, BOTH), "-mcpu=": (JOINED, BOTH), "-mtune=": (JOINED, BOTH),
    "-target": (SEPARATE, BOTH), "--target=": (JOINED, BOTH), "--sysroot": (JOINED_OR_SEP, BOTH),
    "--sysroot=": (JOINED, BOTH),
    # pass-through with a separate value
    "-Xclang": (SEPARATE, COMPILE_ONLY), "-mllvm": (SEPARATE, BOTH), "-Xpreprocessor": (SEPARATE, COMPILE_ONLY),
    "-Xassembler": (SEPARATE, COMPILE_ONLY), "-Xlinker": (SEPARATE, LINK_ONLY), "-Xflang": (SEPARATE, COMPILE_ONLY),
    "-arch": (SEPARATE, BOTH), "--param": (SEPARATE, COMPILE_ONLY), "-main-file-name": (SEPARATE, COMPILE_ONLY),
    "-working-directory": (JOINED_OR_SEP, BOTH), "-ivfsoverlay": (JOINED_OR_SEP, COMPILE_ONLY),
    "-ccc-install-dir": (SEPARATE, BOTH), "-gcc-toolchain": (SEPARATE, BOTH),
    "-module-dependency-dir": (SEPARATE, COMPILE_ONLY), "-serialize-diagnostics": (SEPARATE, COMPILE_ONLY),
    "-dependency-file": (SEPARATE, COMPILE_ONLY), "-dependency-dot": (SEPARATE, COMPILE_ONLY),
    # linker
    "-l": (JOINED_OR_SEP, LINK_ONLY), "-L": (JOINED_OR_SEP, LINK_ONLY), "-Wl,": (JOINED, LINK_ONLY),
    "-shared": (FLAG, LINK_ONLY), "-static": (FLAG, LINK_ONLY), "-rdynamic": (FLAG, LINK_ONLY),
    "-u": (SEPARATE, LINK_ONLY), "-z": (SEPARATE, LINK_ONLY), "-T": (SEPARATE, LINK_ONLY),
    "-e": (SEPARATE, LINK_ONLY), "-include-pch": (SEPARATE, COMPILE_ONLY), "-nostdlib": (FLAG, LINK_ONLY), "-nodefaultlibs": (FLAG, LINK_ONLY),
    "-nostartfiles": (FLAG, LINK_ONLY), "-pie": (FLAG, LINK_ONLY), "-no-pie": (FLAG, LINK_ONLY),
    "-fuse-ld=": (JOINED, LINK_ONLY), "-pthread": (FLAG, BOTH),
    # queries: clang answers them, adcc stays out of the way
    "--version": (FLAG, QUERY), "-dumpversion": (FLAG, QUERY), "-dumpmachine": (FLAG, QUERY),
    "-print-": (JOINED, QUERY), "--print-": (JOINED, QUERY), "--help": (FLAG, QUERY), "-help": (FLAG, QUERY),
    "-dumpfullversion": (FLAG, QUERY),
    # adcc's own
    "--print-types": (FLAG, ADCC), "--print-activity": (FLAG, ADCC), "--ad-stage=": (JOINED, ADCC),
    "-fno-adcc-fast-path": (FLAG, ADCC), "-fadcc-fast-path": (FLAG, ADCC),
    "-fadcc-check-derivatives": (FLAG, ADCC), "-fno-adcc-check-derivatives": (FLAG, ADCC),
    # adcc's own warning groups (clang would warn about an unknown warning option)
    "-Wadcc-": (JOINED, ADCC), "-Wno-adcc-": (JOINED, ADCC), "-Werror=adcc-": (JOINED, ADCC),
    "-Wno-error=adcc-": (JOINED, ADCC),
}

ADCC_WARNINGS = ("dropped-derivative",)   # -Wadcc-<name>

# Prefixes reserved for adcc: an unknown option here is a user error, not a clang flag.
_ADCC_PREFIXES = ("--ad-", "-fadcc-", "-fno-adcc-", "--adcc")

_JOINED_PREFIXES = sorted((name for name, (kind, _) in _TABLE.items() if kind in (JOINED, JOINED_OR_SEP)),
                          key=len, reverse=True)

AD_STAGES = ("optimized", "unoptimized")


class Arg:
    """One parsed option: its table name (or None if unknown), value, and argv words."""
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


class ParsedArgs:
    """The result of parsing argv: options in order, inputs in order, and the interleaving."""

    def __init__(self, argv: list[str]):
        self.argv = argv                    # after response-file expansion
        self.items: list[Arg | Input] = []  # options and inputs in command-line order

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
    def fast_path(self) -> bool:
        return self.switch("-fadcc-fast-path", "-fno-adcc-fast-path", True)

    @property
    def check_derivatives(self) -> bool:
        return self.switch("-fadcc-check-derivatives", "-fno-adcc-check-derivatives", False)

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

    def switch(self, on: str, off: str, default: bool) -> bool:
        """A -fX / -fno-X pair: the last one given wins."""
        enabled = default
        for a in self.args:
            if a.name in (on, off):
                enabled = a.name == on
        return enabled


def expand_response_files(argv: list[str], depth: int = 0) -> list[str]:
    """Expand `@file` arguments (GNU quoting: whitespace separates, quotes and backslash escape)."""
    out: list[str] = []
    for word in argv:
        if word.startswith("@") and len(word) > 1:
            path = word[1:]
            if depth > 16:
                raise _error(f"response file nesting too deep: '{path}'")
            try:
                with open(path, encoding="utf-8") as f:
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
    """(name, kind, role, joined value or None) for an option word; None if not in the table."""
    entry = _TABLE.get(word)
    if entry is not None:
        return word, entry[0], entry[1], None
    for prefix in _JOINED_PREFIXES:
        if word.startswith(prefix):
            kind, role = _TABLE[prefix]
            return prefix, kind, role, word[len(prefix):]
    return None


def parse_args(argv: list[str]) -> ParsedArgs:
    """Parse compiler argv (without the program name). Raises CompileError for adcc-flag misuse."""
    argv = expand_response_files(argv)
    parsed = ParsedArgs(argv)
    lang = None
    only_inputs = False
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if only_inputs or not word.startswith("-") or word == "-":
            parsed.items.append(Input(word, lang))
            continue
        if word == "--":
            only_inputs = True
            continue
        m = _match(word)
        if m is None:
            if word.startswith(_ADCC_PREFIXES):
                raise _error(f"unknown argument: '{word}'")
            parsed.items.append(Arg(None, None, [word], BOTH))
            continue
        name, kind, role, value = m
        words = [word]
        if kind == SEPARATE or (kind == JOINED_OR_SEP and not value):
            if kind == SEPARATE and value is not None:
                # a longer unknown option sharing a separate option's spelling as prefix
                parsed.items.append(Arg(None, None, [word], BOTH))
                continue
            if i >= len(argv):
                raise _error(f"argument to '{word}' is missing (expected 1 value)")
            value = argv[i]
            words.append(value)
            i += 1
        if name == "-x":
            lang = None if value == "none" else value
        if name in ("-Wadcc-", "-Wno-adcc-", "-Werror=adcc-", "-Wno-error=adcc-") and value not in ADCC_WARNINGS:
            raise _error(f"unknown warning option '{word}' (adcc's warning groups: "
                         f"{', '.join('adcc-' + w for w in ADCC_WARNINGS)})")
        if name == "--ad-stage=" and value not in AD_STAGES:
            raise _error(f"invalid value '{value}' in '{word}' (expected one of: {', '.join(AD_STAGES)})")
        parsed.items.append(Arg(name, value, words, role))
    return parsed


# Input classification -------------------------------------------------------

C_EXTS = {".c", ".i", ".h"}
CXX_EXTS = {".cc", ".cpp", ".cxx", ".c++", ".C", ".cp", ".ii", ".hpp", ".hh"}
FORTRAN_EXTS = {".f", ".for", ".f77", ".f90", ".f95", ".f03", ".f08", ".F", ".F90", ".F95", ".F03", ".F08", ".FOR"}
ASM_EXTS = {".s", ".S", ".asm"}
IR_EXTS = {".ll", ".bc"}

_LANG_KIND = {"c": "c", "c-header": "c", "cpp-output": "c", "c++": "c++", "c++-header": "c++",
              "c++-cpp-output": "c++", "f95": "fortran", "f95-cpp-input": "fortran", "fortran": "fortran",
              "assembler": "asm", "assembler-with-cpp": "asm", "ir": "ir"}


def input_kind(inp: Input) -> str:
    """'c', 'c++', 'fortran', 'asm', 'ir' (compiled) or 'linker' (objects, archives, libraries)."""
    if inp.lang is not None:
        return _LANG_KIND.get(inp.lang, "c")
    ext = os.path.splitext(inp.path)[1]
    if ext in C_EXTS:
        return "c"
    if ext in CXX_EXTS:
        return "c++"
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
