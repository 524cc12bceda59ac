"""Document rules shared by both backends: keys, JSON, revisions, timestamps.

- A key is a ``str`` (``TypeError`` otherwise).
- A document is a ``dict`` that ``json.dumps`` accepts (``TypeError`` or
  ``ValueError`` otherwise, before anything is written); it is stored as
  JSON reads it back (tuples become lists, non-str dict keys strings). The
  four fields ``get()`` adds (``_id``, ``_key``, ``_rev``, ``_updated``) are
  not stored: they are computed.
- Revisions: the first stored version of a key is ``"0"``; each ``put``
  adds one. A document that carries a ``_rev`` (as one read by ``get()``
  does) is only written if that is still the stored revision, else
  :class:`RevisionConflict`; a ``_rev`` of ``None`` or a document whose
  ``_key`` names another key (a copy) skips the check.
- ``_updated`` is the time of the last ``put`` as a naive UTC ``datetime``
  (or the ``updated`` argument, converted to naive UTC when aware).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .errors import RevisionConflict

META_FIELDS = frozenset(("_id", "_key", "_rev", "_updated"))


def check_key(key: Any) -> str:
    """``key`` if it is a ``str``; ``TypeError`` otherwise."""
    if type(key) is str or isinstance(key, str):
        return key
    raise TypeError(f"datastore keys are str, got {type(key).__name__} {key!r}")


def check_keys(keys: Any) -> list[str]:
    """A list of keys, each checked (a lone ``str`` is refused: pass a list)."""
    if isinstance(keys, (str, bytes)):
        raise TypeError("get_many() takes an iterable of keys, not a single key")
    return [check_key(k) for k in keys]


def prepare(key: Any, doc: Any) -> tuple[str, dict[str, Any], str | None]:
    """Check ``key``/``doc``; return the key, the data to store, the expected revision."""
    key = check_key(key)
    if type(doc) is not dict and not isinstance(doc, Mapping):
        raise TypeError(f"a datastore document is a dict, got {type(doc).__name__}")
    expected = None
    if not META_FIELDS.isdisjoint(doc):
        rev = doc.get("_rev")
        if rev is not None and doc.get("_key", key) == key:
            expected = str(rev)
        doc = {k: v for k, v in doc.items() if k not in META_FIELDS}
    try:
        data = json.loads(json.dumps(doc))
    except TypeError as e:
        raise TypeError(f"document {key!r} is not JSON-serialisable: {e}") from None
    except (ValueError, RecursionError) as e:  # circular references, nested too deeply
        raise ValueError(f"document {key!r} cannot be stored: {e}") from None
    return key, data, expected


def prepare_many(mapping: Mapping[Any, Any]) -> list[tuple[str, dict[str, Any], str | None]]:
    """:func:`prepare` for every item of ``{key: doc}``, with one JSON round trip."""
    keys, docs, expected = [], [], []
    for key, doc in mapping.items():
        keys.append(check_key(key))
        if type(doc) is not dict and not isinstance(doc, Mapping):
            raise TypeError(f"a datastore document is a dict, got {type(doc).__name__}")
        rev = None
        if not META_FIELDS.isdisjoint(doc):
            got = doc.get("_rev")
            if got is not None and doc.get("_key", key) == key:
                rev = str(got)
            doc = {k: v for k, v in doc.items() if k not in META_FIELDS}
        docs.append(doc)
        expected.append(rev)
    try:
        datas = json.loads(json.dumps(docs))
    except (TypeError, ValueError, RecursionError):
        for key, doc in zip(keys, docs):
            prepare(key, doc)  # raises, naming the document
        raise
    return list(zip(keys, datas, expected))


def check_revision(key: str, expected: str | None, current: int | None) -> None:
    """Raise :class:`RevisionConflict` if ``expected`` is set and not ``current``."""
    if expected is None:
        return
    if current is None:
        raise RevisionConflict(f"document {key!r} (rev {expected}) was deleted meanwhile")
    if expected != str(current):
        raise RevisionConflict(
            f"document {key!r}: put with rev {expected}, but the stored rev is {current}"
        )


def after_put(doc: Any, expected: str | None, rev: int, updated: datetime) -> None:
    """Bring a caller's checked document up to date (as CouchDB clients do).

    Only a document whose ``_rev`` was checked is touched, so putting the
    same dict again after a change does not conflict with itself.
    """
    if expected is not None and isinstance(doc, dict):
        doc["_rev"] = str(rev)
        if "_updated" in doc:
            doc["_updated"] = updated


def timestamp(updated: Any = None) -> datetime:
    """The ``_updated`` value of a put: ``updated`` (naive UTC) or now."""
    if updated is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if not isinstance(updated, datetime):
        raise TypeError(f"updated must be a datetime, got {type(updated).__name__}")
    if updated.tzinfo is not None:
        updated = updated.astimezone(timezone.utc).replace(tzinfo=None)
    return updated


def public(data: dict[str, Any], doc_id: int, key: str, rev: Any, updated: Any) -> dict[str, Any]:
    """The document as ``get()`` returns it: data plus the four computed fields."""
    data["_id"] = doc_id
    data["_key"] = key
    data["_rev"] = str(rev)
    data["_updated"] = updated
    return data


def put_result(doc_id: int, key: str, rev: int, updated: datetime) -> dict[str, Any]:
    """What ``put`` returns."""
    return {"id": doc_id, "key": key, "rev": str(rev), "updated": updated}
