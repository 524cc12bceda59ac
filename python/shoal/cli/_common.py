"""Helpers shared by the subcommands: output and progress."""

from __future__ import annotations

import sys
import time


def say(text: str) -> None:
    """Print one line of a command's output, flushed at once."""
    print(text, flush=True)


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal.

    Use as a context manager; call ``advance(n)`` as work is done. ``total``
    may be None when the amount of work is not known (a counter is shown).
    Redraws at most ten times a second so it never slows the work down.
    """

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._shown = sys.stderr.isatty()
        self._last = 0.0

    def __enter__(self) -> Progress:
        return self

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units of work done."""
        self.done += n
        if self._shown:
            now = time.monotonic()
            if now - self._last >= 0.1:
                self._last = now
                self._draw()

    def _draw(self, end: str = "") -> None:
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            line = f"{self.label} [{bar:<30}] {self.done:,}/{self.total:,}"
        else:
            line = f"{self.label} {self.done:,}"
        sys.stderr.write(f"\r{line}{end}")
        sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        if self._shown:
            self._draw(end="\n")
