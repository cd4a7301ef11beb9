"""LLVM's work (read, optimize, differentiate, emit) runs in a forked worker process, on a
thread with a large stack.

Why a process: LLVM can crash or abort on an input (its passes recurse deeply on a large
translation unit; an assertion fires on IR it does not expect), and inside adcc's own
process that ends the compile with a bare "Segmentation fault". The parent only waits: a
worker that dies of a signal becomes `adcc: error: ...` naming the stage it was in and the
input, and the parent removes every temporary as after any failed compile. A fault handler
in-process could print that message but not survive the fault; a fork costs about a
millisecond against the hundreds the AD pipeline takes.

Why a thread: the main thread's stack is `ulimit -s` (8 MiB by default); LLVM's recursive
passes on a translation unit of thousands of functions need more (such a compile succeeds
with `ulimit -s unlimited`). The worker thread's stack is reserved, not committed: pages are
used only as deep as the recursion goes.
"""
from __future__ import annotations

import os
import sys

from adcc.driver import interrupts

STACK_SIZE = 512 << 20  # ADCC_WORKER_STACK_KB overrides it (the fault-injection tests shrink it)
_SIGNAL_NAMES = {4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV"}
_INTERNAL_ERROR = 70  # EX_SOFTWARE: the worker printed a traceback (an adcc bug)


class StageTrace:
    """Where a worker is: it writes each stage's name to a pipe its parent reads after it died."""

    def __init__(self, fd: int | None = None):
        self.fd = fd

    def enter(self, stage: str) -> None:
        if self.fd is not None:
            try:
                os.write(self.fd, stage.encode("utf-8", "replace") + b"\n")
            except OSError:
                pass


def run(work, trace_user, what: str, program: str) -> int:
    """Run `work()` in a worker; returns its exit code (0: done; else it printed why).

    `trace_user` is the StageLog whose stages the parent reports if the worker crashes;
    `what` names the input ('x.c', 'the link of prog'). Raises CompileError on a crash."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        interrupts.reset_in_child()
        trace_user.trace = StageTrace(write_end)
        os._exit(_child(work, program))
    os.close(write_end)
    try:
        status = interrupts.wait(pid)
    finally:
        stages = _read_all(read_end).decode("utf-8", "replace").splitlines()
        os.close(read_end)
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        stage = stages[-1] if stages else "start-up"
        name = _SIGNAL_NAMES.get(signum, f"signal {signum}")
        from adcc.diagnostics import CompileError
        raise CompileError(f"the '{stage}' stage crashed ({name}) while compiling '{what}'; "
                           f"this is a bug in adcc or LLVM: please report it with the input")
    return os.waitstatus_to_exitcode(status)


def _child(work, program: str) -> int:
    """The worker's whole life: `work()` on a big-stack thread, its error printed here."""
    import threading
    tune_garbage_collector()
    outcome: list[BaseException] = []

    def body():
        try:
            work()
        except BaseException as e:  # re-raised below, in the worker's main thread
            outcome.append(e)
    try:
        previous = threading.stack_size(int(os.environ.get("ADCC_WORKER_STACK_KB", 0)) << 10 or STACK_SIZE)
    except (ValueError, RuntimeError):
        previous = None  # the platform refuses: run with the default stack
    thread = threading.Thread(target=body, name="adcc-llvm")
    thread.start()
    if previous is not None:
        threading.stack_size(previous)
    thread.join()
    code = 0
    if outcome:
        code = _report(outcome[0], program)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def tune_garbage_collector() -> None:
    """Young-generation collections only, for a short-lived process that builds large IR graphs.

    Instructions and their use lists are reference cycles: CPython's default thresholds make
    every few thousand allocations a collection, and the full (oldest-generation) ones rescan
    the whole module each time: on a unit of hundreds of functions they were 60-70% of the
    differentiation stage. What is alive at the fork is frozen (never scanned again), the young
    generation is collected rarely and the full collection practically never; the worker's
    memory stays within a few tens of percent of what it was (measured in
    bench/results/compile_time.md)."""
    import gc
    global _tuned
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    _tuned = True


_tuned = False  # this process is a worker whose collector tune_garbage_collector() set


class no_cycle_collection:
    """In a worker: no cycle collection while the block runs, and what it allocated frozen after
    it (else the next young collection scans all of it). The differentiation stage builds IR
    graphs (instructions and their use-lists are cycles) and keeps most of them: collecting
    found little and cost 20-30% of the stage on the generated unit of #17 item 5 (400 and
    1,500 functions; peak memory of the stage 626 -> 700 MB at 1,500). The cycles it leaves
    are what the worker's collector, which practically never runs a full collection, leaves in
    its oldest generation. Elsewhere (a test or library process, which lives on): nothing."""

    def __enter__(self):
        import gc
        self.paused = _tuned and gc.isenabled()
        if self.paused:
            gc.disable()
        return self

    def __exit__(self, *exc):
        if self.paused:
            import gc
            gc.freeze()
            gc.enable()
        return False


def _report(error: BaseException, program: str) -> int:
    from adcc.diagnostics import CompileError
    from adcc.driver import console
    if isinstance(error, CompileError):
        console.report_error(error, program)
        return error.exit_code or 1
    import traceback
    traceback.print_exception(error)
    return _INTERNAL_ERROR


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
