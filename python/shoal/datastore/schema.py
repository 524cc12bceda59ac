"""View schemas: the columns a view's rows have, and the rules they follow.

A view describes its table either with SQLAlchemy (``sa.Table(name,
metadata, sa.Column(...), ...)``, what the original ``datastore`` required)
or, without SQLAlchemy installed, with the small look-alikes defined here
(:class:`Table`, :class:`Column`, :class:`Integer`, :class:`Unicode`, ...).
Either way the face reads the table as a *description* (:class:`ViewSpec`):
column names, type families, ``nullable``, ``unique``, ``index``,
``primary_key``, plus table-level ``Index`` and ``UniqueConstraint``
objects.

Both backends put every mapped row through :meth:`ViewSpec.row`, so a row
means the same on the native engine and on SQL:

- a column the row lacks is ``None`` (stored as NULL);
- a key that is not a column raises ``ValueError`` naming it;
- values are checked against the column's type family (``TypeError`` naming
  the view and column): integer columns take ``int`` (``bool`` becomes
  ``0``/``1``), float columns ``int``/``float`` (stored as ``float``),
  numeric columns ``int``/``float``/``Decimal`` (stored as ``Decimal``), text
  columns ``str``, boolean columns ``bool`` (or ``0``/``1``), date/time
  columns ``datetime``/``date``/``time``, binary columns ``bytes``-likes;
  other types (``JSON``, ``Uuid``, user types) are not checked;
- ``None`` in a ``nullable=False`` column raises :class:`IntegrityError`.

Filter values of :meth:`Datastore.query` go through the same converters, so
``query(view, year="1999")`` on an integer column is a ``TypeError`` on both
backends rather than a silent empty answer on one and a match on the other.
"""

from __future__ import annotations

import datetime as _dt
import reprlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Iterable

from .errors import IntegrityError

#: Type families the face distinguishes.
FAMILIES = ("integer", "float", "numeric", "text", "boolean", "datetime", "date", "time", "binary")

#: The two columns every view table gets besides the user's.
SYSTEM_COLUMNS = ("_id", "_key")


# --------------------------------------------------------------------------
# Lightweight table descriptions (for users without SQLAlchemy)


class TypeEngine:
    """Base of the look-alike column types; ``family`` names the type family."""

    family = "any"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Integer(TypeEngine):
    """An integer column."""

    family = "integer"


class BigInteger(Integer):
    """A 64-bit integer column (same family as :class:`Integer`)."""


class SmallInteger(Integer):
    """A small integer column (same family as :class:`Integer`)."""


class Float(TypeEngine):
    """A floating-point column."""

    family = "float"


class Numeric(TypeEngine):
    """An exact decimal column (values come back as ``Decimal``)."""

    family = "numeric"


class String(TypeEngine):
    """A text column (a length argument is accepted and ignored)."""

    family = "text"


class Text(String):
    """A text column."""


class Unicode(String):
    """A text column."""


class UnicodeText(String):
    """A text column."""


class Boolean(TypeEngine):
    """A boolean column."""

    family = "boolean"


class DateTime(TypeEngine):
    """A ``datetime`` column."""

    family = "datetime"


class Date(TypeEngine):
    """A ``date`` column."""

    family = "date"


class Time(TypeEngine):
    """A ``time`` column."""

    family = "time"


class LargeBinary(TypeEngine):
    """A binary column."""

    family = "binary"


class JSON(TypeEngine):
    """A column holding any JSON-able value (not checked)."""


class Column:
    """A column description: ``Column(name, type, nullable=, unique=, index=, primary_key=)``.

    Mirrors ``sqlalchemy.Column`` for the arguments a view needs; ``type`` is
    one of the look-alike types (class or instance).
    """

    def __init__(
        self,
        name: str,
        type_: type[TypeEngine] | TypeEngine | None = None,
        *,
        nullable: bool | None = None,
        unique: bool | None = None,
        index: bool | None = None,
        primary_key: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a column needs a non-empty str name, got {name!r}")
        self.name = name
        self.type = type_() if isinstance(type_, type) else (type_ or TypeEngine())
        self.primary_key = bool(primary_key)
        self.nullable = (not self.primary_key) if nullable is None else bool(nullable)
        self.unique = bool(unique)
        self.index = bool(index)

    def __repr__(self) -> str:
        return f"Column({self.name!r}, {self.type!r})"


class Index:
    """A (compound) index over columns of a :class:`Table`: ``Index(name, "a", "b")``."""

    def __init__(self, name: str | None, *columns: str, unique: bool = False) -> None:
        self.name = name
        self.columns = tuple(columns)
        self.unique = bool(unique)


class UniqueConstraint:
    """A table-level unique constraint over one or more columns."""

    def __init__(self, *columns: str, name: str | None = None) -> None:
        self.columns = tuple(columns)
        self.name = name


class MetaData:
    """A stand-in for ``sqlalchemy.MetaData``: collects :class:`Table` objects by name."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}


class Table:
    """A table description: ``Table(name, metadata, Column(...), Index(...), ...)``."""

    def __init__(self, name: str, metadata: MetaData | None, *items: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a table needs a non-empty str name, got {name!r}")
        self.name = name
        self.columns: list[Column] = []
        self.indexes: list[Index] = []
        self.constraints: list[UniqueConstraint] = []
        for item in items:
            if isinstance(item, Column):
                self.append_column(item)
            elif isinstance(item, Index):
                self.indexes.append(item)
            elif isinstance(item, UniqueConstraint):
                self.constraints.append(item)
            else:
                raise TypeError(f"Table {name!r}: unexpected item {item!r}")
        if metadata is not None:
            metadata.tables[name] = self

    @property
    def c(self) -> dict[str, Column]:
        """The columns by name."""
        return {c.name: c for c in self.columns}

    def append_column(self, column: Column) -> None:
        """Add a column (its name must be new)."""
        if any(c.name == column.name for c in self.columns):
            raise ValueError(f"table {self.name!r} already has a column {column.name!r}")
        self.columns.append(column)


# --------------------------------------------------------------------------
# Reading a table (SQLAlchemy or look-alike) into a ViewSpec


def _sa_family(type_: Any) -> str:
    import sqlalchemy as sa

    checks: tuple[tuple[type, str], ...] = (
        (sa.Boolean, "boolean"),
        (sa.Integer, "integer"),
        (sa.Float, "float"),
        (sa.Numeric, "numeric"),
        (sa.String, "text"),
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.Time, "time"),
        (sa.LargeBinary, "binary"),
    )
    for cls, family in checks:
        if isinstance(type_, cls):
            if family == "numeric" and not getattr(type_, "asdecimal", True):
                return "float"
            return family
    return "any"


def _is_sa_table(table: Any) -> bool:
    try:
        import sqlalchemy as sa
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return isinstance(table, sa.Table)


class ColumnSpec:
    """One column of a view: name, type family and constraints."""

    __slots__ = ("name", "family", "nullable", "unique", "index", "primary_key", "convert")

    def __init__(
        self,
        name: str,
        family: str,
        *,
        nullable: bool = True,
        unique: bool = False,
        index: bool = False,
        primary_key: bool = False,
    ) -> None:
        self.name = name
        self.family = family
        self.nullable = nullable
        self.unique = unique
        self.index = index
        self.primary_key = primary_key
        self.convert: Callable[[Any], Any] | None = _CONVERTERS.get(family)

    def __repr__(self) -> str:
        return f"ColumnSpec({self.name!r}, {self.family!r})"


class ViewSpec:
    """What a view's table says, in the terms both backends use.

    ``columns`` are the user's columns (without ``_id``/``_key``);
    ``all_columns`` adds the two system columns in table order; ``indexes``
    lists column tuples to index, ``uniques`` column tuples that must be
    unique (NULLs never collide, as in SQL).
    """

    def __init__(self, view_name: str, table: Any) -> None:
        self.view_name = view_name
        self.table = table
        self.table_name: str = table.name
        self.columns: list[ColumnSpec] = []
        self.all_columns: tuple[str, ...] = ()
        self.indexes: list[tuple[str, ...]] = []
        self.uniques: list[tuple[str, ...]] = []
        if _is_sa_table(table):
            self._read_sa(table)
        elif isinstance(table, Table):
            self._read_lite(table)
        else:
            raise TypeError(
                f"view {view_name!r}: get_table() must return a sqlalchemy.Table or a "
                f"shoal.datastore.Table, got {table!r}"
            )
        names = [c.name for c in self.columns]
        self.all_columns = tuple(names)
        self.by_name = {c.name: c for c in self.columns}
        self.user_columns = tuple(n for n in names if n not in SYSTEM_COLUMNS)

    def _add(self, spec: ColumnSpec) -> None:
        self.columns.append(spec)
        if spec.unique:
            self._unique((spec.name,))
        elif spec.index:
            self._index((spec.name,))

    def _unique(self, cols: tuple[str, ...]) -> None:
        if cols and cols not in self.uniques:
            self.uniques.append(cols)
        if cols in self.indexes:
            self.indexes.remove(cols)

    def _index(self, cols: tuple[str, ...]) -> None:
        if cols and cols not in self.indexes and cols not in self.uniques:
            self.indexes.append(cols)

    def _read_sa(self, table: Any) -> None:
        import sqlalchemy as sa

        pk = tuple(c.name for c in table.primary_key.columns)
        for col in table.columns:
            self._add(
                ColumnSpec(
                    col.name,
                    _sa_family(col.type),
                    nullable=bool(col.nullable),
                    unique=bool(col.unique) or pk == (col.name,),
                    index=bool(col.index),
                    primary_key=bool(col.primary_key),
                )
            )
        self._unique(pk)
        for idx in sorted(table.indexes, key=lambda i: str(i.name)):
            cols = tuple(c.name for c in idx.columns)
            if idx.unique:
                self._unique(cols)
            else:
                self._index(cols)
        for cons in table.constraints:
            if isinstance(cons, sa.UniqueConstraint):
                self._unique(tuple(c.name for c in cons.columns))

    def _read_lite(self, table: Table) -> None:
        pk = tuple(c.name for c in table.columns if c.primary_key)
        for col in table.columns:
            self._add(
                ColumnSpec(
                    col.name,
                    col.type.family,
                    nullable=col.nullable,
                    unique=col.unique or pk == (col.name,),
                    index=col.index,
                    primary_key=col.primary_key,
                )
            )
        self._unique(pk)
        known = {c.name for c in table.columns}
        for idx in table.indexes:
            self._check_known(idx.columns, known)
            if idx.unique:
                self._unique(idx.columns)
            else:
                self._index(idx.columns)
        for cons in table.constraints:
            self._check_known(cons.columns, known)
            self._unique(cons.columns)

    def _check_known(self, cols: Iterable[str], known: set[str]) -> None:
        for name in cols:
            if name not in known:
                raise ValueError(f"view {self.view_name!r}: no column {name!r} to index")

    # ----------------------------------------------------------------------

    def rows(self, mapped: Any, doc_id: int, key: str) -> list[dict[str, Any]]:
        """Check and complete the rows a view's ``map`` produced for one document."""
        if mapped is None:
            return []
        if type(mapped) is not list and isinstance(mapped, Mapping):
            raise TypeError(
                f"view {self.view_name!r}: map() must return or yield row dicts, "
                "got a single dict (wrap it in a list or yield it)"
            )
        return [self.row(r, doc_id, key) for r in mapped]

    def row(self, raw: Any, doc_id: int, key: str) -> dict[str, Any]:
        """One row: every column present (``None`` when missing), values checked."""
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise TypeError(f"view {self.view_name!r}: map() produced {raw!r}, not a dict")
        by_name = self.by_name
        for name in raw:
            if name not in by_name:
                raise ValueError(
                    f"view {self.view_name!r}: map() produced the column {name!r}, which "
                    f"the table {self.table_name!r} does not have (columns: "
                    f"{', '.join(self.user_columns)})"
                )
        out: dict[str, Any] = {}
        get = raw.get
        for col in self.columns:
            name = col.name
            if name == "_id":
                out[name] = doc_id
            elif name == "_key":
                out[name] = key
            else:
                value = get(name)
                if value is None:
                    if not col.nullable:
                        raise IntegrityError(
                            f"view {self.view_name!r}: column {name!r} may not be NULL"
                        )
                elif col.convert is not None:
                    try:
                        value = col.convert(value)
                    except TypeError:
                        value = self._convert(col, value)
                out[name] = value
        return out

    def _convert(self, col: ColumnSpec, value: Any) -> Any:
        try:
            return col.convert(value)  # type: ignore[misc]
        except TypeError:
            raise TypeError(
                f"view {self.view_name!r}: column {col.name!r} holds {col.family} values, "
                f"got {type(value).__name__} {reprlib.repr(value)}"  # reprlib: any depth
            ) from None

    def filter_value(self, name: str, value: Any) -> Any:
        """A query filter value converted to the column's family (``None`` stays)."""
        col = self.column(name)
        if value is None or col.convert is None:
            return value
        return self._convert(col, value)

    def column(self, name: str) -> ColumnSpec:
        """The column ``name``; ``ValueError`` naming the view's columns if it has none."""
        try:
            return self.by_name[name]
        except KeyError:
            raise ValueError(
                f"view {self.view_name!r} has no column {name!r} (columns: "
                f"{', '.join(self.all_columns)})"
            ) from None


# --------------------------------------------------------------------------
# Converters: return the stored form, raise TypeError for a foreign type


def _to_int(v: Any) -> int:
    if type(v) is int:
        return v
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return int(v)
    raise TypeError


def _to_float(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise TypeError


def _to_decimal(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    raise TypeError


def _to_str(v: Any) -> str:
    if isinstance(v, str):
        return str(v)
    raise TypeError


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    raise TypeError


def _to_datetime(v: Any) -> _dt.datetime:
    if isinstance(v, _dt.datetime):
        return v
    raise TypeError


def _to_date(v: Any) -> _dt.date:
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return v
    raise TypeError


def _to_time(v: Any) -> _dt.time:
    if isinstance(v, _dt.time):
        return v
    raise TypeError


def _to_bytes(v: Any) -> bytes:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise TypeError


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "integer": _to_int,
    "float": _to_float,
    "numeric": _to_decimal,
    "text": _to_str,
    "boolean": _to_bool,
    "datetime": _to_datetime,
    "date": _to_date,
    "time": _to_time,
    "binary": _to_bytes,
}
