"""Read operations shared by databases, legacy views and legacy transactions.

A reader has ``_src`` (the shoal object it reads: a ``KV``, ``SnapshotKV`` or
``TxKV``, or :data:`CLOSED`), ``_layout`` and the layout's converters hoisted
to ``_ek`` (encode key), ``_bk`` (encode a range bound), ``_dv`` (decode value),
and ``_legacy`` (legacy ``KeyError(key)`` versus 0.7's ``KeyError((key,))``).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional

import shoal

from ._cursor import Cursor, guard, range_scan, seek_scan
from ._errors import engine_error
from ._layout import Layout

_MISSING = object()


class Reader:
    """Point reads, ranges, cursors and iteration over ``_src``."""

    _src: Any
    _layout: Layout
    _legacy: bool
    _ek: Callable[[Any], Any]
    _kt: type
    _bk: Callable[[Any], Any]
    _dv: Optional[Callable[[Any], Any]]

    def _set_layout(self, layout: Layout) -> None:
        self._layout = layout
        self._ek = layout.encode_key
        self._kt = layout.key_exact
        self._bk = layout.encode_bound
        self._dv = layout.decode_value

    def _missing(self, key: Any) -> Any:
        if self._legacy or type(key) is tuple:
            return key
        return (key,)

    def __getitem__(self, key: Any) -> Any:
        if type(key) is slice:
            return self.get_range(key.start, key.stop, key.step)
        try:
            value = self._src[key if type(key) is self._kt else self._ek(key)]
        except KeyError:
            raise KeyError(self._missing(key)) from None
        except shoal.Error as exc:
            raise engine_error(exc) from None
        dv = self._dv
        return value if dv is None else dv(value)

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        try:
            value = self._src.get(key if type(key) is self._kt else self._ek(key), _MISSING)
        except shoal.Error as exc:
            raise engine_error(exc) from None
        if value is _MISSING:
            return default
        dv = self._dv
        return value if dv is None else dv(value)

    def exists(self, key: Any) -> bool:
        """Whether ``key`` exists."""
        try:
            return (key if type(key) is self._kt else self._ek(key)) in self._src
        except shoal.Error as exc:
            raise engine_error(exc) from None

    __contains__ = exists

    def __len__(self) -> int:
        try:
            return len(self._src)
        except shoal.Error as exc:
            raise engine_error(exc) from None

    def multi_get(self, keys: Iterable[Any]) -> list[Any]:
        """Values of ``keys`` in order, ``None`` for missing ones."""
        ek = self._ek
        try:
            found = self._src.get_many([ek(k) for k in keys], None)
        except shoal.Error as exc:
            raise engine_error(exc) from None
        dv = self._dv
        if dv is None:
            return found  # type: ignore[no-any-return]
        return [None if v is None else dv(v) for v in found]

    def multi_get_dict(self, keys: Iterable[Any]) -> dict[Any, Any]:
        """``{key: value}`` for the ``keys`` that exist (keys as given)."""
        keys = list(keys)
        out = {}
        for key, value in zip(keys, self._get_each(keys)):
            if value is not _MISSING:
                out[key] = value
        return out

    def _get_each(self, keys: list[Any]) -> list[Any]:
        return [self.get(k, _MISSING) for k in keys]

    def get_range(
        self, start: Any = None, stop: Any = None, reverse: Any = False
    ) -> Iterator[tuple[Any, Any]]:
        """``(key, value)`` pairs from ``start`` to ``stop``, both inclusive.

        A truthy ``reverse`` iterates downwards (with one bound given it is the
        stop; with both, the higher is the start). Without ``reverse``,
        ``start > stop`` implies it. Bounds need not be keys; falsy bounds
        (``0``, ``''``) are honoured.
        """
        layout = self._layout
        s = None if start is None else self._bk(start)
        e = None if stop is None else self._bk(stop)
        if reverse:
            if (s is None) != (e is None):
                s, e = e, s
            elif s is not None and layout.compare_key(s) < layout.compare_key(e):
                s, e = e, s
            reverse = True
        elif s is not None and e is not None and layout.compare_key(s) > layout.compare_key(e):
            reverse = True
        return guard(range_scan(self._src, layout, s, e, bool(reverse)))

    def _seek_iter(
        self, order: str, key: Any, prefix: Any, keys: bool, values: bool
    ) -> Iterator[Any]:
        native = None if key is None else self._bk(key)
        return guard(seek_scan(self._src, self._layout, order, native, prefix, keys, values))

    def cursor(
        self,
        order: Any = ">=",
        key: Any = None,
        prefix: Any = None,
        keys: bool = True,
        values: bool = True,
    ) -> Cursor:
        """A :class:`Cursor` (see there for ``order``, ``key`` and ``prefix``)."""
        return Cursor(self, order, key, prefix, keys, values)

    def _listing(self, cursor: Cursor) -> Any:
        # 0.7 returns re-iterable cursors, the legacy API generators
        return iter(cursor) if self._legacy else cursor

    def keys(self) -> Any:
        """The keys, ascending (0.7: a re-iterable cursor; legacy: a generator)."""
        return self._listing(Cursor(self, values=False))

    def values(self) -> Any:
        """The values, in key order (0.7: a re-iterable cursor; legacy: a generator)."""
        return self._listing(Cursor(self, keys=False))

    def items(self) -> Any:
        """``(key, value)`` pairs, ascending (0.7: a re-iterable cursor; legacy: a generator)."""
        return self._listing(Cursor(self))

    def __iter__(self) -> Iterator[Any]:
        return self._seek_iter(">=", None, None, True, True)
