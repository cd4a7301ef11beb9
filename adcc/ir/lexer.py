"""Tokenizer for LLVM textual IR lines. Tokens keep their character spans so the
parser can cut a line into template text and operand slots without reformatting."""
from __future__ import annotations

import re
from typing import NamedTuple

_NAME = r'(?:[-a-zA-Z$._][-a-zA-Z$._0-9]*|\d+|"(?:[^"\\]|\\.)*")'
# Alternatives are ordered by frequency; where two overlap (`c"..."` vs a word `c`,
# `s0x..` vs a word) the longer form comes first.
_TOKEN_RE = re.compile(
    r"""
    \s*(?:
    (?P<punct>[()\[\]{}<>,=*:|])
  | (?P<local>%""" + _NAME + r""")
  | (?P<number>-?(?:0x[KLMHR]?[0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[su]0x[0-9A-Fa-f]+))
  | (?P<string>c?"(?:[^"\\]|\\.)*")
  | (?P<word>[a-zA-Z_$.][-a-zA-Z$._0-9]*:?)
  | (?P<global>@""" + _NAME + r""")
  | (?P<meta>!(?:"(?:[^"\\]|\\.)*"|[-a-zA-Z$._][-a-zA-Z$._0-9]*|\d+)?)
  | (?P<dbgrec>\#dbg_\w+)
  | (?P<attrgrp>\#\d+)
  | (?P<comment>;.*)
  | (?P<error>\S)
    )""",
    re.VERBOSE,
)


class Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int


class LexError(ValueError):
    pass


_finditer = _TOKEN_RE.finditer


def tokenize(line: str) -> list[Token]:
    out: list[Token] = []
    append = out.append
    new = tuple.__new__
    for m in _finditer(line):
        kind = m.lastgroup
        if kind == "comment":
            break
        if kind == "error":
            pos = m.start(kind)
            raise LexError(f"cannot tokenize at column {pos + 1}: {line[pos:pos + 20]!r}")
        s, e = m.span(kind)
        append(new(Token, (kind, line[s:e], s, e)))
    return out


def strip_comment(line: str) -> str:
    """Drop a trailing `; comment`, respecting quoted strings."""
    if ";" not in line:
        return line
    in_str = False
    esc = False
    for i, ch in enumerate(line):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == ";":
            return line[:i]
    return line


def local_name(tok_text: str) -> str:
    """`%foo` -> `foo`, `%"a b"` -> `"a b"` (quotes kept so the name prints back unchanged)."""
    return tok_text[1:]
