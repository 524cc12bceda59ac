"""Pieces shared by the importers and exporters: errors, reports, batching."""

from __future__ import annotations

import itertools
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, TypeVar

import shoal

T = TypeVar("T")

#: Documents written per engine call (one commit per batch).
BATCH = 1000

#: ``advance(n)``: told how many more records were done (a progress bar).
Advance = Callable[[int], None]


class MigrationError(shoal.Error, ValueError):
    """A source cannot be imported or a store exported (the message says why)."""


def no_progress(n: int) -> None:
    """The default ``advance``: report nothing."""


def refuse_pickle(what: str) -> MigrationError:
    """The error for a pickle source read without ``allow_pickle``."""
    return MigrationError(
        f"{what} holds pickles; pass --allow-pickle (allow_pickle=True) to read it "
        "(unpickling runs code named in the file: only for files you trust)"
    )


def batched(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (default :data:`BATCH`; the last one shorter)."""
    size = size or BATCH
    # A generator: some cursors (sophy's) restart when iter() is called again.
    it = (item for item in items)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


@dataclass
class Report:
    """What an import or export wrote: records per target (collection, space, table, file)."""

    target: str
    """Where the data went (a store, file, directory or URL)."""
    counts: dict[str, int] = field(default_factory=dict)
    """Records written, per collection / space / table name, in order."""
    notes: list[str] = field(default_factory=list)
    """Things the user should know (what was not carried over, and why)."""

    def add(self, name: str, n: int) -> None:
        """Record ``n`` more records written to ``name``."""
        self.counts[name] = self.counts.get(name, 0) + n

    @property
    def total(self) -> int:
        """Records written over all targets."""
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """The report as lines for a terminal."""
        out = [f"  {name}: {n:,}" for name, n in self.counts.items()]
        out.append(f"{self.total:,} records in {len(self.counts)} target(s) -> {self.target}")
        out += [f"note: {note}" for note in self.notes]
        return out


def refuse_existing(kind: str, name: str, count: int, append: bool) -> None:
    """Refuse to write into a non-empty target unless ``append`` was given."""
    if count and not append:
        raise MigrationError(
            f"{kind} {name!r} already holds {count:,} records; pass --append "
            "(append=True) to add to it"
        )


@contextmanager
def translated(*errors: type[BaseException]) -> Iterator[None]:
    """Re-raise a face's own exception classes as :class:`MigrationError` (same message)."""
    try:
        yield
    except errors as exc:
        raise MigrationError(str(exc) or type(exc).__name__) from exc


@contextmanager
def undone_on_error(*paths: str | os.PathLike[str]) -> Iterator[None]:
    """Remove those of ``paths`` that the block created, if it raises.

    A failed import into a new target then leaves nothing behind (a failed
    ``--append`` keeps the batches already committed: they are whole records).
    """
    new = [os.fspath(p) for p in paths if not os.path.lexists(p)]
    try:
        yield
    except BaseException:
        for p in new:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.lexists(p):
                os.unlink(p)
        raise


def write_lines(
    target: str | os.PathLike[str],
    records: Iterable[T],
    dumps: Callable[[T], str],
    where: Callable[[T], str],
    *,
    overwrite: bool,
    advance: Advance,
) -> int:
    """Write ``dumps(record)`` lines to the file ``target``; the number of records.

    The file appears complete or not at all (written beside it, then renamed).
    A record ``dumps`` refuses fails with :class:`MigrationError` prefixed by
    ``where(record)``. An existing ``target`` is refused unless ``overwrite``.
    """
    path = os.fspath(target)
    if os.path.exists(path) and not overwrite:
        raise MigrationError(f"{path} exists; pass --overwrite to replace it")
    tmp = path + ".part"
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            for chunk in batched(records):
                lines = []
                for record in chunk:
                    try:
                        lines.append(dumps(record))
                    except MigrationError as exc:
                        raise MigrationError(f"{where(record)}: {exc}") from None
                out.write("\n".join(lines) + "\n")
                n += len(chunk)
                advance(len(chunk))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return n
