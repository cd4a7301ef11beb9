"""What reverse mode tapes (adcc/ad/tape.py), checked on small kernels: only the lines that matter.

Each kernel is compiled like the driver does (front end, call-site separation, pre-AD O2), then
differentiated; a hook records the tape plan of the differentiated function."""
import subprocess

import pytest

from adcc.ad.api import ADOptions
from adcc.ad.rewrite import rewrite_module
from adcc.ad.tape import RecordLayout
from adcc.driver import stages
from adcc.ir import parse_module

HEADER = "extern void __enzyme_autodiff(void *, ...);\nint enzyme_dup, enzyme_const;\n"


def plan_of(tmp_path, body: str, call: str, name: str = "f", caller: str | None = None, cxx: bool = False):
    """`caller`: the whole function that makes the call (default: g(x, dx, y, dy, n) { call; })."""
    src = tmp_path / ("k.cpp" if cxx else "k.c")
    if caller is None:
        caller = f"void g(double *x, double *dx, double *y, double *dy, int n) {{ {call}; }}"
    src.write_text(HEADER + "#include <stdlib.h>\n" + body + "\n" + caller + "\n")
    bc = tmp_path / "k.bc"
    subprocess.run(["clang++-22" if cxx else "clang-22", "-O2", "-Xclang", "-disable-llvm-passes", "-emit-llvm",
                    "-c", str(src), "-o", str(bc)], check=True)
    text = stages.read_bitcode(bc.read_bytes())
    text = stages.pre_ad_optimize(stages.separate_call_sites(text), stages.target_machine(cpu=None, opt=2))
    import adcc.ad.reverse as R
    seen = {}
    orig = R.ReverseSynthesizer.build

    def build(self):
        orig(self)
        if self.spec.name == name:
            seen["s"] = self
    R.ReverseSynthesizer.build = build
    try:
        rewrite_module(parse_module(text), ADOptions())
    finally:
        R.ReverseSynthesizer.build = orig
    return seen["s"]


def loop_record_bytes(s) -> int:
    """Tape bytes per iteration of the innermost loops (block records inside loops)."""
    total = 0
    for blk in s.order:
        lp = s.plan.li.loop_of(blk)
        if lp is not None and not lp.children:
            types = s.record_types(blk)
            total += RecordLayout(types).size if types else 0
    return total


def test_dot_product_tapes_nothing_per_iteration(tmp_path):
    s = plan_of(tmp_path, "double f(const double *a, const double *b, int n) { double t = 0;"
                          " for (int i = 0; i < n; i++) t += a[i] * b[i]; return t; }",
                "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, n)")
    assert s.spec.readonly_memory  # nothing is written: loads are re-executed in reverse
    assert loop_record_bytes(s) == 0


def test_recurrence_tapes_one_value_per_iteration_into_a_preallocated_loop_tape(tmp_path):
    s = plan_of(tmp_path, "#include <math.h>\ndouble f(double *x, int n) { double v = x[0];"
                          " for (int i = 0; i < n; i++) v = sin(v) * 0.9 + 0.1; return v; }",
                "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n)")
    assert loop_record_bytes(s) == 16  # the double v (16-byte grain); no block ids, no counters
    assert len(s.fast) == 1


def test_loop_invariant_value_is_taped_once_at_the_loop_exit(tmp_path):
    body = ("double f(double *x, double *y, int n) { double s = 0;"
            " for (int i = 0; i < n; i++) { double xi = x[i] * x[i]; y[i] = 0;"
            "   for (int j = 0; j < n; j++) s += xi * y[j] * y[j]; y[i] = s; } return s; }")
    s = plan_of(tmp_path, body, "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, n)")
    inner = [lp for lp in s.plan.li.loops if not lp.children and lp.parent is not None]
    assert inner
    hoisted = [k for cl in s.plan.counted.values() if cl.loop in inner for k in s.plan.hoisted.get(id(cl), [])]
    assert hoisted, "xi is invariant in the inner loop: taped at its exit, not per iteration"
    edge_kinds = [k for (e, x), cls in s.plan.exit_edges.items() for cl in cls if cl.loop in inner
                  for k, _ in s.plan.edge_record(next(b for b in s.order if id(b) == e),
                                                  next(b for b in s.order if id(b) == x))]
    assert "h" in edge_kinds
    # the inner loop runs n times: its count is computed in reverse, not read from the tape
    assert "c" not in edge_kinds
    assert all(id(cl) in s.plan.count_from for cl in s.plan.counted.values() if cl.loop in inner)


def test_branch_on_the_induction_variable_is_recomputed_not_taped(tmp_path):
    body = ("#include <math.h>\ndouble f(double *x, int n) { double s = 0;"
            " for (int i = 0; i < n; i++) { double v; if (i & 1) v = sin(x[i]); else v = cos(x[i]);"
            "   s += v * x[i]; } return s; }")
    s = plan_of(tmp_path, body, "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n)")
    assert s.plan.choice, "the if/else merge knows its predecessor from (i & 1)"
    for blk in s.order:
        if id(blk) in s.plan.choice:
            assert no_block_id(s.record_types(blk))


def no_block_id(types) -> bool:
    return all(str(t) != "i32" for t in types)


@pytest.mark.parametrize("restrict,expect_reload", [("restrict", True), ("", False)])
def test_restrict_arguments_are_reloaded(tmp_path, restrict, expect_reload):
    body = (f"double f(const double *{restrict} a, double *{restrict} c, int n) {{ double s = 0;"
            " for (int i = 0; i < n; i++) { c[i] = a[i] * a[i]; s += c[i] * a[i]; } return s; }")
    s = plan_of(tmp_path, body, "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy, enzyme_const, n)")
    assert (0 in s.spec.reload_args) == expect_reload


MATMUL = ("double f(const double *a, const double *b, double *c, int n) {"
          " for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { double s = 0;"
          "   for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j]; c[i * n + j] = s; }"
          " double l = 0; for (int i = 0; i < n * n; i++) l += c[i] * c[i]; return l; }")
MATMUL_CALL = "__enzyme_autodiff((void *)f, enzyme_dup, a, da, enzyme_dup, b, db, enzyme_dup, c, dc, enzyme_const, n)"
MATMUL_SHADOWS = "double *da = calloc(n * n, 8), *db = calloc(n * n, 8), *dc = calloc(n * n, 8);"


@pytest.mark.parametrize("pointers,expect_reload", [
    # distinct allocations at the call site: as good as restrict between f's parameters
    ("double *a = malloc(n * n * 8), *b = malloc(n * n * 8), *c = malloc(n * n * 8);", True),
    ("static double a[64], b[64], c[64];", True),
    ("double a[64], b[64], c[64];", True),
    # c inside a's allocation, or pointers the caller received: c may be a or b
    ("double *a = malloc(3 * n * n * 8), *b = a + n * n, *c = a + 2 * n * n;", False),
    ("double *a = p, *b = q, *c = r;", False),
])
def test_distinct_objects_at_the_call_site_are_reloaded(tmp_path, pointers, expect_reload):
    # f's loads of a and b are not taped when the call site proves that c (written) is another object
    caller = f"void g(double *p, double *q, double *r, int n) {{ {pointers} {MATMUL_SHADOWS} {MATMUL_CALL}; }}"
    s = plan_of(tmp_path, MATMUL, MATMUL_CALL, caller=caller)
    assert (set(s.spec.reload_args) >= {0, 1}) == expect_reload
    assert 2 not in s.spec.reload_args  # c is written
    assert (nested_record_bytes(s) == 0) == expect_reload


def nested_record_bytes(s) -> int:
    """Tape bytes per iteration of the innermost loops inside other loops (matmul's k loop)."""
    total = 0
    for blk in s.order:
        lp = s.plan.li.loop_of(blk)
        if lp is not None and not lp.children and lp.depth > 1:
            types = s.record_types(blk)
            total += RecordLayout(types).size if types else 0
    return total


def test_restrict_argument_of_the_caller_is_distinct_from_its_allocations(tmp_path):
    caller = (f"void g(double *restrict a, double *p, int n) {{ double *b = malloc(n * n * 8), *c = malloc(n * n * 8);"
              f" {MATMUL_SHADOWS} {MATMUL_CALL}; }}")
    assert set(plan_of(tmp_path, MATMUL, MATMUL_CALL, caller=caller).spec.reload_args) >= {0, 1}


def test_chained_ternaries_replay_their_branches_instead_of_taping_block_ids(tmp_path):
    # left = i > 0 ? x[i-1] : 0; right = i < n-1 ? x[i+1] : 0: merges below nested branches
    body = ("#include <math.h>\ndouble f(double *x, int n) { double s = 0;"
            " for (int i = 0; i < 8; i++) { double l = i > 0 ? x[i - 1] : 0.0, r = i < 7 ? x[i + 1] : 0.0;"
            "   s += sin(x[i]) * (l - 2.0 * x[i] + r); } return s; }")
    s = plan_of(tmp_path, body, "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n)")
    loop_blocks = [b for b in s.order if s.plan.li.loop_of(b) is not None]
    assert all(no_block_id(s.record_types(b)) for b in loop_blocks)


def test_induction_variable_with_a_runtime_step_is_recomputed(tmp_path):
    # x[j] for j = k, k + len, k + 2 len, ...: the addresses (and their shadows) follow from the
    # iteration counter and the loop-invariant step, so a butterfly-like update tapes nothing
    s = plan_of(tmp_path, "void f(double *x, int n, int len) { for (int k = 0; k < len; k++)"
                          " for (int j = k; j < n; j += len) x[j] = x[j] * x[j] + 1.0; }",
                "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n, enzyme_const, 3)")
    inner = [b for b in s.order if s.plan.li.loop_of(b) is not None and not s.plan.li.loop_of(b).children]
    taped = [v for b in inner for kind, v in s.plan.taped[id(b)] if kind == "s"]
    assert taped == []  # no shadow pointer per iteration


def test_triangular_loop_count_is_computed_not_taped(tmp_path):
    # for (j = i + 1; j < n; j++): the count n - (i + 1) follows from the outer counter
    s = plan_of(tmp_path, "double f(double *x, int n) { double s = 0; for (int i = 0; i < n; i++)"
                          " for (int j = i + 1; j < n; j++) s += x[i] * x[j]; return s; }",
                "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_const, n)")
    inner = [cl for cl in s.plan.counted.values() if not cl.loop.children and cl.loop.parent is not None]
    assert inner and all(id(cl) in s.plan.count_from for cl in inner)


# GradBench's GMM (#17): scratch vectors and a triangular matrix-vector product. Two std::vector
# temporaries are each an allocation or null (d == 0), so LLVM cannot hoist xc[i] out of the j loop;
# std::vector's constructor throws (invoke), which once made every argument non-reloadable.
TRIANGLE = """#include <vector>
double f(const double *__restrict l, const double *__restrict mu, const double *__restrict x, int d, int n) {
  std::vector<double> xc(d), qx(d);
  double s = 0;
  for (int p = 0; p < n; p++) {
    for (int j = 0; j < d; j++) xc[j] = x[p * d + j] - mu[j];
    for (int j = 0; j < d; j++) qx[j] = xc[j];
    int k = 0;
    for (int i = 0; i < d; i++)
      for (int j = i + 1; j < d; j++) { qx[j] = qx[j] + l[k] * xc[i]; k++; }
    for (int j = 0; j < d; j++) s += qx[j];
  }
  return s;
}"""


def test_cpp_vector_scratch_triangle_tapes_nothing_per_inner_iteration(tmp_path):
    s = plan_of(tmp_path, TRIANGLE, "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy,"
                                    " enzyme_const, dy, enzyme_const, n, enzyme_const, n)", name="_Z1fPKdS0_S0_ii",
                cxx=True)
    assert 0 in s.spec.reload_args  # l: restrict, never written (the throwing paths do not count)
    assert loop_record_bytes(s) == 0  # l[k] re-loaded, xc[i] taped once per i (hoisted), not per j
    assert invariant_loads_in_loops(s) == 0


def test_load_stays_in_a_loop_that_writes_its_object(tmp_path):
    # in place: the j loop writes xc, so xc[i] may change there as far as adcc can tell
    body = TRIANGLE.replace("qx[j] = qx[j] + l[k] * xc[i]", "xc[j] = xc[j] + l[k] * xc[i]")
    s = plan_of(tmp_path, body, "__enzyme_autodiff((void *)f, enzyme_dup, x, dx, enzyme_dup, y, dy,"
                                " enzyme_const, dy, enzyme_const, n, enzyme_const, n)", name="_Z1fPKdS0_S0_ii",
                cxx=True)
    assert invariant_loads_in_loops(s) == 1  # xc[i], left in the j loop


def invariant_loads_in_loops(s) -> int:
    """Loads with a loop-invariant address left in an innermost loop of the differentiated copy."""
    return sum(1 for lp in s.plan.li.loops if not lp.children for b in lp.blocks for i in b.instructions
               if i.opcode == "load" and lp.is_invariant(i.operands[0]))
