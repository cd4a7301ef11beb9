"""What a call does, as far as differentiation cares: one classification table.

Known inactive functions (I/O, random numbers, integer-only library calls) and
the memory-management family live here, so the analyses and both synthesizers
agree on them. What the program declares (adcc.analysis.declarations: inactive
functions, function-like and allocation-like functions, custom rules) takes
precedence over the tables; which callee names the AD layer's rule table knows
is given to the analyses as `RuleNames` (`install_rule_names`), so this layer
never imports the AD layer.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Callable

from adcc.analysis.declarations import declarations_of
from adcc.analysis.fortran import is_inactive_runtime
from adcc.analysis.types import type_hint
from adcc.ir.values import Instruction


class CallKind(enum.Enum):
    MATH = "math"              # a rule-table function: derivative from partials
    INACTIVE = "inactive"      # no derivative, no effect on active memory
    ALLOC = "alloc"            # malloc/calloc/new: a fresh (zeroed) shadow
    REALLOC = "realloc"
    FREE = "free"              # deferred to the end of the reverse pass
    MEMCPY = "memcpy"          # also memmove
    MEMSET = "memset"
    DEFINED = "defined"        # a function with a body in this module: differentiated recursively
    INDIRECT = "indirect"      # call through a function pointer
    ENZYME = "enzyme"          # a nested __enzyme_* call (higher order): unsupported for now
    RULE = "rule"              # a call rule (custom rule of the program, or a rule family such as
                               # BLAS): its derivative is itself a call sequence (adcc.ad.rules.calls)
    UNKNOWN = "unknown"        # external function without a rule


INACTIVE_FUNCTIONS = frozenset("""
adcc.ctx.pin
printf fprintf sprintf snprintf vprintf vfprintf puts fputs putchar fputc putc fflush fopen fclose fwrite
fread fscanf scanf sscanf perror exit abort _exit atexit rand srand random srandom drand48 srand48 rand_r
time clock gettimeofday clock_gettime getenv strlen strcmp strncmp strcpy strncpy strcat strchr strrchr
strstr strtol strtoul strtoll atoi atol isalpha isdigit isspace toupper tolower __assert_fail assert
__cxa_atexit __cxa_guard_acquire __cxa_guard_release __cxa_guard_abort __cxa_begin_catch __cxa_end_catch
__cxa_allocate_exception __cxa_throw __cxa_free_exception __cxa_pure_virtual _ZSt9terminatev
__clang_call_terminate __stack_chk_fail malloc_usable_size usleep sleep omp_get_thread_num
omp_get_num_threads abs labs llabs adcc_tape_note adcc_fatal adcc_tape_last_bytes adcc_tape_peak_bytes
adcc.passive adcc_split_enter adcc_split_leave adcc_split_tape_check adcc_split_tape_live_count adcc_tape_live_bytes
adcc_shadow_live_count adcc_free_mark adcc_free_flush _ZSt20__throw_length_errorPKc _ZSt17__throw_bad_allocv
_ZSt28__throw_bad_array_new_lengthv _ZSt19__throw_logic_errorPKc _ZSt24__throw_out_of_range_fmtPKcz
__errno_location ilogb ilogbf ilogbl fpclassify __fpclassify isnan isinf isfinite __isnan __isinf
__finite lrint lrintf llrint llround lround lroundf
memcmp bcmp _ZSt11_Hash_bytesPKvmm _ZSt15_Fnv_hash_bytesPKvmm
""".split())

INACTIVE_INTRINSIC_PREFIXES = (
    "llvm.lifetime.", "llvm.assume", "llvm.dbg.", "llvm.experimental.noalias.scope.decl",
    "llvm.stacksave", "llvm.stackrestore", "llvm.trap", "llvm.debugtrap", "llvm.prefetch",
    "llvm.invariant.", "llvm.umax.", "llvm.umin.", "llvm.smax.", "llvm.smin.", "llvm.abs.",
    "llvm.ctpop.", "llvm.ctlz.", "llvm.cttz.", "llvm.bswap.", "llvm.bitreverse.", "llvm.fshl.",
    "llvm.fshr.", "llvm.expect.", "llvm.sadd.with.overflow.", "llvm.uadd.with.overflow.",
    "llvm.ssub.with.overflow.", "llvm.usub.with.overflow.", "llvm.smul.with.overflow.",
    "llvm.umul.with.overflow.", "llvm.is.fpclass.", "llvm.objectsize.", "llvm.sideeffect",
    "llvm.var.annotation", "llvm.ptr.annotation", "llvm.annotation", "llvm.lround.", "llvm.llround.",
    "llvm.lrint.", "llvm.llrint.", "llvm.vector.reduce.and", "llvm.vector.reduce.or",
    "llvm.vector.reduce.xor", "llvm.vector.reduce.add", "llvm.vector.reduce.mul",
    "llvm.vector.reduce.umax", "llvm.vector.reduce.smax", "llvm.vector.reduce.umin",
    "llvm.vector.reduce.smin", "llvm.threadlocal.address", "llvm.scmp.", "llvm.ucmp.",
)

ALLOC_FUNCTIONS = {"malloc": "malloc", "calloc": "calloc", "_Znwm": "malloc", "_Znam": "malloc",
                   "_ZnwmRKSt9nothrow_t": "malloc", "_ZnamRKSt9nothrow_t": "malloc",
                   "_ZnwmSt11align_val_t": "malloc", "aligned_alloc": "aligned_alloc",
                   # adcc's own shadow memory, differentiated again in higher-order AD
                   "adcc_shadow_alloc": "malloc", "adcc_shadow_calloc": "calloc",
                   "adcc_shadow_stack_alloc": "malloc",
                   # a split-mode tape: its shadow is a tape of its own (adcc.ad.rules.runtime)
                   "adcc_split_tape_new": "adcc_split_tape_new"}
FREE_FUNCTIONS = frozenset({"free", "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t",
                            "_ZdlPvmSt11align_val_t", "adcc_shadow_free", "adcc_shadow_stack_free"})
# Frees a derivative of the code runs where the code runs them, not deferred to the reverse pass:
# adcc's shadow stack is LIFO in program order (an inner derivative's shadows of stack objects), and
# the derivative never reads that memory again (its own shadows are separate heap allocations).
IN_ORDER_FREES = frozenset({"adcc_shadow_stack_free"})

ENZYME_RE = re.compile(r"__enzyme_(autodiff|fwddiff|augmentfwd|augmentsize|reverse|fwdsplit|batch|virtualreverse|error_estimate)")
# Enzyme's utilities that stay calls through differentiation and have no derivative
# (adcc.ad.utility_calls): an iteration count, a call declared inactive; and the checkpointing
# hints, which only tune Enzyme's memory use (dropped once every derivative is built: adcc.ad.api)
ENZYME_INACTIVE_RE = re.compile(r"__enzyme_(iter|call_inactive|set_checkpointing|set_mincut|ptr_size_hint|"
                                r"zero_shadows)")


@dataclass(frozen=True)
class RuleNames:
    """The callee names the AD layer's rule table has rules for, as the analyses see them."""
    is_math: Callable[[str], bool]        # pointwise math rule (sin, llvm.exp.f64, ...)
    is_call_rule: Callable[[str], bool]   # a call-rule family entry (BLAS, libc, ...)
    # the argument positions through which a call-rule callee writes memory (None: it may write
    # through any pointer argument); cblas_dgemv writes only y
    written_args: Callable[[str], tuple[int, ...] | None] = lambda name: None
    # a routine of a library a rule family covers (BLAS, MPI, ...): never defined in bitcode
    is_library: Callable[[str], bool] = lambda name: False
    # the argument position of a function the callee calls (__kmpc_fork_call runs its argument 2)
    callback_arg: Callable[[str], int | None] = lambda name: None
    # globals a rule family's runtime owns and that hold no derivative (OpenMP's critical-section locks)
    inactive_global: Callable[[str], bool] = lambda name: False
    rule_shadows_result: Callable[[str], bool] = lambda name: True  # its pointer result has a shadow
    # the arguments through which a call-rule call writes data from elsewhere (an MPI receive buffer)
    incoming_args: Callable[[Instruction], tuple[int, ...]] = lambda inst: ()


NO_RULES = RuleNames(lambda name: False, lambda name: False)


def install_rule_names(module, names: RuleNames) -> None:
    """Tell the analyses of `module` which callees the rule table knows (the AD layer does this
    once per module, before any analysis runs)."""
    module._adcc_rule_names = names


def rule_names(module) -> RuleNames:
    return getattr(module, "_adcc_rule_names", NO_RULES)


def callback_callee(module, inst: Instruction) -> str | None:
    """The function a call-rule callee runs with the call's arguments (the outlined body of an
    OpenMP parallel region, for __kmpc_fork_call), when it is defined in `module`."""
    name = inst.callee_name
    k = rule_names(module).callback_arg(name) if name is not None else None
    if k is None or k >= len(inst.args):
        return None
    target = getattr(inst.args[k], "gname", None)
    return target if target is not None and module.is_defined(target) else None


def effective_callee(module, name: str | None) -> str | None:
    """The name a call behaves as: a function the program declared `function_like` another
    (`{mylog1p, "log1p"}`) is that other function."""
    if name is None:
        return None
    return declarations_of(module).function_like.get(name, name)


def classify_call(module, inst: Instruction) -> CallKind:
    name = inst.callee_name
    if name is None:  # inline assembly: nothing to differentiate through, like an unknown function
        return CallKind.UNKNOWN if inst.calls_inline_asm else CallKind.INDIRECT
    return classify_callee(module, name)


def classify_callee(module, name: str) -> CallKind:
    """What a call of function `name` does (`classify_call` for a known callee)."""
    if ENZYME_RE.search(name):
        return CallKind.ENZYME
    decls = declarations_of(module)
    if name in decls.inactive_functions or type_hint(name) is not None or ENZYME_INACTIVE_RE.search(name):
        return CallKind.INACTIVE
    if name in decls.gradients or name in decls.derivatives:
        return CallKind.RULE
    if name in decls.allocation_like:
        return CallKind.ALLOC
    if name in decls.deallocators:
        return CallKind.FREE
    name = decls.function_like.get(name, name)
    if name in ALLOC_FUNCTIONS:
        return CallKind.ALLOC
    if name == "realloc":
        return CallKind.REALLOC
    if name in FREE_FUNCTIONS:
        return CallKind.FREE
    if name.startswith(("llvm.memcpy.", "llvm.memmove.")) or name in ("memcpy", "memmove"):
        return CallKind.MEMCPY
    if name.startswith("llvm.memset.") or name == "memset":
        return CallKind.MEMSET
    names = rule_names(module)
    if names.is_math(name):
        return CallKind.MATH
    if names.is_call_rule(name):
        return CallKind.RULE
    if name.startswith("llvm."):
        if name.startswith(INACTIVE_INTRINSIC_PREFIXES):
            return CallKind.INACTIVE
        return CallKind.UNKNOWN
    if module.is_defined(name):
        return CallKind.DEFINED
    if name in INACTIVE_FUNCTIONS or is_inactive_runtime(name) or decls.empty_functions_inactive:
        return CallKind.INACTIVE  # (the last: `__enzyme_emptyfnconst`, Enzyme's -enzyme-emptyfn-inactive)
    return CallKind.UNKNOWN
