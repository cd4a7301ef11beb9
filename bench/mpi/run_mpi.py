"""The distributed heat equation's gradient (issue #14): heat_bench.c built with
`OMPI_CC=adcc mpicc -O2 -march=native` and the PMPI byte counter (pmpi_count.c), run with
`mpirun -np 2` at two block sizes; writes bench/results/mpi.md. Targets: gradient/primal <= 3 at
-np 2, and the reverse pass moves no more bytes between ranks than 2x the primal's messages."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
BIN = Path(sys.executable).parent
RATIO, BYTES = 3.0, 2.0
SIZES = (1 << 16, 1 << 18)  # points per rank


def _mpirun(exe: Path, n: int, ranks: int) -> dict:
    argv = ["mpirun", "--oversubscribe", "--mca", "mpi_yield_when_idle", "1", "-np", str(ranks), str(exe), str(n)]
    if os.geteuid() == 0:
        argv.insert(1, "--allow-run-as-root")
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=600).stdout
    return next(json.loads(line) for line in out.splitlines() if line.startswith("{"))


def _verdict(value: float, target: float) -> str:
    return f"<= {target:g}: {'met' if value <= target else 'missed'}"


def main(argv: list[str]) -> int:
    if shutil.which("mpicc") is None or shutil.which("mpirun") is None:
        print("bench/mpi: Open MPI not installed (make test-setup installs it); skipped")
        return 0
    quick = "--quick" in argv
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "heat_bench"
        env = dict(os.environ, OMPI_CC=str(BIN / "adcc"))
        subprocess.run(["mpicc", "-O2", "-march=native", str(HERE / "heat_bench.c"), str(HERE / "pmpi_count.c"),
                        "-o", str(exe), "-lm"], check=True, env=env)
        rows = [_mpirun(exe, n, ranks) for n in (SIZES[:1] if quick else SIZES) for ranks in (1, 2)]
    load = os.getloadavg()[0]
    lines = ["# The gradient of a distributed heat equation (OMPI_CC=adcc mpicc -O2 -march=native, mpirun -np 2)", "",
             "`bench/mpi/heat_bench.c`: a 1-D heat equation in blocks over the ranks, 20 explicit steps, each with a",
             "halo exchange (MPI_Isend/MPI_Irecv/MPI_Waitall), buffers swapped between steps; gradient of the final",
             "energy with respect to the initial state and alpha. Times: best of 15, the slowest rank's wall time;",
             "the 1-rank rows (no message leaves the rank) give the same kernel's ratio without communication.",
             "Bytes: what rank 0 sends point to point, counted by PMPI wrappers (`bench/mpi/pmpi_count.c`) that see",
             "the program's messages and those of adcc's MPI runtime; the gradient's bytes are its augmented",
             "forward pass (the primal's messages again) plus its reverse pass.",
             f"Measured with load average {load:.1f} on {os.cpu_count()} cores (2 ranks oversubscribe a shared",
             "machine: wall times are noisy).", "",
             "CPU: the least CPU time of a rank's thread per call, the slowest rank's (the work; a rank",
             "waiting for a message polls and yields, mpi_yield_when_idle, which counts too).", "",
             "| ranks | points per rank x steps | primal (s) | gradient (s) | gradient/primal | primal CPU (s) | "
             "gradient CPU (s) | gradient/primal, CPU | primal bytes | gradient bytes | reverse bytes / primal bytes |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    alone = {r["points_per_rank"]: r["primal_s"] for r in rows if r["ranks"] == 1}
    alone_grad = {r["points_per_rank"]: r["grad_s"] for r in rows if r["ranks"] == 1}
    notes = []
    for r in rows:
        ratio = r["grad_s"] / r["primal_s"]
        slowed = r["primal_s"] / alone.get(r["points_per_rank"], r["primal_s"])
        if r["ranks"] == 2 and slowed > 10:  # waiting for the other rank to be scheduled, not computing
            notes.append(f"At {r['points_per_rank']} points the 2-rank primal took {slowed:.0f}x the 1-rank one: "
                         "its time is the latency of ranks waiting to be scheduled on an oversubscribed machine, "
                         "so that row's ratio says nothing about the gradient's cost (verdict withheld).")
        gslowed = r["grad_s"] / alone_grad.get(r["points_per_rank"], r["grad_s"])
        if r["ranks"] == 2 and slowed <= 10 and gslowed > 3:  # the same work per rank as the 1-rank run
            notes.append(f"At {r['points_per_rank']} points the 2-rank gradient took {gslowed:.0f}x the 1-rank one "
                         f"(the primal {slowed:.1f}x) for the same work per rank: it waits for the other rank "
                         "(two halo exchanges per step instead of one) on an oversubscribed machine.")
        reverse = (r["grad_bytes"] - r["primal_bytes"]) / max(r["primal_bytes"], 1)
        target = f" ({_verdict(ratio, RATIO)})" if r["ranks"] == 2 and slowed <= 10 else ""
        moved = f"{reverse:.2f} ({_verdict(reverse, BYTES)})" if r["primal_bytes"] else "-"
        lines.append(f"| {r['ranks']} | {r['points_per_rank']}x{r['steps']} | {r['primal_s']:.3g} | {r['grad_s']:.3g} | "
                     f"{ratio:.1f}{target} | {r['primal_cpu_s']:.3g} | {r['grad_cpu_s']:.3g} | "
                     f"{r['grad_cpu_s'] / r['primal_cpu_s']:.1f} | {r['primal_bytes']} | {r['grad_bytes']} | {moved} |")
    lines += ["", *notes, "", "The reverse pass sends each halo adjoint once: as many bytes as the primal's messages. The time",
              "ratio is that of the serial stencil's reverse (compare bench/results/openmp.md, 1 thread, same",
              "kernel without MPI): the MPI rules add a record per message and nothing per grid point.", "",
              "Time target (gradient/primal <= 3 at -np 2): not shown met. Where the 2-rank primal is dominated by",
              "scheduling latency its ratio is withheld; where messages are cheap (an idle machine) the ratio",
              "tends to the 1-rank rows', which miss it at 262144 points. A rank's gradient is the serial stencil's",
              "(bench/results/openmp.md, the build without -fopenmp): `perf record` of the 1-rank run shows the",
              "augmented and the reverse stencil loops, both vector code, and no visible share of adcc's MPI",
              "runtime (runtime/adcc_mpi.c). What remains is the tape, 8 bytes per point and step written and read",
              "back while the primal's arrays stay in cache (docs/openmp.md, Performance); a gradient after the",
              "first reuses the previous gradient's tape memory (no page faults). At -np 2 a rank executes the",
              "same instructions as alone (callgrind); its ratio rises where the two ranks' tapes together",
              "outgrow the shared L3, as one rank's does at twice the points (docs/openmp.md, \"Why the",
              "scaling targets are missed\")."]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mpi.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
