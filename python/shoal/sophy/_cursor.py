"""Scans: turning Sophia's cursor orders and inclusive ranges into shoal cursors.

:func:`scan` opens one native shoal cursor and applies the layout's decoders
only when needed (otherwise the native iterator is returned as is, so a scan
of a string/bytes database runs at shoal's native speed). :class:`Cursor` is
Sophia's re-iterable cursor object: every ``iter()`` opens a fresh scan.
"""

from __future__ import annotations

from itertools import takewhile
from typing import TYPE_CHECKING, Any, Iterator, Optional

import shoal

from ._errors import CURSOR_INVALIDATED, SophiaError, engine_error

if TYPE_CHECKING:
    from ._layout import Layout

ORDERS = (">=", ">", "<=", "<")


def scan(
    src: Any,
    layout: Layout,
    lo: Any,
    hi: Any,
    lo_incl: bool,
    hi_incl: bool,
    reverse: bool,
    prefix: Any,
    keys: bool,
    values: bool,
) -> Iterator[Any]:
    """Iterate ``src`` (a shoal KV, SnapshotKV or TxKV) between native bounds."""
    fetch_keys = keys or not values
    try:
        cur = src.cursor(
            lo,
            hi,
            prefix=prefix,
            reverse=reverse,
            include_start=lo_incl,
            include_stop=hi_incl,
            keys=fetch_keys,
            values=values,
        )
    except shoal.Error as exc:
        raise engine_error(exc) from None
    dk, dv = layout.decode_key, layout.decode_value
    if keys and values:
        if dk is None and dv is None:
            return cur  # type: ignore[no-any-return]
        return ((k if dk is None else dk(k), v if dv is None else dv(v)) for k, v in cur)
    if keys:
        return cur if dk is None else map(dk, cur)
    if values:
        return cur if dv is None else map(dv, cur)
    return (None for _ in cur)


def guard(it: Iterator[Any]) -> Iterator[Any]:
    """Re-raise engine errors during iteration as :class:`SophiaError`."""
    try:
        yield from it
    except shoal.ClosedError:
        raise SophiaError(CURSOR_INVALIDATED) from None
    except shoal.Error as exc:
        raise engine_error(exc) from None


def seek_scan(
    src: Any,
    layout: Layout,
    order: str,
    key: Any,
    prefix: Any,
    keys: bool,
    values: bool,
) -> Iterator[Any]:
    """A Sophia cursor scan: ``order`` from ``key`` (native), within ``prefix``."""
    if order not in ORDERS:
        raise SophiaError(f"invalid cursor order {order!r}, expected one of {ORDERS}")
    reverse = order[0] == "<"
    incl = len(order) == 2
    lo = hi = native_prefix = None
    lo_incl = hi_incl = True
    if key is not None:
        if reverse:
            hi, hi_incl = key, incl
        else:
            lo, lo_incl = key, incl
    if prefix is not None:
        p, p_hi = layout.prefix_bounds(prefix)
        if not layout.multi_key:
            native_prefix = p
        else:
            if lo is None or p > lo:
                lo, lo_incl = p, True
            if p_hi is not None and (hi is None or p_hi <= hi):
                hi, hi_incl = p_hi, False
    return scan(src, layout, lo, hi, lo_incl, hi_incl, reverse, native_prefix, keys, values)


def range_scan(src: Any, layout: Layout, start: Any, stop: Any, reverse: bool) -> Iterator[Any]:
    """``(key, value)`` pairs from ``start`` to ``stop`` (native, inclusive, ``None`` = open)."""
    if not layout.rev:
        if reverse:
            return scan(src, layout, stop, start, True, True, True, None, True, True)
        return scan(src, layout, start, stop, True, True, False, None, True, True)
    # Rev parts: seek in storage order, stop by comparing Python keys (as sophy does).
    if reverse:
        it = scan(src, layout, None, start, True, True, True, None, True, True)
    else:
        it = scan(src, layout, start, None, True, True, False, None, True, True)
    if stop is None:
        return it
    limit = layout.compare_key(stop)
    if reverse:
        return takewhile(lambda kv: kv[0] >= limit, it)
    return takewhile(lambda kv: kv[0] <= limit, it)


def _as_bytes(value: Any) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


class Cursor:
    """A re-iterable cursor (``db.cursor(...)``, ``db.keys()``, ``db.items()``...).

    Each ``iter(cursor)`` starts a fresh scan from the seek position; ``next()``
    continues the latest one (``StopIteration`` before the first ``iter()``).
    ``order`` is ``'>='`` (ascending from ``key``), ``'>'`` (ascending,
    excluding ``key``), ``'<='`` or ``'<'`` (descending). ``prefix`` keeps keys
    whose first part starts with it. Sophia's descending prefix cursor stops at
    the first key it visits that lacks the prefix, so it returns nothing when it
    starts beyond the prefix (without a ``key``: unless the last key matches);
    here it returns the matching keys, descending (spec E.9).
    """

    def __init__(
        self,
        owner: Any,
        order: Any = ">=",
        key: Any = None,
        prefix: Any = None,
        keys: bool = True,
        values: bool = True,
    ) -> None:
        if prefix is not None:
            owner._layout.prefix_bounds(prefix)  # validates at creation, as sophy does
        self._owner = owner
        self._order = order.decode("utf-8") if isinstance(order, bytes) else str(order)
        self._key = key
        self._prefix = prefix
        self._keys = bool(keys)
        self._values = bool(values)
        self._it: Optional[Iterator[Any]] = None

    @property
    def keys(self) -> bool:
        """Whether rows include the key."""
        return self._keys

    @property
    def values(self) -> bool:
        """Whether rows include the value."""
        return self._values

    @property
    def order(self) -> bytes:
        """The order, as bytes (``b'>='``...)."""
        return self._order.encode("utf-8")

    @property
    def prefix(self) -> Optional[bytes]:
        """The prefix, as bytes, or ``None``."""
        return _as_bytes(self._prefix)

    @property
    def key(self) -> Optional[tuple[Any, ...]]:
        """The seek key as a tuple, or ``None``."""
        if self._key is None:
            return None
        return self._key if isinstance(self._key, tuple) else (self._key,)

    def __iter__(self) -> Iterator[Any]:
        self._it = None
        self._it = self._owner._seek_iter(
            self._order, self._key, self._prefix, self._keys, self._values
        )
        return self._it

    def __next__(self) -> Any:
        if self._it is None:
            raise StopIteration
        return next(self._it)

    def __repr__(self) -> str:
        return f"<Cursor order={self._order!r} key={self._key!r} prefix={self._prefix!r}>"
