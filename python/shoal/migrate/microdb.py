"""Import a file of the original ``microdb`` into ``shoal.microdb``.

A microdb file is Python literal text (``repr`` of a list of records, or the
grid form ``[[fields], [values], ...]``). It is parsed by
:class:`shoal.microdb.MicroDB`, which uses :func:`ast.literal_eval` (or the
JSON decoder on text that is JSON apart from quotes and constants) and never
``eval``. The file does not record the partition keys, so they are given.

The target ``path`` is the file a script opens with
``shoal.microdb.MicroDB(path, partition_keys)``: the records are upserted in
the source's order and the file is written atomically (row form, or the grid
form with ``grid=True``); values the format cannot read back are refused
before anything is written. An existing non-empty target is refused unless
``append`` (then a record whose key is already there replaces it).
"""

from __future__ import annotations

import os
from typing import Sequence

from shoal import microdb

from ._common import Advance, MigrationError, Report, batched, no_progress, refuse_existing


def import_microdb(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    partition_keys: Sequence[str],
    append: bool = False,
    grid: bool = False,
    advance: Advance = no_progress,
) -> Report:
    """Copy the records of the microdb file ``source`` into the microdb file ``path``."""
    if not partition_keys:
        raise MigrationError(
            "a microdb file does not record its partition keys: name them "
            "(--partition-keys job,name)"
        )
    if not os.path.isfile(source):
        raise MigrationError(f"{os.fspath(source)!r} is not a file")
    if os.path.abspath(source) == os.path.abspath(path):
        raise MigrationError("the source and the target are the same file")
    keys = list(partition_keys)
    src = microdb.MicroDB(source, keys)
    rows = _rows_in_file(source)
    if rows != len(src):
        raise MigrationError(
            f"{os.fspath(source)!r} holds {rows:,} records but only {len(src):,} distinct "
            f"keys for partition keys {keys}: the import would lose records (check the keys)"
        )
    dst = microdb.MicroDB(path, keys)
    refuse_existing("microdb file", os.fspath(path), len(dst), append)
    name = os.path.basename(os.fspath(path))
    report = Report(os.fspath(path))
    report.add(name, 0)
    for chunk in batched(src.all()):
        for record in chunk:
            dst.upsert(record)
        report.add(name, len(chunk))
        advance(len(chunk))
    dst.save_as_grid() if grid else dst.save()
    return report


def _rows_in_file(source: str | os.PathLike[str]) -> int:
    """Records in the file, duplicates included (the table keeps one per key)."""
    with open(source, "rb") as f:
        text = f.read().decode("utf-8")
    values = microdb._parse(text, os.fspath(source))  # the face's safe parser
    if values and isinstance(values[0], list):
        return len(values) - 1  # grid form: a header row, then one row per record
    return len(values)
