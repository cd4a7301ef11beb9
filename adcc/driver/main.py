"""Console entry points (`adcc`, `adcc++`, `adflang`) and the per-invocation plan.

Fast path: each source is compiled by the front end as plain clang would (plus fat LTO
bitcode for `-c`); only a result that references `__enzyme_*` is redone through the AD
pipeline (adcc.driver.pipeline). This module imports nothing heavy so that path stays fast.
"""
from __future__ import annotations

import os
import sys

from adcc.driver import options as opts
from adcc.driver import toolchain
from adcc.driver.files import OutputSet, spawn
from adcc.driver.objfile import needs_ad

PROGRAMS = {"c": "adcc", "c++": "adcc++", "fortran": "adflang"}


def main_c() -> int:
    return main("c")


def main_cxx() -> int:
    return main("c++")


def main_fortran() -> int:
    return main("fortran")


def main(mode: str, argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return Driver(mode, opts.parse_args(argv)).run()
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        # adcc.diagnostics is imported lazily, by whoever raises a CompileError
        from adcc.diagnostics import CompileError
        if not isinstance(e, CompileError):
            raise
        from adcc.driver import console
        console.report_error(e, PROGRAMS[mode])
        return e.exit_code or 1


def _exit_code(rc: int) -> int:
    return 128 - rc if rc < 0 else rc


class Driver:
    """One compiler invocation: which steps run, on which files, with which flags."""

    def __init__(self, mode: str, parsed: opts.ParsedArgs):
        self.mode = mode
        self.parsed = parsed
        self.tool = toolchain.driver_for(mode)
        self.outputs = OutputSet()
        self.verbose = parsed.has("-v")

    # -- planning ---------------------------------------------------------------------

    def forwarded(self) -> list[str]:
        """argv without adcc's own options (what plain clang would be given)."""
        return [w for a in self.parsed.items for w in (a.words if isinstance(a, opts.Arg) else [a.path])
                if not (isinstance(a, opts.Arg) and a.role == opts.ADCC)]

    def run(self) -> int:
        p = self.parsed
        sources = [i for i in p.inputs if opts.input_kind(i) != "linker"]
        passthrough = (
            any(a.role == opts.QUERY for a in p.args) or not p.inputs
            or p.has("-E", "-M", "-MM")
            or (p.has("-emit-llvm") and not p.has("-c", "-S"))
            or (p.output is not None and len(sources) > 1 and p.has("-c", "-S"))
        )
        if passthrough:  # clang does the job (or reports the error) exactly as it would alone
            return self.exec_front_end()
        try:
            rc = self.compile_and_link(sources)
        except BaseException:
            self.outputs.discard()
            raise
        if rc != 0:
            self.outputs.discard()
        else:
            self.outputs.commit()
        return _exit_code(rc)

    def exec_front_end(self) -> int:
        argv = [self.tool, *self.forwarded()]
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvp(argv[0], argv)
        except FileNotFoundError:
            toolchain.resolve(argv[0])  # raises the install hint
        return 1

    def action(self) -> str:
        p = self.parsed
        if p.has("-c"):
            return "bc" if p.has("-emit-llvm") else "obj"
        if p.has("-S"):
            return "ll" if p.has("-emit-llvm") else "asm"
        return "link"

    def compile_args(self, linking: bool) -> list[str]:
        """Options for per-source compile steps (no inputs, actions, -o or -x)."""
        skip = {"-o", "-c", "-S", "-x", "-MF"}
        out: list[str] = []
        for a in self.parsed.args:
            if a.role == opts.ADCC or a.name in skip or (linking and a.role == opts.LINK_ONLY):
                continue
            out.extend(a.words)
        return out

    def link_line(self, compiled: dict[int, str]) -> list[str]:
        """Link options and inputs in command-line order (libraries must follow their users);
        compiled sources replaced by their objects."""
        skip = {"-o", "-x", "-MD", "-MMD", "-MP", "-MT", "-MQ", "-MF"}
        line: list[str] = []
        for item in self.parsed.items:
            if isinstance(item, opts.Input):
                line.append(compiled.get(id(item), item.path))
            elif item.role not in (opts.ADCC, opts.COMPILE_ONLY) and item.name not in skip:
                line.extend(item.words)
        return line

    # -- compiling ----------------------------------------------------------------------

    def compile_and_link(self, sources: list[opts.Input]) -> int:
        action = self.action()
        linking = action == "link"
        compiled: dict[int, str] = {}
        for inp in sources:
            if linking:
                out = self.outputs.scratch_file(".o")
                target = os.path.splitext(os.path.basename(inp.path))[0] + ".o"
            else:
                target = self.parsed.output or default_output(inp.path, action)
                out = self.outputs.temp_for(target)
            rc = self.compile_one(inp, out, target, action if not linking else "obj", linking)
            if rc != 0:
                return rc
            compiled[id(inp)] = out
        if not linking:
            return 0
        from adcc.driver import link
        final = self.parsed.output or "a.out"
        return link.link(self, self.link_line(compiled), self.outputs.temp_for(final))

    def compile_one(self, inp: opts.Input, out: str, target: str, action: str, linking: bool) -> int:
        kind = opts.input_kind(inp)
        fe = toolchain.front_end_for(kind, self.mode)
        args = self.compile_args(linking) + self.dependency_args(inp, target, linking)
        if self.parsed.fast_path or kind == "asm":
            extra = []
            if action == "obj" and kind != "asm" and not any(w.startswith(("-flto", "-fno-lto")) for w in args):
                extra = ["-flto", "-ffat-lto-objects"]
            flag = {"obj": "-c", "bc": "-c", "asm": "-S", "ll": "-S"}[action]
            rc = spawn([fe, *args, *extra, flag, *input_words(inp), "-o", out], self.verbose)
            if rc != 0 or kind == "asm" or not needs_ad(out, action):
                return rc
        from adcc.driver import pipeline
        return pipeline.compile_with_ad(self, inp, kind, fe, args, out, action)

    def dependency_args(self, inp: opts.Input, target: str, linking: bool) -> list[str]:
        """-MF/-MQ so that dependency files are named after, and name, the real output."""
        p = self.parsed
        if not p.has("-MD", "-MMD"):
            return []
        dep = p.last("-MF")
        if dep is None:
            base = p.output if (p.output and not linking) else os.path.basename(inp.path)
            dep = os.path.splitext(base)[0] + ".d"
        extra = ["-MF", dep]
        if not p.has("-MT", "-MQ"):
            extra += ["-MQ", target]
        return extra

    def ad_options(self, source_file: str):
        from adcc.ad.api import ADOptions
        level = self.parsed.opt_level
        return ADOptions(source_file=source_file, print_types=self.parsed.has("--print-types"),
                         print_activity=self.parsed.has("--print-activity"),
                         opt_level=opt_level_number(level), ad_stage=self.parsed.ad_stage,
                         check_derivatives=self.parsed.check_derivatives)


def input_words(inp: opts.Input) -> list[str]:
    return ["-x", inp.lang, inp.path] if inp.lang else [inp.path]


def default_output(path: str, action: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem + {"obj": ".o", "bc": ".bc", "asm": ".s", "ll": ".ll"}[action]


def opt_level_number(level: str) -> int:
    return {"0": 0, "1": 1, "2": 2, "3": 3, "s": 2, "z": 2, "fast": 3}.get(level, 2)
