"""``Database``: one named key/value database of an environment (both generations).

A database is a shoal KV space named ``sophy.<escaped name>`` whose codecs
come from its :class:`~._layout.Layout`. The object stays valid across
``env.close()``/``env.open()``: it is re-bound to the new store on open, and
while the environment is closed every operation raises
``SophiaError('Sophia environment is closed.')``.
"""

from __future__ import annotations

import os
from itertools import chain
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence

import shoal

from ._errors import CLOSED, engine_error
from ._index import BaseIndex
from ._layout import Layout
from ._reader import Reader
from ._settings import Setting, db_suffix, install
from ._transaction import LegacyTransaction
from ._view import View

if TYPE_CHECKING:
    from ._env import Sophia

DEFAULT_LIMIT_FIELD = 2097152
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def space_name(name: str) -> str:
    """The shoal space holding database ``name`` (unsafe characters hex-escaped)."""
    out = []
    for ch in name:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f".{b:02x}" for b in ch.encode("utf-8"))
    return "sophy." + "".join(out)


def _stats(db: Database) -> dict[str, Any]:
    store = db._env._store
    if store is None:
        return {}
    space = db._space
    for entry in store.stats().get("spaces", []):
        if entry.get("name") == space:
            return entry  # type: ignore[no-any-return]
    return {}


def _index_count(db: Database) -> int:
    return int(_stats(db).get("approximate_items", 0))


def _index_size(db: Database) -> int:
    return int(_stats(db).get("disk_bytes", 0))


def _memory_used(db: Database) -> int:
    store = db._env._store
    if store is None:
        return 0
    st = store.stats()
    return int(st.get("write_buffer_bytes", 0)) + int(st.get("cache_bytes", 0))


def _zero(db: Database) -> int:
    return 0


def _latency(db: Database) -> str:
    return "0 0 0"


# Database settings; most have no effect on shoal (see _settings).
DB_SETTINGS: dict[str, Setting] = {
    "database_name": Setting("", compute=lambda db: db.name),
    "database_id": Setting("", lambda db: db._id),
    "database_path": Setting("", lambda db: os.path.join(db._env.path, db.name)),
    "status": Setting("", compute=lambda db: "online" if db._env.is_open else "offline"),
    "mmap": Setting("", 1),
    "direct_io": Setting("", 0),
    "sync": Setting("", 1),
    "expire": Setting("", 0),
    "compression": Setting("", "none"),
    "limit_key": Setting("", 1024, ro=True),
    "limit_field": Setting("", DEFAULT_LIMIT_FIELD),
    "index_memory_used": Setting("", compute=_zero),
    "index_size": Setting("", compute=_index_size),
    "index_size_uncompressed": Setting("", compute=_index_size),
    "index_size_snapshot": Setting("", compute=_zero),
    "index_size_amqf": Setting("", compute=_zero),
    "index_count": Setting("", compute=_index_count),
    "index_count_dup": Setting("", compute=_zero),
    "index_read_disk": Setting("", compute=_zero),
    "index_read_cache": Setting("", compute=_zero),
    "index_node_count": Setting("", compute=lambda db: 1),
    "index_branch_count": Setting("", compute=_zero),
    "index_branch_max": Setting("", compute=_zero),
    "index_page_count": Setting("", compute=_zero),
    "compaction_cache": Setting("", 4294967296),
    "compaction_checkpoint": Setting("", 0),
    "compaction_node_size": Setting("", 67108864),
    "compaction_page_size": Setting("", 131072),
    "compaction_page_checksum": Setting("", 1),
    "compaction_expire_period": Setting("", 0),
    "compaction_gc_wm": Setting("", 30),
    "compaction_gc_period": Setting("", 60),
    "scheduler_checkpoint": Setting("", compute=_zero),
    "scheduler_gc": Setting("", compute=_zero),
    "scheduler_expire": Setting("", compute=_zero),
    "scheduler_backup": Setting("", compute=_zero),
    "memory_used": Setting("", compute=_memory_used),
    # legacy (0.1.x) names
    "storage": Setting("", "cache"),
    "format": Setting("", "kv"),
    "amqf": Setting("", 0),
    "path_fail_on_exists": Setting("", 0),
    "path_fail_on_drop": Setting("", 1),
    "cache_mode": Setting("", 0),
    "cache": Setting("", ""),
    "node_preload": Setting("", 0),
    "node_size": Setting("", 134217728),
    "page_size": Setting("", 131072),
    "page_checksum": Setting("", 1),
    "compression_key": Setting("", 0),
    "compression_branch": Setting("", "none"),
    "lru": Setting("", 0),
    "lru_step": Setting("", 131072),
}
for _name in (
    "documents", "documents_used", "field", "set", "delete", "get", "get_read_disk",
    "get_read_cache", "pread", "cursor", "cursor_read_disk", "cursor_read_cache", "cursor_ops",
):  # fmt: skip
    DB_SETTINGS[f"stat_{_name}"] = Setting("", compute=_zero)
for _name in ("set", "delete", "get", "pread", "cursor"):
    DB_SETTINGS[f"stat_{_name}_latency"] = Setting("", compute=_latency)

PERSISTED = frozenset({"compression"})
"""Database options Sophia keeps with the data: re-read when the database is re-added."""


class Database(Reader):
    """A named ordered key/value database (Sophia 0.7 API and the legacy 0.1 API).

    Dict protocol (``db[k]``, ``db[k] = v``, ``del db[k]`` without error for a
    missing key, ``in``, ``len``, iteration over ``(key, value)``), slices and
    :meth:`get_range` (inclusive bounds, reverse by a truthy step or by
    ``start > stop``), :meth:`cursor`, :meth:`update`/:meth:`multi_set` as one
    atomic batch, :meth:`multi_get`, :meth:`multi_delete` (atomic). Keys and
    values are converted by the schema's index classes; multi-part keys and
    values are tuples, single parts scalars.
    """

    _is_database = True

    def __init__(
        self,
        env: Sophia,
        name: str,
        key_parts: Sequence[BaseIndex],
        value_parts: Sequence[BaseIndex],
        *,
        legacy: bool = False,
        db_id: int = 0,
    ) -> None:
        self._env = env
        self._name = name
        self._space = space_name(name)
        self._key_parts = tuple(key_parts)
        self._value_parts = tuple(value_parts)
        self._legacy = legacy
        self._id = db_id
        self._src: Any = CLOSED
        self._removed = False
        self._relayout()

    # -- binding -----------------------------------------------------------------

    def _relayout(self) -> None:
        limit = self._env._option_value(f"db.{self._name}.limit.field", DEFAULT_LIMIT_FIELD)
        layout = Layout(self._key_parts, self._value_parts, int(limit))
        self._set_layout(layout)
        self._ev = layout.encode_value
        self._vt: Any = layout.value_exact
        self._vg = layout.value_guard

    def _bind(self, store: shoal.Store) -> None:
        self._relayout()
        layout = self._layout
        try:
            self._src = store.kv(self._space, key=layout.key_codec, value=layout.value_codec)
        except shoal.Error as exc:
            raise engine_error(exc) from None

    def _unbind(self) -> None:
        self._src = CLOSED

    # -- identity ----------------------------------------------------------------

    @property
    def name(self) -> str:
        """The database name."""
        return self._name

    @property
    def env(self) -> Sophia:
        """The environment (0.7 name)."""
        return self._env

    @property
    def sophia(self) -> Sophia:
        """The environment (legacy name)."""
        return self._env

    @property
    def config(self) -> Any:
        """The environment's :class:`Configuration` (legacy)."""
        return self._env.config

    # -- settings ----------------------------------------------------------------

    def _get_setting(self, setting: Setting) -> Any:
        return self._env._db_setting(self, setting)

    def _set_setting(self, setting: Setting, value: Any) -> None:
        self._env._set_db_setting(self, setting, value)

    # -- writes ------------------------------------------------------------------

    def set(self, key: Any, value: Any) -> None:
        """Store ``value`` under ``key`` (upsert)."""
        if type(key) is not self._kt:
            key = self._ek(key)
        if type(value) is not self._vt or len(value) > self._vg:
            value = self._ev(value)
        try:
            self._src[key] = value
        except shoal.Error as exc:
            raise engine_error(exc) from None

    __setitem__ = set

    def delete(self, key: Any) -> None:
        """Delete ``key``; a missing key is not an error."""
        try:
            self._src.discard(key if type(key) is self._kt else self._ek(key))
        except shoal.Error as exc:
            raise engine_error(exc) from None

    __delitem__ = delete

    def _pairs(self, data: Optional[dict[Any, Any]], kwargs: dict[str, Any]) -> list[Any]:
        if data is not None and not isinstance(data, dict):
            raise TypeError(f"update() needs a dict, not {type(data).__name__}")
        ek, ev, kt, vt, vg = self._ek, self._ev, self._kt, self._vt, self._vg
        items = chain(data.items(), kwargs.items()) if data else kwargs.items()
        return [
            (
                k if type(k) is kt else ek(k),
                v if type(v) is vt and len(v) <= vg else ev(v),
            )
            for k, v in items
        ]

    def update(self, _data: Optional[dict[Any, Any]] = None, **kwargs: Any) -> None:
        """Write every pair of ``_data`` and ``kwargs`` atomically (one batch)."""
        pairs = self._pairs(_data, kwargs)
        try:
            self._src.update(pairs)
        except shoal.Error as exc:
            raise engine_error(exc) from None

    multi_set = update

    def multi_delete(self, keys: Iterable[Any]) -> None:
        """Delete every key of ``keys`` atomically (missing keys are fine)."""
        ek = self._ek
        native = [ek(k) for k in keys]
        try:
            self._src.delete_many(native)
        except shoal.Error as exc:
            raise engine_error(exc) from None

    # -- legacy (0.1.x) ------------------------------------------------------------

    def transaction(self) -> LegacyTransaction:
        """A transaction on this database (begins on ``with`` entry or ``open()``)."""
        return LegacyTransaction(self)

    def view(self, name: str) -> View:
        """A read-only point-in-time view of this database."""
        return View(self, name)

    def close(self) -> bool:
        """Legacy: databases close with their environment; returns ``False`` while it is open."""
        return not self._env.is_open

    def checkpoint(self) -> None:
        """Flush this database's writes to disk (``env.scheduler_checkpoint()``)."""
        self._env.scheduler_checkpoint()

    def gc(self) -> None:
        """Compact the store (``env.scheduler_gc()``)."""
        self._env.scheduler_gc()

    def branch(self) -> None:
        """Sophia's in-memory index branch: a flush here."""
        self._env.scheduler_checkpoint()

    def compact(self) -> None:
        """Compact the store."""
        self._env.scheduler_gc()

    def compact_index(self) -> None:
        """Compact the store."""
        self._env.scheduler_gc()

    def __repr__(self) -> str:
        return f"<sophy Database {self._name!r}>"


install(Database, DB_SETTINGS, db_suffix, "db.<name>.")
