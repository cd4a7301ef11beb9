"""The AD pipeline's stages, each a plain function testable on its own.

front end -> bitcode -> read -> pre-AD optimization -> differentiate -> verify -> optimize
-> emit. `STAGES` lists them in order; `pipeline.py` feeds each the previous result.
Invariant: no pass ever runs on a module that has not verified (LLVM aborts on bad IR).
"""
from __future__ import annotations

import os
import re

from adcc.diagnostics import CompileError
from adcc.driver.files import run_capture, spawn

STAGES = ("front end", "read", "pre-AD optimization", "differentiate", "verify",
          "optimize", "embed bitcode", "emit")

_initialized = False


def llvm():
    """llvmlite.binding, with the native target initialized once."""
    global _initialized
    import llvmlite.binding as binding
    if not _initialized:
        binding.initialize_native_target()
        binding.initialize_native_asmprinter()
        binding.initialize_native_asmparser()
        _initialized = True
    return binding


# -- front end -----------------------------------------------------------------------

def strip_opt_flags(args: list[str]) -> list[str]:
    return [a for a in args if not (a.startswith("-O") or a in ("-flto", "-ffat-lto-objects", "-fno-lto")
                                    or a.startswith("-flto="))]


def front_end_args(front_end: str, args: list[str], kind: str) -> list[str]:
    """The user's flags with the -O level replaced so the front end emits unoptimized but
    optimizable IR (TBAA, no optnone); the user's level applies after differentiation."""
    args = strip_opt_flags(args)
    if "flang" in os.path.basename(front_end):
        return [*args, "-O2", "-fno-vectorize", "-fno-slp-vectorize", "-fno-unroll-loops"]
    return [*args, "-O2", "-Xclang", "-disable-llvm-passes"]


_REGISTRATION_WORDS = re.compile(rb"__enzyme_(?:register_|inactive|function_like|allocation_like|nofree|"
                                 rb"shouldrecompute)")


def keeps_registrations(front_end: str, source: str) -> bool:
    """Whether the front end must keep the unit's unused static variables: a C/C++ source that
    declares Enzyme registrations may make them `static`, and clang drops unused ones (Enzyme's
    clang plugin marks them used). With `-fkeep-persistent-storage-variables` they reach the IR;
    `prepare_for_optimization(..., kept_statics=True)` lets go of the others again."""
    if "flang" in os.path.basename(front_end) or not os.path.isfile(source):
        return False
    try:
        with open(source, "rb") as f:
            return _REGISTRATION_WORDS.search(f.read()) is not None
    except OSError:
        return False


KEEP_STATICS = "-fkeep-persistent-storage-variables"


def front_end(front_end: str, args: list[str], input_words: list[str], kind: str, out_bc: str,
              verbose: bool = False, stdin: str | None = None) -> int:
    """Run the front end to LLVM bitcode at `out_bc`; returns its exit code (it printed errors).
    `stdin`: the saved standard input, for a `-` source."""
    argv = [front_end, *front_end_args(front_end, args, kind), "-emit-llvm", "-c", *input_words, "-o", out_bc]
    return spawn(argv, verbose, stdin)


# -- read / write ------------------------------------------------------------------------

def read_bitcode(data: bytes) -> str:
    try:
        return str(llvm().parse_bitcode(data))
    except RuntimeError as e:
        raise CompileError(f"cannot read LLVM bitcode: {e}") from None


def parse_text(text: str, what: str = "module"):
    try:
        return llvm().parse_assembly(text)
    except RuntimeError as e:
        raise CompileError(f"invalid LLVM IR in {what}: {str(e).strip()}") from None


def verify(text: str):
    """Parse and verify; returns the llvmlite module. Must run before any pass."""
    mod = parse_text(text, "differentiated module")
    try:
        mod.verify()
    except RuntimeError as e:
        raise CompileError(f"differentiated module does not verify (adcc bug): {str(e).strip()}") from None
    return mod


# -- target and optimization ----------------------------------------------------------

def target_machine(triple: str | None = None, cpu: str | None = None, features: str | None = None,
                   opt: int = 2):
    """PIC target machine for the CPU the user chose (-march/-mcpu; `native`: this host), else
    the triple's generic CPU, as clang does. Functions carry clang's "target-cpu" and
    "target-features" attributes (derivatives copy their primal's), which take precedence."""
    b = llvm()
    target = b.Target.from_triple(triple) if triple else b.Target.from_default_triple()
    if cpu is None:
        cpu = ""
    elif cpu == "native":
        cpu = b.get_host_cpu_name()
        if features is None:
            features = b.get_host_cpu_features().flatten()
    return target.create_target_machine(cpu=cpu, features=features or "", opt=min(opt, 3),
                                        reloc="pic", codemodel="default")


def inject_vector_variants(text: str, library: str) -> str:
    """-fveclib=NAME for the passes adcc runs itself (clang applies it to its own only)."""
    from adcc.ir.veclib import inject_vector_variants as inject
    return inject(text, library.lower())


def run_o2_pipeline(mod, tm, speed_level: int, vectorize: bool) -> None:
    b = llvm()
    pto = b.create_pipeline_tuning_options(speed_level=speed_level)
    if not vectorize:
        pto.loop_vectorization = False
        pto.slp_vectorization = False
        pto.loop_unrolling = False
    pb = b.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def separate_call_sites(text: str, kept_statics: bool = False) -> str:
    """Each __enzyme_* call its own callee, so optimization cannot merge two sites."""
    from adcc.ad.api import prepare_for_optimization
    return prepare_for_optimization(text, kept_statics)


def pre_ad_optimize(text: str, tm) -> str:
    """O2 without vectorization and unrolling: clean, scalar IR for the AD engine. Loops with a
    small constant trip count are then fully unrolled (adcc.ad.unroll), parameters of OpenMP
    regions that receive private read-only captures become `noalias` (and those that receive other
    variables of the caller only they reach, `"adcc.separate"`: adcc.ad.rules.openmp), a
    reduction's private copy gets a register until its address goes into the reduction list, and
    the pipeline runs again over what that exposed."""
    from adcc.ad.rules.openmp import FORK, mark_private_captures, split_reduction_copies
    from adcc.ad.unroll import mark_small_loops
    from adcc.ir.module import parse_module
    mod = parse_text(text, "front-end output")
    mod.verify()
    run_o2_pipeline(mod, tm, 2, vectorize=False)
    text = str(mod)
    ours = parse_module(text)
    marked = mark_small_loops(ours)
    separate = 0
    if FORK in text:  # OpenMP regions: loads of private read-only captures become hoistable
        noalias, separate = mark_private_captures(ours)
        marked += noalias + split_reduction_copies(ours)
    if marked == 0:
        return str(ours) if separate else text
    mod = parse_text(str(ours), "pre-AD module with unrolling marks")
    mod.verify()
    run_o2_pipeline(mod, tm, 2, vectorize=False)
    return str(mod)


def differentiate(text: str, options, tm=None):
    """With a target machine, nested __enzyme_* calls (higher order) are differentiated level by
    level from the innermost, with the pre-AD optimization between levels."""
    from adcc.ad.api import differentiate_text
    between = None
    if tm is not None:
        def between(t: str) -> str:
            mod = parse_text(t, "module between differentiation levels")
            run_o2_pipeline(mod, tm, 2, vectorize=False)
            return str(mod)
    return differentiate_text(text, options, between)


def optimize(mod, tm, level: int) -> None:
    """The user's -O level on the differentiated, verified module (O0: nothing)."""
    if level > 0:
        run_o2_pipeline(mod, tm, min(level, 3), vectorize=True)


# -- embedding and emission -----------------------------------------------------------

def embed_bitcode(mod, bitcode: bytes) -> None:
    """Add `bitcode` to `mod` as an SHF_EXCLUDE `.llvm.lto` section (as clang's fat LTO does)."""
    b = llvm()
    body = "\\" + bitcode.hex("\\").upper() if bitcode else ""  # \XX per byte
    holder = b.parse_assembly(
        f'target triple = "{mod.triple}"\n'
        f'target datalayout = "{mod.data_layout}"\n'
        f'@llvm.embedded.object = private constant [{len(bitcode)} x i8] c"{body}", '
        f'section ".llvm.lto", align 1, !exclude !0\n'
        f'@llvm.compiler.used = appending global [1 x ptr] [ptr @llvm.embedded.object], section "llvm.metadata"\n'
        f'!0 = !{{}}\n')
    mod.link_in(holder)


def record_deferred(mod, text: str, locate) -> None:
    """Record in `mod` where its `__enzyme_*` calls left for the link step are
    (`locate(text, targets)` -> [(target, SourceLocation)]), as `!adcc.deferred` metadata."""
    from adcc.analysis.linking import deferred_metadata, enzyme_requests
    from adcc.ir import parse_module
    targets = {t for _, t in enzyme_requests(parse_module(text)) if t is not None}
    records = locate(text, targets) if targets else []
    if not records:
        return
    holder = llvm().parse_assembly(f'target triple = "{mod.triple}"\n'
                                   f'target datalayout = "{mod.data_layout}"\n' + deferred_metadata(records))
    mod.link_in(holder)


def emit(mod, tm, action: str) -> bytes:
    """Object code, assembly, or LLVM bitcode/text of `mod`. emit_object mutates mod: last use."""
    if action == "obj":
        return tm.emit_object(mod)
    if action == "asm":
        return tm.emit_assembly(mod).encode()
    if action == "bc":
        return mod.as_bitcode()
    return str(mod).encode()


def link_bitcode(blobs: list[bytes]):
    """Merge several bitcode modules into one llvmlite module."""
    b = llvm()
    merged = None
    for blob in blobs:
        try:
            mod = b.parse_bitcode(blob)
        except RuntimeError as e:
            raise CompileError(f"cannot read embedded bitcode: {e}") from None
        if merged is None:
            merged = mod
        else:
            try:
                merged.link_in(mod)
            except RuntimeError as e:
                raise CompileError(f"cannot merge bitcode of the linked objects: {str(e).strip()}") from None
    return merged


def tool_version(tool: str) -> str:
    rc, out, _ = run_capture([tool, "-dumpversion"])
    return out.decode().strip() if rc == 0 else ""
