"""Decode an `__enzyme_*` call as Enzyme does: target function, markers, call-wide options.

Markers are recognised however the program spells them: a load of the marker global
(`int enzyme_dup;` defined or only declared `extern`), the global's address, or a C++-mangled
name in a namespace. Any global named `enzyme_*` passed to an entry point is a marker (as in
Enzyme); what each one means, and whether adcc implements it, comes from `enzyme_names`.
Decoding only reads the call: the values it produces are the call's own operands; what must
be built from them (shadows at a byte stride, by-reference loads) is described, not emitted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from adcc.ad import enzyme_names as names
from adcc.ad.srcloc import location_of
from adcc.analysis.spec import Activity, Mode
from adcc.diagnostics import CompileError
from adcc.ir import types as T
from adcc.ir.values import Constant, GlobalRef, Instruction, Value

_MANGLED_PART = re.compile(r"(\d+)")
_APIS = {"__enzyme_autodiff": ("autodiff", Mode.REVERSE), "__enzyme_fwddiff": ("fwddiff", Mode.FORWARD),
         "__enzyme_augmentfwd": ("augmentfwd", Mode.REVERSE), "__enzyme_reverse": ("reverse", Mode.REVERSE),
         "__enzyme_augmentsize": ("augmentsize", Mode.REVERSE), "__enzyme_batch": ("batch", Mode.FORWARD),
         "__enzyme_fwdsplit": ("fwdsplit", Mode.FORWARD),
         "__enzyme_error_estimate": ("error_estimate", Mode.FORWARD)}
SPLIT_APIS = ("augmentfwd", "reverse", "augmentsize", "fwdsplit")
SPLIT_MARKERS = ("enzyme_allocated", "enzyme_tape", "enzyme_nofree")
# the next argument's memory is unchanged between the forward and the reverse pass (Enzyme's newer
# enzyme_nocache says so of a load's memory: re-read it instead of caching it)
KEPT_MARKERS = ("enzyme_not_overwritten", "enzyme_nocache")
CHECKPOINT_MARKERS = ("enzyme_scheme", "enzyme_checkpoint_region")
BATCH_MARKERS = ("enzyme_scalar", "enzyme_vector", "enzyme_buffer")


@dataclass
class Shadow:
    """One shadow of an argument: the call's operand, or `base + lane * stride` bytes (enzyme_dupv)."""
    value: Value
    stride: Value | None = None
    lane: int = 0


@dataclass
class ArgSpec:
    activity: Activity
    primal: Value
    shadows: list[Shadow] = field(default_factory=list)
    byref: bool = False          # enzyme_byref: `primal` points to the argument's value
    not_overwritten: bool = False  # enzyme_not_overwritten: the caller keeps its memory unchanged


@dataclass
class TargetSret:
    """f returns a struct through its hidden first parameter (Enzyme passes it duplicated)."""
    type: T.Type
    shadow: Value | None           # forward: the call's own result memory; reverse: the user's seed
    primal_in_result: bool         # forward + enzyme_primal_return: primal first, then the tangent(s)


@dataclass
class CallSite:
    inst: Instruction
    api: str                 # autodiff | fwddiff | augmentfwd | reverse | augmentsize | fwdsplit | batch
    mode: Mode
    fn_name: str
    args: list[ArgSpec]      # one per parameter of f after a hidden sret parameter
    width: int = 1
    sret: Value | None = None          # the call's own hidden result pointer
    result_type: T.Type = T.void
    primal_return: bool = False        # enzyme_primal_return
    return_activity: str = "default"   # default | const | active | dup (enzyme_*_return)
    runtime_activity: bool = False     # enzyme_runtime_activity
    strong_zero: bool = False          # enzyme_strong_zero
    target_sret: TargetSret | None = None
    noret: bool = False                # enzyme_noret
    allocated: Value | None = None     # split mode: enzyme_allocated, size
    tape: Value | None = None          # split mode: enzyme_tape, ptr
    nofree: bool = False               # split mode: enzyme_nofree
    context: Value | None = None       # enzyme_context, ctx (adcc.ad.contexts)
    trailing: list[Value] = field(default_factory=list)  # __enzyme_reverse: [adjoint of the result], [tape];
                                                         # __enzyme_fwdsplit: [tape]


def marker_name(v: Value) -> str | None:
    """The enzyme_* marker a call argument stands for (any global named enzyme_*), or None."""
    if isinstance(v, Instruction) and v.opcode == "load" and isinstance(v.operands[0], GlobalRef):
        name = v.operands[0].gname
    elif isinstance(v, GlobalRef):
        name = v.gname
    else:
        return None
    name = name.strip('"')
    if name.startswith("enzyme_"):
        return name
    if name.startswith("_Z"):
        last = _last_mangled_identifier(name)
        if last is not None and last.startswith("enzyme_"):
            return last
    return None


def _last_mangled_identifier(name: str) -> str | None:
    """_ZN2ns10enzyme_dupE -> enzyme_dup (the last length-prefixed identifier)."""
    k, last = 0, None
    while k < len(name):
        m = _MANGLED_PART.match(name, k)
        if m:
            n = int(m.group(1))
            last = name[m.end():m.end() + n]
            k = m.end() + n
        else:
            k += 1
    return last


def api_of(callee: str) -> str | None:
    """The kind of entry point adcc rewrites (autodiff, fwddiff, augmentfwd, ...), else None."""
    entry = names.entry_point(callee)
    return _APIS[entry.name][0] if entry is not None and entry.name in _APIS else None


def parse_call_site(module, inst: Instruction) -> CallSite:
    return _Decoder(module, inst).decode()


@dataclass
class BatchArg:
    """One parameter of f in __enzyme_batch: shared by all lanes (enzyme_scalar) or one value per
    lane (enzyme_vector; enzyme_buffer, stride, p: lane k is p + k * stride bytes)."""
    scalar: bool
    lanes: list[Shadow]


@dataclass
class BatchSite:
    inst: Instruction
    fn_name: str
    width: int
    args: list[BatchArg]
    sret: Value | None               # the call's own hidden result pointer
    result_type: T.Type
    target_sret: T.Type | None       # f returns this struct through its hidden first parameter


def parse_batch_site(module, inst: Instruction) -> BatchSite:
    return _Decoder(module, inst).decode_batch()


class _Decoder:
    def __init__(self, module, inst: Instruction):
        self.module = module
        self.inst = inst
        self.loc = location_of(module, inst)
        entry = names.entry_point(inst.callee_name or "")
        if entry is None or entry.name not in _APIS:
            raise CompileError(names.refusal(entry) if entry else f"'{inst.callee_name}' is not an Enzyme entry point",
                               self.loc)
        self.api, self.mode = _APIS[entry.name]
        self.entry = entry.name

    def error(self, message: str) -> CompileError:
        return CompileError(message, self.loc)

    # --- the call as a whole ------------------------------------------------------------
    def decode(self) -> CallSite:
        inst = self.inst
        args = list(inst.args)
        attrs = inst.info.get("arg_attrs", [""] * len(args))
        sret = None
        if args and "sret" in attrs[0]:
            sret, args = args[0], args[1:]
        if not args:
            raise self.error(f"{self.entry} needs the function to differentiate as its first argument")
        self.fn_name = self._target(args[0])
        self.fn = self.module.function(self.fn_name)
        site = CallSite(inst, self.api, self.mode, self.fn_name, [], sret=sret, result_type=inst.type)
        rest = args[1:]
        self._read_flags(site, rest)
        params = list(self.fn.args)
        target_sret = sret_type(self.module, self.fn.param_attrs[0]) if params else None
        if target_sret is not None:
            site.target_sret, rest = self._target_sret(site, target_sret, rest)
            params = params[1:]
        if self.api == "augmentsize":
            site.args = self._read_size_markers(params, rest)
        else:
            site.args = self._read_arguments(site, params, rest)
        return site

    def decode_batch(self) -> BatchSite:
        """__enzyme_batch(f, enzyme_width, N, args...): without a marker an argument is a vector
        (N values) when N > 1, as Enzyme reads it."""
        args = list(self.inst.args)
        attrs = self.inst.info.get("arg_attrs", [""] * len(args))
        sret = None
        if args and "sret" in attrs[0]:
            sret, args = args[0], args[1:]
        if not args:
            raise self.error("__enzyme_batch needs the function to evaluate as its first argument")
        self.fn_name = self._target(args[0])
        self.fn = self.module.function(self.fn_name)
        site = CallSite(self.inst, self.api, self.mode, self.fn_name, [], sret=sret, result_type=self.inst.type)
        rest = args[1:]
        self._read_flags(site, rest)
        params = list(self.fn.args)
        target_sret = sret_type(self.module, self.fn.param_attrs[0]) if params else None
        if target_sret is not None:
            params = params[1:]
        fname, width = _plain(self.fn_name), site.width
        out: list[BatchArg] = []
        j = 0
        while len(out) < len(params):
            scalar, stride = width == 1, None
            while j < len(rest) and (m := marker_name(rest[j])) is not None:
                info = self._known(m)
                if m == "enzyme_scalar":
                    scalar = True
                elif m in ("enzyme_vector", "enzyme_buffer"):
                    scalar = False
                    if m == "enzyme_buffer":
                        stride = self._stride(rest, j, m)
                elif info.role is not names.Role.FLAG:
                    raise self.error(f"{m} is not valid in __enzyme_batch (use enzyme_scalar, enzyme_vector, "
                                     f"enzyme_buffer)")
                j += 1 + info.values
            param = params[len(out)]
            k = len(out) + 1
            need = 1 if scalar or stride is not None else width
            if j + need > len(rest):
                raise self.error(f"too few arguments to __enzyme_batch for '{fname}': argument {k} needs "
                                 f"{need} value(s)")
            if stride is not None:
                if not isinstance(param.type, T.PointerType):
                    raise self.error(f"argument {k} of '{fname}' is passed with enzyme_buffer but is not a pointer")
                self._check_type(rest[j], param.type, k, fname, "buffer")
                lanes = [Shadow(rest[j], stride if lane else None, lane) for lane in range(width)]
            else:
                for v in rest[j:j + need]:
                    self._check_type(v, param.type, k, fname, "value")
                lanes = [Shadow(v) for v in rest[j:j + need]]
            j += need
            out.append(BatchArg(scalar, lanes))
        while j < len(rest) and (m := marker_name(rest[j])) is not None and self._known(m).role is names.Role.FLAG:
            j += 1 + self._known(m).values
        if j < len(rest):
            raise self.error(f"too many arguments to __enzyme_batch for '{fname}': it takes {len(params)} "
                             f"argument(s), {len(rest) - j} argument(s) left over")
        return BatchSite(self.inst, self.fn_name, width, out, sret, self.inst.type, target_sret)

    def _read_size_markers(self, params, rest: list[Value]) -> list[ArgSpec]:
        """__enzyme_augmentsize(f, markers...): one activity marker per argument of f (no values),
        as the matching __enzyme_augmentfwd passes them."""
        specs: list[ArgSpec] = []
        fname = _plain(self.fn_name)
        kept = False
        j = 0
        while j < len(rest):
            m = marker_name(rest[j])
            if m is None:
                raise self.error(f"__enzyme_augmentsize takes only markers after the function (one activity marker "
                                 f"per argument of '{fname}', as __enzyme_augmentfwd is called with), not values")
            info = self._known(m)
            j += 1 + info.values
            if m in KEPT_MARKERS:
                kept = True
            elif info.role is names.Role.ACTIVITY:
                if len(specs) == len(params):
                    raise self.error(f"too many markers to __enzyme_augmentsize for '{fname}': it takes "
                                     f"{len(params)} argument(s)")
                param = params[len(specs)]
                self._check_activity(info.activity, param, len(specs) + 1, fname)
                specs.append(ArgSpec(info.activity, Constant(param.type, "poison"), [], False, kept))
                kept = False
        if len(specs) != len(params):
            raise self.error(f"__enzyme_augmentsize for '{fname}' needs one activity marker per argument: it takes "
                             f"{len(params)}, the call gives {len(specs)}")
        return specs

    def _target(self, target: Value) -> str:
        api, module = self.entry, self.module
        if not isinstance(target, GlobalRef):
            raise self.error(f"the first argument of {api} must be a function known at compile time")
        name = target.gname
        if name in module.globals:
            raise self.error(f"the first argument of {api} is the data object '{_plain(name)}', not a function")
        if name not in module.functions:
            raise self.error(f"the first argument of {api} is not a function")
        if not module.is_defined(name):
            raise self.error(f"cannot differentiate '{_plain(name)}': its definition is not available "
                             f"(compile its translation unit with adcc and link with adcc)")
        return name

    def _read_flags(self, site: CallSite, rest: list[Value]) -> None:
        """Call-wide markers may stand anywhere (Enzyme reads them before the arguments)."""
        width = context_width = None
        k = 0
        while k < len(rest):
            m = marker_name(rest[k])
            info = self._known(m) if m is not None else None
            if info is None:
                k += 1
                continue
            if m == "enzyme_width":
                if width is not None:
                    raise self.error("enzyme_width is given more than once")
                width = self._constant_after(rest, k, m)
                if width < 1:
                    raise self.error("enzyme_width must be at least 1")
            elif m == "enzyme_primal_return":
                site.primal_return = True
            elif m in ("enzyme_const_return", "enzyme_active_return", "enzyme_dup_return"):
                site.return_activity = m[len("enzyme_"):-len("_return")]
            elif m == "enzyme_runtime_activity":
                site.runtime_activity = True
            elif m == "enzyme_strong_zero":
                site.strong_zero = True
            elif m == "enzyme_noret":
                site.noret = True
            elif m == "enzyme_nofree":
                site.nofree = True
            elif m == "enzyme_context":
                if k + 1 >= len(rest) or site.context is not None:
                    raise self.error("enzyme_context must be followed by a context, once")
                site.context = rest[k + 1]
                context_width = self._context_width(site.context)
            elif m in ("enzyme_allocated", "enzyme_tape"):
                if k + 1 >= len(rest) or marker_name(rest[k + 1]) is not None:
                    raise self.error(f"{m} must be followed by a value")
                if getattr(site, m[len("enzyme_"):]) is not None:
                    raise self.error(f"{m} is given more than once")
                setattr(site, m[len("enzyme_"):], rest[k + 1])
            k += 1 + info.values
        if context_width is not None and width is not None and width != context_width:
            raise self.error(f"enzyme_width {width} differs from the width of the context given with "
                             f"enzyme_context ({context_width})")
        site.width = width or context_width or 1
        if site.primal_return and isinstance(self.fn.ret_type, T.VoidType) and not self._has_sret_param():
            raise self.error(f"enzyme_primal_return given, but '{_plain(self.fn_name)}' returns void")

    def _context_width(self, v: Value) -> int | None:
        """The width of the context `v` stands for (its lanes are the call's), None if it is not
        one (rewrite.py reports that)."""
        from adcc.ad import naming
        from adcc.ad.contexts import context_width
        name = getattr(v, "gname", None)
        if name is None or not naming.is_context(name) or name not in self.module.globals:
            return None
        return context_width(self.module, name)

    def _has_sret_param(self) -> bool:
        return bool(self.fn.args) and sret_type(self.module, self.fn.param_attrs[0]) is not None

    def _known(self, m: str) -> names.Name:
        info = names.marker(m)
        if info is None:
            raise self.error(f"unknown Enzyme marker '{m}' in a call to {self.entry}")
        if info.status is not names.Status.IMPLEMENTED:
            raise self.error(names.refusal(info))
        if m in SPLIT_MARKERS and self.api not in SPLIT_APIS:
            raise self.error(f"{m} belongs to split mode (__enzyme_augmentfwd, __enzyme_reverse, __enzyme_fwdsplit), "
                             f"not to {self.entry}")
        if m in CHECKPOINT_MARKERS:
            raise self.error(f"{m} belongs to __enzyme_checkpoint_for, not to {self.entry}")
        if m in BATCH_MARKERS and self.api != "batch":
            raise self.error(f"{m} belongs to __enzyme_batch, not to {self.entry}")
        return info

    def _constant_after(self, rest: list[Value], k: int, m: str) -> int:
        v = rest[k + 1] if k + 1 < len(rest) else None
        if not isinstance(v, Constant) or not isinstance(v.type, T.IntType) or not v.text.lstrip("-").isdigit():
            raise self.error(f"{m} must be followed by an integer constant")
        return int(v.text)

    # --- f's hidden struct-return parameter ---------------------------------------------
    def _target_sret(self, site: CallSite, sty: T.Type, rest: list[Value]):
        """Enzyme passes f's sret parameter duplicated: forward mode writes the tangent into the
        call's own result memory (after the primal with enzyme_primal_return); reverse mode takes
        the seed of the returned struct as the first argument after f."""
        active = site.return_activity != "const"
        if self.mode is Mode.FORWARD:
            return TargetSret(sty, site.sret if active else None, site.primal_return), rest
        if site.primal_return:
            raise self.error(f"enzyme_primal_return is not available for '{_plain(self.fn_name)}', which returns "
                             f"a struct through memory, in reverse mode")
        if not active:
            return TargetSret(sty, None, False), rest
        if not rest or not isinstance(rest[0].type, T.PointerType) or marker_name(rest[0]) is not None:
            raise self.error(f"'{_plain(self.fn_name)}' returns a struct through memory: in reverse mode pass a "
                             f"pointer to the seed (adjoint) of the returned struct as the first argument after it")
        return TargetSret(sty, rest[0], False), rest[1:]

    # --- the arguments ----------------------------------------------------------------
    def _read_arguments(self, site: CallSite, params, rest: list[Value]) -> list[ArgSpec]:
        width, fname = site.width, _plain(self.fn_name)
        rest, interleaved = self._split_interleaved(rest)
        specs: list[ArgSpec] = []
        last = Activity.DUP  # after enzyme_interleave an unmarked argument repeats the previous activity
        j = 0
        while len(specs) < len(params):
            activity, stride, byref, kept = None, None, False, False
            while j < len(rest) and (m := marker_name(rest[j])) is not None:
                info = self._known(m)
                if info.role is names.Role.ACTIVITY:
                    activity = info.activity
                    if info.values:
                        stride = self._stride(rest, j, m)
                elif m == "enzyme_byref":
                    self._constant_after(rest, j, m)
                    byref = True
                elif m in KEPT_MARKERS:
                    kept = True
                j += 1 + info.values
            if j >= len(rest):
                raise self.error(f"too few arguments to {self.entry} for '{fname}': it takes {len(params)} "
                                 f"argument(s), the call supplies {len(specs)}")
            param = params[len(specs)]
            k = len(specs) + 1
            if activity is None:
                activity = last if interleaved is not None else _default_activity(param.type, self.mode)
            last = activity
            primal = rest[j]
            j += 1
            self._check_activity(activity, param, k, fname)
            self._check_type(primal, param.type, k, fname, "primal", byref)
            shadows: list[Shadow] = []
            if activity.has_shadow:
                used = 1 if stride is not None else width
                if interleaved is not None:
                    shadows = self._shadows(interleaved, 0, stride, width, param, k, fname)
                    interleaved = interleaved[used:]
                else:
                    shadows = self._shadows(rest, j, stride, width, param, k, fname)
                    j += used
            specs.append(ArgSpec(activity, primal, shadows, byref, kept))
        while j < len(rest) and (m := marker_name(rest[j])) is not None:  # trailing call-wide flags
            info = self._known(m)
            if info.role is not names.Role.FLAG:
                break
            j += 1 + info.values
        if self.api in ("reverse", "fwdsplit"):  # [the adjoint of f's result and] the tape follow f's arguments
            while j < len(rest):
                if (m := marker_name(rest[j])) is not None:
                    info = self._known(m)
                    if info.role is not names.Role.FLAG:
                        break
                    j += 1 + info.values
                    continue
                if len(site.trailing) == 2:
                    break
                site.trailing.append(rest[j])
                j += 1
        left = (len(rest) - j) + len(interleaved or [])
        if left:
            raise self.error(f"too many arguments to {self.entry} for '{fname}': it takes {len(params)} "
                             f"argument(s), {left} argument(s) left over")
        return specs

    def _split_interleaved(self, rest: list[Value]) -> tuple[list[Value], list[Value] | None]:
        """enzyme_interleave: primals (and their markers) before it, the shadows after it."""
        for j, v in enumerate(rest):
            if marker_name(v) == "enzyme_interleave":
                return rest[:j], rest[j + 1:]
        return rest, None

    def _stride(self, rest: list[Value], j: int, m: str) -> Value:
        v = rest[j + 1] if j + 1 < len(rest) else None
        if v is None or not isinstance(v.type, T.IntType):
            raise self.error(f"{m} must be followed by an integer byte stride")
        return v

    def _shadows(self, source: list[Value], at: int, stride, width: int, param, k: int, fname: str):
        need = 1 if stride is not None else width
        if at + need > len(source):
            raise self.error(f"too few arguments to {self.entry}: argument {k} of '{fname}' is duplicated "
                             f"but has no shadow")
        if stride is not None:
            if not isinstance(param.type, T.PointerType):
                raise self.error(f"argument {k} of '{fname}' is passed with a strided shadow (enzyme_dupv) "
                                 f"but is not a pointer")
            base = source[at]
            self._check_type(base, param.type, k, fname, "shadow")
            return [Shadow(base, stride if lane else None, lane) for lane in range(width)]
        out = []
        for lane in range(width):
            self._check_type(source[at + lane], param.type, k, fname, "shadow")
            out.append(Shadow(source[at + lane]))
        return out

    def _check_activity(self, activity: Activity, param, k: int, fname: str) -> None:
        if activity is Activity.OUT and self.mode is Mode.FORWARD:
            raise self.error("enzyme_out is not valid in forward mode (use enzyme_dup with a tangent)")
        if activity is Activity.OUT and not param.type.is_float_or_float_vector():
            raise self.error(f"enzyme_out given for argument {k} of '{fname}', which is not a floating-point scalar")
        if activity.has_shadow and self.mode is Mode.REVERSE and not isinstance(param.type, T.PointerType):
            raise self.error(f"argument {k} of '{fname}' is passed with enzyme_dup but is not a pointer "
                             f"(use enzyme_out for scalars in reverse mode)")

    def _check_type(self, v: Value, want: T.Type, k: int, fname: str, what: str, byref: bool = False) -> None:
        """Only conversions that keep the value's meaning (C varargs promotions, integer widths)."""
        have = v.type
        if byref:
            ok = isinstance(have, T.PointerType)
            want_text = "a pointer to the value (enzyme_byref)"
        else:
            ok = _compatible(self.module, have, want)
            want_text = _describe(self.module, want)
        if not ok:
            raise self.error(f"argument {k} of '{fname}' expects {want_text} as its {what}, but the call passes "
                             f"{_describe(self.module, have)}")


def _compatible(module, have: T.Type, want: T.Type) -> bool:
    have, want = module.resolve(have), module.resolve(want)
    if have == want:
        return True
    for cls in (T.IntType, T.FloatType, T.PointerType):
        if isinstance(have, cls) and isinstance(want, cls):
            return True
    return False


def _describe(module, ty: T.Type) -> str:
    ty = module.resolve(ty)
    if isinstance(ty, T.PointerType):
        return "a pointer"
    if isinstance(ty, T.IntType):
        return f"an integer ({ty})"
    if isinstance(ty, T.FloatType):
        return f"a floating-point value ({ty})"
    return f"a value of type {ty}"


def sret_type(module, attrs: str) -> T.Type | None:
    """The struct type of an `sret(<type>)` parameter attribute, or None."""
    k = attrs.find("sret(")
    if k < 0:
        return None
    from adcc.ir.parser import LineParser
    try:
        return module.resolve(LineParser(attrs[k + 5:], None).parse_type())
    except (ValueError, IndexError):
        return None


def _default_activity(ty: T.Type, mode: Mode) -> Activity:
    if isinstance(ty, T.PointerType):
        return Activity.DUP
    if ty.is_float_or_float_vector():
        return Activity.OUT if mode is Mode.REVERSE else Activity.DUP
    return Activity.CONST


def _plain(name: str) -> str:
    return name.strip('"')
