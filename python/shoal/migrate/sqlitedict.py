"""Import a ``sqlitedict`` file into a shoal store: one KV space per table.

A sqlitedict file is an SQLite database whose tables each hold
``(key TEXT PRIMARY KEY, value BLOB)`` rows, the value a pickle of the
stored object (sqlitedict's default encoding). Unpickling runs code named
in the file, so nothing is read without ``allow_pickle=True``. Each table
becomes the space of the same name in the store at ``path`` with the
``"str"`` key codec (ordered like the keys) and the ``"msgpack"`` value
codec: values that it cannot hold (sets, custom classes...) fail naming
their key, unless ``value_codec="pickle"`` keeps any picklable object (then
reopening the space needs ``store.kv(name, value="pickle")``). The source
is opened read-only.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from typing import Any, Iterator

import shoal

from ._common import (
    Advance,
    MigrationError,
    Report,
    batched,
    no_progress,
    refuse_existing,
    refuse_pickle,
    undone_on_error,
)

VALUE_CODECS = ("msgpack", "pickle")


def _connect(source: str | os.PathLike[str]) -> sqlite3.Connection:
    path = os.path.abspath(os.fspath(source))
    if not os.path.isfile(path):
        raise MigrationError(f"{os.fspath(source)!r} is not a file")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        con.close()
        raise MigrationError(f"{os.fspath(source)!r} is not an SQLite file: {exc}") from None
    return con


def tables(con: sqlite3.Connection) -> list[str]:
    """The sqlitedict tables of ``con``: those with ``key`` and ``value`` columns."""
    out = []
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for name in names:
        columns = {r[1] for r in con.execute(f'PRAGMA table_info("{_quoted(name)}")')}
        if {"key", "value"} <= columns:
            out.append(name)
    return out


def _quoted(name: str) -> str:
    return name.replace('"', '""')


def _rows(con: sqlite3.Connection, table: str) -> Iterator[tuple[Any, Any]]:
    # rowid order is sqlitedict's iteration order
    cur = con.execute(f'SELECT key, value FROM "{_quoted(table)}" ORDER BY rowid')
    for key, blob in cur:
        try:
            value = pickle.loads(blob)  # noqa: S301 - gated on allow_pickle by the caller
        except Exception as exc:  # noqa: BLE001 - any failure: the value is unreadable
            raise MigrationError(
                f"table {table!r}, key {key!r}: the value is not a pickle ({exc})"
            ) from None
        yield key, value


def _write(space: shoal.KV, chunk: list[tuple[Any, Any]], table: str) -> None:
    try:
        space.update(chunk)
    except TypeError:
        # The batch wrote nothing; find the value to name, again writing nothing.
        with space.store.transaction() as tx:
            view = tx[space]
            for key, value in chunk:
                try:
                    view[key] = value
                except TypeError as exc:
                    raise MigrationError(
                        f"table {table!r}, key {key!r}: {exc}; --value-codec pickle "
                        "keeps any picklable value"
                    ) from None
            tx.rollback()
        raise


def import_sqlitedict(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    append: bool = False,
    value_codec: str = "msgpack",
    advance: Advance = no_progress,
) -> Report:
    """Copy every table of the sqlitedict file ``source`` into the store at ``path``."""
    if value_codec not in VALUE_CODECS:
        raise MigrationError(f"value codec must be one of {', '.join(VALUE_CODECS)}")
    con = _connect(source)
    try:
        names = tables(con)
        if not names:
            raise MigrationError(f"{os.fspath(source)!r} holds no sqlitedict table")
        if not allow_pickle:
            raise refuse_pickle(f"{os.fspath(source)!r} (a sqlitedict file)")
        report = Report(os.fspath(path))
        with undone_on_error(path), shoal.open(path) as store:
            present = set(store.spaces())
            for name in names:
                if name in present:
                    refuse_existing("space", name, len(store.kv(name)), append)
            for name in names:
                try:
                    space = store.kv(name, key="str", value=value_codec)
                except shoal.InvalidArgumentError as exc:
                    raise MigrationError(f"table {name!r}: {exc}") from None
                report.add(name, 0)
                for chunk in batched(_rows(con, name)):
                    _write(space, chunk, name)
                    report.add(name, len(chunk))
                    advance(len(chunk))
        return report
    finally:
        con.close()
