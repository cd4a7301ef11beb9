"""SIGINT, SIGTERM and SIGHUP during a compile: the signal goes on to the tool adcc waits for,
every temporary is removed, and adcc then dies of the same signal (the shell sees 128+N),
as clang does. An output that existed before the interrupted compile is left as it was.

Uses the `_signal` C module: `signal` imports enum, which costs milliseconds on every compile.
"""
from __future__ import annotations

import os

import _signal

SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)

_children: list[int] = []


class Interrupted(BaseException):
    """Raised in the main thread when one of SIGNALS arrives (unwinds like KeyboardInterrupt)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def install() -> None:
    for signum in SIGNALS:
        _signal.signal(signum, _on_signal)


def reset_in_child() -> None:
    """A forked worker dies of these signals at once; its parent cleans up."""
    for signum in SIGNALS:
        _signal.signal(signum, _signal.SIG_DFL)


def _on_signal(signum, frame):
    for signal_number in SIGNALS:  # the first signal wins; cleanup runs undisturbed
        _signal.signal(signal_number, _signal.SIG_IGN)
    for pid in _children:
        try:
            os.kill(pid, signum)
        except OSError:
            pass
    raise Interrupted(signum)


def wait(pid: int) -> int:
    """The wait status of child `pid`. A signal meanwhile is forwarded to it and, once it has
    ended (and so stopped writing), raised as Interrupted."""
    _children.append(pid)
    try:
        try:
            return os.waitpid(pid, 0)[1]
        except Interrupted:
            try:
                os.waitpid(pid, 0)  # further signals are ignored now
            except ChildProcessError:
                pass
            raise
    finally:
        _children.remove(pid)


def die(signum: int) -> None:
    """End this process by `signum`, with the default action (after cleanup)."""
    import sys
    sys.stdout.flush()
    sys.stderr.flush()
    _signal.signal(signum, _signal.SIG_DFL)
    os.kill(os.getpid(), signum)
