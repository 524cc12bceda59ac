"""The keyword-filter query of a view, checked once for both backends.

``query(view, col=value, col=[v1, v2], order_by=..., limit=..., offset=...)``:
filters are ANDed; a list, tuple, set or frozenset means "column IN values"
(empty: no row matches), ``None`` means "column IS NULL", anything else
equality. ``order_by`` is a column name, ``"-name"`` for descending, or a
list of those. Unknown columns raise ``ValueError`` naming the view and its
columns (the original silently returned ``[]``); values are converted to the
column's type family (see :mod:`shoal.datastore.schema`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .schema import ViewSpec

_MULTI = (list, tuple, set, frozenset)


class Condition(NamedTuple):
    """``column = value`` (``values is None``) or ``column IN values``."""

    column: str
    value: Any
    values: tuple[Any, ...] | None


class Query(NamedTuple):
    """A checked view query."""

    conditions: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]  # (column, descending)
    limit: int | None
    offset: int


def _count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def build(
    spec: ViewSpec,
    filters: dict[str, Any],
    order_by: Any,
    limit: Any,
    offset: Any,
) -> Query:
    """Check a query against the view's columns and normalise it."""
    conditions = []
    for name, value in filters.items():
        if isinstance(value, _MULTI):
            vals = tuple(spec.filter_value(name, v) for v in value)
            if None in vals:
                raise ValueError(f"view {spec.view_name!r}: None cannot be in an IN list")
            conditions.append(Condition(name, None, vals))
        elif isinstance(value, dict):
            raise TypeError(
                f"view {spec.view_name!r}: filter {name}= takes a value or a list of values, "
                "not a dict"
            )
        else:
            conditions.append(Condition(name, spec.filter_value(name, value), None))
    if order_by is None:
        names: list[Any] = []
    elif isinstance(order_by, str):
        names = [order_by]
    elif isinstance(order_by, (list, tuple)):
        names = list(order_by)
    else:
        raise TypeError(f"order_by must be a column name or a list of them, got {order_by!r}")
    order = []
    for item in names:
        if not isinstance(item, str) or not item.lstrip("-"):
            raise TypeError(f"order_by takes column names, got {item!r}")
        desc = item.startswith("-")
        column = item[1:] if desc else item
        spec.column(column)
        order.append((column, desc))
    return Query(
        tuple(conditions), tuple(order), _count("limit", limit), _count("offset", offset) or 0
    )
