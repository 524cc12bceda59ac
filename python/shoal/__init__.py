"""shoal: an embedded, crash-safe document and key/value database.

The storage engine is written in Rust (on the fjall LSM tree); this package
is its Python face::

    import shoal

    with shoal.open("data") as store:          # or shoal.open() for a temporary store
        users = store.kv("users")               # an ordered, persistent dict
        users["ada"] = {"born": 1815}
        for name, doc in users["a":"m"]:        # slices are ordered range scans
            ...
        with users.transaction() as tx:         # optimistic, all or nothing
            tx["bob"] = tx.get("bob", 0) + 1

Keys (codec ``"any"``, the default) may be None, bool, int of any size,
float, str, bytes and tuples of those, ordered as MongoDB orders them:
``None < numbers < str < tuple < bytes < False < True``, ints and floats
compared numerically (``1`` and ``1.0`` are the same key, as in a dict).
Values (codec ``"msgpack"``, the default) may be None, bool, int, float, str,
bytes, lists/tuples (read back as lists) and dicts of those.
"""

from __future__ import annotations

import os
from collections.abc import Callable, ItemsView, KeysView, Mapping, MutableMapping, ValuesView
from typing import Any, Iterator, NamedTuple, overload

from . import _core
from ._aliases import install_aliases
from ._core import (
    MAX_KEY_SIZE,
    MAX_VALUE_SIZE,
    Batch,
    ClosedError,
    ConflictError,
    CorruptionError,
    Cursor,
    DuplicateKeyError,
    Error,
    InvalidArgumentError,
    LockedError,
    QueryError,
    StorageError,
    decode_key,
    encode_key,
)

__version__: str = _core.__version__

# A forked child must not use (or flush, or close) its parent's stores.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_core._after_fork_in_child)

__all__ = [
    "MAX_KEY_SIZE",
    "MAX_VALUE_SIZE",
    "KV",
    "Batch",
    "ChangeEvent",
    "ClosedError",
    "Collection",
    "ConflictError",
    "CorruptionError",
    "Cursor",
    "DuplicateKeyError",
    "Error",
    "InvalidArgumentError",
    "LockedError",
    "QueryError",
    "Snapshot",
    "SnapshotKV",
    "StorageError",
    "Store",
    "Transaction",
    "TxKV",
    "UpdateResult",
    "decode_key",
    "encode_key",
    "install_aliases",
    "open",
]


class _KeysView(KeysView):  # type: ignore[type-arg]
    """Keys of a space, streamed in key order."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._mapping)

    def __reversed__(self) -> Iterator[Any]:
        return reversed(self._mapping)  # type: ignore[call-overload]


class _ValuesView(ValuesView):  # type: ignore[type-arg]
    """Values of a space, streamed in key order."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return self._mapping.cursor(keys=False)  # type: ignore[attr-defined, no-any-return]


class _ItemsView(ItemsView):  # type: ignore[type-arg]
    """``(key, value)`` pairs of a space, streamed in key order."""

    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self._mapping.cursor()  # type: ignore[attr-defined, no-any-return]

    def __reversed__(self) -> Iterator[tuple[Any, Any]]:
        return self._mapping.cursor(reverse=True)  # type: ignore[attr-defined, no-any-return]


class _ViewsMixin:
    """``keys()``, ``values()`` and ``items()`` that stream from the engine."""

    __slots__ = ()

    def keys(self) -> _KeysView:
        """A live view of the keys, in order."""
        return _KeysView(self)  # type: ignore[arg-type]

    def values(self) -> _ValuesView:
        """A live view of the values, in key order."""
        return _ValuesView(self)  # type: ignore[arg-type]

    def items(self) -> _ItemsView:
        """A live view of the ``(key, value)`` pairs, in key order."""
        return _ItemsView(self)  # type: ignore[arg-type]


class KV(_ViewsMixin, _core.KV, MutableMapping):  # type: ignore[misc, type-arg]
    """An ordered, persistent key/value space: a ``MutableMapping``.

    Obtain one with :meth:`Store.kv`. Beyond the dict protocol (iteration in
    key order, ``update`` as one atomic batch, ``pop``, ``setdefault``...):

    - ``kv[start:stop]`` iterates ``(key, value)`` pairs with
      ``start <= key < stop``; open ends allowed; ``kv[hi:lo]`` (start above
      stop) or a step of ``-1`` iterates in descending order from ``hi``
      (inclusive) down to ``lo`` (exclusive). ``del kv[a:b]`` deletes a range.
    - :meth:`cursor` for bounds, prefixes, direction, keys- or values-only,
      :meth:`first`, :meth:`last`, :meth:`count`.
    - :meth:`transaction` and :meth:`snapshot` as context managers.

    ``len()`` counts exactly by scanning keys (fast, but O(n)).
    """

    __slots__ = ()

    def transaction(self) -> TxKV:
        """Start an optimistic transaction on this space.

        Use as a context manager: the transaction commits when the block
        ends normally and rolls back if it raises. ``commit()`` raises
        :class:`ConflictError` if a key it read was changed concurrently.
        """
        return TxKV(Transaction(self.store), self)

    def snapshot(self) -> SnapshotKV:
        """A read-only, point-in-time view of this space."""
        return SnapshotKV(Snapshot(self.store), self)

    def __repr__(self) -> str:
        return f"<shoal.KV {self.name!r} key={self.key_codec!r} value={self.value_codec!r}>"


class ChangeEvent(NamedTuple):
    """One committed change of a document, as :meth:`Collection.watch` delivers it."""

    collection: str
    """The collection's name."""
    action: str
    """``"insert"``, ``"replace"``, ``"update"``, ``"delete"`` or ``"expire"``."""
    key: Any
    """The document's primary key."""
    old: dict[str, Any] | None
    """The document before the change (``None`` for an insert)."""
    new: dict[str, Any] | None
    """The document after the change (``None`` for a delete or an expiry)."""


class UpdateResult(NamedTuple):
    """What :meth:`Collection.update` did."""

    matched: int
    """Documents that matched the filter."""
    modified: int
    """Documents actually changed (an update to equal values changes nothing)."""
    upserted_key: Any
    """Key of the document inserted by an upsert, else ``None``."""


class Collection(_core.Collection):
    """Documents (dicts) under a primary key, queried with MongoDB filters.

    Obtain one with :meth:`Store.collection`. Filters are evaluated in Rust on
    the stored documents; only the documents returned become Python objects.
    ``insert_many`` is one atomic batch. Iteration yields the documents in
    primary-key order; ``len()`` counts them.

    Secondary indexes (``create_index``: single field, compound, multikey,
    ``unique``, ``sparse``) are written in the same commit as the documents
    and used automatically for equality, ``$in`` and range conditions, for
    sorting with a limit, and for counting without reading documents;
    ``explain()`` shows the plan and what it read.

    A filter may also be a Python callable taking the document, or hold one
    as ``"$where"``: it runs on the documents the rest of the filter lets
    through. ``store.transaction()[collection]`` is the collection inside a
    transaction; ``watch()`` delivers change events; ``ttl=`` hides expired
    documents.
    """

    __slots__ = ()

    def update(
        self,
        filter: dict[str, Any] | Callable[[dict[str, Any]], object] | None,  # noqa: A002
        update: dict[str, Any],
        *,
        multi: bool = False,
        upsert: bool = False,
    ) -> UpdateResult:
        """Apply ``update`` to the first matching document (every one with ``multi``).

        ``update`` holds MongoDB update operators (``$set``, ``$unset``,
        ``$inc``, ``$mul``, ``$min``, ``$max``, ``$rename``, ``$push`` and
        ``$addToSet`` with ``$each``, ``$pull``, ``$pop``, ``$currentDate``)
        or is a replacement document. All changes commit atomically; an
        error (say ``$inc`` on a string) changes nothing. With ``upsert`` and
        no match, a document built from the filter's equality fields and the
        update is inserted.
        """
        return UpdateResult(*super().update(filter, update, multi=multi, upsert=upsert))

    def __repr__(self) -> str:
        return f"<shoal.Collection {self.name!r} key={self.key!r}>"


class Store(_core.Store):
    """A database: one directory holding named spaces.

    Create with :func:`shoal.open`. Closing releases the directory lock and
    invalidates every handle, cursor, transaction and snapshot of it.
    """

    __slots__ = ()

    def kv(self, name: str, *, key: str | None = None, value: str | None = None) -> KV:
        """Open (creating on first use) the key/value space ``name``.

        ``key`` is the key codec: ``"any"`` (default: None, bool, int, float,
        str, bytes, tuples; ordered), ``"bytes"``, ``"str"`` or ``"int"``.
        ``value`` is the value codec: ``"msgpack"`` (default), ``"bytes"``,
        ``"str"``, ``"json"`` or ``"pickle"`` (only when asked for: unpickling
        runs code). The codecs are recorded in the store; passing different
        ones for an existing space raises :class:`InvalidArgumentError`.
        """
        return KV(self, name, key=key, value=value)

    def collection(
        self, name: str, *, key: str | tuple[str, ...] | None = None, ttl: str | None = None
    ) -> Collection:
        """Open (creating on first use) the document collection ``name``.

        ``key`` names the primary-key fields (default ``("_id",)``; a missing
        ``_id`` is generated as a 24-character hex string). The key is
        recorded; passing a different one later raises
        :class:`InvalidArgumentError`. ``ttl`` names the field holding each
        document's expiry time in epoch seconds (see :meth:`Collection.set_ttl`);
        it is stored with the collection.
        """
        coll = Collection(self, name, key=key)
        if ttl is not None and coll.ttl != ttl:
            coll.set_ttl(ttl)
        return coll

    def transaction(self) -> Transaction:
        """Start an optimistic transaction across spaces (see :class:`Transaction`)."""
        return Transaction(self)

    def snapshot(self) -> Snapshot:
        """A point-in-time read view across every space."""
        return Snapshot(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.durability
        return f"<shoal.Store {self.path!r} ({state})>"


class Transaction(_core.Transaction):
    """An optimistic transaction across spaces.

    Reads see the transaction's own writes; ``commit()`` applies every write
    atomically or raises :class:`ConflictError` if something it read was
    changed by a concurrent commit. As a context manager it commits on a
    normal exit and rolls back on an exception.
    """

    __slots__ = ()

    def view(self, kv: KV) -> TxKV:
        """The space ``kv`` seen through this transaction, as a mapping."""
        return TxKV(self, kv)

    def collection(self, coll: Collection) -> Collection:
        """The collection ``coll`` seen through this transaction.

        Its reads see the transaction's writes; its writes (documents and
        their index entries) commit with the transaction, all or nothing.
        """
        return type(coll)(coll.store, coll.name, transaction=self)

    @overload
    def __getitem__(self, space: KV) -> TxKV: ...
    @overload
    def __getitem__(self, space: Collection) -> Collection: ...
    def __getitem__(self, space: KV | Collection) -> TxKV | Collection:
        """``tx[kv]``: a :class:`TxKV`; ``tx[collection]``: the collection in this transaction."""
        if isinstance(space, _core.Collection):
            return self.collection(space)
        return TxKV(self, space)


class TxKV(_ViewsMixin, _core.TxKV, MutableMapping):  # type: ignore[misc, type-arg]
    """One space seen through a transaction: a ``MutableMapping``.

    Commits on a normal exit of its ``with`` block, rolls back on an exception.
    """

    __slots__ = ()


class Snapshot(_core.Snapshot):
    """A point-in-time read view across every space of a store."""

    __slots__ = ()

    def view(self, kv: KV) -> SnapshotKV:
        """The space ``kv`` as of this snapshot, as a read-only mapping."""
        return SnapshotKV(self, kv)

    def __getitem__(self, kv: KV) -> SnapshotKV:
        return SnapshotKV(self, kv)


class SnapshotKV(_ViewsMixin, _core.SnapshotKV, Mapping):  # type: ignore[misc, type-arg]
    """One space as of a snapshot: a read-only ``Mapping`` with slicing."""

    __slots__ = ()


def open(  # noqa: A001 - mirrors the builtin on purpose: shoal.open(path)
    path: str | os.PathLike[str] | None = None,
    *,
    durability: str = "flush",
    cache_size: int = 16 * 1024 * 1024,
) -> Store:
    """Open (creating if needed) the store in directory ``path``.

    ``path=None`` opens a temporary store whose files are removed on close.
    ``durability`` is ``"sync"`` (a commit returns after fsync; concurrent
    commits share one), ``"flush"`` (default: handed to the OS, survives a
    killed process) or ``"memory"`` (nothing is durable until :meth:`Store.sync`
    or :meth:`Store.close`). A directory open elsewhere raises
    :class:`LockedError` at once, naming the process that holds it.
    """
    return Store(path, durability=durability, cache_size=cache_size)
