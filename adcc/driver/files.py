"""Atomic outputs and child processes, with nothing heavier than `os` imported.

Every output is written to a temp name in its own directory and renamed over the real
name only after success; `OutputSet.discard` removes whatever a failure left behind.
Scratch files (bitcode, objects to link, response files) live in one private directory
per invocation, removed as a whole, so that nothing a tool or a forked worker wrote there
outlives the command.
"""
from __future__ import annotations

import os
import sys

from adcc.driver import interrupts

_counter = 0

# Linux refuses an exec whose arguments exceed ARG_MAX (E2BIG; one word may not exceed
# 128 KiB): longer command lines go to the tools through a response file.
_ARGV_LIMIT = 96 * 1024


def _next() -> int:
    global _counter
    _counter += 1
    return _counter


def temp_name_for(path: str) -> str:
    """A fresh temp path next to `path` (same file system, so os.replace is atomic)."""
    d, base = os.path.split(path)
    return os.path.join(d, f".{base}.adcc-{os.getpid()}-{_next()}.tmp")


class OutputSet:
    """Temp outputs of one invocation, committed together or discarded together."""

    def __init__(self):
        self.pending: list[tuple[str, str]] = []   # (temp, final)
        self._scratch_dir: str | None = None

    def temp_for(self, final: str) -> str:
        if final == "-" or _is_special(final):  # stdout, /dev/null, a fifo: written when committed
            tmp = self.scratch_file(".out")
            self.pending.append((tmp, final))
            return tmp
        parent = os.path.dirname(final) or "."
        if not os.path.isdir(parent):  # say so about the output, not about our temp file
            raise _error(f"unable to open output file '{final}': 'No such file or directory'")
        tmp = temp_name_for(final)
        self.pending.append((tmp, final))
        return tmp

    def scratch_file(self, suffix: str) -> str:
        return os.path.join(self.scratch_dir(), f"{_next()}{suffix}")

    def scratch_dir(self) -> str:
        """This invocation's private directory under $TMPDIR (created on first use)."""
        if self._scratch_dir is None:
            base = scratch_root()
            while True:
                path = os.path.join(base, f"adcc-{os.getpid()}-{_next()}.d")
                try:
                    os.mkdir(path, 0o700)
                    break
                except FileExistsError:
                    continue
                except OSError as e:
                    raise _error(f"cannot create a temporary directory in '{base}': {e.strerror}") from None
            self._scratch_dir = path
        return self._scratch_dir

    def commit(self, only: str | None = None) -> None:
        """Move finished temps over their outputs (all, or the one for the final path `only`)."""
        for tmp, final in list(self.pending):
            if only is not None and final != only:
                continue
            self.pending.remove((tmp, final))
            try:
                if os.path.exists(tmp):
                    _move(tmp, final)
            finally:
                _unlink(tmp)  # gone after a rename; a copy's source, or a failed move's
        if only is None:
            self.cleanup()

    def discard(self) -> None:
        """Remove every temp and the scratch directory; outputs stay as they were."""
        for tmp, _ in self.pending:
            _unlink(tmp)
        self.pending.clear()
        self.cleanup()

    def discard_output(self, final: str) -> None:
        """A failed step: its temp goes, and so does an earlier output at `final` (a failed
        compile leaves no stale object behind for `make -i` to link, as clang's does)."""
        for tmp, name in list(self.pending):
            if name == final:
                _unlink(tmp)
                self.pending.remove((tmp, name))
        remove_output(final)

    def cleanup(self) -> None:
        if self._scratch_dir is not None:
            _remove_tree(self._scratch_dir)
            self._scratch_dir = None


def _move(tmp: str, final: str) -> None:
    """Put a finished temp in place: a rename, or a copy into stdout or a device."""
    try:
        if final == "-":
            with open(tmp, "rb") as f:
                sys.stdout.flush()
                sys.stdout.buffer.write(f.read())
                sys.stdout.flush()
        elif _is_special(final):
            with open(tmp, "rb") as src, open(final, "wb") as dst:  # never replace a device
                dst.write(src.read())
        else:
            os.replace(tmp, final)
    except OSError as e:
        raise _error(f"unable to open output file '{final}': '{e.strerror}'") from None


def remove_output(final: str) -> None:
    """Remove an earlier output at `final` (a regular file only: never a device or stdout)."""
    import stat
    try:
        if final != "-" and stat.S_ISREG(os.lstat(final).st_mode):
            os.unlink(final)
    except OSError:
        pass


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


def _remove_tree(path: str) -> None:
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            _unlink(os.path.join(root, name))
        for name in dirs:
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                _unlink(os.path.join(root, name))  # a symlink to a directory
    try:
        os.rmdir(path)
    except OSError:
        pass


def scratch_root() -> str:
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


def spawn(argv: list[str], verbose: bool = False, stdin: str | None = None) -> int:
    """Run a tool with inherited stdio (so clang's colors and messages reach the user as is);
    `stdin`: a file to read standard input from. Returns its exit code (128+N: killed by N)."""
    if verbose:
        sys.stderr.write(" ".join(_quote(a) for a in argv) + "\n")
        sys.stderr.flush()
    rsp = None
    if _argv_size(argv) > _ARGV_LIMIT:
        rsp = write_response_file(argv[1:])
        argv = [argv[0], "@" + rsp]
    actions = [(os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0)] if stdin is not None else []
    try:
        try:
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        except FileNotFoundError:
            raise _error(f"cannot find '{argv[0]}'; install LLVM 22 "
                         "(apt-get install clang-22 lld-22 flang-22 llvm-22)") from None
        status = interrupts.wait(pid)
    finally:
        if rsp is not None:
            _unlink(rsp)
    return exit_code(status)


def exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _argv_size(argv: list[str]) -> int:
    size = 0
    for word in argv:
        if len(word) > 32 * 1024:
            return _ARGV_LIMIT + 1
        size += len(word) + 1 + 8  # the string, its NUL and its pointer
    return size


def write_response_file(words: list[str]) -> str:
    """A response file (GNU quoting, as clang reads it on Linux) holding `words`."""
    d = scratch_root()
    path = os.path.join(d, f"adcc-{os.getpid()}-{_next()}.rsp")
    quoted = b"\n".join(_quote_gnu(w) for w in words) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, quoted)
    finally:
        os.close(fd)
    return path


def _quote_gnu(word: str) -> bytes:
    raw = os.fsencode(word)  # surrogate escapes back to the bytes they stood for
    out = bytearray()
    for byte in raw:
        if byte in b" \t\n\r\v\f\\'\"":
            out.append(0x5C)
        out.append(byte)
    return bytes(out) if out else b"''"


def run_capture(argv: list[str]) -> tuple[int, bytes, bytes]:
    """Run a tool, capturing its output (slow-path helper)."""
    import subprocess
    try:
        proc = subprocess.run(argv, capture_output=True)
    except FileNotFoundError:
        raise _error(f"cannot find '{argv[0]}'") from None
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


def _error(message: str):
    from adcc.diagnostics import CompileError  # lazy: the dataclasses import is not free
    return CompileError(message)
