"""What adcc knows about code flang generates: its array descriptors (layout, type codes, and how a
procedure receives each dummy argument) and the runtime functions that never carry derivatives.

A dummy argument reaches a procedure as a descriptor (assumed-shape, allocatable, pointer, assumed
rank), as the address of its data (explicit-shape, assumed-size, scalars), or by value (VALUE
scalars). flang tags every access to a descriptor's fields with the TBAA type "descriptor member"
and accesses to data with other tags; `dummy_convention` reads those tags on the accesses through
the argument, following it into the procedures it is passed to.
"""
from __future__ import annotations

import enum

from adcc.ir.metadata import metadata_index
from adcc.ir import types as T
from adcc.ir.values import Instruction, Value

DESCRIPTOR_TBAA = "descriptor member"
# byte offsets in a descriptor (ISO_Fortran_binding's CFI_cdesc_t)
BASE_ADDR, ELEM_LEN, RANK, TYPE_CODE = 0, 8, 20, 21
_RANK0_FIELDS = 24   # a rank-0 descriptor's fields end here (then a derived type's addendum pointer)

TYPE_NAMES = {9: "INTEGER(4)", 10: "INTEGER(8)", 27: "REAL(4)", 28: "REAL(8)", 34: "COMPLEX(4)",
              35: "COMPLEX(8)", 39: "LOGICAL", 40: "CHARACTER", 42: "a derived type"}
FLOAT_TYPES = {27: T.f32, 28: T.f64}
COMPLEX_TYPES = {34: T.f32, 35: T.f64}


class Convention(enum.Enum):
    DESCRIPTOR = "descriptor"   # a pointer to an array descriptor
    ADDRESS = "address"         # the address of the data
    VALUE = "value"             # the value itself (VALUE dummy)
    UNUSED = "unused"
    UNKNOWN = "unknown"


_INTEGERS = "integers"   # untagged integer accesses: a descriptor's fields or integer data

# runtime functions whose pointer arguments are not descriptors
_RAW_POINTER_RUNTIME = ("_FortranAio", "_FortranAPushArrayConstructorSimpleScalar", "_FortranAPointerAssociateScalar",
                        "_FortranACppSum", "_FortranACppProduct", "_FortranACppDotProduct")
_IGNORED_INTRINSICS = ("llvm.lifetime.", "llvm.assume", "llvm.dbg.", "llvm.experimental.noalias.scope.decl",
                       "llvm.prefetch", "llvm.invariant.")


def dummy_convention(module, fname: str, index: int, _seen: frozenset = frozenset(),
                     scalar_object: bool = False) -> Convention:
    """How procedure `fname` receives its argument `index`. With `scalar_object` (the actual is a
    scalar of derived type), accesses that a rank-0 descriptor cannot explain (integers past its
    24 bytes of fields, data beside descriptor fields) show an object received by address whose
    components are descriptors (allocatable and pointer components)."""
    fty = module.function_type_of(fname)
    if index >= len(fty.params):
        return Convention.UNKNOWN
    if not isinstance(fty.params[index], T.PointerType):
        return Convention.VALUE
    if not module.is_defined(fname) or (fname, index) in _seen:
        return Convention.UNKNOWN
    fn = module.function(fname)
    evidence: set[Convention] = set()
    md = metadata_index(module)
    seen = _seen | {(fname, index)}
    stack: list[tuple[Value, int | None]] = [(fn.args[index], 0)]   # (pointer, byte offset)
    visited: set[int] = set()
    while stack:
        v, offset = stack.pop()
        if id(v) in visited:
            continue
        visited.add(id(v))
        for u, slot in list(v.uses):
            evidence.add(_use_evidence(module, md, u, slot, offset, stack, seen, scalar_object))
    evidence.discard(Convention.UNUSED)
    if scalar_object and Convention.ADDRESS in evidence and Convention.UNKNOWN not in evidence:
        return Convention.ADDRESS   # data beside descriptor components
    if evidence == {_INTEGERS, Convention.DESCRIPTOR}:   # a descriptor's bounds, read untagged
        evidence = {Convention.DESCRIPTOR}
    if len(evidence) == 1 and _INTEGERS not in evidence:
        return evidence.pop()
    return Convention.UNUSED if not evidence else Convention.UNKNOWN


def _use_evidence(module, md, u: Instruction, slot: int, offset: int | None, stack: list,
                  seen: frozenset, scalar_object: bool = False) -> Convention:
    op = u.opcode
    if op in ("getelementptr", "bitcast", "addrspacecast", "phi", "select", "freeze"):
        if op == "select" and slot == 0:
            return Convention.UNUSED
        if op == "getelementptr":
            from adcc.ir.layout import gep_instruction_offset
            step = gep_instruction_offset(module, u)
            offset = None if offset is None or step is None else offset + step
        elif op != "bitcast":
            offset = None
        stack.append((u, offset))
        if op == "getelementptr" and _is_descriptor_struct(u.info.get("source_type")):
            return Convention.DESCRIPTOR   # unoptimized flang code addresses descriptor fields
        return Convention.UNUSED
    if op == "load" or (op == "store" and slot == 1):
        ty = u.type if op == "load" else u.operands[0].type
        if scalar_object and offset is not None and offset >= _RANK0_FIELDS and not isinstance(ty, T.PointerType):
            return Convention.ADDRESS   # a rank-0 descriptor has only its addendum's pointer there
        got = _tbaa_evidence(md, u)
        return got if got is not Convention.UNKNOWN else _untagged_evidence(u, offset)
    if op == "store":  # the pointer itself is stored: as a new descriptor's base address, it is data
        return Convention.ADDRESS if _tbaa_evidence(md, u) is Convention.DESCRIPTOR else Convention.UNKNOWN
    if op in ("icmp", "ptrtoint", "#dbg"):
        return Convention.UNUSED   # presence tests of OPTIONAL dummies, debug records
    if op in ("call", "invoke"):
        if scalar_object and offset is not None and offset >= _RANK0_FIELDS:
            return Convention.ADDRESS   # a component past a rank-0 descriptor's fields passed on
        return _call_evidence(module, md, u, slot, seen, scalar_object and offset == 0)
    return Convention.UNKNOWN


def _untagged_evidence(u: Instruction, offset: int | None) -> Convention:
    """Without TBAA (code flang did not optimize): a descriptor is read as its base address (a
    pointer at offset 0) or as a whole; data as floating-point values, or as integers narrower
    than a pointer where a descriptor has its base address."""
    ty = u.type if u.opcode == "load" else u.operands[0].type
    if _is_descriptor_struct(ty) or (offset == 0 and isinstance(ty, T.PointerType)):
        return Convention.DESCRIPTOR
    if ty.is_float_or_float_vector():
        return Convention.ADDRESS
    if offset == 0 and isinstance(ty, T.IntType) and ty.bits < 64:
        return Convention.ADDRESS
    return _INTEGERS


def _is_descriptor_struct(ty) -> bool:
    head = (T.ptr, T.i64, T.i32, T.i8, T.i8, T.i8, T.i8)
    return isinstance(ty, T.StructType) and tuple(ty.elems[:7]) == head


def _tbaa_evidence(md, inst: Instruction) -> Convention:
    names = md.tbaa_type_names(inst)
    if not names:
        return Convention.UNKNOWN
    return Convention.DESCRIPTOR if DESCRIPTOR_TBAA in names else Convention.ADDRESS


def _call_evidence(module, md, u: Instruction, slot: int, seen: frozenset, scalar_object: bool) -> Convention:
    name = (u.callee_name or "").strip('"')
    arg = slot - u.info["callee_slot"] - 1
    if arg < 0 or arg >= len(u.args):
        return Convention.UNKNOWN  # called through
    if name.startswith(_IGNORED_INTRINSICS):
        return Convention.UNUSED
    if name.startswith(("llvm.memcpy.", "llvm.memmove.")):
        return _tbaa_evidence(md, u)
    if name.startswith("_FortranA"):  # descriptors, but for the data addresses some functions take
        raw = name.startswith(_RAW_POINTER_RUNTIME) and "Descriptor" not in name
        return Convention.ADDRESS if raw else Convention.DESCRIPTOR
    if module.is_defined(name):
        got = dummy_convention(module, name, arg, seen, scalar_object)
        return Convention.UNUSED if got is Convention.UNUSED else got
    return Convention.UNKNOWN


def reaches_undefined(module, fname: str) -> bool:
    """Whether `fname` (or a procedure it calls) calls a procedure defined in another unit."""
    seen, stack = {fname}, [fname]
    while stack:
        name = stack.pop()
        if not module.is_defined(name):
            return True
        for r in module.references(name):
            if r not in seen and r in module.functions and not r.startswith(("llvm.", "_FortranA")):
                seen.add(r)
                stack.append(r)
    return False


# --- runtime functions that put fresh memory into descriptors -----------------------------------

_ALLOCATING = {"_FortranAAllocatableAllocate": (0,), "_FortranAPointerAllocate": (0,),
               "_FortranAAllocatableAllocateSource": (0,), "_FortranAPointerAllocateSource": (0,),
               "_FortranAAssign": (0,), "_FortranAAssignTemporary": (0,), "_FortranAAssignPolymorphic": (0,), "_FortranACopyInAssign": (0,),
               "_FortranAMoveAlloc": (0, 1), "_FortranAInitArrayConstructorVector": (0, 1),
               "_FortranAPointerAssociate": (0,), "_FortranAPointerAssociateLowerBounds": (0,),
               "_FortranAPointerAssociateRemapping": (0,), "_FortranAPointerAssociateScalar": (0,)}
_RESULT_ALLOCATING = ("_FortranAPack", "_FortranAUnpack", "_FortranASpread", "_FortranAReshape",
                      "_FortranATranspose", "_FortranACshift", "_FortranAEoshift", "_FortranANorm2Dim",
                      "_FortranASumDim", "_FortranAProductDim", "_FortranAMaxvalDim", "_FortranAMinvalDim",
                      "_FortranAMatmul")


def fresh_memory_arguments(name: str | None) -> tuple[int, ...]:
    """The arguments of a runtime call whose descriptors it points at new memory (ALLOCATE,
    assignment with reallocation, results of transformational intrinsics): like malloc's result,
    such memory may come to hold active data, so those descriptors need shadows."""
    if not name or not name.startswith("_FortranA"):
        return ()
    got = _ALLOCATING.get(name)
    if got is not None:
        return got
    return (0,) if name.startswith(_RESULT_ALLOCATING) else ()


# --- runtime functions without derivatives -------------------------------------------------------

_INACTIVE_PREFIXES = tuple("_FortranA" + p for p in """
io Character Findloc Maxloc Minloc Lbound Ubound SizeDim Shape IsContiguous IsAssumedSize PointerIsAssociated
AllocatableCheckAllocated StopStatement ProgramStart ProgramEnd PauseStatement ReportFatalUserError SystemClock
DateAndTime RandomInit RandomSeed GetCommand GetEnv GetCwd ArgumentCount Adjust Trim LenTrim Index Scan Verify
Repeat Selected Exponent Iachar Ichar Achar ExecuteCommandLine AssignExplicitLengthCharacter ByteswapOption
CountDim AllDim AnyDim ParityDim IAll IAny IParity MapException fe
""".split())
_INACTIVE_NAMES = frozenset("_FortranA" + p for p in """
All Any Count Parity Size Exit Abort FailImage CpuTime Etime Time Hostnm Getpid Getuid Getgid Chdir Sleep
Flush Unlink Rename Perror Signal Kill Fseek Ftell Fnum Access Chmod Stat Lstat Fstat
""".split())
_ACTIVE_IO = ("_FortranAioInputReal", "_FortranAioInputComplex", "_FortranAioInputDescriptor")


def is_inactive_runtime(name: str) -> bool:
    """A flang runtime function that never carries derivatives nor writes active data."""
    if name in _INACTIVE_NAMES:
        return True
    return name.startswith(_INACTIVE_PREFIXES) and not name.startswith(_ACTIVE_IO)
