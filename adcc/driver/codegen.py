"""Code generation of a large optimized module in parts, on several cores (#17 item 5).

The optimized module is cut by `llvm-split` (LLVM's SplitModule, what LTO's parallel code
generation uses): every function and global lands in one part, the others declare it. Each
part is compiled in a forked process with the same target machine, and `ld.lld -r` joins the
objects into one relocatable object. SplitModule makes the unit's internal symbols external
(hidden) so that parts can reach each other's; they are made local again in the joined object
(`llvm-objcopy --localize-symbol`), so that two objects' `static` functions never meet at
link time. The embedded bitcode (`.llvm.lto`) is added to the joined object afterwards: a
relocatable link drops SHF_EXCLUDE sections. Only the code layout differs from one emission.
"""
from __future__ import annotations

import os

from adcc.diagnostics import CompileError

PART_BYTES = 2 << 20  # module text per part (a unit of 100 small functions differentiated: 1.5 MB)
MAX_PARTS = 8
TOOLS = ("llvm-split", "ld.lld", "llvm-objcopy")  # with the LLVM suffix (toolchain.llvm_tool)
_LOCAL = ("internal", "private")  # llvmlite.binding.Linkage member names


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parts_for(text_bytes: int, action: str, module_text: str = "") -> int:
    """How many parts to emit a module of `text_bytes` of IR in (1: one emission). Only objects
    are split, only where there are several cores and the LLVM tools it takes, and never a
    module with top-level inline assembly (SplitModule copies it into every part, defining its
    symbols more than once)."""
    parts = max(1, min(MAX_PARTS, text_bytes // PART_BYTES))
    if parts == 1 or action != "obj" or cores() < 2 or "\nmodule asm " in module_text or not tools_found():
        return 1
    return parts


def tools_found() -> bool:
    import shutil

    from adcc.driver import toolchain
    return all(shutil.which(toolchain.llvm_tool(t)) for t in TOOLS)


def local_symbols(mod) -> list[str]:
    """Names of the module's functions and globals with internal or private linkage."""
    names = [f.name for f in mod.functions if not f.is_declaration and f.linkage.name in _LOCAL]
    names += [g.name for g in mod.global_variables if g.linkage.name in _LOCAL]
    return [n for n in names if n]


def emit_in_parts(mod, tm, parts: int, directory: str, bitcode: bytes | None = None) -> bytes:
    """The object code of optimized module `mod` (consumed), generated in `parts` parts on up to
    as many cores; with `bitcode`, carrying it in an SHF_EXCLUDE `.llvm.lto` section as
    stages.embed_bitcode would. Temporary files go to `directory` (removed by the caller)."""
    from adcc.driver import toolchain
    from adcc.driver.files import run_capture
    local = local_symbols(mod)
    whole = os.path.join(directory, "whole.bc")
    with open(whole, "wb") as f:
        f.write(mod.as_bitcode())
    prefix = os.path.join(directory, "part")
    _run(run_capture, [toolchain.resolve(toolchain.llvm_tool("llvm-split")), "-j", str(parts), "-o", prefix, whole])
    objects = _emit_each(tm, [f"{prefix}{k}" for k in range(parts)])
    joined = os.path.join(directory, "joined.o")
    _run(run_capture, [toolchain.resolve(toolchain.llvm_tool("ld.lld")), "-r", *objects, "-o", joined])
    from adcc.driver.objfile import read, symbols
    unnamed = sorted(n for n in symbols(read(joined))[0] if n.startswith("__llvmsplit_unnamed"))
    names = os.path.join(directory, "local.txt")
    with open(names, "w") as f:
        f.write("".join(f"{n}\n" for n in [*local, *unnamed]))
    edit = [toolchain.resolve(toolchain.llvm_tool("llvm-objcopy")), f"--localize-symbols={names}"]
    if bitcode:
        section = os.path.join(directory, "embedded.bc")
        with open(section, "wb") as f:
            f.write(bitcode)
        edit += [f"--add-section=.llvm.lto={section}", "--set-section-flags=.llvm.lto=exclude,readonly,contents",
                 "--set-section-alignment=.llvm.lto=1"]
    _run(run_capture, [*edit, joined])
    with open(joined, "rb") as f:
        return f.read()


def _emit_each(tm, inputs: list[str]) -> list[str]:
    """Each bitcode file of `inputs` compiled to an object (its path + ".o") in a forked process,
    at most cores() at a time. LLVM state is per module: a child reads its own part."""
    pending, running, done = list(inputs), {}, []
    failed: list[str] = []
    while pending or running:
        while pending and len(running) < cores():
            path = pending.pop(0)
            pid = os.fork()
            if pid == 0:
                os._exit(_emit_one(tm, path))
            running[pid] = path
        pid, status = os.wait()
        path = running.pop(pid, None)
        if path is None:
            continue
        if os.waitstatus_to_exitcode(status) != 0:
            failed.append(path)
        done.append(path + ".o")
    if failed:
        raise CompileError(f"code generation failed on part '{os.path.basename(failed[0])}' of the module "
                           f"(adcc bug)")
    return [p + ".o" for p in inputs]


def _emit_one(tm, path: str) -> int:
    try:
        from adcc.driver import stages
        with open(path, "rb") as f:
            mod = stages.llvm().parse_bitcode(f.read())
        data = tm.emit_object(mod)
        with open(path + ".o", "wb") as f:
            f.write(data)
        return 0
    except BaseException:  # the parent reports it; nothing may unwind into the parent's code
        return 1


def _run(run_capture, argv: list[str]) -> None:
    rc, _, err = run_capture(argv)
    if rc != 0:
        raise CompileError(f"'{os.path.basename(argv[0])}' failed while emitting a large module in parts: "
                           f"{err.decode(errors='replace').strip()[:500]}")
