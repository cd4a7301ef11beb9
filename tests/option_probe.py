"""Which clang-22 / flang-new-22 options take separate value words, asked of the compilers.

`python tests/option_probe.py` regenerates adcc/driver/option_names.py; the tests in
test_driver_option_table.py check the checked-in table against the installed compilers, so
the table cannot drift from them.

Method: `TOOL -fsyntax-only OPT P1 P2 P3` with three probe words that name no file. The driver
reports every probe it took as an input ("no such file or directory: 'P2'"); the ones it did
not report were consumed as OPT's values. Options are probed in batches (fast) and every
option a batch says takes values is probed again alone (batches can interact, e.g.
-Wfatal-errors stops the driver at the first error). Candidate names: the option names
listed by `--help-hidden` and `--autocomplete=-`, the string table of libclang-cpp (which
also holds hidden aliases such as --output), and the aliases adcc knows.
"""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import tempfile

CLANG = "clang-22"
FLANG = "flang-new-22"
PROBES = 3
_NAME = re.compile(r"^--?[A-Za-z_#][A-Za-z0-9_.+,#-]*$")
# a probe the driver took as an input (a missing source file; a name without an extension would
# be a linker input, sometimes only warned about)
_MISSING = re.compile(r"no such file or directory: 'ADCCPROBE(\d+)_(\d)\.(?:c|f90)'")
# options that change the driver's mode or stop it at the first error (options that print
# and exit cost a batch its reports, and are then probed alone)
_SKIP_PREFIXES = ("-W", "-cc1", "--driver-mode")


def help_names(tool: str) -> set[str]:
    names = set()
    for flag in ("--help-hidden", "--autocomplete=-"):
        out = subprocess.run([tool, flag], capture_output=True, text=True).stdout
        for line in out.splitlines():
            word = line.strip().split("\t")[0].split(" ")[0].rstrip(",")
            if _NAME.match(word):
                names.add(word)
    return names


def separate_in_help(tool: str) -> set[str]:
    """Options that `--help-hidden` shows with a separate `<value>` (`-o <file>`)."""
    out = subprocess.run([tool, "--help-hidden"], capture_output=True, text=True).stdout
    found = set()
    for line in out.splitlines():
        m = re.match(r"^\s+(-[^\s=<]+) <", line)
        if m:
            found.add(m.group(1))
    return found


def library_names() -> set[str]:
    """Option spellings in libclang-cpp's string table (the only place hidden aliases appear)."""
    libs = sorted(glob.glob("/usr/lib/llvm-22/lib/libclang-cpp.so*")) + sorted(
        glob.glob("/usr/lib/*/libclang-cpp.so.22*"))
    if not libs:
        return set()
    data = open(os.path.realpath(libs[0]), "rb").read()
    return {w.decode() for w in re.findall(rb"(?<=\x00)(--?[A-Za-z_#][A-Za-z0-9_.+,#-]*)(?=\x00)", data)
            if _NAME.match(w.decode())}


def candidates(tool: str, extra=()) -> list[str]:
    names = help_names(tool) | library_names() | set(extra)
    return sorted(n for n in names if not n.endswith("=") and not n.startswith(_SKIP_PREFIXES))


def _run_batch(tool: str, names: list[str]) -> dict[str, int | None]:
    suffix = ".f90" if "flang" in tool else ".c"  # a source of the tool's own language
    words = []
    for k, name in enumerate(names):
        words += [name, *(f"ADCCPROBE{k}_{j}{suffix}" for j in range(PROBES))]
    with tempfile.TemporaryDirectory(prefix="adcc-option-probe-") as work:  # what options write goes
        proc = subprocess.run([tool, "-fsyntax-only", *words], capture_output=True, text=True, cwd=work,
                              env={**os.environ, "TMPDIR": work})
    proc.stderr = re.sub(r"\x1b\[[0-9;]*m", "", proc.stderr)  # -fcolor-diagnostics
    reported: dict[int, int] = {}
    for k, _ in _MISSING.findall(proc.stderr):
        reported[int(k)] = reported.get(int(k), 0) + 1
    if not reported:  # all probes taken, a fatal option, or (flang) an unknown one: ask each alone
        if len(names) == 1:
            took_all = "no input files" in proc.stderr and "unknown argument" not in proc.stderr
            return {names[0]: PROBES if took_all else None}
        half = len(names) // 2
        return {**_run_batch(tool, names[:half]), **_run_batch(tool, names[half:])}
    unknown = set(re.findall(r"unknown argument:? '([^']+)'", proc.stderr))
    return {name: (None if name in unknown else PROBES - reported.get(k, 0)) for k, name in enumerate(names)}


def probe(tool: str, names: list[str], batch: int = 200) -> dict[str, int]:
    """{option: number of separate value words} for the options of `names` that take any."""
    rough: dict[str, int | None] = {}
    for i in range(0, len(names), batch):
        rough.update(_run_batch(tool, names[i:i + batch]))
    exact = {}
    for name, count in rough.items():
        if count:
            alone = _run_batch(tool, [name])[name]
            if alone:
                exact[name] = alone
    return exact


def generate() -> str:
    from adcc.driver import options
    extra = options.known_spellings()
    clang = probe(CLANG, candidates(CLANG, extra))
    flang = probe(FLANG, candidates(FLANG, extra))
    version = subprocess.run([CLANG, "-dumpversion"], capture_output=True, text=True).stdout.strip()
    lines = [
        '"""Options of clang-22 and flang-new-22 that take separate value words (option: count).',
        "",
        f"Generated by tests/option_probe.py from LLVM {version}; do not edit (the tests check it",
        'against the installed compilers). JoinedOrSeparate options appear here as taking one."""',
        "",
        "CLANG_SEPARATE = {",
        *(f"    {name!r}: {count}," for name, count in sorted(clang.items())),
        "}",
        "",
        "FLANG_SEPARATE = {",
        *(f"    {name!r}: {count}," for name, count in sorted(flang.items())),
        "}",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    target = os.path.join(os.path.dirname(__file__), "..", "adcc", "driver", "option_names.py")
    text = generate()
    with open(target, "w") as f:
        f.write(text)
    sys.stdout.write(f"wrote {os.path.normpath(target)}\n")
