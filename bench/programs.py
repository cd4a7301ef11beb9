"""The AD benchmark programs (issue #5) and their inputs: one table shared by run_bench.py and
tests/test_bench_programs.py. Sizes are program arguments; ADBench inputs live in shared/."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
ADBENCH = Path(os.environ.get("ADCC_ADBENCH_DIR", REPO.parent / "shared" / "adbench-data"))


@dataclass(frozen=True)
class Program:
    name: str                          # also the source file bench/<name>.c
    data: str | None = None            # ADBench input for --quick (relative to ADBENCH)
    runs: tuple[tuple[str, ...], ...] = ((),)  # argument lists of the full benchmark, one per size
    file: str = ""                     # the source when it is not <name>.c
    jax: bool = True                   # jax_kernels.py has this kernel

    @property
    def source(self) -> Path:
        return BENCH / (self.file or f"{self.name}.c")

    @property
    def compiler(self) -> str:
        """The adcc console script that builds it."""
        return "adflang" if self.source.suffix == ".f90" else "adcc"

    def quick_args(self) -> list[str]:
        return ["--quick"] + ([str(ADBENCH / self.data)] if self.data else [])

    def full_args(self) -> list[list[str]]:
        return [[str(ADBENCH / a) if a.endswith(".txt") else a for a in run] for run in self.runs]


PROGRAMS: tuple[Program, ...] = (
    Program("gmm", "gmm/1k/gmm_d10_K25.txt",
            (("gmm/1k/gmm_d10_K25.txt",), ("gmm/1k/gmm_d64_K10.txt",))),
    Program("ba", "ba/ba1_n49_m7776_p31843.txt",
            (("ba/ba1_n49_m7776_p31843.txt",),)),
    Program("lstm", "lstm/lstm_l2_c1024.txt",
            (("lstm/lstm_l2_c1024.txt",), ("lstm/lstm_l4_c1024.txt",))),
    Program("ode", None, (("--size", "100000"),)),   # one line each for ode_euler and ode_rk4
    Program("fft", None, (("--size", "14"),)),
    Program("brusselator", None, (("--size", "500"),)),
    # gmm.c's algorithm written in Fortran (issue #15): its ratio is reported beside gmm's
    Program("gmm_fortran", "gmm/1k/gmm_d10_K25.txt",
            (("gmm/1k/gmm_d10_K25.txt",), ("gmm/1k/gmm_d64_K10.txt",)), file="gmm.f90", jax=False),
)
