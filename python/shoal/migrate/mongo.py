"""Export collections as MongoDB Extended JSON lines (canonical mode, v2).

One file ``<collection>.json`` per collection, one document per line, which
``mongoimport --db DB --collection NAME --file NAME.json`` reads. Values are
written in canonical Extended JSON, so every BSON type is explicit:

==========================  =============================================
shoal value                 Extended JSON
==========================  =============================================
``int`` in 32 bits          ``{"$numberInt": "7"}``
``int`` in 64 bits          ``{"$numberLong": "..."}``
larger ``int``              ``{"$numberDecimal": "..."}`` when it has at most
                            34 digits (Decimal128 holds it exactly), else an
                            error naming the document: no silent rounding
``float``                   ``{"$numberDouble": "1.5"}`` (``"NaN"``,
                            ``"Infinity"``, ``"-Infinity"``)
``decimal.Decimal``         ``{"$numberDecimal": "..."}`` (34 digits at most)
``bytes``                   ``{"$binary": {"base64": ..., "subType": "00"}}``
``uuid.UUID``               ``$binary`` subtype ``"04"``
``datetime``                ``{"$date": {"$numberLong": ms}}``; naive means
                            UTC; BSON dates hold milliseconds, so
                            microseconds are truncated (as pymongo does)
``dict`` / ``list``         nested documents / arrays (tuples are arrays)
``str``, ``bool``, ``None`` themselves
==========================  =============================================

Sources: a shoal store directory (its collections, or the ones named), or a
``sofart`` database file (read through :mod:`shoal.sofart`; a pickle file
needs ``allow_pickle=True``).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import os
import uuid
from typing import Any, Iterator

import shoal

from ._common import Advance, MigrationError, Report, no_progress, write_lines

_INT32 = 2**31
_INT64 = 2**63
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_DEC128_DIGITS = 34


def _decimal(text: str, what: str) -> dict[str, str]:
    value = decimal.Decimal(text)
    if value.is_finite() and len(value.as_tuple().digits) > _DEC128_DIGITS:
        raise MigrationError(
            f"{what} has more than {_DEC128_DIGITS} digits: Decimal128 cannot hold it exactly"
        )
    return {"$numberDecimal": text}


def encode(value: Any) -> Any:
    """``value`` as canonical Extended JSON data (ready for ``json.dumps``)."""
    t = type(value)
    if t is str or value is None or t is bool:
        return value
    if t is int or isinstance(value, int) and not isinstance(value, bool):
        if -_INT32 <= value < _INT32:
            return {"$numberInt": str(value)}
        if -_INT64 <= value < _INT64:
            return {"$numberLong": str(value)}
        return _decimal(str(value), f"the integer {value}")
    if t is float:
        if math.isnan(value):
            return {"$numberDouble": "NaN"}
        if math.isinf(value):
            return {"$numberDouble": "Infinity" if value > 0 else "-Infinity"}
        return {"$numberDouble": repr(value)}
    if t is dict or isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [encode(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"$binary": {"base64": base64.b64encode(value).decode(), "subType": "00"}}
    if isinstance(value, uuid.UUID):
        return {"$binary": {"base64": base64.b64encode(value.bytes).decode(), "subType": "04"}}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - _EPOCH
        ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
        return {"$date": {"$numberLong": str(ms)}}
    if isinstance(value, decimal.Decimal):
        return _decimal(str(value), f"the Decimal {value}")
    raise MigrationError(f"a {type(value).__name__} has no Extended JSON form")


def dumps(doc: dict[str, Any]) -> str:
    """One document as a line of canonical Extended JSON (no newline)."""
    return json.dumps(encode(doc), ensure_ascii=False, separators=(",", ":"))


def _store_collections(path: str, names: list[str] | None) -> Iterator[tuple[str, Any]]:
    if not os.path.isdir(os.path.join(path, "")) or not os.listdir(path):
        raise MigrationError(f"{path!r} is not a shoal store")
    with shoal.open(path) as store:
        if "sofart.meta" in store.spaces():
            # Its collections hold hidden fields; the face gives the documents.
            raise MigrationError(
                f"{path!r} is the store of a shoal.sofart database: export the database "
                f"file ({path.rstrip(os.sep).removesuffix('.shoal')!r}) instead"
            )
        present = store.collections()
        for name in names or present:
            if name not in present:
                raise MigrationError(f"{path!r} has no collection {name!r}")
            with store.collection(name).cursor() as cur:
                yield name, cur


def _sofart_collections(
    path: str, names: list[str] | None, allow_pickle: bool
) -> Iterator[tuple[str, Any]]:
    from .sofart import open_source

    db = open_source(path, None, allow_pickle)
    try:
        present = db.collection_names()
        for name in names or present:
            if name not in present:
                raise MigrationError(f"{path!r} has no collection {name!r}")
            yield name, db[name].find()
    finally:
        db.close()


def export_mongo(
    path: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    collections: list[str] | None = None,
    allow_pickle: bool = False,
    overwrite: bool = False,
    advance: Advance = no_progress,
) -> Report:
    """Write each collection of ``path`` to ``dest/<name>.json`` (see the module docstring)."""
    src = os.fspath(path)
    out_dir = os.fspath(dest)
    if os.path.isfile(src):
        sources = _sofart_collections(src, collections, allow_pickle)
    elif os.path.isdir(src):
        sources = _store_collections(src, collections)
    else:
        raise MigrationError(f"{src!r} does not exist")
    os.makedirs(out_dir, exist_ok=True)
    report = Report(out_dir)
    for name, docs in sources:
        n = write_lines(
            os.path.join(out_dir, f"{name}.json"),
            docs,
            dumps,
            lambda doc, name=name: f"collection {name!r}, _id {doc.get('_id')!r}",
            overwrite=overwrite,
            advance=advance,
        )
        report.add(name, n)
    return report
