"""Import a table directory of the original ``dynafile`` into ``shoal.dynafile``.

The original keeps a table as ``<dir>/_partitions/<sha256(pk)>/data.pickle``
files, each a pickled ``SortedDict`` from sort key to item. They are pickles,
so they are read only with ``allow_pickle=True``, and then through the face's
restricted unpickler (plain containers, dates, decimals and UUIDs only).
Version 0.1.3 does not record the key attributes: they are ``PK``/``SK``
unless given (or read from ``meta.json``, which later versions write), and
every item is checked against them (its partition directory is the hash of
its partition key, its sort key is the one it is filed under), so a wrong
guess fails instead of importing a scrambled table.

The target ``path`` is the directory a script opens with
``shoal.dynafile.Dynafile(path)``: items are written in batches (one atomic
commit each); keys, items and sort order are kept. A non-empty target table
is refused unless ``append`` (then an item whose key exists replaces it).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Any, Iterator

from shoal import dynafile
from shoal.dynafile import _migrate

from ._common import (
    Advance,
    MigrationError,
    Report,
    batched,
    no_progress,
    refuse_existing,
    refuse_pickle,
    translated,
    undone_on_error,
)


def key_attributes(source: Path, pk: str | None, sk: str | None) -> tuple[str, str]:
    """The key attributes: given ones, else ``meta.json``'s, else ``PK``/``SK``."""
    meta: dict[str, Any] = {}
    try:
        with open(source / "meta.json", encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise MigrationError(f"cannot read {source / 'meta.json'}: {exc}") from None
    return pk or meta.get("pk_attribute") or "PK", sk or meta.get("sk_attribute") or "SK"


def items(source: Path, pk: str, sk: str) -> Iterator[dict[str, Any]]:
    """Every item of the original's table at ``source``, checked against the key attributes."""
    for file in _migrate.original_files(source):
        try:
            with open(file, "rb") as f:
                tree = _migrate._Unpickler(f).load()
        except Exception as exc:  # noqa: BLE001 - any failure: the file is unreadable
            raise MigrationError(f"cannot read {file}: {exc}") from None
        if not isinstance(tree, dict):
            raise MigrationError(f"{file} is not a dynafile partition")
        for sort_key, item in tree.items():
            _check(file, sort_key, item, pk, sk)
            yield item


def _check(file: Path, sort_key: Any, item: Any, pk: str, sk: str) -> None:
    if not isinstance(item, dict):
        raise MigrationError(f"{file}: an item is a {type(item).__name__}, not a dict")
    value = item.get(pk)
    digest = hashlib.sha256(value.encode()).hexdigest() if isinstance(value, str) else None
    if digest != file.parent.name:
        raise MigrationError(
            f"{file}: an item's {pk!r} attribute is not its partition key "
            "(pass the table's --pk-attribute)"
        )
    if item.get(sk) != sort_key:
        raise MigrationError(
            f"{file}: an item's {sk!r} attribute is not its sort key "
            "(pass the table's --sk-attribute)"
        )


def import_dynafile(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    append: bool = False,
    pk_attribute: str | None = None,
    sk_attribute: str | None = None,
    ttl_attribute: str | None = None,
    advance: Advance = no_progress,
) -> Report:
    """Copy the original dynafile table at ``source`` into the shoal dynafile table ``path``."""
    src = Path(source)
    if not src.is_dir():
        raise MigrationError(f"{os.fspath(source)!r} is not a directory")
    if not _migrate.original_files(src):
        raise MigrationError(
            f"{os.fspath(source)!r} holds no dynafile partition (_partitions/*/data.pickle)"
        )
    if os.path.realpath(src) == os.path.realpath(path):
        raise MigrationError(
            "the source and the target are the same directory "
            "(to convert in place, open it with Dynafile(path, allow_pickle=True))"
        )
    if not allow_pickle:
        raise refuse_pickle(f"{os.fspath(source)!r} (a dynafile table)")
    pk, sk = key_attributes(src, pk_attribute, sk_attribute)
    report = Report(os.fspath(path))
    name = Path(path).name or os.fspath(path)
    source_items = items(src, pk, sk)
    # A wrong key attribute shows on the first item: check it before creating the target.
    first = next(source_items)
    with undone_on_error(path), translated(dynafile.DynafileError):
        with dynafile.Dynafile(path, pk, sk, ttl_attribute) as table:
            existing = sum(1 for _ in table.scan())
            refuse_existing("dynafile table", os.fspath(path), existing, append)
            report.add(name, 0)
            put = dynafile.ActionType.PUT
            for chunk in batched(itertools.chain([first], source_items)):
                table.execute_batch([dynafile.Action(put, item) for item in chunk])
                report.add(name, len(chunk))
                advance(len(chunk))
    return report
