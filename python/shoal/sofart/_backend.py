r"""The engine side of a sofart database: named collections in one shoal store.

A :class:`Backend` owns a shoal store holding

- the space ``sofart.meta``: the collection names in creation order with the
  engine collection behind each (``sofart.c<n>``, so renaming is O(1) and any
  name is allowed), the ``_infos`` of the legacy file, sequence reservations,
  and the *stamp* (mtime and size) of the legacy file it last wrote or read;
- one engine collection per sofart collection, keyed by the hidden field
  ``"\\x00s"`` (the insertion sequence number: ``find()`` returns documents in
  insertion order without sorting), with a unique sparse index on ``_id``.

Sequence numbers are reserved in blocks recorded in the meta space before
use, so a crash never hands out a number twice. A multi-mode database on a
path shares one backend per directory in this process (:func:`acquire`);
another process gets the directory lock error.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Iterator

import shoal

from ._translate import SEQ, TUP
from ._values import restore_tuples

_BLOCK = 4096
_ID_INDEX = "_id_"


class Backend:
    """Sofart collections in one shoal store (see the module docstring)."""

    def __init__(self, store: shoal.Store) -> None:
        self.store = store
        self.meta = store.kv("sofart.meta")
        self.lock = threading.RLock()
        self.users = 0
        self.dirty = False
        self._names: list[list[str]] = list(self.meta.get("names", []))
        self._colls: dict[str, shoal.Collection] = {}
        self._seq: dict[str, list[int]] = {}
        self._flat: dict[str, frozenset[str]] = {}

    def touch(self) -> None:
        """Note a write: the file is stale, and list-free fields must be looked up again."""
        self.dirty = True
        self._flat.clear()

    def flat(self, coll: shoal.Collection) -> frozenset[str]:
        """Fields of ``coll`` that hold no list in any document.

        ``_id`` (checked on every write) and the fields of non-multikey
        indexes: the engine marks an index multikey, for good, before the
        commit of the first document with a list in it.
        """
        found = self._flat.get(coll.name)
        if found is None:
            fields = {"_id"}
            for ix in coll.indexes():
                if not ix["multikey"]:
                    fields.update(path for path, _ in ix["fields"])
            found = self._flat[coll.name] = frozenset(fields)
        return found

    # -- names ------------------------------------------------------------
    def names(self) -> list[str]:
        """Collection names in creation order."""
        return [n for n, _ in self._names]

    def _ename(self, name: str) -> str | None:
        for n, e in self._names:
            if n == name:
                return e
        return None

    def collection(self, name: str) -> shoal.Collection | None:
        """The engine collection behind ``name``, or ``None`` if it does not exist."""
        ename = self._ename(name)
        if ename is None:
            return None
        coll = self._colls.get(ename)
        if coll is None:
            coll = self._colls[ename] = self.store.collection(ename, key=(SEQ,))
        return coll

    def create(self, name: str) -> shoal.Collection:
        """The engine collection behind ``name``, created (empty) if needed."""
        with self.lock:
            coll = self.collection(name)
            if coll is not None:
                return coll
            number = int(self.meta.get("next", 0))
            ename = f"sofart.c{number}"
            self.meta["next"] = number + 1
            coll = self.store.collection(ename, key=(SEQ,))
            coll.create_index("_id", unique=True, sparse=True, name=_ID_INDEX)
            self._colls[ename] = coll
            self._names.append([name, ename])
            self.meta["names"] = self._names
            return coll

    def drop(self, name: str) -> None:
        """Remove the collection ``name`` and its documents (no-op if absent)."""
        with self.lock:
            ename = self._ename(name)
            if ename is None:
                return
            coll = self.collection(name)
            self._names = [p for p in self._names if p[0] != name]
            self.meta["names"] = self._names
            if coll is not None:
                coll.drop()
            self._colls.pop(ename, None)
            self._seq.pop(ename, None)
            self.meta.discard(("seq", ename))

    def rename(self, old: str, new: str) -> None:
        """Give collection ``old`` the name ``new``; it moves to the end of the order."""
        with self.lock:
            pair = next(p for p in self._names if p[0] == old)
            self._names = [p for p in self._names if p[0] != old] + [[new, pair[1]]]
            self.meta["names"] = self._names

    # -- sequence numbers --------------------------------------------------
    def seqs(self, coll: shoal.Collection, n: int) -> int:
        """Reserve ``n`` consecutive sequence numbers for ``coll``; the first one."""
        with self.lock:
            state = self._seq.get(coll.name)
            if state is None:
                start = int(self.meta.get(("seq", coll.name), 0))
                state = self._seq[coll.name] = [start, start]
            first = state[0]
            state[0] += n
            if state[0] > state[1]:
                state[1] = state[0] + _BLOCK
                self.meta[("seq", coll.name)] = state[1]
            return first

    # -- metadata ----------------------------------------------------------
    def infos(self) -> dict[str, Any]:
        """The ``_infos`` of the legacy file (without ``total_entries``)."""
        return dict(self.meta.get("infos", {}))

    def set_infos(self, infos: dict[str, Any]) -> None:
        """Record the ``_infos`` of the legacy file."""
        self.meta["infos"] = {
            k: v for k, v in infos.items() if k not in ("total_entries", "indexes")
        }

    def stamp(self) -> list[int] | None:
        """The stamp of the legacy file this store matches, if any."""
        value = self.meta.get("stamp")
        return list(value) if value is not None else None

    def set_stamp(self, stamp: list[int] | None) -> None:
        """Record that the legacy file with ``stamp`` matches this store."""
        self.meta["stamp"] = stamp

    def total(self) -> int:
        """Documents over all collections."""
        return sum(len(c) for c in map(self.collection, self.names()) if c is not None)

    # -- whole-database copies ----------------------------------------------
    def raw(self, name: str) -> list[dict[str, Any]]:
        """The stored documents of ``name`` (hidden fields kept), in insertion order."""
        coll = self.collection(name)
        return coll.find() if coll is not None else []

    def documents(self, name: str) -> Iterator[dict[str, Any]]:
        """The documents of ``name`` as users see them, in insertion order."""
        for doc in self.raw(name):
            yield public(doc)

    def export(self) -> dict[str, Any]:
        """The legacy-file mapping: ``_infos`` and one list of documents per collection."""
        with self.lock:
            infos: dict[str, Any] = {**self.infos(), "total_entries": 0}
            out: dict[str, Any] = {"_infos": infos}
            indexes: dict[str, list[dict[str, Any]]] = {}
            for name in self.names():
                docs = list(self.documents(name))
                infos["total_entries"] += len(docs)
                out[name] = docs
                specs = self.index_specs(name)
                if specs:
                    indexes[name] = specs
            if indexes:  # the original ignores other keys of _infos
                infos["indexes"] = indexes
            return out

    def index_specs(self, name: str) -> list[dict[str, Any]]:
        """The secondary indexes of ``name`` (not the ``_id`` one), as plain data."""
        coll = self.collection(name)
        specs = []
        for ix in coll.indexes() if coll is not None else []:
            if ix["name"] != _ID_INDEX:
                specs.append(
                    {
                        "name": ix["name"],
                        "fields": [[f, d] for f, d in ix["fields"]],
                        "unique": ix["unique"],
                        "sparse": ix["sparse"],
                    }
                )
        return specs

    def create_indexes(self, coll: shoal.Collection, specs: Any) -> None:
        """Create indexes from :meth:`index_specs` data (e.g. read from a file)."""
        for spec in specs or ():
            coll.create_index(
                [(f, d) for f, d in spec["fields"]],
                unique=bool(spec.get("unique", False)),
                sparse=bool(spec.get("sparse", False)),
                name=spec.get("name"),
            )

    def clear(self) -> None:
        """Drop every collection."""
        with self.lock:
            for name in self.names():
                self.drop(name)

    def load(self, mapping: dict[str, Any], prepare: Any) -> None:
        """Replace everything with a legacy-file mapping.

        ``prepare(doc)`` returns the document to store (hidden fields added).
        """
        with self.lock:
            self.clear()
            infos = dict(mapping.get("_infos") or {})
            self.set_infos(infos)
            indexes = infos.get("indexes")
            for name, docs in mapping.items():
                if name == "_infos":
                    continue
                coll = self.create(name)
                first = self.seqs(coll, len(docs))
                if docs:
                    coll.insert_many(prepare(doc, first + i) for i, doc in enumerate(docs))
                if isinstance(indexes, dict):
                    self.create_indexes(coll, indexes.get(name))

    def copy_from(self, other: Backend) -> None:
        """Replace everything with the contents of ``other`` (indexes included)."""
        with self.lock:
            self.clear()
            self.set_infos(other.infos())
            for name in other.names():
                src = other.collection(name)
                coll = self.create(name)
                if src is None:
                    continue
                self.create_indexes(coll, other.index_specs(name))
                docs = src.find()
                coll.insert_many(docs)
                if docs:
                    self.seqs(coll, int(docs[-1][SEQ]) + 1)

    def close(self) -> None:
        """Close the store."""
        self.store.close()


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as users see it: hidden fields removed, tuples restored."""
    doc.pop(SEQ, None)
    paths = doc.pop(TUP, None)
    if paths:
        restore_tuples(doc, paths)
    return doc


_registry_lock = threading.Lock()
_registry: dict[str, Backend] = {}


def acquire(directory: str, durability: str) -> Backend:
    """The shared backend of the engine directory ``directory`` (opened if needed)."""
    key = os.path.realpath(directory)
    with _registry_lock:
        backend = _registry.get(key)
        if backend is None or backend.store.closed:
            backend = Backend(shoal.open(directory, durability=durability))
            _registry[key] = backend
        backend.users += 1
        return backend


def release(backend: Backend) -> None:
    """Give back a backend from :func:`acquire`; the last user closes it."""
    with _registry_lock:
        backend.users -= 1
        if backend.users > 0:
            return
        key = os.path.realpath(backend.store.path) if not backend.store.closed else None
        if key is not None and _registry.get(key) is backend:
            del _registry[key]
    if not backend.store.closed:
        backend.close()
