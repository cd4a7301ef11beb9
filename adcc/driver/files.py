"""Atomic outputs and child processes, with nothing heavier than `os` imported.

Every output is written to a temp name in its own directory and renamed over the real
name only after success; `OutputSet.discard` removes whatever a failure left behind.
"""
from __future__ import annotations

import os
import sys

_counter = 0


def temp_name_for(path: str) -> str:
    """A fresh temp path next to `path` (same file system, so os.replace is atomic)."""
    global _counter
    _counter += 1
    d, base = os.path.split(path)
    return os.path.join(d, f".{base}.adcc-{os.getpid()}-{_counter}.tmp")


class OutputSet:
    """Temp outputs of one invocation, committed together or discarded together."""

    def __init__(self):
        self.pending: list[tuple[str, str]] = []   # (temp, final)
        self.scratch: list[str] = []              # temp files never committed

    def temp_for(self, final: str) -> str:
        if final == "-" or _is_special(final):  # stdout, /dev/null, a fifo: written when committed
            tmp = self.scratch_file(".out")
            self.pending.append((tmp, final))
            return tmp
        parent = os.path.dirname(final) or "."
        if not os.path.isdir(parent):  # say so about the output, not about our temp file
            from adcc.diagnostics import CompileError
            raise CompileError(f"unable to open output file '{final}': 'No such file or directory'")
        tmp = temp_name_for(final)
        self.pending.append((tmp, final))
        return tmp

    def scratch_file(self, suffix: str) -> str:
        d = scratch_dir()
        global _counter
        _counter += 1
        path = os.path.join(d, f"adcc-{os.getpid()}-{_counter}{suffix}")
        self.scratch.append(path)
        return path

    def commit(self) -> None:
        for tmp, final in self.pending:
            if final == "-":
                with open(tmp, "rb") as f:
                    sys.stdout.flush()
                    sys.stdout.buffer.write(f.read())
                    sys.stdout.flush()
            elif os.path.exists(tmp) and _is_special(final):
                with open(tmp, "rb") as src, open(final, "wb") as dst:  # never replace a device
                    dst.write(src.read())
            elif os.path.exists(tmp):
                try:
                    os.replace(tmp, final)
                except OSError as e:
                    self.discard()
                    from adcc.diagnostics import CompileError
                    raise CompileError(f"unable to open output file '{final}': '{e.strerror}'") from None
        self.pending.clear()
        self.cleanup()

    def discard(self) -> None:
        for tmp, _ in self.pending:
            _unlink(tmp)
        self.pending.clear()
        self.cleanup()

    def cleanup(self) -> None:
        for path in self.scratch:
            _unlink(path)
        self.scratch.clear()


def _is_special(path: str) -> bool:
    """An existing output that is not a regular file (/dev/null, a fifo): written in place."""
    try:
        import stat
        mode = os.stat(path).st_mode
        return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)
    except OSError:
        return False


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def scratch_dir() -> str:
    return os.environ.get("TMPDIR") or "/tmp"


def write_atomic(path: str, data: bytes) -> None:
    tmp = temp_name_for(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def spawn(argv: list[str], verbose: bool = False) -> int:
    """Run a tool with inherited stdio (so clang's colors and messages reach the user as is)."""
    if verbose:
        sys.stderr.write(" ".join(_quote(a) for a in argv) + "\n")
        sys.stderr.flush()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ)
    except FileNotFoundError:
        from adcc.diagnostics import CompileError
        raise CompileError(f"cannot find '{argv[0]}'; install LLVM 22 "
                           "(apt-get install clang-22 lld-22 flang-22 llvm-22)") from None
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if status else 0


def run_capture(argv: list[str]) -> tuple[int, bytes, bytes]:
    """Run a tool, capturing its output (slow-path helper)."""
    import subprocess
    try:
        proc = subprocess.run(argv, capture_output=True)
    except FileNotFoundError:
        from adcc.diagnostics import CompileError
        raise CompileError(f"cannot find '{argv[0]}'") from None
    return proc.returncode, proc.stdout, proc.stderr


def file_contains(path: str, needle: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return needle in f.read()
    except OSError:
        return False


def _quote(word: str) -> str:
    if word and all(c.isalnum() or c in "-_./=+,:@%" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"
