"""``Dynafile``: the table, mapped onto one shoal collection."""

from __future__ import annotations

import copy
import os
import re
import weakref
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import shoal

from . import _filters, _keys, _migrate, _store
from ._filters import Filter
from .dispatcher import Dispatcher, Event, EventListener
from .errors import (
    ConditionalCheckFailed,
    DynafileError,
    IndexNotFound,
    TransactionCanceled,
    ValidationError,
)

if TYPE_CHECKING:  # pragma: no cover
    from ._batch import BatchWriter
    from ._transaction import Transaction

Key = Tuple[Any, Any]
_UNSET: Any = object()
_SIMPLE_PK = frozenset({str, int, float, bytes})
_SIMPLE_SK = frozenset({str, int, float, bytes, type(None)})
_RETRIES = 1000
_INDEX_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class ActionType:
    """Operations of a batch :class:`Action`."""

    PUT = "PUT"
    DELETE = "DELETE"


class Action(NamedTuple):
    """One batch operation: ``data`` is the item (PUT) or the key attributes (DELETE)."""

    op: str
    """:attr:`ActionType.PUT` or :attr:`ActionType.DELETE`."""
    data: dict
    """The whole item for a PUT, the key attributes for a DELETE."""


class _Op(NamedTuple):
    """An action of an atomic write (transaction, conditional write, batch)."""

    kind: str  # "put", "delete", "update", "check"
    key: Key
    payload: Any  # the prepared item (put) or (set, remove, transform) (update)
    condition: Optional[Callable[[Dict[str, Any]], Any]]


class TableClosedError(DynafileError):
    """The ``Dynafile`` object was closed."""


class _Closed:
    """Stands in for the collection of a closed table: every use raises."""

    def __getattr__(self, name: str) -> Any:
        raise TableClosedError("the table is closed")


class _Relay:
    """Engine change events -> ``Event`` for a dispatcher (held weakly)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._ref = weakref.ref(dispatcher)

    def __call__(self, change: Any) -> None:
        dispatcher = self._ref()
        if dispatcher is None:
            return
        if change.action in ("delete", "expire"):
            dispatcher.emit(Event("DELETE", None, change.old))
        else:
            dispatcher.emit(Event("PUT", change.new, change.old))


class _State:
    """What closing (or garbage collection) releases; never refers to the table."""

    def __init__(self, shared: _store.Shared) -> None:
        self.shared: Optional[_store.Shared] = shared
        self.relay: Optional[_Relay] = None

    def release(self) -> None:
        shared, self.shared = self.shared, None
        if shared is None:
            return
        if self.relay is not None and not shared.store.closed:
            shared.coll.unwatch(self.relay)
        _store.release(shared)


def _succ(prefix: Union[str, bytes]) -> Union[str, bytes, None]:
    """The smallest value above every value starting with ``prefix`` (``None``: none)."""
    if isinstance(prefix, str):
        chars = list(prefix)
        while chars and ord(chars[-1]) >= 0x10FFFF:
            chars.pop()
        if not chars:
            return None
        chars[-1] = chr(ord(chars[-1]) + 1)
        return "".join(chars)
    data = bytearray(prefix)
    while data and data[-1] == 0xFF:
        data.pop()
    if not data:
        return None
    data[-1] += 1
    return bytes(data)


class Dynafile:
    """A DynamoDB-like table stored in directory ``path`` (a drop-in for ``dynafile.Dynafile``).

    Items are dicts addressed by a partition-key attribute (``pk_attribute``,
    default ``"PK"``) and a sort-key attribute (``sk_attribute``, default
    ``"SK"``). The attributes are recorded in ``<path>/meta.json``; opening an
    existing table without naming them reuses the recorded ones, naming
    different ones raises :class:`DynafileError`.

    ``ttl_attribute`` names the attribute holding each item's expiry (epoch
    seconds): expired items are never returned, and reads delete them (with
    ``DELETE`` events). It is recorded too: ``None`` keeps the recorded one,
    ``False`` switches expiry off.

    ``allow_pickle=True`` imports a directory written by the original
    dynafile (``_partitions/*/data.pickle``); without it such a directory
    raises :class:`DynafileError` (unpickling runs code). ``durability`` is
    shoal's (``"sync"``, ``"flush"`` or ``"memory"``).

    Every ``Dynafile`` on one path in a process shares one engine; another
    process opening the path gets :class:`DynafileError`. All methods are
    thread-safe and atomic. :meth:`close` (or leaving a ``with`` block)
    releases the table.
    """

    def __init__(
        self,
        path: Union[str, os.PathLike[str]] = "",
        pk_attribute: Optional[str] = None,
        sk_attribute: Optional[str] = None,
        ttl_attribute: Union[str, None, bool] = None,
        *,
        allow_pickle: bool = False,
        durability: str = "flush",
    ) -> None:
        self._path = Path(path)

        def first_open(shared: _store.Shared) -> None:
            self._import_original(shared, allow_pickle)

        shared = _store.acquire(
            self._path, pk_attribute, sk_attribute, ttl_attribute, durability, first_open
        )
        self._shared = shared
        self._coll: Any = shared.coll
        self._pk: str = shared.meta["pk_attribute"]
        self._sk: str = shared.meta["sk_attribute"]
        self._dispatcher = Dispatcher()
        self._state = _State(shared)
        self._finalizer = weakref.finalize(self, _State.release, self._state)

    # -- lifecycle -------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The table's directory."""
        return self._path

    @property
    def pk_attribute(self) -> str:
        """The partition-key attribute."""
        return self._pk

    @property
    def sk_attribute(self) -> str:
        """The sort-key attribute."""
        return self._sk

    @property
    def ttl_attribute(self) -> Optional[str]:
        """The expiry attribute, or ``None``."""
        return self._shared.meta.get("ttl_attribute")  # type: ignore[no-any-return]

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return isinstance(self._coll, _Closed)

    def close(self) -> None:
        """Release the table (the engine closes with its last ``Dynafile``); idempotent."""
        self._coll = _Closed()
        self._finalizer()

    def __enter__(self) -> Dynafile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<shoal.dynafile.Dynafile {str(self._path)!r} {self._pk}/{self._sk}{state}>"

    def _import_original(self, shared: _store.Shared, allow_pickle: bool) -> None:
        files = _migrate.original_files(shared.path)
        if not files or shared.meta.get("imported"):
            return
        if not allow_pickle:
            raise DynafileError(
                f"{str(shared.path)!r} holds a table written by the original dynafile "
                f"({len(files)} pickled partition files); open it with allow_pickle=True to "
                "import them (only for trusted files: unpickling runs code)"
            )
        pk, sk = shared.meta["pk_attribute"], shared.meta["sk_attribute"]
        with shared.store.transaction() as tx:
            c = tx[shared.coll]  # type: ignore[index]
            for _file, item in _migrate.items(shared.path):
                doc, _ = self._prepare_item(item, pk, sk)
                c.put(doc)
        shared.meta["imported"] = True
        shared.save_meta()

    def _live(self) -> Any:
        """The collection, or :class:`TableClosedError` after :meth:`close`."""
        coll = self._coll
        if type(coll) is _Closed:
            raise TableClosedError("the table is closed")
        return coll

    # -- keys --------------------------------------------------------------------------

    def _key(self, key: Any) -> Key:
        """``(pk, sk)`` of a key (or item) mapping, checked."""
        try:
            pk = key[self._pk]
        except KeyError:
            raise ValidationError(
                f"the partition key attribute {self._pk!r} is missing from the key"
            ) from None
        except TypeError:
            _keys.mapping(key, "key")
            raise
        if type(pk) not in _SIMPLE_PK:
            pk = _keys.partition_key(pk, self._pk)
        sk = key.get(self._sk)
        if type(sk) not in _SIMPLE_SK:
            sk = _keys.sort_key(sk, self._sk)
        return (pk, sk)

    def _prepare_item(
        self, item: Any, pk_attr: Optional[str] = None, sk_attr: Optional[str] = None
    ) -> Tuple[Dict[str, Any], Key]:
        """The document to store for ``item`` and its key (a copy when a key attribute changes)."""
        _keys.mapping(item, "item")
        pk_attr = pk_attr or self._pk
        sk_attr = sk_attr or self._sk
        pk = item.get(pk_attr, _keys.MISSING)
        if type(pk) not in _SIMPLE_PK:
            pk = _keys.partition_key(pk, pk_attr)
        sk = item.get(sk_attr, _keys.MISSING)
        if sk is _keys.MISSING:
            sk = None
        elif type(sk) not in _SIMPLE_SK:
            sk = _keys.sort_key(sk, sk_attr)
        doc = item if type(item) is dict else dict(item)
        if doc.get(pk_attr) is not pk or sk_attr not in doc or doc[sk_attr] is not sk:
            doc = dict(doc)
            doc[pk_attr] = pk
            doc[sk_attr] = sk
        return doc, (pk, sk)

    def extract_key(self, item: Mapping[str, Any]) -> Dict[str, Any]:
        """``{pk_attribute: ..., sk_attribute: ...}`` of ``item``."""
        pk, sk = self._key(item)
        return {self._pk: pk, self._sk: sk}

    def contains_key_attributes(self, item: Mapping[str, Any]) -> bool:
        """Whether ``item`` has both key attributes."""
        return self._pk in item and self._sk in item

    # -- events ------------------------------------------------------------------------

    def add_stream_listener(self, listener: EventListener) -> None:
        """Call ``listener(Event)`` after every committed change of the table.

        Changes made through any ``Dynafile`` of this path are reported, in
        commit order, after the commit (a transaction's at its commit). A
        listener that raises cannot undo the write: its exception goes to
        ``sys.unraisablehook``.
        """
        coll = self._live()
        self._dispatcher.connect(listener)
        if self._state.relay is None:
            relay = _Relay(self._dispatcher)
            coll.watch(relay)
            self._state.relay = relay

    def remove_stream_listener(self, listener: EventListener) -> None:
        """Stop calling ``listener`` (``ValueError`` if it was not added)."""
        self._dispatcher.remove(listener)

    # -- TTL ----------------------------------------------------------------------------

    def _expire(self) -> None:
        """Delete the expired items (``DELETE`` events): reads call it when TTL is on."""
        if self._shared.meta.get("ttl_attribute"):
            self._coll.expire()

    def expire(self) -> int:
        """Delete every expired item now (``DELETE`` events); how many."""
        return int(self._coll.expire()) if self.ttl_attribute else 0

    # -- single items -------------------------------------------------------------------

    def put_item(
        self, *, item: Any = None, condition: Optional[Filter] = None, **boto3: Any
    ) -> Any:
        """Store ``item`` under its key, replacing the item there.

        The partition key must be a str, int, float, bytes or Decimal; a
        missing sort key stores the item under sort key ``None`` (the
        attribute is added). With ``condition`` (a callable or filter string
        evaluated against the current item, or ``{}``), a false condition
        raises :class:`ConditionalCheckFailed` and writes nothing.

        boto3's keywords (``Item=``, ``ConditionExpression=``,
        ``ExpressionAttributeNames/Values=``, ``ReturnValues=``) select the
        boto3 convention and its response dict.
        """
        if boto3 or item is None:
            return _boto_call("put_item", self, item is None and condition is None, boto3)
        doc, key = self._prepare_item(item)
        if condition is None:
            self._coll.put(doc)
        else:
            self._atomic([_Op("put", key, doc, _filters.condition(condition))], single=True)

    def get_item(self, *, key: Any = None, **boto3: Any) -> Any:
        """The item with ``key``'s key attributes (others ignored), a fresh copy, or ``None``.

        boto3's keywords (``Key=``, ``ProjectionExpression=``...) answer
        ``{"Item": ...}`` or ``{}``.
        """
        if boto3 or key is None:
            return _boto_call("get_item", self, key is None, boto3)
        k = self._key(key)
        doc = self._coll.get(k)
        if doc is None and self._shared.meta.get("ttl_attribute"):
            self._coll.expire()
        return doc  # type: ignore[no-any-return]

    def delete_item(
        self, *, key: Any = None, condition: Optional[Filter] = None, **boto3: Any
    ) -> Any:
        """Delete the item with ``key``'s key attributes; a missing item is a no-op.

        With ``condition`` false for the current item (or ``{}``):
        :class:`ConditionalCheckFailed`, nothing deleted. boto3's keywords
        (``Key=``, ``ConditionExpression=``, ``ReturnValues=``...) answer its dict.
        """
        if boto3 or key is None:
            return _boto_call("delete_item", self, key is None and condition is None, boto3)
        k = self._key(key)
        if condition is None:
            self._coll.delete(k)
        else:
            self._atomic([_Op("delete", k, None, _filters.condition(condition))], single=True)

    def update_item(
        self,
        *,
        key: Any = None,
        set_attributes: Optional[Mapping[str, Any]] = None,
        remove_attributes: Optional[Iterable[str]] = None,
        transform: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
        condition: Optional[Filter] = None,
        **boto3: Any,
    ) -> Dict[str, Any]:
        """Change (or create) the item with ``key`` atomically; returns the new item.

        ``set_attributes`` assigns top-level attributes, ``remove_attributes``
        drops attributes, then ``transform`` receives a copy of the item (or of
        ``{pk, sk}`` when there is none) and returns the new item. Changing a
        key attribute raises :class:`ValidationError` (a ``ValueError``). A
        ``PUT`` event reports old and new item.

        boto3's keywords (``Key=``, ``UpdateExpression=``,
        ``ConditionExpression=``, ``ReturnValues=``...) answer its dict.
        """
        if boto3 or key is None:
            plain = key is None and set_attributes is None and remove_attributes is None
            return _boto_call(  # type: ignore[no-any-return]
                "update_item", self, plain and transform is None and condition is None, boto3
            )
        k = self._key(key)
        spec = self._update_spec(set_attributes, remove_attributes, transform)
        results = self._atomic([_Op("update", k, spec, _filters.condition(condition))], single=True)
        return results[0][1]  # type: ignore[no-any-return]

    def _update_spec(
        self,
        set_attributes: Optional[Mapping[str, Any]],
        remove_attributes: Optional[Iterable[str]],
        transform: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]],
    ) -> Tuple[Dict[str, Any], List[str], Any]:
        sets = dict(_keys.mapping(set_attributes, "set_attributes")) if set_attributes else {}
        if isinstance(remove_attributes, str):
            raise TypeError("remove_attributes must be an iterable of names, not a str")
        removes = list(remove_attributes or ())
        for name in removes:
            if not isinstance(name, str):
                raise TypeError(f"attribute names are str, not {type(name).__name__}")
            if name in (self._pk, self._sk):
                raise ValidationError(f"update_item cannot remove the key attribute {name!r}")
        if transform is not None and not callable(transform):
            raise TypeError("transform must be callable")
        return sets, removes, transform

    def _updated(self, key: Key, current: Optional[Dict[str, Any]], spec: Any) -> Dict[str, Any]:
        sets, removes, transform = spec
        new = current if current is not None else {self._pk: key[0], self._sk: key[1]}
        new.update(sets)
        for name in removes:
            new.pop(name, None)
        if transform is not None:
            new = transform(copy.deepcopy(new))
            _keys.mapping(new, "the item transform returned")
        doc, new_key = self._prepare_item(new)
        if new_key != key or any(type(a) is not type(b) for a, b in zip(new_key, key)):
            raise ValidationError(
                f"update_item cannot change the key attributes ({key!r} -> {new_key!r})"
            )
        return doc

    def batch_get(self, *, keys: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        """The items of ``keys`` in request order (missing and expired ones omitted).

        All are read at one point in time.
        """
        coll = self._live()
        wanted = [self._key(k) for k in keys]
        out = []
        tx = self._shared.store.transaction()
        try:
            c = tx[coll]
            for k in wanted:
                doc = c.get(k)
                if doc is not None:
                    out.append(doc)
        finally:
            tx.rollback()
        return out

    # -- atomic writes -----------------------------------------------------------------

    def _in_transaction(self, body: Callable[[Any], Any]) -> Any:
        """``body(collection in a transaction)``, committed; retried on conflicts."""
        coll = self._live()
        store = self._shared.store
        for _ in range(_RETRIES):
            tx = store.transaction()
            try:
                result = body(tx[coll])
                tx.commit()
                return result
            except shoal.ConflictError:
                continue
            finally:
                if tx.active:
                    tx.rollback()
        raise DynafileError(f"gave up after {_RETRIES} conflicting attempts")  # pragma: no cover

    def _atomic(self, ops: Sequence[_Op], single: bool = False) -> List[Any]:
        """Apply ``ops`` in one transaction; conditions see the committed state.

        Returns ``(old item, new item)`` per op. A failed op raises its own
        error (``single``) or :class:`TransactionCanceled`.
        """

        def body(c: Any) -> List[Any]:
            reasons: List[Optional[BaseException]] = []
            plans: List[Any] = []
            for op in ops:
                try:
                    plans.append(self._plan(c, op))
                    reasons.append(None)
                except (DynafileError, TypeError, ValueError, shoal.Error) as exc:
                    if single or isinstance(exc, shoal.ConflictError):
                        raise
                    reasons.append(exc)
                    plans.append((None, None))
            if any(r is not None for r in reasons):
                failed = [f"{i}: {r}" for i, r in enumerate(reasons) if r is not None]
                raise TransactionCanceled(
                    "transaction canceled, nothing applied (" + "; ".join(failed) + ")", reasons
                )
            for op, (_old, new) in zip(ops, plans):
                if op.kind == "delete":
                    c.delete(op.key)
                elif op.kind in ("put", "update"):
                    c.put(new)
            return plans

        return self._in_transaction(body)  # type: ignore[no-any-return]

    def _plan(self, c: Any, op: _Op) -> Tuple[Any, Any]:
        """Check ``op`` against the current item: ``(current item, item to write)``."""
        current = c.get(op.key)
        if op.condition is not None and not op.condition(current if current is not None else {}):
            raise ConditionalCheckFailed(f"the condition of {op.kind} for key {op.key!r} is false")
        if op.kind == "update":
            snapshot = copy.deepcopy(current)
            return snapshot, self._updated(op.key, current, op.payload)
        return current, op.payload

    def execute_batch(self, actions: Iterable[Action]) -> None:
        """Apply a list of :class:`Action` atomically, in order.

        Deleting a missing item is a no-op.
        """
        ops = []
        for action in actions:
            if not isinstance(action, tuple) or len(action) != 2:
                raise TypeError(f"a batch action is an Action(op, data), not {action!r}")
            op, data = action
            if op == ActionType.PUT:
                doc, key = self._prepare_item(data)
                ops.append(_Op("put", key, doc, None))
            elif op == ActionType.DELETE:
                ops.append(_Op("delete", self._key(data), None, None))
            else:
                raise ValidationError(f"unknown batch action {op!r} (PUT or DELETE)")
        if ops:
            self._write_blind(ops)

    def _write_blind(self, ops: Sequence[_Op]) -> None:
        """Unconditional puts and deletes in one transaction."""

        def body(c: Any) -> None:
            for op in ops:
                if op.kind == "put":
                    c.put(op.payload)
                else:
                    c.delete(op.key)

        self._in_transaction(body)

    def batch_get_item(self, **boto3: Any) -> Dict[str, Any]:
        """boto3-style batch get: ``Keys=[...]`` or ``RequestItems={...}``."""
        return _boto_call("batch_get_item", self, True, boto3)  # type: ignore[no-any-return]

    def transact_write_items(self, **boto3: Any) -> Dict[str, Any]:
        """boto3-style ``TransactItems=[{"Put"|"Update"|"Delete"|"ConditionCheck": {...}}]``."""
        return _boto_call("transact_write_items", self, True, boto3)  # type: ignore[no-any-return]

    def batch_writer(self, overwrite_by_pkeys: Optional[Sequence[str]] = None) -> BatchWriter:
        """A :class:`BatchWriter`: queue puts and deletes, applied atomically at the block's end."""
        from ._batch import BatchWriter

        return BatchWriter(self, overwrite_by_pkeys=overwrite_by_pkeys)

    def transaction(self) -> Transaction:
        """A :class:`Transaction`: all-or-nothing writes with condition checks."""
        from ._transaction import Transaction

        return Transaction(self)

    def transact_write(self, actions: Iterable[Any]) -> None:
        """Apply ``actions`` as one transaction (see :meth:`Transaction.add`)."""
        with self.transaction() as tx:
            for action in actions:
                tx.add(action)

    # -- reads ----------------------------------------------------------------------------

    def _find(
        self,
        base: Dict[str, Any],
        flt: Optional[Filter],
        sort: Optional[List[Tuple[str, int]]],
    ) -> List[Dict[str, Any]]:
        """Run ``base`` AND the filter in the engine, the Python part on the results."""
        compiled = _filters.compile_filter(flt)
        mongo = base if compiled.mongo is None else _and(base, compiled.mongo)
        coll = self._coll
        predicate = compiled.python
        try:
            docs = coll.find(mongo, sort=sort)
        except shoal.QueryError:
            if compiled.mongo is None or flt is None:
                raise
            # A pattern the engine's linear-time regex cannot run: evaluate in Python.
            docs = coll.find(base, sort=sort)
            predicate = _filters.python_only(flt)
        if predicate is not None:
            docs = [d for d in docs if predicate(d)]
        return docs  # type: ignore[no-any-return]

    def query(
        self,
        pk: Any = _UNSET,
        *,
        starts_with: Any = _UNSET,
        scan_index_forward: bool = True,
        _filter: Optional[Filter] = None,
        index: Optional[str] = None,
        begins_with: Any = None,
        **boto3: Any,
    ) -> Any:
        """Items of partition ``pk`` in sort-key order (``scan_index_forward=False``: descending).

        ``starts_with`` is the original's *bound*: forward, sort keys
        ``>= starts_with``; backward, ``<= starts_with`` (no bound when
        omitted or ``None``). ``begins_with`` keeps sort keys (str or bytes)
        starting with it. ``_filter`` is a callable or a filter string.
        ``index`` queries a GSI (by its partition attribute) or an LSI. The
        result is a generator; the partition is read at its first ``next()``.

        boto3's keywords (``KeyConditionExpression=``, ``FilterExpression=``,
        ``IndexName=``, ``ScanIndexForward=``, ``Limit=``,
        ``ExclusiveStartKey=``...) answer ``{"Items", "Count",
        "ScannedCount"[, "LastEvaluatedKey"]}``.
        """
        if boto3 or pk is _UNSET:
            plain = pk is _UNSET and starts_with is _UNSET and scan_index_forward is True
            plain = plain and _filter is None and index is None and begins_with is None
            return _boto_call("query", self, plain, boto3)
        if isinstance(index, str) or index is not None:
            return self._query_index(
                index, pk, starts_with, scan_index_forward, _filter, begins_with
            )
        pk = _keys.partition_key(pk, self._pk) if type(pk) not in _SIMPLE_PK else pk
        base: Dict[str, Any] = {self._pk: pk}
        bounds = self._bounds(starts_with, scan_index_forward, begins_with)
        if bounds:
            base[self._sk] = bounds
        order = 1 if scan_index_forward else -1
        return self._lazy(base, _filter, [(self._sk, order)])

    def _bounds(self, starts_with: Any, forward: bool, begins_with: Any) -> Dict[str, Any]:
        parts: Dict[str, Any] = {}
        if starts_with is not _UNSET and starts_with is not None:
            parts["$gte" if forward else "$lte"] = starts_with
        if begins_with is not None:
            if not isinstance(begins_with, (str, bytes)):
                raise TypeError(
                    f"begins_with takes a str or bytes, not {type(begins_with).__name__}"
                )
            lo, hi = begins_with, _succ(begins_with)
            # Both bounds may already be there: keep the tighter ones.
            if "$gte" in parts and _le(parts["$gte"], lo):
                parts["$gte"] = lo
            elif "$gte" not in parts:
                parts["$gte"] = lo
            if hi is not None:
                parts["$lt"] = hi
        return parts

    def _lazy(
        self, base: Dict[str, Any], flt: Optional[Filter], sort: Optional[List[Tuple[str, int]]]
    ) -> Iterator[Dict[str, Any]]:
        _filters.compile_filter(flt)  # bad filters fail now, not at the first next()
        coll = self._live()  # and closed tables too

        def run() -> Iterator[Dict[str, Any]]:
            if self._shared.meta.get("ttl_attribute"):
                coll.expire()
            if not base and flt is None and sort is None:
                yield from coll  # the whole table, streamed in key order
            else:
                yield from self._find(base, flt, sort)

        return run()

    def scan(
        self,
        _filter: Optional[Filter] = None,
        *,
        index: Optional[str] = None,
        segment: Optional[int] = None,
        total_segments: Optional[int] = None,
        **boto3: Any,
    ) -> Any:
        """Every item (of an index with ``index=``), filtered; a generator.

        Order: by partition key, then sort key (callers should not rely on it).
        ``segment``/``total_segments`` read one of disjoint parts covering the
        table: partition ``p`` belongs to segment
        ``sha256(p) % total_segments``.

        boto3's keywords (``FilterExpression=``, ``IndexName=``, ``Segment=``,
        ``TotalSegments=``, ``Limit=``, ``ExclusiveStartKey=``...) answer
        ``{"Items", "Count", "ScannedCount"[, "LastEvaluatedKey"]}``.
        """
        if boto3:
            plain = _filter is None and index is None and segment is None
            return _boto_call("scan", self, plain and total_segments is None, boto3)
        if (segment is None) != (total_segments is None):
            raise ValueError("segment and total_segments go together")
        if total_segments is not None:
            if (
                not isinstance(total_segments, int)
                or not isinstance(segment, int)
                or isinstance(total_segments, bool)
                or isinstance(segment, bool)
                or total_segments < 1
                or not 0 <= segment < total_segments
            ):
                raise ValueError(
                    "total_segments must be an int >= 1 and segment an int in "
                    f"[0, total_segments), not {segment!r}/{total_segments!r}"
                )
        base: Dict[str, Any] = {}
        sort = None
        if index is not None:
            kind, defn = self._index(index)
            sort_attr = defn["sk_attribute"]
            if kind == "gsi":
                base[defn["pk_attribute"]] = {"$exists": True}
                sort = [(defn["pk_attribute"], 1)]
            else:
                sort = [(self._pk, 1)]
            if sort_attr:
                base[sort_attr] = {"$exists": True}
                sort.append((sort_attr, 1))
            sort += [(self._pk, 1), (self._sk, 1)]
            sort = _dedupe(sort)
        items = self._lazy(base, _filter, sort)
        if total_segments is None:
            return items
        return _segment(items, self._pk, segment or 0, total_segments)

    # -- indexes ---------------------------------------------------------------------------

    def _index(self, name: Any) -> Tuple[str, Dict[str, Any]]:
        meta = self._shared.meta
        if name in meta["gsi"]:
            return "gsi", meta["gsi"][name]
        if name in meta["lsi"]:
            return "lsi", meta["lsi"][name]
        raise IndexNotFound("Index does not exist")

    def _query_index(
        self,
        index: Any,
        pk: Any,
        starts_with: Any,
        forward: bool,
        flt: Optional[Filter],
        begins_with: Any,
    ) -> Iterator[Dict[str, Any]]:
        kind, defn = self._index(index)
        order = 1 if forward else -1
        sort_attr = defn["sk_attribute"]
        if kind == "gsi":
            part_attr = defn["pk_attribute"]
            if pk is None:
                raise ValidationError("the index partition key cannot be None")
        else:
            part_attr = self._pk
            pk = _keys.partition_key(pk, self._pk) if type(pk) not in _SIMPLE_PK else pk
        base: Dict[str, Any] = {part_attr: pk}
        sort: List[Tuple[str, int]] = []
        if sort_attr:
            cond: Dict[str, Any] = {"$exists": True}
            cond.update(self._bounds(starts_with, forward, begins_with))
            base = _and(base, {sort_attr: cond})
            sort.append((sort_attr, order))
        elif (starts_with is not _UNSET and starts_with is not None) or begins_with is not None:
            raise ValidationError(f"index {index!r} has no sort key: no bounds possible")
        sort += [(self._pk, order), (self._sk, order)]
        return self._lazy(base, flt, _dedupe(sort))

    def create_gsi(self, name: str, pk_attribute: str, sk_attribute: Optional[str] = None) -> None:
        """Create global secondary index ``name`` on ``pk_attribute`` (and ``sk_attribute``).

        The index is sparse (items lacking one of its attributes are not in
        it), keeps items sharing a GSI key, holds full items, and is written
        in the same commit as every item change. Existing items are indexed
        at once. A used name raises :class:`DynafileError` ("GSI already exists").
        """
        self._create_index("gsi", name, pk_attribute, sk_attribute)

    def create_lsi(self, name: str, sk_attribute: str) -> None:
        """Create local secondary index ``name``: the table's partitions sorted by ``sk_attribute``.

        Sparse; ties are ordered by the table's sort key. Query it with
        ``query(pk, index=name)``.
        """
        self._create_index("lsi", name, None, sk_attribute)

    def _create_index(
        self, kind: str, name: Any, pk_attribute: Optional[str], sk_attribute: Optional[str]
    ) -> None:
        if not isinstance(name, str) or not _INDEX_NAME.match(name):
            raise ValidationError(
                f"an index name is 1-200 characters of A-Z a-z 0-9 _ . -, not {name!r}"
            )
        for what, attr in (("pk_attribute", pk_attribute), ("sk_attribute", sk_attribute)):
            if attr is not None and (not isinstance(attr, str) or not attr):
                raise TypeError(f"{what} must be a non-empty str, not {attr!r}")
        if kind == "gsi" and pk_attribute is None:
            raise TypeError("create_gsi needs a pk_attribute")
        if kind == "lsi" and sk_attribute is None:
            raise TypeError("create_lsi needs an sk_attribute")
        shared = self._shared
        coll = self._live()
        with shared.lock:
            if name in shared.meta["gsi"] or name in shared.meta["lsi"]:
                raise DynafileError("GSI already exists" if kind == "gsi" else "LSI already exists")
            lead = [pk_attribute] if kind == "gsi" else [self._pk]
            fields = _dedupe_names([*lead, *([sk_attribute] if sk_attribute else [])])
            fields = _dedupe_names([*fields, self._pk, self._sk])
            engine_name: Optional[str] = f"{kind}.{name}"
            try:
                coll.create_index(fields, sparse=True, name=engine_name)
            except shoal.InvalidArgumentError:
                engine_name = None  # an index with these fields exists: it serves this one
            defn = {
                "pk_attribute": pk_attribute,
                "sk_attribute": sk_attribute,
                "index": engine_name,
            }
            if kind == "lsi":
                del defn["pk_attribute"]
            shared.meta[kind][name] = defn
            shared.save_meta()

    def delete_gsi(self, name: str) -> None:
        """Drop global secondary index ``name`` (:class:`IndexNotFound` if there is none)."""
        self._drop_index("gsi", name)

    def delete_lsi(self, name: str) -> None:
        """Drop local secondary index ``name`` (:class:`IndexNotFound` if there is none)."""
        self._drop_index("lsi", name)

    def _drop_index(self, kind: str, name: str) -> None:
        shared = self._shared
        coll = self._live()
        with shared.lock:
            defn = shared.meta[kind].get(name)
            if defn is None:
                raise IndexNotFound("Index does not exist")
            if defn.get("index"):
                try:
                    coll.drop_index(defn["index"])
                except (KeyError, shoal.InvalidArgumentError):
                    pass
            del shared.meta[kind][name]
            shared.save_meta()

    def list_gsis(self) -> Dict[str, Dict[str, Any]]:
        """``{name: {"pk_attribute": ..., "sk_attribute": ...}}`` of the GSIs."""
        return {
            n: {"pk_attribute": d["pk_attribute"], "sk_attribute": d["sk_attribute"]}
            for n, d in self._shared.meta["gsi"].items()
        }

    def list_lsis(self) -> Dict[str, Dict[str, Any]]:
        """``{name: {"sk_attribute": ...}}`` of the LSIs."""
        return {n: {"sk_attribute": d["sk_attribute"]} for n, d in self._shared.meta["lsi"].items()}


def _boto_call(method: str, db: Dynafile, plain: bool, kwargs: Dict[str, Any]) -> Any:
    """Run a boto3-convention call (``plain``: no dynafile-style argument was given)."""
    if not plain:
        raise TypeError(f"{method}() mixes dynafile arguments with boto3's {sorted(kwargs)}")
    from . import _boto

    return getattr(_boto, method)(db, **kwargs)


def _and(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Any]:
    if not a:
        return b
    if not b:
        return a
    if a.keys() & b.keys():
        return {"$and": [a, b]}
    return {**a, **b}


def _le(a: Any, b: Any) -> bool:
    try:
        return bool(a <= b)
    except TypeError:
        return False


def _dedupe(sort: List[Tuple[str, int]]) -> List[Tuple[str, int]]:
    seen = set()
    out = []
    for field, order in sort:
        if field not in seen:
            seen.add(field)
            out.append((field, order))
    return out


def _dedupe_names(names: List[Optional[str]]) -> List[str]:
    out: List[str] = []
    for n in names:
        if n is not None and n not in out:
            out.append(n)
    return out


def _segment(
    items: Iterator[Dict[str, Any]], pk_attr: str, segment: int, total: int
) -> Iterator[Dict[str, Any]]:
    cache: Dict[Any, bool] = {}
    for item in items:
        pk = item.get(pk_attr)
        mine = cache.get((type(pk), pk))
        if mine is None:
            mine = _keys.partition_hash(pk) % total == segment
            cache[(type(pk), pk)] = mine
        if mine:
            yield item
