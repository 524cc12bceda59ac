"""``Datastore``: the original's API, on the native engine or on SQL.

``Datastore(db_url, echo=False, tablename=None, views=None)`` picks the
backend from ``db_url``:

- ``"shoal:///abs/dir"``, ``"shoal://rel/dir"``, a plain directory path
  (``str`` or ``os.PathLike``) or an open :class:`shoal.Store`: the native
  engine (``"shoal://"`` alone: a temporary store removed on ``close()``).
  Query options ``?durability=sync|flush|memory`` and ``&cache_size=N``
  are passed to :func:`shoal.open`.
- any other URL (``sqlite:///file.db``, ``sqlite://``, ``postgresql://...``):
  real SQL tables through SQLAlchemy 2 (``pip install 'shoal[datastore]'``),
  the original's model, so the same program moves to a database server by
  changing the URL.

Extra keyword arguments go to :func:`shoal.open` (``durability=``,
``cache_size=``) or to ``sqlalchemy.create_engine`` (``pool_size=``...).

Both backends behave the same (the test suite runs on both), except that a
query without ``order_by`` returns rows in insertion order on the native
engine and in the database's natural order on SQL, and that document ids on
PostgreSQL may skip numbers after a rolled-back insert (sequences are not
transactional); ids are never reused anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Iterator
from urllib.parse import parse_qsl

import shoal

from . import _docs, _query
from .jsontype import JsonDataType
from .schema import Column, DateTime, Integer, LargeBinary, MetaData, Table, Unicode
from .view import View

__all__ = ["Datastore", "JsonDataType", "View"]


def _sa_metadata() -> Any:
    try:
        import sqlalchemy as sa
    except ImportError:
        return MetaData()
    return sa.MetaData()


def _native_target(db_url: Any) -> tuple[str | None, dict[str, Any]] | None:
    """``(path, options)`` when ``db_url`` names a native store, else ``None``."""
    if isinstance(db_url, os.PathLike):
        return os.fspath(db_url), {}
    if not isinstance(db_url, str):
        raise TypeError(f"db_url must be a URL, a path or a shoal.Store, got {db_url!r}")
    if db_url.startswith("shoal:"):
        rest = db_url[len("shoal:") :]
        if not rest.startswith("//"):
            raise ValueError(f"a native URL reads shoal:///path, got {db_url!r}")
        rest, _, query = rest[2:].partition("?")
        options: dict[str, Any] = {}
        for name, value in parse_qsl(query, strict_parsing=bool(query)):
            if name == "durability":
                options[name] = value
            elif name == "cache_size":
                options[name] = int(value)
            else:
                raise ValueError(f"unknown option {name!r} in {db_url!r}")
        return (rest or None) if rest not in ("", ":memory:") else None, options
    if "://" in db_url:
        return None
    if not db_url:
        raise ValueError("db_url is empty")
    return db_url, {}


class Datastore:
    """A key -> JSON document store with views (see the module documentation).

    Attributes: ``tablename`` (the document table's name), ``views`` (name ->
    :class:`View`), ``table`` (the document table as SQLAlchemy or
    look-alike description), ``backend`` (``"shoal"`` or ``"sql"``),
    ``store`` (the :class:`shoal.Store`, native backend), ``engine`` and
    ``Session`` (SQLAlchemy engine and session factory, SQL backend).
    """

    tablename = "store"

    def __init__(
        self,
        db_url: Any,
        echo: bool = False,
        tablename: str | None = None,
        views: Mapping[str, View] | None = None,
        **engine_options: Any,
    ) -> None:
        self.tablename = tablename or type(self).tablename
        if not isinstance(self.tablename, str):
            raise TypeError(f"tablename must be a str, got {self.tablename!r}")
        self.views: dict[str, View] = {}
        self.engine: Any = None
        self.Session: Any = None
        self.store: shoal.Store | None = None
        self._backend: Any = None
        if isinstance(db_url, shoal.Store):
            self._open_native(db_url, owned=False)
        else:
            target = _native_target(db_url)
            if target is None:
                self._open_sql(db_url, echo, engine_options)
            else:
                path, options = target
                options.update(engine_options)
                self._open_native(shoal.open(path, **options), owned=True)
        try:
            for name, view in (self.create_views() if views is None else views).items():
                self.add_view(name, view)
        except BaseException:
            self.close()
            raise

    def _open_native(self, store: shoal.Store, *, owned: bool) -> None:
        from ._native import NativeBackend

        self.store = store
        try:
            self._metadata = _sa_metadata()
            self.table = self.get_table(self.tablename, self._metadata)
            self._backend = NativeBackend(store, self.tablename, owned=owned)
        except BaseException:  # e.g. a table name the engine refuses: free the directory
            if owned:
                store.close()
            raise
        self.backend = "shoal"

    def _open_sql(self, db_url: str, echo: bool, options: dict[str, Any]) -> None:
        from . import _sql

        engine = _sql.create_engine(db_url, echo, **options)
        try:
            import sqlalchemy.orm

            self._metadata = _sql.sa.MetaData()
            self.table = self.get_table(self.tablename, self._metadata)
            if isinstance(self.table, Table):
                self.table = _sql.lite_to_sa(self.table, self._metadata)
            self._backend = _sql.SQLBackend(engine, self._metadata, self.table)
        except BaseException:
            engine.dispose()
            raise
        self.engine = engine
        self.Session = sqlalchemy.orm.sessionmaker(bind=engine)
        self.backend = "sql"

    # -- hooks ------------------------------------------------------------------

    def create_views(self) -> dict[str, View]:
        """The views of this store (hook for subclasses; default none)."""
        return {}

    def get_table(self, name: str, metadata: Any) -> Any:
        """The document table (hook): ``id``, ``rev``, ``updated``, ``key``, ``data``."""
        if isinstance(metadata, MetaData):
            return Table(
                name,
                metadata,
                Column("id", Integer, primary_key=True),
                Column("rev", Unicode),
                Column("updated", DateTime),
                Column("key", Unicode, nullable=False, unique=True),
                Column("data", LargeBinary, nullable=False),
            )
        from ._sql import default_table

        return default_table(name, metadata)

    # -- views --------------------------------------------------------------------

    def add_view(self, name: str, view: View) -> None:
        """Attach ``view`` under ``name``: create its storage, back-filled if new.

        A view whose table does not exist yet is filled from every stored
        document in one transaction (the original only recorded the view,
        and the next ``put`` crashed). Adding a name twice is a ``ValueError``.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"a view name is a non-empty str, got {name!r}")
        if not isinstance(view, View):
            raise TypeError(f"view {name!r} must be a shoal.datastore.View, got {view!r}")
        if name in self.views:
            raise ValueError(f"there is already a view named {name!r}")
        spec = view.init(self, name, self._metadata)
        try:
            # Look ``map`` up at each call, so a replaced ``map`` takes effect.
            self._backend.add_view(name, spec, lambda doc: view.map(doc))
        except BaseException:
            self._forget_table(view.table)
            view.store = view.table = view.spec = view.name = None
            raise
        self.views[name] = view

    def _forget_table(self, table: Any) -> None:
        """Take a view's table out of the metadata (after a failed ``add_view``)."""
        if isinstance(self._metadata, MetaData):
            self._metadata.tables.pop(table.name, None)
        elif table is not None and self._metadata.tables.get(table.name) is table:
            self._metadata.remove(table)

    def rebuild_view(self, name: str) -> None:
        """Recompute the rows of view ``name`` from every document, atomically.

        Use after changing a view's ``map`` (stored rows are not recomputed
        by themselves).
        """
        self._view(name)
        self._backend.rebuild_view(name)

    def _view(self, name: str) -> View:
        try:
            return self.views[name]
        except (KeyError, TypeError):
            known = ", ".join(map(repr, self.views)) or "none"
            raise KeyError(f"no view named {name!r} (views: {known})") from None

    # -- documents ------------------------------------------------------------------

    def get(self, key: str) -> dict[str, Any] | None:
        """The document ``key`` plus ``_id``, ``_key``, ``_rev``, ``_updated``; else ``None``."""
        return self._backend.get(_docs.check_key(key))  # type: ignore[no-any-return]

    def get_many(self, keys: Any) -> dict[str, dict[str, Any]]:
        """``{key: document}`` for those of ``keys`` that exist."""
        return self._backend.get_many(_docs.check_keys(keys))  # type: ignore[no-any-return]

    def put(self, key: str, doc: dict[str, Any], updated: Any = None) -> dict[str, Any]:
        """Insert or replace the document ``key`` and its view rows, atomically.

        Returns ``{"id", "key", "rev", "updated"}``. A ``doc`` carrying a
        ``_rev`` (as read by ``get``) must still be the stored revision, else
        :class:`RevisionConflict`; on success its ``_rev`` is updated in place.
        A view failure (``map`` raising, a bad row, a constraint) writes nothing.
        """
        key, data, expected = _docs.prepare(key, doc)
        ts = _docs.timestamp(updated)
        doc_id, rev = self._backend.put(key, data, expected, ts)
        _docs.after_put(doc, expected, rev, ts)
        return _docs.put_result(doc_id, key, rev, ts)

    def put_many(self, mapping: Mapping[str, dict[str, Any]]) -> None:
        """Insert or replace many documents and their view rows in one transaction."""
        if not isinstance(mapping, Mapping):
            raise TypeError(f"put_many() takes a dict {{key: doc}}, got {type(mapping).__name__}")
        items = _docs.prepare_many(mapping)
        if not items:
            return
        ts = _docs.timestamp()
        revs = self._backend.put_many(items, ts)
        for (key, _, expected), (_, rev) in zip(items, revs):
            _docs.after_put(mapping[key], expected, rev, ts)

    def delete(self, key: str) -> None:
        """Remove the document ``key`` and its view rows atomically (missing: no-op)."""
        self._backend.delete(_docs.check_key(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._backend.get(key) is not None

    def __len__(self) -> int:
        return self._backend.count()  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.keys())

    # -- queries ----------------------------------------------------------------------

    def query(
        self,
        name: str,
        /,
        include_docs: bool = False,
        limit: int | None = None,
        offset: int | None = None,
        order_by: str | list[str] | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Rows of view ``name`` matching ``filters``, as dicts of every column.

        ``col=value`` is equality (``None``: IS NULL), ``col=[v1, v2]`` is IN;
        filters are ANDed. ``order_by="col"``, ``"-col"`` (descending) or a
        list of those; ``limit``/``offset`` as in SQL. ``include_docs=True``
        adds ``_doc`` (the document, as ``get`` returns it) to each row.
        Unknown views raise ``KeyError``, unknown columns ``ValueError``.
        ``name`` is positional-only, so a view may have a column called
        ``name`` (the original could not filter on it).
        """
        view = self._view(name)
        assert view.spec is not None
        q = _query.build(view.spec, filters, order_by, limit, offset)
        rows: list[dict[str, Any]] = self._backend.query(name, q)
        if include_docs and rows:
            docs = self.get_many(list({r["_key"]: None for r in rows}))
            for r in rows:
                r["_doc"] = docs.get(r["_key"])
        return rows

    # -- lifetime -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the native store was closed)."""
        return self._backend is None or bool(self._backend.closed)

    def close(self) -> None:
        """Close the database (the native store, if this datastore opened it)."""
        if self._backend is not None:
            self._backend.close()

    def __enter__(self) -> Datastore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.store.path if self.store is not None else self.engine and self.engine.url
        return f"<shoal.datastore.Datastore {self.backend} {where!s} table={self.tablename!r}>"
