"""SIGTERM, what batch schedulers and ``kill`` send, handled like Ctrl-C.

While `sigterm_as_interrupt` is active, SIGTERM raises `Terminated`, a `KeyboardInterrupt`, so
the clean-up that Ctrl-C triggers runs for it too: workers are stopped, finished results are
kept, and the command prints what to do next and exits with code 143 (130 for Ctrl-C).
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

INTERRUPTED = 130  # 128 + SIGINT
TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived."""


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the clean-up finish
    raise Terminated


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Raise `Terminated` on SIGTERM within the block (in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """143 for SIGTERM, 130 for Ctrl-C."""
    return TERMINATED if isinstance(interrupt, Terminated) else INTERRUPTED


def stopped(interrupt: KeyboardInterrupt) -> str:
    """What stopped the command, in a word."""
    return "terminated" if isinstance(interrupt, Terminated) else "interrupted"
