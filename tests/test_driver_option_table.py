"""adcc's option table against the installed clang-22 and flang-new-22, so it cannot drift
(#16 item 1): every option that takes a separate value is known to take it, with the number
of words the compilers consume, and every long alias means what clang means by it."""
from __future__ import annotations

import re

import pytest
from option_probe import CLANG, FLANG, probe, separate_in_help

from adcc.driver import option_names
from adcc.driver import options as opts


def takes_separate_value(name: str) -> bool:
    """Whether adcc's parser takes the word after `name` as its value."""
    parsed = opts.parse_args([name, "VALUE", "in.c"])
    return [i.path for i in parsed.inputs] == ["in.c"]


@pytest.mark.parametrize("tool", [CLANG, FLANG])
def test_every_separate_option_in_the_help_is_known(tool):
    listed = separate_in_help(tool)
    assert len(listed) > (60 if tool == CLANG else 10)
    unknown = sorted(n for n in listed if not takes_separate_value(n) and not n.startswith("-Xoffload-linker<"))
    assert unknown == [], f"{tool} lists options adcc would take a value of as an input: {unknown}"


@pytest.mark.parametrize("tool, table", [(CLANG, option_names.CLANG_SEPARATE), (FLANG, option_names.FLANG_SEPARATE)])
def test_generated_table_matches_the_compiler(tool, table):
    # each entry probed alone: the compiler takes exactly that many words as its values
    assert probe(tool, sorted(table)) == table


def test_table_spellings_take_what_clang_takes():
    # the separate options of adcc's own table, long aliases included, probed with both compilers
    ours = [n for n in opts.known_spellings() if not n.endswith("=") and n.startswith("-")
            and n not in ("-###", "-print-", "--print-", "-Xarch_", "-Xoffload-linker", "-J", "-module-dir",
                          "-fintrinsic-modules-path", "--adcc-fast-path-done")
            and not n.startswith(("--ad-", "-fadcc", "-fno-adcc", "--print-types", "--print-activity",
                                  "--help", "-help", "--version", "-Wadcc-", "-Wno-adcc-", "-Werror=adcc-",
                                  "-Wno-error=adcc-"))]
    consumed = {**probe(FLANG, ours), **probe(CLANG, ours)}
    wrong = sorted(n for n in ours if bool(consumed.get(n)) != takes_separate_value(n))
    assert wrong == []


@pytest.mark.parametrize("alias, canonical, value", [
    ("--output", "-o", "out.o"), ("--include-directory", "-I", "inc"), ("--define-macro", "-D", "A=1"),
    ("--undefine-macro", "-U", "A"), ("--language", "-x", "c"), ("--include", "-include", "stdio.h"),
    ("--imacros", "-imacros", "stdio.h"), ("--include-directory-after", "-idirafter", "inc"),
    ("--include-prefix", "-iprefix", "pre/"), ("--include-with-prefix", "-iwithprefix", "inc"),
    ("--include-with-prefix-before", "-iwithprefixbefore", "inc"), ("--library-directory", "-L", "lib"),
    ("--for-linker", "-Xlinker", "--gc-sections"), ("--force-link", "-u", "sym"), ("--std", "-std=", "c11"),
    ("--serialize-diagnostics", "-serialize-diagnostics", "d.dia"),
])
def test_long_aliases_mean_what_clang_means(tmp_path, alias, canonical, value):
    from driver_helpers import run
    (tmp_path / "x.c").write_text("int x;\n")
    (tmp_path / "inc").mkdir()
    joined = canonical.endswith("=")

    def jobs(words):
        r = run([CLANG, "-###", "-c", "x.c", *words], cwd=tmp_path)
        assert "error:" not in r.stderr, r.stderr
        # clang hands some long spellings to its front end as they are (`--include x`)
        return [re.sub(r'"--(include|imacros|std=)', r'"-\1', ln) for ln in r.stderr.splitlines() if ln.startswith(" ")]
    expected = jobs([canonical + value] if joined else [canonical, value])
    spellings = [[alias, value]] + ([] if f"{alias}=" not in opts.known_spellings() else [[f"{alias}={value}"]])
    for words in spellings:
        assert jobs(words) == expected
        parsed = opts.parse_args([*words, "x.c"])
        assert [(a.name, a.value) for a in parsed.args] == [(canonical, value)]
        assert [i.path for i in parsed.inputs] == ["x.c"]


@pytest.mark.parametrize("words, name, value", [
    (["-J", "mods"], "-J", "mods"), (["-Jmods"], "-J", "mods"), (["-module-dir", "mods"], "-module-dir", "mods"),
    (["-Xarch_x86_64", "-O3"], "-Xarch_", "x86_64"), (["--config", "a.cfg"], "--config", "a.cfg"),
    (["-sectalign", "a", "b", "c"], "-sectalign", "a"), (["-mmlir", "-x"], "-mmlir", "-x"),
])
def test_separate_values_are_never_inputs_or_flags(words, name, value):
    parsed = opts.parse_args([*words, "in.f90", "-c"], "fortran")
    assert [(a.name, a.value) for a in parsed.args] == [(name, value), ("-c", None)]
    assert parsed.opt_level == "0" and [i.path for i in parsed.inputs] == ["in.f90"]


@pytest.mark.slow
def test_probe_of_every_candidate_matches_the_checked_in_table():
    # the whole generation (tests/option_probe.py), about half a minute
    from option_probe import generate
    text = generate()
    assert re.sub(r"LLVM [\d.]+", "", text) == re.sub(r"LLVM [\d.]+", "", open(option_names.__file__).read())
