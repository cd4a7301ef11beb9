"""Console entry points (`adcc`, `adcc++`, `adflang`) and the per-invocation plan.

Fast path: each source is compiled by the front end as plain clang would (plus fat LTO
bitcode for `-c`); only a result that references `__enzyme_*` is redone through the AD
pipeline (adcc.driver.pipeline). This module imports nothing heavy so that path stays fast.

Outputs behave as clang's: each source's output appears when its compile succeeds (a
failed one removes an earlier output of that name; the other sources still compile), a
failed link removes the executable, and an interrupted command leaves earlier outputs as
they were. No temporary survives any of these.
"""
from __future__ import annotations

import os
import sys

from adcc.driver import console, interrupts, toolchain
from adcc.driver import options as opts
from adcc.driver.files import OutputSet, spawn
from adcc.driver.objfile import compress_object, needs_ad, source_mentions_enzyme

PROGRAMS = {"c": "adcc", "c++": "adcc++", "fortran": "adflang"}
_DEPENDENCY_OPTIONS = {"-MD", "-MMD", "-MP", "-MT", "-MQ", "-MF", "-MG"}


def main_c() -> int:
    return main("c")


def main_cxx() -> int:
    return main("c++")


def main_fortran() -> int:
    return main("fortran")


def main(mode: str, argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    console.set_program(PROGRAMS[mode])
    interrupts.install()
    try:
        return Driver(mode, opts.parse_args(argv, mode)).run()
    except interrupts.Interrupted as e:
        interrupts.die(e.signum)
        return 128 + e.signum
    except Exception as e:
        # adcc.diagnostics is imported lazily, by whoever raises a CompileError
        from adcc.diagnostics import CompileError
        if not isinstance(e, CompileError):
            raise
        console.report_error(e, PROGRAMS[mode])
        return e.exit_code or 1


class Driver:
    """One compiler invocation: which steps run, on which files, with which flags."""

    def __init__(self, mode: str, parsed: opts.ParsedArgs):
        self.mode = mode
        self.parsed = parsed
        self.program = PROGRAMS[mode]
        self.tool = toolchain.driver_for(mode)
        self.outputs = OutputSet()
        self.verbose = parsed.has("-v")
        self.stdin_copy: str | None = None  # standard input, read once, for a `-` source

    # -- planning ---------------------------------------------------------------------

    def forwarded(self) -> list[str]:
        """argv without adcc's own options (what plain clang would be given)."""
        return [w for a in self.parsed.items for w in (a.words if isinstance(a, opts.Arg) else [a.path])
                if not (isinstance(a, opts.Arg) and a.role == opts.ADCC)]

    def run(self) -> int:
        p = self.parsed
        for message in p.warnings:
            console.warning(message)
        sources = [i for i in p.inputs if opts.input_kind(i) != "linker"]
        passthrough = (
            any(a.role == opts.QUERY for a in p.args) or not p.inputs
            or p.has("-E", "-M", "-MM", "-fsyntax-only", "-fdriver-only")
            or any(opts.input_kind(i) == "header" for i in p.inputs)  # a precompiled header
            or (p.has("-emit-llvm") and not p.has("-c", "-S"))
            or (p.output is not None and len(sources) > 1 and p.has("-c", "-S"))
        )
        if passthrough:  # clang does the job (or reports the error) exactly as it would alone
            return self.exec_front_end()
        self.check_inputs()
        try:
            return self.compile_and_link(sources)
        finally:
            self.outputs.discard()  # whatever is still pending failed: temps go, nothing else

    def check_inputs(self) -> None:
        """Every input must exist before anything runs, as clang checks (a missing object
        or `@file` is an error even when compiling only)."""
        from adcc.diagnostics import CompileError, Diagnostic
        missing = [i.path for i in self.parsed.inputs if i.path != "-" and not os.path.exists(i.path)]
        if missing:
            error = CompileError(f"no such file or directory: '{missing[0]}'")
            error.notes = [Diagnostic("error", f"no such file or directory: '{m}'") for m in missing[1:]]
            raise error

    def exec_front_end(self) -> int:
        argv = [self.tool, *self.forwarded()]
        if not any(a.role == opts.QUERY for a in self.parsed.args) and self.parsed.inputs:
            argv += toolchain.enzyme_header_args(opts.input_kind(self.parsed.inputs[0]))
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvp(argv[0], argv)
        except FileNotFoundError:
            toolchain.resolve(argv[0])  # raises the install hint
        except OSError:  # E2BIG: too long for exec; spawn passes it through a response file
            return spawn(argv, stdin=None)
        return 1

    def action(self) -> str:
        """What the compile steps produce: clang's precedence is -S over -c."""
        p = self.parsed
        if p.has("-S"):
            return "ll" if p.has("-emit-llvm") else "asm"
        if p.has("-c"):
            return "bc" if p.has("-emit-llvm") else "obj"
        return "link"

    def compile_args(self, linking: bool, first: bool, fortran: bool = False) -> list[str]:
        """Options for per-source compile steps (no inputs, actions, -o or -x). Only the first
        compile sees the linker options of a compile-only command (so clang warns once that
        they are unused); the others run with -Qunused-arguments. flang gets no dependency
        options (adcc writes Fortran dependency files itself)."""
        skip = {"-o", "-S", "-x", "-MF"} | ({"-c"} if not self.parsed.has("-S") else set())
        if fortran:
            skip |= _DEPENDENCY_OPTIONS
        out: list[str] = []
        for a in self.parsed.args:
            if a.role == opts.ADCC or a.name in skip:
                continue
            if a.role == opts.LINK_ONLY and (linking or not first):
                continue
            out.extend(a.words)
        if not first:
            out.append("-Qunused-arguments")
        elif not linking:
            out.extend(i.path for i in self.parsed.inputs if opts.input_kind(i) == "linker")
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
        failed = 0
        for k, inp in enumerate(sources):
            if linking:
                out = self.outputs.scratch_file(".o")
                target = os.path.splitext(os.path.basename(inp.path))[0] + ".o"
            else:
                target = self.parsed.output or default_output(inp.path, action)
                out = self.outputs.temp_for(target)
            rc = self.compile_one(inp, out, target, action if not linking else "obj", linking, k == 0)
            if rc != 0:  # as clang: the other sources still compile; this output goes
                failed = failed or rc
                if not linking:
                    self.outputs.discard_output(target)
                continue
            compiled[id(inp)] = out
            if not linking:
                self.outputs.commit(target)
        if failed or not linking:
            return failed
        from adcc.driver import link
        final = self.parsed.output or "a.out"
        out = self.outputs.temp_for(final)
        try:
            rc = link.link(self, self.link_line(compiled), out)
        except interrupts.Interrupted:
            raise
        except BaseException:
            self.outputs.discard_output(final)
            raise
        if rc != 0:
            self.outputs.discard_output(final)
        else:
            self.outputs.commit(final)
        return rc

    def compile_one(self, inp: opts.Input, out: str, target: str, action: str, linking: bool,
                    first: bool) -> int:
        kind = opts.input_kind(inp)
        fe = toolchain.front_end_for(kind, self.mode)
        if kind == "fortran":
            from adcc.driver.fortran_module import include_args
            args = self.compile_args(linking, first, fortran=True) + include_args()  # `use adcc_ad`
            rc = self.compile_unit(inp, kind, fe, args, out, action)
            if rc == 0 and self.parsed.has("-MD", "-MMD"):
                self.write_fortran_dependencies(inp, target, linking)
            return rc
        args = self.compile_args(linking, first) + self.dependency_args(inp, target, linking) + \
            toolchain.enzyme_header_args(kind)
        return self.compile_unit(inp, kind, fe, args, out, action)

    def compile_unit(self, inp: opts.Input, kind: str, fe: str, args: list[str], out: str, action: str) -> int:
        """The fast path, and the AD pipeline when the unit calls the Enzyme API."""
        quiet = self.parsed.has("--adcc-fast-path-done")  # the launcher's compile printed its warnings

        def plain(extra_args: list[str]) -> int | None:
            """clang alone (fat LTO object, bitcode compressed or left out); None when the unit calls Enzyme."""
            extra = []
            if action == "obj" and kind != "asm" and not any(w.startswith(("-flto", "-fno-lto")) for w in args):
                # ThinLTO's pre-link bitcode: simplified, not yet unrolled or vectorized (what AD
                # wants), and with it clang's machine code is exactly that of a plain compile
                # (full LTO's pre-link pipeline changes it); flang calls -flto=thin experimental
                extra = ["-flto" if kind == "fortran" else "-flto=thin", "-ffat-lto-objects"]
            flag = {"obj": "-c", "bc": "-c", "asm": "-S", "ll": "-S"}[action]
            rc = spawn([fe, *args, *extra_args, *extra, flag, *inp.words(), "-o", out], self.verbose,
                       self.stdin_for(inp))
            if rc != 0 or kind == "asm":
                return rc
            if not needs_ad(out, action):
                if extra:  # our fat-LTO section: only adcc's link step reads it
                    compress_object(out, omit_without_float=not self.parsed.embed_all_bitcode)
                return rc
            return None

        # a source that names the Enzyme API goes to the AD pipeline without a first compile
        direct = kind != "asm" and self.parsed.fast_path and source_mentions_enzyme(inp.path)
        if (self.parsed.fast_path and not direct) or kind == "asm":
            rc = plain([])
            if rc is not None:
                return rc
            quiet = True
        from adcc.driver import pipeline
        return pipeline.compile_with_ad(self, inp, kind, fe, args, out, action, quiet,
                                        plain=plain if direct else None)

    def stdin_for(self, inp: opts.Input) -> str | None:
        """A `-` source is read from standard input once; every compile of it reads the copy."""
        if inp.path != "-":
            return None
        if self.stdin_copy is None:
            self.stdin_copy = self.outputs.scratch_file(".stdin")
            with open(self.stdin_copy, "wb") as f:
                f.write(sys.stdin.buffer.read())
        return self.stdin_copy

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

    def write_fortran_dependencies(self, inp: opts.Input, target: str, linking: bool) -> None:
        from adcc.driver import fortran_deps
        p = self.parsed
        depfile = self.dependency_args(inp, target, linking)[1]
        targets = [fortran_deps.quote_target(a.value) if a.name == "-MQ" else a.value
                   for a in p.args if a.name in ("-MT", "-MQ")] or [fortran_deps.quote_target(target)]
        fortran_deps.write(depfile, targets, inp.path, p.values("-I"), p.has("-MP"))

    def ad_options(self, source_file: str):
        from adcc.ad.api import ADOptions
        level = self.parsed.opt_level
        return ADOptions(source_file=source_file, print_types=self.parsed.has("--print-types"),
                         print_activity=self.parsed.has("--print-activity"),
                         opt_level=opt_level_number(level), ad_stage=self.parsed.ad_stage,
                         vector_library=self.parsed.last("-fveclib="),
                         check_derivatives=self.parsed.check_derivatives,
                         tape_limit=self.parsed.tape_limit)


def default_output(path: str, action: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem + {"obj": ".o", "bc": ".bc", "asm": ".s", "ll": ".ll"}[action]


def opt_level_number(level: str) -> int:
    return {"0": 0, "1": 1, "2": 2, "3": 3, "s": 2, "z": 2, "fast": 3}.get(level, 2)
