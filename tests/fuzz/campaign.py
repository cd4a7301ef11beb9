#!/usr/bin/env python3
"""A fuzz campaign: many generated programs (tests/fuzz/gen.py, the widened grammar by default)
compiled with adcc at several -O levels and run; each program checks reverse and forward mode
against central finite differences. Opt-in (`make fuzz-campaign`), not part of `make test`.

Every outcome is counted per program (one generated function = one program) and -O level:
  ok        both modes matched finite differences
  wrong     a derivative (or the primal after an AD call) did not match
  refused   adcc stopped with a located error (a construct it does not differentiate)
  traceback the compiler printed a Python traceback (a bug, never acceptable)
  crash     the program died (signal, abort) or timed out
A failing file is rebuilt one seed at a time to attribute a compile failure or crash to seeds.
The report (stdout and OUT/report.md) lists each failing seed with its reproducer.

  python tests/fuzz/campaign.py --programs 2000 --out build/fuzz-campaign
  python tests/fuzz/campaign.py --seeds 40-47 --opts -O2 --out /tmp/c    (a few seeds)
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import importlib.util
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
_spec = importlib.util.spec_from_file_location("adcc_fuzz_gen", HERE / "gen.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

OUTCOMES = ("ok", "wrong", "refused", "traceback", "crash")


def _adcc() -> str:
    local = Path(sys.executable).parent / "adcc"
    return str(local if local.exists() else REPO / ".venv" / "bin" / "adcc")


def _build_run(src: Path, opt: str, timeout: int) -> tuple[str, str]:
    """(outcome of the whole file, output)."""
    exe = src.with_name(src.stem + ".exe")
    try:
        c = subprocess.run([_adcc(), opt, str(src), "-o", str(exe), "-lm"], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return "crash", f"compile timed out after {timeout}s"
    if "Traceback" in c.stderr:
        return "traceback", c.stderr[-4000:]
    if c.returncode != 0:
        return "refused", c.stderr[-4000:]
    try:
        r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=timeout, cwd=src.parent)
    except subprocess.TimeoutExpired:
        return "crash", f"run timed out after {timeout}s"
    finally:
        exe.unlink(missing_ok=True)
    out = r.stdout + r.stderr
    if r.returncode == 0 and "PASS" in r.stdout.splitlines():
        return "ok", out
    if r.returncode == 1 and re.search(r"^FAIL \d+ mismatches", r.stdout, re.M):
        return "wrong", out
    return "crash", f"exit {r.returncode}\n{out[-4000:]}"


def _check_file(seeds: list[int], opt: str, out_dir: Path, grammar: dict, timeout: int) -> dict[int, tuple[str, str]]:
    """Outcome per seed of one file at one -O level."""
    src = out_dir / f"fuzz_{seeds[0]:05d}{opt}.c"
    src.write_text(gen.program(seeds, **grammar))
    kind, out = _build_run(src, opt, timeout)
    if kind == "ok":
        src.unlink()
        return {s: ("ok", "") for s in seeds}
    if kind == "wrong":
        bad = {int(m) for m in re.findall(r"^FAIL s(\d+) ", out, re.M)}
        lines = {s: "\n".join(l for l in out.splitlines() if l.startswith(f"FAIL s{s} ")) for s in bad}
        return {s: ("wrong", lines[s]) if s in bad else ("ok", "") for s in seeds}
    result = {}
    for s in seeds:  # a compile failure or crash: which seeds?
        one = out_dir / f"seed_{s:05d}{opt}.c"
        one.write_text(gen.program([s], **grammar))
        k1, o1 = _build_run(one, opt, timeout)
        if k1 == "ok":
            one.unlink()
        result[s] = (k1, o1)
    return result


def reproduce(seed: int, opt: str, grammar: dict) -> str:
    flags = "".join(f" --{k.replace('_', '-')}" for k, v in grammar.items() if v and k != "sci")
    flags += " --no-sci" if grammar.get("sci") is False else ""
    return f"python tests/fuzz/gen.py{flags} --seed {seed} -o f.c && adcc {opt} f.c -o f -lm && ./f"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", type=int, default=2000, help="number of programs (seeds from --start)")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seeds", help="explicit seeds instead, e.g. 0-99 or 3,17")
    ap.add_argument("--opts", default="-O0,-O2,-O3")
    ap.add_argument("--per-file", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--base", action="store_true", help="the base grammar instead of the widened one")
    ap.add_argument("--long-double", action="store_true")
    ap.add_argument("--asm-in-f", action="store_true")
    ap.add_argument("--closures", action="store_true")
    ap.add_argument("--no-sci", action="store_true",
                    help="the widened grammar without its scientific-code constructs (gen.py SCI_KINDS)")
    ap.add_argument("--out", default="build/fuzz-campaign")
    a = ap.parse_args(argv)
    seeds = gen.parse_seeds(a.seeds) if a.seeds else list(range(a.start, a.start + a.programs))
    opts = a.opts.split(",")
    grammar = {"wide": not a.base, "long_double": a.long_double, "asm_in_f": a.asm_in_f, "closures": a.closures,
               "sci": False if a.no_sci else None}
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = [seeds[i:i + a.per_file] for i in range(0, len(seeds), a.per_file)]
    jobs = [(g, o) for g in groups for o in opts]
    results: dict[tuple[int, str], tuple[str, str]] = {}
    t0 = time.time()
    with futures.ThreadPoolExecutor(a.jobs) as pool:
        running = {pool.submit(_check_file, g, o, out_dir, grammar, a.timeout): (g, o) for g, o in jobs}
        for done, fut in enumerate(futures.as_completed(running), 1):
            g, o = running[fut]
            for s, r in fut.result().items():
                results[(s, o)] = r
            bad = sum(1 for s in g if results[(s, o)][0] != "ok")
            print(f"[{done}/{len(jobs)} {time.time() - t0:6.0f}s] seeds {g[0]}-{g[-1]} {o}: "
                  f"{'ok' if not bad else f'{bad} failing'}", flush=True)
    report = _report(seeds, opts, results, grammar, time.time() - t0)
    (out_dir / "report.md").write_text(report)
    print(report)
    return 0 if all(r[0] == "ok" for r in results.values()) else 1


def _report(seeds: list[int], opts: list[str], results: dict, grammar: dict, seconds: float) -> str:
    kind = "widened" if grammar["wide"] else "base"
    lines = [f"# adcc fuzz campaign: {len(seeds)} programs ({kind} grammar), {', '.join(opts)}, "
             f"reverse and forward mode each", "",
             f"{seconds / 60:.0f} minutes. Seeds {seeds[0]}..{seeds[-1]}.", "",
             "| -O | " + " | ".join(OUTCOMES) + " |", "|---|" + "---|" * len(OUTCOMES)]
    for o in opts:
        c = Counter(results[(s, o)][0] for s in seeds)
        lines.append(f"| {o} | " + " | ".join(str(c.get(k, 0)) for k in OUTCOMES) + " |")
    total = Counter(r[0] for r in results.values())
    lines.append("| all | " + " | ".join(str(total.get(k, 0)) for k in OUTCOMES) + " |")
    failing = sorted((s, o) for (s, o), r in results.items() if r[0] != "ok")
    if failing:
        lines += ["", "## Failures", ""]
        for s, o in failing:
            k, detail = results[(s, o)]
            first = next((ln for ln in detail.splitlines() if ln.strip()), "")[:300]
            lines.append(f"- seed {s} {o}: {k}: `{first}`  \n  reproduce: `{reproduce(s, o, grammar)}`")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
