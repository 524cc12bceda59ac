"""``Sophia``: the environment (a directory of databases), both API generations.

An environment borrows the shoal store of its directory from
:mod:`._registry` while open. It is in **legacy mode** (the 0.1.x API of the
seed) when built with a second positional argument or any of the legacy
keywords, or once ``create_database()``/``database()`` is used; legacy mode
auto-opens, allows creating databases while open, reports version
``'2.1.1'``, stores values as text and raises ``KeyError(key)``. Otherwise it
is in **0.7 mode**: explicit ``open()``, schemas, version ``'2.2'``,
``KeyError((key,))``, settings readable only while open.

Durability: the store opens with ``"sync"`` when the ``log_sync`` option (or a
database's ``sync`` option, set explicitly) is truthy, else ``"flush"`` (every
commit reaches the OS; a killed process loses nothing).
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Optional

import shoal

from . import _registry
from ._database import DB_SETTINGS, PERSISTED, Database, space_name
from ._errors import ENV_CLOSED, SophiaError, Unavailable, engine_error
from ._index import LegacyValue, Schema, legacy_key_parts
from ._settings import Configuration, Setting, env_path, install
from ._transaction import ConflictTracker, Transaction

_UNSET: Any = object()
_MISSING = object()
META_SPACE = "sophy.meta"
"""Space holding the database options Sophia persists (``compression``)."""


def _counter(attr: str) -> Setting:
    return Setting("", compute=lambda env: getattr(env._tracker, attr))


def _zero(env: Sophia) -> int:
    return 0


def _memory_used(env: Sophia) -> int:
    if env._store is None:
        return 0
    st = env._store.stats()
    return int(st.get("write_buffer_bytes", 0)) + int(st.get("cache_bytes", 0))


ENV_SETTINGS: dict[str, Setting] = {
    "version": Setting("", compute=lambda env: "2.1.1" if env._legacy else "2.2"),
    "version_storage": Setting("", compute=lambda env: "2.1.1" if env._legacy else "2.2"),
    "build": Setting("", compute=lambda env: f"shoal-{shoal.__version__}"),
    "status": Setting("", compute=lambda env: "online" if env.is_open else "offline"),
    "errors": Setting("", compute=_zero),
    "error": Setting("", compute=lambda env: None),
    "backup_path": Setting("", None),
    "backup_active": Setting("", compute=_zero),
    "backup_last": Setting("", compute=lambda env: env._backups),
    "backup_last_complete": Setting("", compute=lambda env: env._backups),
    "scheduler_threads": Setting("", 6, offline=True),
    "transaction_online_rw": Setting("", compute=lambda env: len(env._tracker.active)),
    "transaction_online_ro": Setting("", compute=_zero),
    "transaction_commit": _counter("commits"),
    "transaction_rollback": _counter("rollbacks"),
    "transaction_conflict": _counter("conflicts"),
    "transaction_lock": Setting("", compute=_zero),
    "transaction_vlsn": _counter("clock"),
    "transaction_gc": Setting("", compute=_zero),
    "transaction_latency": Setting("", compute=lambda env: "0 0 0"),
    "transaction_log": Setting("", compute=lambda env: "0 0 0"),
    "log_enable": Setting("", 1),
    "log_path": Setting("", lambda env: os.path.join(env.path, "log")),
    "log_sync": Setting("", 0),
    "log_rotate_wm": Setting("", 500000),
    "log_rotate_sync": Setting("", 1),
    "log_files": Setting("", compute=lambda env: 1 + env._log_rotations),
    # legacy (0.1.x / Sophia 2.1) names
    "sophia_path": Setting("", lambda env: env.path),
    "sophia_path_create": Setting("", 1),
    "recover": Setting("", 1),
    "memory_limit": Setting("", 0),
    "memory_anticache": Setting("", 0),
    "memory_used": Setting("", compute=_memory_used),
    "scheduler_anticache": Setting("", 0),
}
for _name in ("lsn", "tsn", "nsn", "dsn", "bsn", "lfsn"):
    ENV_SETTINGS[f"metric_{_name}"] = (
        _counter("clock") if _name == "lsn" else Setting("", compute=_zero)
    )
for _name in (
    "memory_pager_pool_size", "memory_pager_page_size", "memory_pager_pools", "scheduler_zone",
    "scheduler_checkpoint_active", "scheduler_checkpoint_lsn", "scheduler_checkpoint_lsn_last",
    "scheduler_anticache_active", "scheduler_anticache_asn", "scheduler_anticache_asn_last",
    "scheduler_snapshot_active", "scheduler_snapshot_ssn", "scheduler_snapshot_ssn_last",
):  # fmt: skip
    ENV_SETTINGS[_name] = Setting("", compute=_zero)

_FAMILIES = ("compaction_", "performance_")
"""Legacy option families (per-redzone compaction options, performance counters):
any such name reads as 0 and may be assigned."""


class Sophia:
    """A Sophia environment: a directory holding named databases.

    0.7: ``env = Sophia(path); db = env.add_database(name, schema); env.open()``.
    Legacy: ``Sophia(path, databases=[(name, index_type)], auto_open=True, ...)``
    opens at once; ``env[name]``, ``create_database()``, ``database()``.
    Engine settings are properties (see :mod:`._settings`); most have no effect
    on shoal and are only remembered.
    """

    _ACTIONS = frozenset(
        {
            "scheduler_checkpoint", "scheduler_snapshot", "scheduler_gc_active",
            "scheduler_gc", "scheduler_lru_active", "scheduler_lru", "scheduler_run",
            "log_rotate", "log_gc", "backup_run",
        }
    )  # fmt: skip

    def __init__(
        self,
        path: Any,
        databases: Any = _UNSET,
        auto_open: Any = _UNSET,
        backup_path: Any = _UNSET,
        memory_limit: Any = _UNSET,
        threads: Any = _UNSET,
        log_path: Any = _UNSET,
    ) -> None:
        legacy_args = (databases, auto_open, backup_path, memory_limit, threads, log_path)
        raw = os.fspath(path)
        self._path: str = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        self._legacy = any(a is not _UNSET for a in legacy_args)
        self._auto_open = True if auto_open is _UNSET else bool(auto_open)
        self._opts: dict[str, Any] = {}
        self._persisted: dict[str, Any] = {}
        self._dbs: dict[str, Database] = {}
        self._store: Optional[shoal.Store] = None
        self._gen = 0
        self._tracker = ConflictTracker()
        self._log_rotations = 0
        self._backups = 0
        self.config = Configuration(self)
        for value, option in (
            (backup_path, "backup.path"),
            (memory_limit, "memory.limit"),
            (threads, "scheduler.threads"),
            (log_path, "log.path"),
        ):
            if value is not _UNSET and value is not None:
                self.config.set_option(option, value)
        if databases is not _UNSET and databases:
            for entry in databases:
                name, index_type = (entry, None) if isinstance(entry, str) else entry
                self._declare_legacy(name, index_type)
        if self._legacy and self._auto_open:
            self.open()

    # -- state -------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The environment directory."""
        return self._path

    @property
    def auto_open(self) -> bool:
        """Legacy: whether the environment opened itself on construction."""
        return self._auto_open

    @property
    def is_open(self) -> bool:
        """Whether the environment is open."""
        return self._store is not None

    @property
    def dbs(self) -> Mapping[str, Database]:
        """Read-only ``{name: Database}``."""
        return MappingProxyType(self._dbs)

    def _require_open(self) -> shoal.Store:
        store = self._store
        if store is None:
            raise SophiaError(ENV_CLOSED)
        return store

    def open(self) -> bool:
        """Open the environment and its databases; ``False`` if already open."""
        if self._store is not None:
            return False
        for key in self._opts:
            if self._find_option(key) is None:
                raise SophiaError(f"bad configuration path: {key}")
        durability = "sync" if self._sync_wanted() else "flush"
        store = _registry.acquire(self._path, durability)
        self._store = store
        try:
            meta = store.kv(META_SPACE)
            for db in self._dbs.values():
                self._load_persisted(meta, db)
                db._bind(store)
        except BaseException as exc:
            self._store = None
            for db in self._dbs.values():
                db._unbind()
            _registry.release(store)
            if isinstance(exc, shoal.Error):
                raise engine_error(exc) from None
            raise
        return True

    def close(self) -> bool:
        """Close the environment; ``False`` if it was not open.

        Databases stay usable objects (re-bound on the next ``open()``);
        transactions, views and cursors of this opening become invalid.
        """
        store = self._store
        if store is None:
            return False
        self._gen += 1
        for tx in list(self._tracker.active):
            if tx._tx is not None:
                tx._tx.rollback()
            self._tracker.end(tx)
        for db in self._dbs.values():
            db._unbind()
        self._store = None
        _registry.release(store)
        return True

    def _sync_wanted(self) -> bool:
        if self._opts.get("log.sync"):
            return True
        return any(self._opts.get(f"db.{name}.sync") for name in self._dbs)

    def _load_persisted(self, meta: Any, db: Database) -> None:
        for option in PERSISTED:
            path = f"db.{db.name}.{option}"
            if path in self._opts:
                meta[(db.name, option)] = self._opts[path]
            else:
                value = meta.get((db.name, option), _MISSING)
                if value is not _MISSING:
                    self._persisted[path] = value

    # -- databases -----------------------------------------------------------------

    def add_database(self, name: str, schema: Schema) -> Database:
        """Declare database ``name`` with ``schema`` (the environment must be closed)."""
        if self._store is not None:
            raise SophiaError("cannot add database to open environment.")
        if not isinstance(schema, Schema):
            raise TypeError(f"schema must be a Schema, not {type(schema).__name__}")
        space_name(name)
        db = Database(self, name, schema.key_parts, schema.value_parts, db_id=len(self._dbs))
        self._dbs[name] = db
        return db

    def remove_database(self, name: str) -> None:
        """Forget database ``name`` (the environment must be closed; data stays on disk)."""
        if self._store is not None:
            raise SophiaError("cannot remove database from open environment.")
        db = self._dbs.pop(name)
        db._src = Unavailable(f"database {name!r} was removed from its environment.")

    def get_database(self, name: str) -> Database:
        """The database ``name`` (``KeyError`` if unknown)."""
        try:
            return self._dbs[name]
        except KeyError:
            raise KeyError(name) from None

    def __getitem__(self, name: str) -> Database:
        return self.get_database(name)

    def __contains__(self, name: object) -> bool:
        return name in self._dbs

    def __iter__(self) -> Iterator[Database]:
        return iter(list(self._dbs.values()))

    def transaction(self) -> Transaction:
        """A new transaction across this environment's databases (not yet begun)."""
        return Transaction(self)

    # -- legacy databases ----------------------------------------------------------

    def _declare_legacy(self, name: str, index_type: Any) -> Database:
        db = self._dbs.get(name)
        if db is None:
            space_name(name)
            db = Database(
                self,
                name,
                legacy_key_parts(index_type),
                [LegacyValue("value")],
                legacy=True,
                db_id=len(self._dbs),
            )
            self._dbs[name] = db
        return db

    def create_database(self, name: str, index_type: Any = "string") -> Database:
        """Legacy: declare database ``name`` and open it if the environment is open.

        On a closed environment built as ``Sophia(path)`` this switches it to
        legacy mode and opens it (a legacy environment would already be open).
        """
        db = self._declare_legacy(name, index_type)
        if not self._legacy:
            self._legacy = True
            if self._store is None:
                self.open()
                return db
        store = self._store
        if store is not None and isinstance(db._src, Unavailable):
            try:
                self._load_persisted(store.kv(META_SPACE), db)
            except shoal.Error as exc:
                raise engine_error(exc) from None
            db._bind(store)
        return db

    def database(self, name: str, index_type: Any = None, **options: Any) -> Database:
        """Legacy: :meth:`create_database`, then set database options (``mmap=True``...).

        ``sync=True`` makes commits durable with fsync (the store is reopened
        with durability ``"sync"`` when this environment holds it alone).
        """
        db = self.create_database(name, "string" if index_type is None else index_type)
        for key, value in options.items():
            if not isinstance(getattr(type(db), key, None), Setting):
                raise SophiaError(f"unknown database option {key!r}")
            setattr(db, key, value)
        store = self._store
        if store is not None and self._sync_wanted() and store.durability != "sync":
            self.close()
            self.open()
        return db

    # -- settings ----------------------------------------------------------------

    def _check_readable(self) -> None:
        if self._store is None and not self._legacy:
            raise SophiaError(ENV_CLOSED)

    def _option_value(self, path: str, default: Any) -> Any:
        value = self._opts.get(path, _MISSING)
        if value is _MISSING:
            value = self._persisted.get(path, _MISSING)
        return default if value is _MISSING else value

    def _get_setting(self, setting: Setting) -> Any:
        self._check_readable()
        if setting.compute is not None:
            return setting.compute(self)
        default = setting.default(self) if callable(setting.default) else setting.default
        return self._option_value(setting.suffix, default)

    def _set_setting(self, setting: Setting, value: Any) -> None:
        if setting.offline and self._store is not None:
            raise SophiaError(f"{setting.name} can only be set while the environment is closed.")
        self._store_option(setting.suffix, value)

    def _db_setting(self, db: Database, setting: Setting) -> Any:
        self._check_readable()
        if setting.compute is not None:
            return setting.compute(db)
        default = setting.default(db) if callable(setting.default) else setting.default
        return self._option_value(f"db.{db.name}.{setting.suffix}", default)

    def _set_db_setting(self, db: Database, setting: Setting, value: Any) -> None:
        self._store_option(f"db.{db.name}.{setting.suffix}", value)

    def _find_option(self, key: str) -> Optional[tuple[Any, Setting]]:
        """``(owner, setting)`` for option path ``key``, or ``None`` if unknown."""
        setting = _ENV_BY_PATH.get(key)
        if setting is not None:
            return self, setting
        if key.startswith("db."):
            for name, db in self._dbs.items():
                prefix = f"db.{name}."
                if key.startswith(prefix):
                    setting = _DB_BY_PATH.get(key[len(prefix) :])
                    if setting is not None:
                        return db, setting
        return None

    def _check_option(self, key: str, *, writing: bool) -> None:
        found = self._find_option(key)
        if found is None:
            raise SophiaError(f"bad configuration path: {key}")
        setting = found[1]
        if writing and setting.ro:
            raise SophiaError(f"configuration option is read-only: {key}")
        if writing and setting.offline and self._store is not None:
            raise SophiaError(f"configuration option can only be set while closed: {key}")

    def _store_option(self, key: str, value: Any) -> None:
        self._opts[key] = value
        found = self._find_option(key)
        if found is None or found[0] is self:
            return
        db, setting = found
        if setting.name == "limit_field":
            db._relayout()
        if setting.name in PERSISTED and self._store is not None:
            try:
                self._store.kv(META_SPACE)[(db.name, setting.name)] = value
            except shoal.Error as exc:
                raise engine_error(exc) from None

    def _read_option(self, key: str) -> Any:
        self._require_open()
        found = self._find_option(key)
        if found is None:
            raise SophiaError(f"bad configuration path: {key}")
        owner, setting = found
        return getattr(owner, setting.name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith(_FAMILIES):
            self._check_readable()
            return 0
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- actions -----------------------------------------------------------------

    def scheduler_checkpoint(self) -> None:
        """Flush every write to disk."""
        try:
            self._require_open().sync()
        except shoal.Error as exc:
            raise engine_error(exc) from None

    scheduler_snapshot = scheduler_checkpoint
    scheduler_run = scheduler_checkpoint

    def scheduler_gc(self) -> None:
        """Compact the store (drops old versions and deletions)."""
        try:
            self._require_open().compact()
        except shoal.Error as exc:
            raise engine_error(exc) from None

    scheduler_lru = scheduler_gc

    def scheduler_gc_active(self) -> int:
        """Whether a garbage collection is running (never, synchronously)."""
        self._require_open()
        return 0

    scheduler_lru_active = scheduler_gc_active

    def scheduler_trace(self, thread_id: int = 0) -> str:
        """Trace of a scheduler thread (shoal has none: empty)."""
        self._require_open()
        return ""

    def log_rotate(self) -> None:
        """Start a new log file: flushes to disk; ``log_files`` grows by one."""
        self.scheduler_checkpoint()
        self._log_rotations += 1

    def log_gc(self) -> None:
        """Remove unneeded log files (shoal does this on its own)."""
        self._require_open()

    def backup_run(self) -> None:
        """Copy the store into ``<backup_path>/<n>`` (``backup_path`` must be set)."""
        store = self._require_open()
        target = self._opts.get("backup.path")
        if not target:
            raise SophiaError("backup is not configured: set backup_path first.")
        number = self._backups + 1
        try:
            store.backup(os.path.join(str(target), str(number)))
        except shoal.Error as exc:
            raise engine_error(exc) from None
        self._backups = number

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"<sophy Sophia {self._path!r} ({state})>"


install(Sophia, ENV_SETTINGS, env_path)
_ENV_BY_PATH = {s.suffix: s for s in ENV_SETTINGS.values()}
_DB_BY_PATH = {s.suffix: s for s in DB_SETTINGS.values()}
