"""``View``: a secondary table filled from documents by ``map(doc)``.

Subclass it and override :meth:`View.get_table` (the table's schema: a
``sqlalchemy.Table`` or a :class:`shoal.datastore.Table`) and
:meth:`View.map` (zero or more row dicts per document). The datastore adds
two columns to the table, ``_id`` (the document's row id, indexed) and
``_key`` (its key), and rewrites a document's rows in the same transaction
as the document itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .schema import Column, Integer, Table, Unicode, ViewSpec

if TYPE_CHECKING:
    from .store import Datastore

__all__ = ["View"]


class View:
    """Base class of views; see the module documentation."""

    def __init__(self) -> None:
        self.store: Datastore | None = None
        self.name: str | None = None
        self.table: Any = None
        self.spec: ViewSpec | None = None

    # -- user hooks ---------------------------------------------------------

    def get_table(self, metadata: Any) -> Any:
        """The view's table (override): ``sa.Table(name, metadata, columns...)``."""
        return None

    def map(self, doc: dict[str, Any]) -> Iterable[dict[str, Any]]:
        """The rows of one document (override); ``doc`` has ``_id``, ``_key``, ``_rev``."""
        return []

    # -- set up by the datastore ---------------------------------------------

    def init(self, store: Datastore, name: str, metadata: Any) -> ViewSpec:
        """Attach the view to ``store`` under ``name``: build its table and spec."""
        table = self.get_table(metadata)
        if table is None:
            raise TypeError(
                f"view {name!r}: {type(self).__name__}.get_table() returned None; "
                "override it to return the view's table"
            )
        if isinstance(table, Table):
            table.append_column(Column("_id", Integer, index=True))
            table.append_column(Column("_key", Unicode))
        elif hasattr(table, "append_column"):
            import sqlalchemy as sa

            for system in ("_id", "_key"):
                if system in table.columns:
                    raise ValueError(f"view {name!r}: the column name {system!r} is reserved")
            table.append_column(sa.Column("_id", sa.Integer, index=True))
            table.append_column(sa.Column("_key", sa.Unicode))
        spec = ViewSpec(name, table)
        self.store, self.name, self.table, self.spec = store, name, table, spec
        return spec

    # -- conveniences of the original -----------------------------------------

    @property
    def c(self) -> Any:
        """The table's columns (``table.columns``), for SQLAlchemy expressions."""
        if self.table is None:
            raise AttributeError("the view is not attached to a datastore yet")
        return self.table.c

    def select(self, *args: Any, **kwargs: Any) -> Any:
        """``table.select(...)``: a SQLAlchemy select on the view's table."""
        if self.table is None or not hasattr(self.table, "select"):
            raise ImportError("View.select() builds SQLAlchemy statements: install sqlalchemy")
        return self.table.select(*args, **kwargs)

    def map_docs(self, docs: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Each mapped row of ``docs`` (which carry ``_id``/``_key``), checked and complete."""
        if self.spec is None:
            raise AttributeError("the view is not attached to a datastore yet")
        for doc in docs:
            yield from self.spec.rows(self.map(doc), doc["_id"], doc["_key"])

    def query(
        self,
        include_docs: bool = False,
        limit: int | None = None,
        offset: int | None = None,
        order_by: str | list[str] | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Rows of this view matching ``filters`` (see :meth:`Datastore.query`)."""
        if self.store is None or self.name is None:
            raise AttributeError("the view is not attached to a datastore yet")
        return self.store.query(
            self.name,
            include_docs=include_docs,
            limit=limit,
            offset=offset,
            order_by=order_by,
            **filters,
        )
