"""The native backend: documents and views as shoal collections.

Storage in the shoal store (names mirror the SQL tables):

- collection ``<tablename>`` (primary key ``key``): one record per document,
  ``{"key", "id", "rev", "updated", "data"}`` — the columns of the
  original's document table, ``data`` the JSON document;
- collection ``<view table name>`` per view (primary key ``_row``, a
  sequence number, so a scan returns rows in insertion order), one record
  per view row: the row's columns (``None`` values left out, so unique
  indexes are *sparse* and NULLs never collide, as in SQL) plus ``_id`` and
  ``_key``; a secondary index on ``_id`` and one per indexed/unique column,
  ``Index`` and ``UniqueConstraint`` (unique ones enforced by the engine);
- key/value space ``<tablename>.seq``: the next document id (``"id"``) and
  view row number (``"row"``), and ``("view", table)`` markers recording
  that a view was completely back-filled.

Each ``put``/``put_many``/``delete`` is one ``store.transaction()``: the
document, the deletion of its old view rows and the insertion of the new
ones commit together or not at all (a view ``map`` that raises, a bad row or
a unique violation leaves everything as it was). Transactions that collide
(two writers of one key, or of the counters) are retried; a stale ``_rev``
is not retried but raised.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Callable, Iterable

import shoal

from . import _docs
from ._query import Query
from .errors import RevisionConflict, UniqueViolation
from .schema import ViewSpec

_RETRIES = 64


class NativeView:
    """A view attached to the native backend: its spec, map function and collection.

    The engine stores ``datetime`` but not ``date`` or ``time``: date columns
    are stored as midnight datetimes and time columns as ISO strings (both
    order-preserving), converted back when read and when filtering.
    """

    __slots__ = ("name", "spec", "map", "coll", "encoders", "decoders")

    def __init__(self, name: str, spec: ViewSpec, map_fn: Callable[[Any], Any], coll: Any) -> None:
        self.name, self.spec, self.map, self.coll = name, spec, map_fn, coll
        self.encoders = [(c.name, _ENCODE[c.family]) for c in spec.columns if c.family in _ENCODE]
        self.decoders = [(c.name, _DECODE[c.family]) for c in spec.columns if c.family in _DECODE]

    def stored(self, row: dict[str, Any], row_no: int) -> dict[str, Any]:
        """A view row as stored: ``None`` columns left out, ``_row`` added."""
        out = {k: v for k, v in row.items() if v is not None}
        for name, enc in self.encoders:
            if name in out:
                out[name] = enc(out[name])
        out["_row"] = row_no
        return out

    def encode(self, name: str, value: Any) -> Any:
        """A filter value in its stored form."""
        for col, enc in self.encoders:
            if col == name and value is not None:
                return enc(value)
        return value

    def load(self, rec: dict[str, Any]) -> dict[str, Any]:
        """A stored row as query results show it: every column, in table order."""
        row = {c: rec.get(c) for c in self.spec.all_columns}
        for name, dec in self.decoders:
            if row[name] is not None:
                row[name] = dec(row[name])
        return row


_ENCODE: dict[str, Callable[[Any], Any]] = {
    "date": lambda d: datetime(d.year, d.month, d.day),
    "time": lambda t: t.isoformat(),
}
_DECODE: dict[str, Callable[[Any], Any]] = {
    "date": lambda v: v.date(),
    "time": time.fromisoformat,
}


class NativeBackend:
    """Documents and views in a shoal store."""

    kind = "shoal"

    def __init__(self, store: shoal.Store, tablename: str, *, owned: bool) -> None:
        self.store = store
        self.owned = owned
        self.docs = store.collection(tablename, key=("key",))
        self.seq = store.kv(f"{tablename}.seq")
        self.views: dict[str, NativeView] = {}

    # -- views ---------------------------------------------------------------

    def add_view(self, name: str, spec: ViewSpec, map_fn: Callable[[Any], Any]) -> None:
        """Create (or open) the view's collection and indexes; back-fill it when new."""
        if spec.table_name == self.docs.name or any(
            v.spec.table_name == spec.table_name for v in self.views.values()
        ):
            raise ValueError(f"view {name!r}: the table name {spec.table_name!r} is taken")
        marker = ("view", spec.table_name)
        existed = spec.table_name in self.store.collections()
        if existed and marker not in self.seq and len(self.store.collection(spec.table_name)):
            # Not a view storage of ours (or one whose back-fill never committed,
            # which would be empty): refuse rather than overwrite someone's data.
            raise ValueError(
                f"view {name!r}: the store already has a collection {spec.table_name!r} "
                "that is not this datastore's view"
            )
        coll = self.store.collection(spec.table_name, key=("_row",))
        view = NativeView(name, spec, map_fn, coll)
        try:
            coll.create_index("_id")
            for cols in spec.indexes:
                coll.create_index(list(cols))
            for cols in spec.uniques:
                coll.create_index(list(cols), unique=True, sparse=True)
            if marker not in self.seq:
                # New storage (or a back-fill that never finished): fill it from
                # every document, in one transaction with the marker.
                self._transact(lambda tx: self._backfill(tx, view, marker))
        except BaseException:
            if marker not in self.seq and not existed:
                coll.drop()
            raise
        self.views[name] = view

    def _backfill(self, tx: Any, view: NativeView, marker: Any) -> None:
        rows_coll = tx[view.coll]
        rows_coll.delete_many({})
        seq = tx[self.seq]
        row = seq.get("row", 1)
        batch: list[dict[str, Any]] = []
        for rec in tx[self.docs]:
            doc = _docs.public(rec["data"], rec["id"], rec["key"], rec["rev"], rec["updated"])
            for r in view.spec.rows(view.map(doc), rec["id"], rec["key"]):
                batch.append(view.stored(r, row))
                row += 1
            if len(batch) >= 1000:
                rows_coll.insert_many(batch)
                batch = []
        if batch:
            rows_coll.insert_many(batch)
        seq["row"] = row
        seq[marker] = True

    def rebuild_view(self, name: str) -> None:
        """Re-map every document into the view ``name`` (after its ``map`` changed)."""
        view = self.views[name]
        self._transact(lambda tx: self._backfill(tx, view, ("view", view.spec.table_name)))

    # -- transactions ------------------------------------------------------------

    def _transact(self, body: Callable[[Any], Any]) -> Any:
        for attempt in range(_RETRIES):
            try:
                with self.store.transaction() as tx:
                    result = body(tx)
                return result
            except RevisionConflict:
                raise
            except shoal.ConflictError:
                if attempt == _RETRIES - 1:
                    raise
            except shoal.DuplicateKeyError as e:
                if isinstance(e, UniqueViolation):
                    raise
                raise UniqueViolation(str(e)) from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_rows(self, tx: Any, recs: list[dict[str, Any]], old_ids: list[int]) -> None:
        """Replace the view rows of the documents ``recs`` (``old_ids`` had rows)."""
        seq = tx[self.seq]
        row = seq.get("row", 1)
        start = row
        for view in self.views.values():
            coll = tx[view.coll]
            if old_ids:
                coll.delete_many(
                    {"_id": old_ids[0]} if len(old_ids) == 1 else {"_id": {"$in": old_ids}}
                )
            out = []
            for rec in recs:
                doc = _docs.public(
                    dict(rec["data"]), rec["id"], rec["key"], rec["rev"], rec["updated"]
                )
                for r in view.spec.rows(view.map(doc), rec["id"], rec["key"]):
                    out.append(view.stored(r, row))
                    row += 1
            if out:
                coll.insert_many(out)
        if row != start:
            seq["row"] = row

    # -- documents -----------------------------------------------------------------

    def put(self, key: str, data: dict[str, Any], expected: str | None, ts: Any) -> tuple[int, int]:
        """Insert or replace one document and its view rows; return ``(id, rev)``."""

        def body(tx: Any) -> tuple[int, int]:
            docs = tx[self.docs]
            old = docs.get(key)
            _docs.check_revision(key, expected, None if old is None else old["rev"])
            if old is None:
                seq = tx[self.seq]
                doc_id, rev = seq.get("id", 1), 0
                seq["id"] = doc_id + 1
            else:
                doc_id, rev = old["id"], old["rev"] + 1
            rec = {"key": key, "id": doc_id, "rev": rev, "updated": ts, "data": data}
            docs.put(rec)
            if self.views:
                self._write_rows(tx, [rec], [] if old is None else [doc_id])
            return doc_id, rev

        return self._transact(body)  # type: ignore[no-any-return]

    def put_many(
        self, items: list[tuple[str, dict[str, Any], str | None]], ts: Any
    ) -> list[tuple[int, int]]:
        """Insert or replace many documents and their view rows in one transaction."""

        def body(tx: Any) -> list[tuple[int, int]]:
            docs = tx[self.docs]
            get = docs.get
            olds = {}
            for key, _, _ in items:
                rec = get(key)
                if rec is not None:
                    olds[key] = rec
            seq = tx[self.seq]
            next_id = seq.get("id", 1)
            first_id = next_id
            old_ids, out, recs = [], [], []
            for key, data, expected in items:
                old = olds.get(key)
                _docs.check_revision(key, expected, None if old is None else old["rev"])
                if old is None:
                    doc_id, rev = next_id, 0
                    next_id += 1
                else:
                    doc_id, rev = old["id"], old["rev"] + 1
                    old_ids.append(doc_id)
                recs.append({"key": key, "id": doc_id, "rev": rev, "updated": ts, "data": data})
                out.append((doc_id, rev))
            docs.put_many(recs)  # existence was read above: a concurrent writer conflicts
            if next_id != first_id:
                seq["id"] = next_id
            if self.views:
                self._write_rows(tx, recs, old_ids)
            return out

        return self._transact(body)  # type: ignore[no-any-return]

    def get(self, key: str) -> dict[str, Any] | None:
        """The document ``key`` as ``get()`` returns it, or ``None``."""
        rec = self.docs.get(key)
        if rec is None:
            return None
        return _docs.public(rec["data"], rec["id"], key, rec["rev"], rec["updated"])

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """``{key: document}`` for the keys that exist."""
        # Point reads beat a find({"key": {"$in": ...}}) here (no filter to
        # evaluate); the engine has no bulk get for collections yet.
        get = self.docs.get
        public = _docs.public
        out = {}
        for key in keys:
            rec = get(key)
            if rec is not None:
                out[key] = public(rec["data"], rec["id"], key, rec["rev"], rec["updated"])
        return out

    def delete(self, key: str) -> bool:
        """Remove a document and its view rows; ``False`` if there was none."""

        def body(tx: Any) -> bool:
            docs = tx[self.docs]
            old = docs.get(key)
            if old is None:
                return False
            docs.delete(key)
            for view in self.views.values():
                tx[view.coll].delete_many({"_id": old["id"]})
            return True

        return self._transact(body)  # type: ignore[no-any-return]

    def count(self) -> int:
        """Number of documents."""
        return len(self.docs)

    def keys(self) -> Iterable[str]:
        """Every key, in key order."""
        return [r["key"] for r in self.docs.find(projection=["key"])]

    # -- queries -----------------------------------------------------------------

    def query(self, name: str, q: Query) -> list[dict[str, Any]]:
        """Rows of view ``name`` matching the checked query ``q``."""
        view = self.views[name]
        flt: dict[str, Any] = {}
        for c in q.conditions:
            if c.values is None:
                flt[c.column] = view.encode(c.column, c.value)
            elif not c.values:
                return []
            else:
                flt[c.column] = {"$in": [view.encode(c.column, v) for v in c.values]}
        sort = [(col, -1 if desc else 1) for col, desc in q.order] or None
        found = view.coll.find(flt, sort=sort, skip=q.offset, limit=q.limit)
        return [view.load(r) for r in found]

    def close(self) -> None:
        """Close the store if this backend opened it."""
        if self.owned:
            self.store.close()

    @property
    def closed(self) -> bool:
        """Whether the store is closed."""
        return bool(self.store.closed)
