"""Import a database file of the original ``sofart`` into ``shoal.sofart``.

The source is one JSON, msgpack or pickle file (``{"_infos": ..., name:
[doc, ...]}``); its format is recognised from its first bytes unless given.
It is read through :class:`shoal.sofart.Database` in single mode, which
checks every document and never writes the source. A pickle file is read
only with ``allow_pickle=True`` (unpickling runs code).

The target ``path`` is the database file a script opens with
``shoal.sofart.Database(path, ...)``: the documents go into its multi-mode
store (``<path>.shoal/``) in batches, collection by collection, in the
source's order (``_id`` values kept), and closing the database writes the
file in the chosen serializer (default: the source's). A non-empty target
collection is refused unless ``append`` (then a document whose ``_id`` is
already there replaces it).
"""

from __future__ import annotations

import os
from typing import Any

import shoal
from shoal import sofart

from ._common import (
    Advance,
    MigrationError,
    Report,
    batched,
    no_progress,
    refuse_existing,
    undone_on_error,
)

SERIALIZERS = ("json", "msgpack", "pickle")


def sniff(source: str | os.PathLike[str]) -> str:
    """The serializer that wrote the sofart file ``source``: json, msgpack or pickle."""
    with open(source, "rb") as f:
        head = f.read(2)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"  # PROTO opcode (a msgpack file never starts with an empty map)
    if head.lstrip()[:1] in (b"{", b""):
        return "json"
    if head[:1] in (b"(", b"}"):  # pickle protocols 0 and 1
        return "pickle"
    return "msgpack"


def open_source(
    source: str | os.PathLike[str], serializer: str | None, allow_pickle: bool
) -> sofart.Database:
    """The sofart database in ``source``, read-only in practice (single mode, never synced)."""
    if not os.path.isfile(source):
        raise MigrationError(f"{os.fspath(source)!r} is not a file")
    name = serializer or sniff(source)
    if name not in SERIALIZERS:
        raise MigrationError(f"serializer must be one of {', '.join(SERIALIZERS)}")
    if name == "pickle" and not allow_pickle:
        from ._common import refuse_pickle

        raise refuse_pickle(f"{os.fspath(source)!r} (a sofart pickle file)")
    try:
        return sofart.Database(source, mode="single", serializer=name, allow_pickle=allow_pickle)
    except sofart.DatabaseError as exc:
        raise MigrationError(f"cannot read {os.fspath(source)!r} as a sofart file: {exc}") from None


def import_sofart(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    append: bool = False,
    source_serializer: str | None = None,
    serializer: str | None = None,
    advance: Advance = no_progress,
) -> Report:
    """Copy every collection of the sofart file ``source`` into the sofart database ``path``."""
    if os.path.abspath(source) == os.path.abspath(path):
        raise MigrationError("the source and the target are the same file")
    src = open_source(source, source_serializer, allow_pickle)
    try:
        target_serializer = serializer or src.serializer_name
        if target_serializer not in SERIALIZERS:
            raise MigrationError(f"serializer must be one of {', '.join(SERIALIZERS)}")
        report = Report(os.fspath(path))
        with undone_on_error(path, os.fspath(path) + ".shoal"):
            _fill(src, path, target_serializer, allow_pickle, append, report, advance)
        return report
    finally:
        src.close()


def _fill(
    src: Any,
    path: str | os.PathLike[str],
    serializer: str,
    allow_pickle: bool,
    append: bool,
    report: Report,
    advance: Advance,
) -> None:
    """Copy the collections of the open source database ``src`` into the database ``path``."""
    dst = _open_target(path, serializer, allow_pickle)
    try:
        names = src.collection_names()
        present = set(dst.collection_names())
        for name in names:
            if name in present:
                refuse_existing("collection", name, dst[name].count_documents({}), append)
        for name in names:
            report.add(name, 0)
            _copy(src[name], dst, name, append, report, advance)
    finally:
        dst.close()  # writes the file


def _open_target(path: str | os.PathLike[str], serializer: str, allow_pickle: bool) -> Any:
    try:
        return sofart.Database(path, mode="multi", serializer=serializer, allow_pickle=allow_pickle)
    except sofart.DatabaseError as exc:
        raise MigrationError(f"cannot open the target {os.fspath(path)!r}: {exc}") from None


def _copy(src: Any, dst: Any, name: str, append: bool, report: Report, advance: Advance) -> None:
    coll = dst[name]
    dst.create_collection(name)
    for chunk in batched(src.find()):
        if append:
            for doc in chunk:
                if "_id" in doc:
                    coll.replace_one({"_id": doc["_id"]}, doc, upsert=True)
                else:
                    coll.insert_one(doc)
        else:
            try:
                coll.insert_many(chunk)
            except shoal.DuplicateKeyError as exc:
                raise MigrationError(f"collection {name!r}: duplicate _id ({exc})") from None
        report.add(name, len(chunk))
        advance(len(chunk))
