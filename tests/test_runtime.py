"""The C runtime: its unit tests, its per-user cached build (concurrent-safe), and its API
names as the AD code generator will call them."""
from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

from driver_helpers import REPO, run

from adcc.driver import runtime

API = ["adcc_tape_init", "adcc_tape_push", "adcc_tape_pop", "adcc_tape_grow", "adcc_tape_free", "adcc_tape_free_later",
       "adcc_shadow_alloc", "adcc_shadow_calloc", "adcc_shadow_realloc_fwd", "adcc_shadow_realloc_rev",
       "adcc_shadow_free", "adcc_shadow_size", "adcc_fatal", "adcc_tape_note", "adcc_tape_last_bytes",
       "adcc_tape_peak_bytes", "adcc_shadow_stack_alloc", "adcc_shadow_stack_free", "adcc_shadow_release",
       "adcc_shadow_live_count", "adcc_tape_grow_zeroed", "adcc_free_later", "adcc_free_mark",
       "adcc_free_flush", "adcc_omp_team_new", "adcc_omp_team_enter", "adcc_omp_team_leave", "adcc_omp_team_size",
       "adcc_omp_team_free", "adcc_omp_ticket", "adcc_omp_turn_wait", "adcc_omp_turn_pass", "adcc_tape_live_bytes",
       "adcc_split_tape_new", "adcc_split_tape_init", "adcc_split_tape_check", "adcc_split_tape_free",
       "adcc_split_enter", "adcc_split_leave", "adcc_split_tape_live_count", "adcc_tape_mirror",
       "adcc_shadow_realloc", "adcc_shadow_free_if_ours", "adcc_sort_permutation", "adcc_permute", "adcc_unpermute",
       "adcc_permutation_free", "adcc_replay_begin", "adcc_replay_end", "adcc_replay_put", "adcc_replay_get",
       "adcc_replay_put_bytes", "adcc_replay_get_bytes", "adcc_fp_round",
       "adcc_context_heap_shadow", "adcc_context_zero_heap",
       # checkpointed loops (runtime/adcc_revolve.c)
       "adcc_tape_limit", "adcc_checkpoint_wanted", "adcc_revolve_new", "adcc_revolve_args", "adcc_revolve_tape",
       "adcc_revolve_state", "adcc_revolve_begin", "adcc_revolve_taped", "adcc_revolve_counted", "adcc_revolve_next",
       "adcc_revolve_free", "adcc_revolve_bound", "adcc_revolve_last"]


def test_synthesized_code_calls_only_declared_runtime_functions():
    """Every runtime symbol the AD code generator emits exists in the runtime's header."""
    import re
    header = "".join((REPO / "runtime" / h).read_text() for h in ("adcc_runtime.h", "adcc_check.h", "adcc_fortran.h",
                                                                     "adcc_checkpoint.h"))
    declared = set(re.findall(r"\b(adcc_[a-z_0-9]+)\(", header))
    declared |= set(re.findall(r"\b(adcc_[a-z_0-9]+);", header))  # and its globals (adcc_replay_at)
    # the MPI helpers have no header of their own (their prototypes need the program's mpi.h)
    mpi = (REPO / "runtime" / "adcc_mpi.c").read_text()
    declared |= set(re.findall(r"^[a-z][\w \*]*\b(adcc_mpi_[a-z_0-9]+)\(", mpi, re.M))
    emitted = set()
    for py in (REPO / "adcc" / "ad").rglob("*.py"):
        emitted |= set(re.findall(r"[\"'@](adcc_[a-z_0-9]+)[\"'(]", py.read_text()))
    assert emitted, "the generator emits runtime calls"
    assert emitted <= declared, emitted - declared


def test_c_unit_tests(tmp_path):
    exe = tmp_path / "test_runtime"
    r = run(["clang-22", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
             "-Wall", "-Wextra", "-Werror", f"-I{REPO / 'runtime'}", REPO / "runtime" / "adcc_runtime.c",
             REPO / "runtime" / "tests" / "test_runtime.c", "-o", exe])
    assert r.returncode == 0, r.stderr
    r = run([exe])
    assert r.returncode == 0, r.stderr
    assert "runtime tests passed" in r.stdout


def test_fatal_message(tmp_path):
    (tmp_path / "f.c").write_text('#include "adcc_runtime.h"\nint main(void){ adcc_fatal("boom"); }\n')
    exe = tmp_path / "f"
    assert run(["clang-22", f"-I{REPO / 'runtime'}", tmp_path / "f.c", REPO / "runtime" / "adcc_runtime.c",
                "-o", exe]).returncode == 0
    r = run([exe])
    assert r.returncode != 0 and r.stderr == "adcc runtime error: boom\n"


def test_header_declares_the_api():
    header = (REPO / "runtime" / "adcc_runtime.h").read_text()
    declared = re.findall(r"\b(adcc_\w+)\s*\(", header)
    assert sorted(declared) == sorted(API)


def test_ensure_runtime_builds_once_and_concurrently(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: runtime.ensure_runtime(), range(4)))
    lib_dirs = {r.lib_dir for r in results}
    assert len(lib_dirs) == 1
    rt = results[0]
    assert rt.lib_dir.startswith(str(tmp_path / "cache" / "adcc" / "runtime"))
    assert os.path.isfile(rt.lib_a) and os.path.isfile(rt.bitcode)
    siblings = os.listdir(os.path.dirname(rt.lib_dir))
    assert siblings == [os.path.basename(rt.lib_dir)]  # losers cleaned up their temp dirs
    symbols = subprocess.run(["llvm-nm-22", rt.lib_a], capture_output=True, text=True).stdout
    for name in API:
        assert f"T {name}" in symbols
    assert open(rt.bitcode, "rb").read(4) == b"BC\xc0\xde"
    mtime = os.stat(rt.lib_a).st_mtime_ns
    assert runtime.ensure_runtime().lib_a == rt.lib_a and os.stat(rt.lib_a).st_mtime_ns == mtime


def test_runtime_is_linked(tmp_path):
    (tmp_path / "u.c").write_text('#include <stdio.h>\n#include "adcc_runtime.h"\n'
                                  'int main(void){ adcc_tape t; adcc_tape_init(&t);\n'
                                  '*(double*)adcc_tape_push(&t, 8) = 2.5; printf("%g\\n", *(double*)adcc_tape_pop(&t, 8));\n'
                                  'adcc_tape_free(&t); return 0; }\n')
    from driver_helpers import ADCC
    r = run([ADCC, f"-I{REPO / 'runtime'}", "u.c", "-o", "u"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert run([tmp_path / "u"]).stdout == "2.5\n"
