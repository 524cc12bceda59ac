"""``Database``: a sofart database file, backed by shoal stores.

Files and modes:

- ``path`` is the **legacy file** (one JSON, pickle or msgpack mapping, as the
  original writes): created at once if missing, rewritten atomically by
  :meth:`Database.sync` (and :meth:`Database.export` to any path), so tools
  that read sofart files keep working. Index definitions travel in
  ``_infos["indexes"]`` (the original ignores that key).
- ``mode="single"`` works on an in-memory shoal store loaded from the file;
  nothing is written until ``sync()`` (a second ``Database`` on the path sees
  only what was synced, as with the original).
- ``mode="multi"`` keeps the data in a shoal store in the directory
  ``path + ".shoal"`` and writes every change there before the call returns
  (durability ``"flush"``: it survives a killed process; pass
  ``durability="sync"`` to survive power loss too). ``Database`` objects on
  one path in a process share that store (the original let them overwrite
  each other); another process gets :class:`DatabaseError` (directory lock).
  The legacy file is refreshed by ``sync()``, ``close()`` and at exit.
- The directory is trusted while the legacy file is the one it last wrote or
  read (same mtime, size and inode): then both modes open from it (multi-mode
  writes not yet exported to the file are kept). If the file was replaced by
  someone else, or synced by single mode since, it is imported instead.
- Importing a pickle file needs ``allow_pickle=True`` (unpickling runs code
  named in the file). Files the face writes itself in pickle format are
  recorded in the directory too, so reopening them needs no unpickling.
"""

from __future__ import annotations

import datetime
import importlib
import os
import threading
import weakref
from types import ModuleType, TracebackType
from typing import Any

import shoal

from . import _backend
from ._backend import Backend
from ._translate import HIDDEN, SEQ, TUP
from ._values import tuple_paths
from .collection import Collection, _check_id
from .exceptions import DatabaseError

__all__ = ["Database"]

_INFOS = "_infos"


def _stamp(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _import_doc(serializer: str) -> Any:
    def prepare(doc: Any, seq: int) -> dict[str, Any]:
        if not isinstance(doc, dict):
            raise TypeError(f"a document must be a dict, not {type(doc).__name__}")
        rec = dict(doc)
        for hidden in HIDDEN:
            rec.pop(hidden, None)
        if "_id" in rec:
            _check_id(rec["_id"])
        if serializer == "pickle":
            paths = tuple_paths(rec)
            if paths:
                rec[TUP] = paths
        rec[SEQ] = seq
        return rec

    return prepare


def _write_file(record: Backend, serializer: Any, path: str) -> None:
    """Write the legacy file from ``record`` and note that they match."""
    serializer.dump(record.export())
    record.set_stamp(_stamp(path))
    record.dirty = False


def _finish(backend: Backend, shared: bool, exporter: Any) -> None:
    """Release a database's backend (multi mode: refresh a stale legacy file first)."""
    try:
        if exporter is not None and backend.dirty and not backend.store.closed:
            _write_file(*exporter)
    finally:
        if shared:
            _backend.release(backend)
        elif not backend.store.closed:
            backend.close()


class Database:
    """A sofart database: named collections of documents (see the module docstring).

    ``Database(path=None, mode="single", serializer="json")``; ``path=None`` is
    an in-memory database (single mode only). Collections are reached as
    ``db.name`` or ``db["name"]`` and created by their first save.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        mode: str = "single",
        serializer: str = "json",
        *,
        allow_pickle: bool = False,
        durability: str = "flush",
    ) -> None:
        self.init_schema: dict[str, Any] = {
            _INFOS: {
                "creation_date": datetime.datetime.now().isoformat(),
                "serializer": serializer,
                "total_entries": 0,
            }
        }
        self.mode = mode
        self.path: str | None = os.fspath(path) if path is not None else None
        self.serializer_name = serializer
        self.serializer: Any = None
        self._closed = False
        self._lock = threading.RLock()
        if mode not in ("single", "multi"):
            raise DatabaseError("Invalid database mode")
        module = self._module()
        if self.path is None:
            if mode == "multi":
                raise DatabaseError("Need path")
            self._store = Backend(shoal.open(None, durability="memory"))
            self._store.set_infos(self.init_schema[_INFOS])
            self._shared = False
        else:
            self.serializer = module.Serializer(self.path)
            self._open(self.path, allow_pickle, durability)
        exporter = None
        if mode == "multi" and self.path is not None:
            exporter = (self._store, self.serializer, self.path)
        self._finalizer = weakref.finalize(self, _finish, self._store, self._shared, exporter)

    # -- opening -----------------------------------------------------------
    def _module(self) -> ModuleType:
        return importlib.import_module(f"{__package__}.serializers._{self.serializer_name}")

    def _read_legacy(self, path: str, allow_pickle: bool) -> dict[str, Any]:
        if self.serializer_name == "pickle" and not allow_pickle:
            raise DatabaseError(
                f"{path} is a pickle file: pass allow_pickle=True to import it "
                "(unpickling runs code named in the file; only do it for files you trust)"
            )
        try:
            data = self.serializer.load()
        except Exception:  # noqa: BLE001 - any failure means the file is unreadable
            data = None
        if not isinstance(data, dict) or not isinstance(data.get(_INFOS, {}), dict):
            raise DatabaseError(f"Seems to be corrupt or not {self.serializer} object")
        for name, docs in data.items():
            if name != _INFOS and (not isinstance(name, str) or not isinstance(docs, list)):
                raise DatabaseError(f"Seems to be corrupt or not {self.serializer} object")
        return data

    def _load_into(self, backend: Backend, path: str, created: bool, allow_pickle: bool) -> None:
        if created:
            backend.clear()
            backend.set_infos(self.init_schema[_INFOS])
            return
        data = self._read_legacy(path, allow_pickle)
        try:
            backend.load(data, _import_doc(self.serializer_name))
        except (TypeError, ValueError, KeyError, AttributeError, shoal.Error) as exc:
            backend.clear()
            raise DatabaseError(f"cannot import {path}: {exc}") from None

    def _open(self, path: str, allow_pickle: bool, durability: str) -> None:
        created = not os.path.exists(path)
        if created:
            self.serializer.init(self.init_schema)
        stamp = _stamp(path)
        directory = path + ".shoal"
        if self.mode == "multi":
            backend = self._acquire(directory, durability)
            try:
                if backend.stamp() != stamp:
                    backend.set_stamp(None)
                    self._load_into(backend, path, created, allow_pickle)
                    backend.set_stamp(stamp)
            except BaseException:
                _backend.release(backend)
                raise
            self._store, self._shared = backend, True
            return
        self._store = Backend(shoal.open(None, durability="memory"))
        self._shared = False
        if created and self.serializer_name == "pickle":
            # Record that this pickle is ours, so reopening needs no unpickling.
            record = self._acquire(directory, "flush")
            try:
                record.clear()
                record.set_infos(self.init_schema[_INFOS])
                record.set_stamp(stamp)
            finally:
                _backend.release(record)
        try:
            if not created and os.path.isdir(directory):
                record = self._acquire(directory, "flush")
                try:
                    if record.stamp() == stamp:
                        self._store.copy_from(record)
                        return
                finally:
                    _backend.release(record)
            self._load_into(self._store, path, created, allow_pickle)
        except BaseException:
            self._store.close()
            raise

    @staticmethod
    def _acquire(directory: str, durability: str) -> Backend:
        try:
            return _backend.acquire(directory, durability)
        except shoal.LockedError:
            raise DatabaseError(f"{directory} is open in another process") from None
        except shoal.Error as exc:
            raise DatabaseError(f"cannot open {directory}: {exc}") from None

    # -- internals used by Collection ----------------------------------------
    def _backend(self) -> Backend:
        if self._closed:
            raise DatabaseError("Database is closed")
        return self._store

    def _touch(self) -> None:
        self._store.touch()

    def _check_name(self, name: Any) -> None:
        if not isinstance(name, str):
            raise TypeError(f"a collection name must be a str, not {type(name).__name__}")
        if name == _INFOS:
            raise DatabaseError('"_infos" is reserved for the database metadata')

    # -- the seed's API --------------------------------------------------------
    def __getattr__(self, name: str) -> Collection:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Collection(name, self.path, self)

    def __getitem__(self, name: str) -> Collection:
        return Collection(name, self.path, self)

    def __repr__(self) -> str:
        return f'Database(path="{self.path}", mode="{self.mode}")'

    @property
    def db(self) -> dict[str, Any]:
        """A snapshot of the whole database as the legacy file holds it."""
        return self._backend().export()

    @property
    def collections(self) -> list[str]:
        """Collection names in creation order (same as :meth:`collection_names`)."""
        return self.collection_names()

    def collection_names(self) -> list[str]:
        """Collection names in creation order (renamed ones move to the end)."""
        return self._backend().names()

    list_collection_names = collection_names

    def get_collection(self, name: str) -> Collection:
        """The collection ``name`` (pymongo)."""
        return Collection(name, self.path, self)

    def create_collection(self, name: str) -> None:
        """Create the collection ``name`` (empty) unless it exists."""
        self._check_name(name)
        self._backend().create(name)
        self._touch()

    def drop_collection(self, name: str) -> None:
        """Remove the collection ``name``; unknown names are ignored."""
        if name == _INFOS:
            raise DatabaseError('Can\'t remove "_infos" database')
        backend = self._backend()
        if name in backend.names():
            backend.drop(name)
            self._touch()

    def rename(self, old_name: str, new_name: str) -> None:
        """Rename collection ``old_name`` to ``new_name`` (it moves to the end)."""
        backend = self._backend()
        names = backend.names()
        if old_name not in names:
            raise DatabaseError("Collection not exist")
        if new_name in names:
            raise DatabaseError("Collection name already taken")
        self._check_name(new_name)
        backend.rename(old_name, new_name)
        self._touch()

    def count(self) -> int:
        """Documents over all collections."""
        return self._backend().total()

    def sync(self) -> None:
        """Write the database file (atomically), and the store of record beside it."""
        if self.path is None:
            raise DatabaseError("Need path")
        with self._lock:
            backend = self._backend()
            if self.mode == "multi":
                self._write_file(backend)
                return
            if self.serializer_name != "pickle":
                # The file is the record (it carries the index definitions);
                # a directory left by multi mode no longer matches it.
                self.serializer.dump(backend.export())
                backend.dirty = False
                return
            # A pickle file is imported only with allow_pickle: keep a record
            # beside it so that reopening our own file needs no unpickling.
            record = self._acquire(self.path + ".shoal", "flush")
            try:
                record.set_stamp(None)
                record.copy_from(backend)
                self._write_file(record)
            finally:
                _backend.release(record)

    def _write_file(self, record: Backend) -> None:
        assert self.path is not None
        _write_file(record, self.serializer, self.path)

    def export(self, path: str | os.PathLike[str], serializer: str | None = None) -> None:
        """Write the database in the legacy format to ``path`` (default: this serializer)."""
        name = serializer or self.serializer_name
        module = importlib.import_module(f"{__package__}.serializers._{name}")
        module.Serializer(os.fspath(path)).dump(self._backend().export())

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        """Release the store (multi mode: refresh the file first).

        Unsynced single-mode changes are dropped, as when the original's
        process ends.
        """
        if not self._closed:
            self._closed = True
            self._finalizer()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
