"""`__enzyme_batch(f, enzyme_width, N, args...)`: f evaluated on N argument sets.

Each argument is shared by every lane (`enzyme_scalar`) or given per lane (`enzyme_vector`: N
values; `enzyme_buffer, stride, p`: lane k's pointer is p + k * stride bytes); the call returns
the N results in order (a struct, array or vector of N, as `__enzyme_fwddiff` with `enzyme_width`
returns its tangents). adcc runs the lanes one after another at the call site: N calls of f, which
the optimizer inlines and vectorizes where it can. The calls are ordinary code, so a batch inside a
function that is differentiated (or batched) again needs nothing special. A function returning a
struct through memory writes lane k's result at the call's result memory + k * sizeof(struct).
"""
from __future__ import annotations

from adcc.ad.callsite import CallSite, parse_batch_site
from adcc.ad.common import convert
from adcc.ad.results import deliver
from adcc.ad.srcloc import location_of
from adcc.analysis.spec import Mode
from adcc.diagnostics import CompileError
from adcc.ir import layout
from adcc.ir import types as T
from adcc.ir.builder import Builder
from adcc.ir.values import Value


def rewrite_batch(module, inst) -> None:
    site = parse_batch_site(module, inst)
    fn = module.function(site.fn_name)
    fnty = fn.function_type
    b = Builder(module).position_before(inst)
    params = list(fn.args)
    lane_sret = None
    if site.target_sret is not None:
        if site.sret is None:
            raise CompileError(f"__enzyme_batch of '{site.fn_name.strip(chr(34))}', which returns a struct through "
                               f"memory: declare the call's result as a struct of {site.width} of them",
                               location_of(module, inst))
        lane_sret = layout.alloc_size(module, site.target_sret)
        params = params[1:]
    results: list[Value] = []
    for lane in range(site.width):
        args: list[Value] = []
        if lane_sret is not None:
            args.append(b.byte_gep(site.sret, lane * lane_sret) if lane else site.sret)
        for p, a in zip(params, site.args):
            s = a.lanes[0] if a.scalar else a.lanes[lane]
            v = s.value if s.stride is None else b.gep(T.i8, s.value, [b.mul(s.stride, Builder.iconst(
                s.stride.type, s.lane))])
            args.append(convert(b, v, p.type))
        r = b.call(site.fn_name, fn.ret_type, args, fnty=fnty, arg_attrs=_sret_attrs(fn, lane_sret))
        if not isinstance(fn.ret_type, T.VoidType):
            results.append(r)
    call = CallSite(inst, "batch", Mode.FORWARD, site.fn_name, [], width=site.width,
                    sret=None if lane_sret is not None else site.sret, result_type=site.result_type)
    if lane_sret is not None:
        call.result_type = T.void if not inst.uses else inst.type
    deliver(b, call, results)


def _sret_attrs(fn, lane_sret) -> list[str] | None:
    if lane_sret is None:
        return None
    attrs = fn.param_attrs[0]
    k = attrs.find("sret(")
    if k < 0:
        return None
    depth, end = 0, k
    for end in range(k, len(attrs)):
        depth += attrs[end] == "("
        depth -= attrs[end] == ")"
        if depth == 0 and attrs[end] == ")":
            break
    return [attrs[k:end + 1]]
