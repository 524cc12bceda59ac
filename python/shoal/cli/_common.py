"""Helpers shared by the subcommands: output, progress, opening stores, disk use."""

from __future__ import annotations

import os
import sys
import time
from typing import NamedTuple

import shoal


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


def open_store(path: str) -> shoal.Store:
    """Open the existing store at ``path``; a missing one is an error, never created.

    (``shoal.open`` creates a store where there is none, which a command
    given a mistyped path must not do.)
    """
    if not os.path.isdir(path):
        raise FileNotFoundError(f"no store at {path} (not a directory)")
    if not os.path.exists(os.path.join(path, "version")):
        raise FileNotFoundError(f"no store at {path} (not a shoal store directory)")
    return shoal.open(path)


def open_kv(store: shoal.Store, name: str, *, allow_pickle: bool) -> shoal.KV:
    """The space ``name`` with its recorded codecs.

    A space of pickled values opens only with ``allow_pickle`` (reading it
    unpickles, which runs code); it is an error otherwise.
    """
    try:
        return store.kv(name)
    except shoal.InvalidArgumentError as exc:
        if "pickle" not in str(exc):
            raise
        if not allow_pickle:
            raise shoal.InvalidArgumentError(
                f"space {name!r} stores pickled values; reading them runs code: "
                f"pass --allow-pickle if the store is trusted"
            ) from None
        return store.kv(name, value="pickle")


class DiskUse(NamedTuple):
    """What a directory tree takes on disk."""

    files: int
    """Regular files."""
    size: int
    """Sum of the file sizes (journals are preallocated: mostly zeros)."""
    allocated: int
    """Bytes the file system allocated to them (what ``du`` reports)."""


def disk_use(path: str) -> DiskUse:
    """Walk ``path`` and add up its files."""
    files = size = allocated = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue  # removed by a compaction while walking
            files += 1
            size += st.st_size
            allocated += getattr(st, "st_blocks", (st.st_size + 511) // 512) * 512
    return DiskUse(files, size, allocated)


def human(n: float) -> str:
    """``n`` bytes as a short human figure (``1.5 MB``)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
