"""`-fveclib=`: vector variants of math functions for the loop and SLP vectorizers.

clang applies `-fveclib` to its own pass pipeline only (LLVM's TargetLibraryInfo takes the
vector library from the tool, not from the IR), so adcc, which optimizes the module itself,
does what LLVM's InjectTLIMappings pass does there: each call of a mapped math function gets
a `"vector-function-abi-variant"` attribute naming its vector variants, whose declarations are
kept alive (`llvm.compiler.used`) until the vectorizer has had its chance. The table is LLVM
22's own for glibc's libmvec (`opt -vector-library=LIBMVEC -passes=inject-tli-mappings`,
checked by tests/test_veclib.py), so that adcc vectorizes the same calls as clang would; the
AVX2 variants are offered only to functions compiled for AVX2.
"""
from __future__ import annotations

import re

# base name -> arity; every function has variants for f64 (2 and 4 lanes) and f32 (4 and 8 lanes)
LIBMVEC_FUNCTIONS = {"sin": 1, "cos": 1, "tan": 1, "exp": 1, "log": 1, "pow": 2}
LIBRARIES = ("libmvec",)

_CALL = re.compile(r"\bcall\b[^@\n]*@(?:\"?)(llvm\.(\w+)\.(f64|f32)|(\w+?)(f?))\"?\(")
_GROUP = re.compile(r"^attributes #(\d+) = \{([^\n]*)\}", re.M)
_FEATURES = re.compile(r'"target-features"="([^"]*)"')
_USED = re.compile(r"^@llvm\.compiler\.used = appending global \[(\d+) x ptr\] \[([^\n]*)\], "
                   r"section \"llvm\.metadata\"$", re.M)


def _variants(base: str, scalar_name: str, is_f32: bool, avx2: bool) -> list[tuple[int, str, str]]:
    """(lanes, mangled name, vector variant) of one scalar function, as LLVM's table lists them."""
    arity = LIBMVEC_FUNCTIONS[base]
    params = "v" * arity
    suffix = "f" if is_f32 else ""
    widths = [(4, "b"), (8, "d")] if is_f32 else [(2, "b"), (4, "d")]
    out = []
    for lanes, isa in widths:
        if isa == "d" and not avx2:
            continue
        out.append((lanes, f"_ZGV_LLVM_N{lanes}{params}_{scalar_name}", f"_ZGV{isa}N{lanes}{params}_{base}{suffix}"))
    return out


def _args_end(line: str, start: int) -> int:
    """Index just past the `)` that closes the argument list opened at line[start - 1]."""
    depth = 1
    k = start
    while k < len(line) and depth:
        c = line[k]
        if c in "([{<":
            depth += 1
        elif c in ")]}>":
            depth -= 1
        k += 1
    return k


def inject_vector_variants(text: str, library: str) -> str:
    """The module `text` with libmvec's vector variants attached to its math calls."""
    if library != "libmvec":
        return text
    if "@llvm.compiler.used" in text and _USED.search(text) is None:
        return text  # a spelling of the used list this module does not expect: leave it alone
    avx2_groups = set()
    for m in _GROUP.finditer(text):
        features = _FEATURES.search(m.group(2))
        if features is not None and "+avx2" in features.group(1).split(","):
            avx2_groups.add(m.group(1))
    declared: dict[str, str] = {}
    out: list[str] = []
    avx2 = False
    for line in text.split("\n"):
        if line.startswith("define "):
            attrs = line[line.rfind(")"):]
            inline = _FEATURES.search(attrs)  # functions adcc synthesized carry them inline
            avx2 = any(r in avx2_groups for r in re.findall(r"#(\d+)", attrs)) or \
                (inline is not None and "+avx2" in inline.group(1).split(","))
        elif " call " in line and "vector-function-abi-variant" not in line:
            line = _annotate(line, avx2, declared)
        out.append(line)
    present = set(re.findall(r"^(?:declare|define) [^@\n]*@([\w.]+)\(", text, re.M))
    new = sorted(n for n in declared if n not in present)  # a module annotated before (link step)
    if not new:
        return "\n".join(out)
    result = _keep_alive("\n".join(out), new)
    return result + "\n" + "\n".join(declared[n] for n in new) + "\n"


def _annotate(line: str, avx2: bool, declared: dict[str, str]) -> str:
    m = _CALL.search(line)
    if m is None:
        return line
    if m.group(2) is not None:
        base, is_f32, name = m.group(2), m.group(3) == "f32", m.group(1)
    else:
        base, is_f32, name = m.group(4), m.group(5) == "f", m.group(4) + m.group(5)
        if base not in LIBMVEC_FUNCTIONS and name in LIBMVEC_FUNCTIONS:
            base, is_f32 = name, False  # "tan" is not "ta" + "n"; "sinf" is "sin" + "f"
    if base not in LIBMVEC_FUNCTIONS:
        return line
    scalar = "float" if is_f32 else "double"
    if not re.search(rf"\b{scalar} @", line[:m.end()]):
        return line  # another signature (long double, vectors)
    variants = _variants(base, name, is_f32, avx2)
    if not variants:
        return line
    end = _args_end(line, m.end())
    attr = ",".join(f"{mangled}({vec})" for _, mangled, vec in variants)
    for lanes, _, vec in variants:
        vt = f"<{lanes} x {scalar}>"
        declared[vec] = f"declare {vt} @{vec}({', '.join([vt] * LIBMVEC_FUNCTIONS[base])})"
    return f'{line[:end]} "vector-function-abi-variant"="{attr}"{line[end:]}'


def _keep_alive(text: str, names: list[str]) -> str:
    """Add `names` to llvm.compiler.used (the declarations would otherwise be dropped as unused
    before the vectorizer runs)."""
    entries = ", ".join(f"ptr @{n}" for n in names)
    m = _USED.search(text)
    if m is None:
        return text + f'\n@llvm.compiler.used = appending global [{len(names)} x ptr] [{entries}], ' \
                      f'section "llvm.metadata"'
    line = (f"@llvm.compiler.used = appending global [{int(m.group(1)) + len(names)} x ptr] "
            f"[{m.group(2)}, {entries}], section \"llvm.metadata\"")
    return text[:m.start()] + line + text[m.end():]
