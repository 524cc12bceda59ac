"""The SQL backend: the original's model on any database SQLAlchemy 2 drives.

A document table (``id`` integer primary key, ``rev`` text, ``updated``
timestamp, ``key`` text unique, ``data`` JSON in a binary column, zlib-
compressed as the original wrote it, so databases written by the original
open unchanged) and one table per view (the user's columns plus ``_id``,
indexed, and ``_key``). Every ``put``/``put_many``/``delete`` is one SQL
transaction over the document and view tables; the document row is read
``FOR UPDATE`` where the database supports it, and a concurrent insert of
the same new key (a unique violation on ``key``) is retried, so two writers
of one new key no longer fail (the original's "TODO: lock the row").

On SQLite the driver's own transaction handling is replaced by explicit
``BEGIN`` (SQLAlchemy's documented recipe), so table creation and back-fill
of a new view are atomic too. ``sqlite://``/``sqlite:///:memory:`` databases
live as long as the datastore (one connection, shared by its threads).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterable

try:
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.pool import StaticPool
except ImportError as _e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "SQL URLs need SQLAlchemy 2: pip install 'shoal[datastore]' (or use a shoal:// URL "
        "or a directory path for the embedded engine)"
    ) from _e

from . import _docs
from ._query import Query
from .errors import IntegrityError, RevisionConflict, UniqueViolation
from .jsontype import JsonDataType
from .schema import Table as LiteTable
from .schema import ViewSpec

_RETRIES = 16
_WRITE = "shoal_datastore_write"
_CHUNK = 500  # keys per IN (...) list: below every database's parameter limit

_SA_TYPES: dict[str, Any] = {
    "integer": sa.Integer,
    "float": sa.Float,
    "numeric": sa.Numeric,
    "text": sa.Unicode,
    "boolean": sa.Boolean,
    "datetime": sa.DateTime,
    "date": sa.Date,
    "time": sa.Time,
    "binary": sa.LargeBinary,
    "any": sa.JSON,
}


def default_table(name: str, metadata: sa.MetaData) -> sa.Table:
    """The original's document table."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rev", sa.Unicode),
        sa.Column("updated", sa.DateTime),
        sa.Column("key", sa.Unicode, nullable=False, unique=True),
        sa.Column("data", JsonDataType(compress=True), nullable=False),  # type: ignore[arg-type]
        # Never reuse the id of a deleted document (SQLite reuses the highest
        # rowid otherwise); other databases' sequences never reuse.
        sqlite_autoincrement=True,
    )


def lite_to_sa(table: LiteTable, metadata: sa.MetaData) -> sa.Table:
    """A :class:`shoal.datastore.Table` description as a real SQLAlchemy table."""
    items: list[Any] = [
        sa.Column(
            c.name,
            _SA_TYPES.get(c.type.family, sa.JSON),
            nullable=c.nullable,
            unique=c.unique or None,
            index=c.index or None,
            primary_key=c.primary_key,
        )
        for c in table.columns
    ]
    for i, idx in enumerate(table.indexes):
        items.append(sa.Index(idx.name or f"ix_{table.name}_{i}", *idx.columns, unique=idx.unique))
    for cons in table.constraints:
        items.append(sa.UniqueConstraint(*cons.columns, name=cons.name))
    return sa.Table(table.name, metadata, *items)


def _is_memory(url: sa.engine.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(url: str, echo: bool, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``; SQLite gets real transactions (explicit BEGIN)."""
    parsed = sa.make_url(url)
    if _is_memory(parsed):
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    engine = sa.create_engine(parsed, echo=echo, **kwargs)
    if parsed.get_backend_name() == "sqlite" and engine.driver == "pysqlite":

        @event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_conn: Any, record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the write lock up front (no lock upgrade deadlocks).
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(_WRITE) else "BEGIN")

    return engine


class SQLView:
    """A view attached to the SQL backend."""

    __slots__ = ("name", "spec", "map", "table")

    def __init__(self, name: str, spec: ViewSpec, map_fn: Callable[[Any], Any], table: Any) -> None:
        self.name, self.spec, self.map, self.table = name, spec, map_fn, table


class SQLBackend:
    """Documents and views in SQL tables through SQLAlchemy."""

    kind = "sql"

    def __init__(self, engine: sa.Engine, metadata: sa.MetaData, table: sa.Table) -> None:
        self.engine = engine
        self.metadata = metadata
        self.table = table
        missing = {"id", "rev", "updated", "key", "data"} - set(table.c.keys())
        if missing:
            raise ValueError(f"document table {table.name!r} lacks the columns {sorted(missing)}")
        self.views: dict[str, SQLView] = {}
        self._closed = False
        self._lock_rows = engine.dialect.name not in ("sqlite",)
        # One shared connection (in-memory SQLite) must not be used by two threads at once.
        memory = isinstance(engine.pool, StaticPool)
        self._lock: Any = threading.RLock() if memory else contextlib.nullcontext()
        table.create(engine, checkfirst=True)

    # -- views ---------------------------------------------------------------

    def add_view(self, name: str, spec: ViewSpec, map_fn: Callable[[Any], Any]) -> None:
        """Create the view's table if it is missing, back-filled in the same transaction."""
        self._check_open()
        table = spec.table
        if isinstance(table, LiteTable):
            table = lite_to_sa(table, self.metadata)
        view = SQLView(name, spec, map_fn, table)

        def create(conn: Any) -> None:
            if not sa.inspect(conn).has_table(table.name):
                table.create(conn)
                self._backfill(conn, view)

        self._run(create)
        self.views[name] = view

    def _backfill(self, conn: Any, view: SQLView) -> None:
        t = self.table
        conn.execute(sa.delete(view.table))
        rows: list[dict[str, Any]] = []
        for r in conn.execute(sa.select(t.c.id, t.c.key, t.c.rev, t.c.updated, t.c.data)):
            doc = _docs.public(r.data, r.id, r.key, r.rev, r.updated)
            rows.extend(view.spec.rows(view.map(doc), r.id, r.key))
            if len(rows) >= 1000:
                self._insert(conn, view, rows)
                rows = []
        if rows:
            self._insert(conn, view, rows)

    def rebuild_view(self, name: str) -> None:
        """Re-map every document into the view ``name``."""
        self._check_open()
        view = self.views[name]
        self._run(lambda conn: self._backfill(conn, view))

    def _insert(self, conn: Any, view: SQLView, rows: list[dict[str, Any]]) -> None:
        conn.execute(sa.insert(view.table), rows)

    # -- transactions ----------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            import shoal

            raise shoal.ClosedError("the datastore is closed")

    def _run(self, body: Callable[[Any], Any]) -> Any:
        self._check_open()
        for attempt in range(_RETRIES):
            try:
                with self._lock, self.engine.connect() as conn:
                    conn.info[_WRITE] = True
                    try:
                        with conn.begin():
                            return body(conn)
                    finally:
                        conn.info.pop(_WRITE, None)
            except RevisionConflict:
                raise
            except sa.exc.IntegrityError as e:
                if attempt < _RETRIES - 1 and getattr(e, "_shoal_key_race", False):
                    continue
                raise _integrity(e) from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _write_rows(
        self, conn: Any, recs: list[tuple[int, str, int, Any, dict[str, Any]]], old_ids: list[int]
    ) -> None:
        for view in self.views.values():
            if old_ids:
                for i in range(0, len(old_ids), _CHUNK):
                    conn.execute(
                        sa.delete(view.table).where(view.table.c._id.in_(old_ids[i : i + _CHUNK]))
                    )
            rows: list[dict[str, Any]] = []
            for doc_id, key, rev, ts, data in recs:
                doc = _docs.public(dict(data), doc_id, key, rev, ts)
                rows.extend(view.spec.rows(view.map(doc), doc_id, key))
            if rows:
                self._insert(conn, view, rows)

    def _insert_doc(self, conn: Any, key: str, data: dict[str, Any], ts: Any) -> int:
        try:
            res = conn.execute(
                sa.insert(self.table).values(key=key, rev="0", updated=ts, data=data)
            )
        except sa.exc.IntegrityError as e:
            e._shoal_key_race = True  # type: ignore[attr-defined]
            raise
        return int(res.inserted_primary_key[0])

    def _olds(self, conn: Any, keys: list[str]) -> dict[str, Any]:
        t = self.table
        out = {}
        for i in range(0, len(keys), _CHUNK):
            stmt = sa.select(t.c.id, t.c.key, t.c.rev).where(t.c.key.in_(keys[i : i + _CHUNK]))
            if self._lock_rows:
                stmt = stmt.with_for_update()
            for r in conn.execute(stmt):
                out[r.key] = r
        return out

    # -- documents ---------------------------------------------------------------

    def put(self, key: str, data: dict[str, Any], expected: str | None, ts: Any) -> tuple[int, int]:
        """Insert or replace one document and its view rows; return ``(id, rev)``."""
        t = self.table

        def body(conn: Any) -> tuple[int, int]:
            stmt = sa.select(t.c.id, t.c.rev).where(t.c.key == key)
            if self._lock_rows:
                stmt = stmt.with_for_update()
            old = conn.execute(stmt).first()
            _docs.check_revision(key, expected, None if old is None else _rev(old.rev))
            if old is None:
                doc_id, rev = self._insert_doc(conn, key, data, ts), 0
            else:
                doc_id, rev = old.id, _rev(old.rev) + 1
                conn.execute(
                    sa.update(t).where(t.c.id == doc_id).values(rev=str(rev), updated=ts, data=data)
                )
            if self.views:
                self._write_rows(
                    conn, [(doc_id, key, rev, ts, data)], [] if old is None else [doc_id]
                )
            return doc_id, rev

        return self._run(body)  # type: ignore[no-any-return]

    def put_many(
        self, items: list[tuple[str, dict[str, Any], str | None]], ts: Any
    ) -> list[tuple[int, int]]:
        """Insert or replace many documents and their view rows in one transaction."""
        t = self.table

        def body(conn: Any) -> list[tuple[int, int]]:
            keys = [k for k, _, _ in items]
            olds = self._olds(conn, keys)
            updates, inserts, old_ids = [], [], []
            revs: dict[str, int] = {}
            for key, data, expected in items:
                old = olds.get(key)
                _docs.check_revision(key, expected, None if old is None else _rev(old.rev))
                if old is None:
                    inserts.append({"key": key, "rev": "0", "updated": ts, "data": data})
                    revs[key] = 0
                else:
                    revs[key] = rev = _rev(old.rev) + 1
                    updates.append({"_b_id": old.id, "rev": str(rev), "updated": ts, "data": data})
                    old_ids.append(old.id)
            if updates:
                stmt = sa.update(t).where(t.c.id == sa.bindparam("_b_id"))
                conn.execute(stmt, updates)
            if inserts:
                try:
                    conn.execute(sa.insert(t), inserts)
                except sa.exc.IntegrityError as e:
                    e._shoal_key_race = True  # type: ignore[attr-defined]
                    raise
                ids = {k: r.id for k, r in olds.items()}
                new_keys = [d["key"] for d in inserts]
                ids.update((k, r.id) for k, r in self._olds(conn, new_keys).items())
            else:
                ids = {k: r.id for k, r in olds.items()}
            recs = [(ids[key], key, revs[key], ts, data) for key, data, _ in items]
            if self.views:
                self._write_rows(conn, recs, old_ids)
            return [(r[0], r[2]) for r in recs]

        return self._run(body)  # type: ignore[no-any-return]

    def get(self, key: str) -> dict[str, Any] | None:
        """The document ``key``, or ``None``."""
        self._check_open()
        t = self.table
        with self._lock, self.engine.connect() as conn:
            r = conn.execute(
                sa.select(t.c.id, t.c.rev, t.c.updated, t.c.data).where(t.c.key == key)
            ).first()
        if r is None:
            return None
        return _docs.public(r.data, r.id, key, _rev(r.rev), r.updated)

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """``{key: document}`` for the keys that exist."""
        self._check_open()
        t = self.table
        out = {}
        with self._lock, self.engine.connect() as conn:
            for i in range(0, len(keys), _CHUNK):
                stmt = sa.select(t.c.id, t.c.key, t.c.rev, t.c.updated, t.c.data).where(
                    t.c.key.in_(keys[i : i + _CHUNK])
                )
                for r in conn.execute(stmt):
                    out[r.key] = _docs.public(r.data, r.id, r.key, _rev(r.rev), r.updated)
        return out

    def delete(self, key: str) -> bool:
        """Remove a document and its view rows; ``False`` if there was none."""
        t = self.table

        def body(conn: Any) -> bool:
            stmt = sa.select(t.c.id).where(t.c.key == key)
            if self._lock_rows:
                stmt = stmt.with_for_update()
            old = conn.execute(stmt).first()
            if old is None:
                return False
            for view in self.views.values():
                conn.execute(sa.delete(view.table).where(view.table.c._id == old.id))
            conn.execute(sa.delete(t).where(t.c.id == old.id))
            return True

        return self._run(body)  # type: ignore[no-any-return]

    def count(self) -> int:
        """Number of documents."""
        self._check_open()
        with self._lock, self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()
            )

    def keys(self) -> Iterable[str]:
        """Every key, in key order."""
        self._check_open()
        with self._lock, self.engine.connect() as conn:
            return [
                r.key for r in conn.execute(sa.select(self.table.c.key).order_by(self.table.c.key))
            ]

    # -- queries -------------------------------------------------------------------

    def query(self, name: str, q: Query) -> list[dict[str, Any]]:
        """Rows of view ``name`` matching the checked query ``q``."""
        self._check_open()
        view = self.views[name]
        c = view.table.c
        stmt = sa.select(view.table)
        for cond in q.conditions:
            col = c[cond.column]
            if cond.values is None:
                stmt = stmt.where(col.is_(None) if cond.value is None else col == cond.value)
            elif not cond.values:
                return []
            else:
                stmt = stmt.where(col.in_(cond.values))
        nulls = self.engine.dialect.name == "postgresql"  # NULLs sort last there by default
        for column, desc in q.order:
            col = c[column]
            if nulls:  # sort NULL below every value, as SQLite and the native engine do
                stmt = stmt.order_by(col.desc().nulls_last() if desc else col.asc().nulls_first())
            else:
                stmt = stmt.order_by(col.desc() if desc else col)
        if q.limit is not None:
            stmt = stmt.limit(q.limit)
        if q.offset:
            stmt = stmt.offset(q.offset)
        with self._lock, self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def close(self) -> None:
        """Release the engine's connections."""
        if not self._closed:
            self._closed = True
            self.engine.dispose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed


def _rev(value: Any) -> int:
    """A stored ``rev`` as an int (the original wrote ``"0"`` everywhere)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _integrity(e: sa.exc.IntegrityError) -> IntegrityError:
    text = str(e.orig).lower()
    cls = UniqueViolation if ("unique" in text or "duplicate" in text) else IntegrityError
    return cls(str(e.orig))
