"""Import a TinyDB JSON file into a shoal store: one collection per table.

A TinyDB file (``JSONStorage``) is one JSON object ``{table: {doc_id: doc}}``
with the document ids as strings. Each table becomes a collection of the
store at ``path`` keyed by ``_id``, which holds the TinyDB document id (an
int), so ``collection.get(doc_id)`` finds what ``table.get(doc_id=...)``
found. TinyDB's default table ``_default`` becomes the collection
``default`` (names starting with ``_`` are reserved in shoal). A document
that already has an ``_id`` field is refused: its id would be lost.
"""

from __future__ import annotations

import json
import os
from typing import Any

import shoal

from ._common import (
    Advance,
    MigrationError,
    Report,
    batched,
    no_progress,
    refuse_existing,
    undone_on_error,
)

DEFAULT_TABLE = "_default"


def collection_name(table: str) -> str:
    """The collection a TinyDB table goes to."""
    return "default" if table == DEFAULT_TABLE else table


def read(source: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The tables of a TinyDB JSON file, checked: ``{table: {doc_id: doc}}``."""
    try:
        with open(source, encoding="utf-8") as f:
            data = json.load(f)
    except ValueError as exc:
        raise MigrationError(f"{os.fspath(source)!r} is not a TinyDB JSON file: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        raise MigrationError(
            f"{os.fspath(source)!r} is not a TinyDB JSON file (an object of tables)"
        )
    names = [collection_name(t) for t in data]
    if len(set(names)) != len(names):
        raise MigrationError(
            f"{os.fspath(source)!r} has tables '_default' and 'default'; both would "
            "become the collection 'default'"
        )
    return data


def _documents(table: str, docs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for doc_id, doc in docs.items():
        try:
            key = int(doc_id)
        except ValueError:
            raise MigrationError(f"table {table!r}: document id {doc_id!r} is not an int") from None
        if not isinstance(doc, dict):
            raise MigrationError(f"table {table!r}: document {key} is not an object")
        if "_id" in doc:
            raise MigrationError(
                f"table {table!r}: document {key} has its own '_id' field; the collection "
                "keeps TinyDB's document id there"
            )
        out.append({"_id": key, **doc})
    return out


def import_tinydb(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    append: bool = False,
    advance: Advance = no_progress,
) -> Report:
    """Copy every table of the TinyDB file ``source`` into the store at ``path``.

    Refuses a non-empty collection unless ``append`` (then a document whose
    id exists replaces it).
    """
    data = read(source)
    report = Report(os.fspath(path))
    with undone_on_error(path), shoal.open(path) as store:
        present = set(store.collections())
        for table in data:
            name = collection_name(table)
            if name in present:
                refuse_existing("collection", name, len(store.collection(name)), append)
        for table, docs in data.items():
            coll = store.collection(collection_name(table))
            report.add(coll.name, 0)
            for chunk in batched(_documents(table, docs)):
                coll.put_many(chunk) if append else coll.insert_many(chunk)
                report.add(coll.name, len(chunk))
                advance(len(chunk))
    return report

