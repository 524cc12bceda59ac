"""``BatchWriter``: puts and deletes queued in a ``with`` block, applied atomically."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence

from . import _keys

if TYPE_CHECKING:  # pragma: no cover
    from ._table import Dynafile, _Op


class BatchWriter:
    """Queue ``put_item``/``delete_item`` inside ``with db.batch_writer() as w:``.

    Leaving the block normally applies the whole queue as one atomic write, in
    order (events in queue order, after the commit); leaving it with an
    exception discards the queue. Items are checked when queued, so a bad
    item raises at its ``put_item`` call. With ``overwrite_by_pkeys`` (a list
    of attribute names, as in boto3) a queued action replaces an earlier one
    with the same values of those attributes.
    """

    def __init__(self, db: Dynafile, overwrite_by_pkeys: Optional[Sequence[str]] = None) -> None:
        self._db = db
        self._queue: Optional[List[_Op]] = None
        self._idents: List[Any] = []
        if isinstance(overwrite_by_pkeys, str):
            raise TypeError("overwrite_by_pkeys is a list of attribute names, not a str")
        self._dedupe = list(overwrite_by_pkeys) if overwrite_by_pkeys else None

    def put_item(self, *, item: Any = None, Item: Any = None) -> None:  # noqa: N803
        """Queue storing ``item`` (boto3: ``Item=``)."""
        from ._table import _Op

        item = _one(item, Item, "item", "Item")
        doc, key = self._db._prepare_item(item)
        self._add(_Op("put", key, doc, None), item)

    def delete_item(self, *, key: Any = None, Key: Any = None) -> None:  # noqa: N803
        """Queue deleting the item with ``key`` (boto3: ``Key=``; a missing item is a no-op)."""
        from ._table import _Op

        key = _one(key, Key, "key", "Key")
        _keys.mapping(key, "key")
        self._add(_Op("delete", self._db._key(key), None, None), key)

    def _add(self, op: _Op, data: Mapping[str, Any]) -> None:
        if self._queue is None:
            raise AttributeError("BatchWriter: use put_item/delete_item inside its `with` block")
        if self._dedupe:
            ident = tuple(data.get(a) for a in self._dedupe)
            keep = [i for i, known in enumerate(self._idents) if known != ident]
            self._queue = [self._queue[i] for i in keep]
            self._idents = [self._idents[i] for i in keep]
            self._idents.append(ident)
        self._queue.append(op)

    def __enter__(self) -> BatchWriter:
        if self._queue:
            warnings.warn("Unprocessed items dropped, overlapping contexts", stacklevel=2)
        self._queue = []
        self._idents = []
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        queue, self._queue = self._queue, None
        if exc_type is None and queue:
            self._db._write_blind(queue)


def _one(a: Any, b: Any, name_a: str, name_b: str) -> Any:
    if (a is None) == (b is None):
        raise TypeError(f"pass exactly one of {name_a}= and {name_b}=")
    return a if a is not None else b
