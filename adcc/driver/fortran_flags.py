"""gfortran's spellings of Fortran options, as adflang hands them to flang-new-22.

Build systems written for gfortran pass flags flang-new does not know. Each such word is
translated to flang's spelling, dropped because flang already behaves that way, or dropped
with a one-line warning (flang has no such feature); flags flang knows pass unchanged.
tests/test_driver_fortran.py checks every entry against the installed flang-new-22.
"""
from __future__ import annotations

# word -> flang's words ([]: flang's default already is what the flag asks for)
TRANSLATED: dict[str, list[str]] = {
    "-fpp": ["-cpp"], "-nofpp": ["-nocpp"],
    "-ffree-line-length-none": [],  # flang limits no free-form line
    "-frecursive": [],              # Fortran 2018 procedures are recursive; flang follows it
    "-fno-second-underscore": [],   # flang appends one underscore
    "-fcray-pointer": [],           # flang accepts Cray pointers
    "-fno-range-check": [],         # flang folds out-of-range constants with a warning, not an error
    # what meson 1.0 passes to a compiler it takes for classic (PGI) flang
    "-module": ["-module-dir"],     # followed by the directory
    "-Minform=inform": [],          # message level: flang's default
    "-lflang": [], "-lpgmath": [],  # classic flang's runtime; flang-new links its own
}
TRANSLATED_PREFIXES: dict[str, list[str]] = {"-ffree-line-length-": []}

# prefix (or word) -> what flang lacks ("": no such option); the flag is dropped with a warning
IGNORED_PREFIXES: dict[str, str] = {
    "-fcheck=": "run-time checks", "-fbounds-check": "run-time checks",
    "-fcheck-array-temporaries": "run-time checks", "-fbacktrace": "backtraces of run-time errors",
    "-fno-backtrace": "backtraces of run-time errors", "-fallow-argument-mismatch": "",
    "-fall-intrinsics": "", "-fmax-errors=": "an error limit",
    "-finit-": "initialization of local variables", "-ffpe-trap=": "floating-point traps",
    "-ffpe-summary=": "floating-point exception summaries", "-fdollar-ok": "'$' in names",
    "-fsecond-underscore": "a second underscore", "-fcoarray=": "that coarray option",
    "-fexternal-blas": "external BLAS for matmul", "-fblas-matmul-limit=": "external BLAS for matmul",
    "-ffrontend-optimize": "", "-fno-frontend-optimize": "",
    "-fsign-zero": "", "-fno-sign-zero": "", "-fprotect-parens": "",
    "-fno-protect-parens": "", "-fmax-stack-var-size=": "",
    "-fmax-identifier-length=": "", "-fmodule-private": "",
    "-fwhole-file": "", "-fno-whole-file": "", "-ff2c": "f2c calling conventions",
    "-fno-f2c": "", "-falign-commons": "", "-fno-align-commons": "",
    "-pedantic-errors": "",
}

# gfortran/GCC warning options flang-new-22's front end rejects ("Unknown diagnostic option")
REJECTED_WARNINGS = frozenset("""
-Wpedantic -Wunused -Wno-unused -Wtabs -Wmaybe-uninitialized -Wno-maybe-uninitialized
-Wunused-dummy-argument -Wno-unused-dummy-argument -Wconversion-extra -Wno-conversion-extra
-Warray-temporaries -Winteger-division -Wzerotrip -Wuninitialized -Wno-uninitialized -Wshadow
-Wunused-label -Wno-unused-label -Wunused-but-set-variable -Wno-unused-but-set-variable
-Wunused-function -Wno-unused-function -Wcompare-reals -Wno-compare-reals -Wmissing-include-dirs
-Wno-conversion -Wno-surprising -Wno-all -Wno-unused-parameter -Wno-error -Wunused-value
-Wno-unused-value -Wimplicit-fallthrough -Wno-implicit-interface -Wno-character-truncation
""".split())
_REJECTED_WARNING_PREFIXES = ("-Werror=", "-Wno-error=")

STANDARD = "-std=f2018"  # the only -std= flang-new-22 accepts


def translate(word: str) -> tuple[list[str], str | None]:
    """flang's words for one option word of an adflang command line, and a warning (or None)."""
    if word in TRANSLATED:
        return TRANSLATED[word], None
    for prefix, words in TRANSLATED_PREFIXES.items():
        if word.startswith(prefix):
            return words, None
    if word.startswith("-std=") and word != STANDARD:
        return [], f"ignoring '{word}': flang-new-22 checks conformance to Fortran 2018 only ({STANDARD})"
    if word in REJECTED_WARNINGS or word.startswith(_REJECTED_WARNING_PREFIXES):
        return [], f"ignoring '{word}': flang-new-22 has no such warning option"
    for prefix, what in IGNORED_PREFIXES.items():
        if word.startswith(prefix):
            return [], f"ignoring '{word}': flang-new-22 has no equivalent" + (f" ({what})" if what else "")
    return [word], None
