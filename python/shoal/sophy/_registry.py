"""One shoal store per directory, shared by every environment object on it.

Sophia lets several environment objects (``connect(dir, 'a')`` and
``connect(dir, 'b')``) use one directory; shoal allows one open store per
directory per process. Environments therefore borrow the store from here and
give it back on close; the last one closes it.
"""

from __future__ import annotations

import os
import threading

import shoal

from ._errors import SophiaError, engine_error

_lock = threading.Lock()
_stores: dict[str, list[object]] = {}  # real path -> [store, users]


def acquire(path: str, durability: str) -> shoal.Store:
    """The open store at ``path``, opening it with ``durability`` if needed."""
    key = os.path.realpath(path)
    with _lock:
        entry = _stores.get(key)
        if entry is not None and not entry[0].closed:  # type: ignore[attr-defined]
            entry[1] = int(entry[1]) + 1  # type: ignore[call-overload]
            return entry[0]  # type: ignore[return-value]
        try:
            os.makedirs(path, exist_ok=True)
            store = shoal.open(path, durability=durability)
        except shoal.Error as exc:
            raise engine_error(exc) from None
        except OSError as exc:
            raise SophiaError(str(exc)) from exc
        _stores[key] = [store, 1]
        return store


def release(store: shoal.Store) -> None:
    """Give ``store`` back; it is closed when its last user releases it."""
    key = os.path.realpath(store.path)
    with _lock:
        entry = _stores.get(key)
        if entry is None or entry[0] is not store:
            store.close()
            return
        entry[1] = int(entry[1]) - 1  # type: ignore[call-overload]
        if int(entry[1]) <= 0:  # type: ignore[call-overload]
            del _stores[key]
            store.close()
