"""One engine per table directory, shared by every ``Dynafile`` of the process.

Layout of a table directory ``<path>``:

- ``meta.json``: the key attributes, TTL attribute and index definitions
  (the original's file, extended; rewritten atomically);
- ``_shoal/``: the shoal store (collection ``items`` keyed by
  ``(pk_attribute, sk_attribute)``, one index per GSI/LSI);
- ``_partitions/``: only in directories written by the original dynafile,
  imported once with ``allow_pickle=True`` (see :mod:`._migrate`).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Dict, Optional

import shoal

from .errors import DynafileError

COLLECTION = "items"
PARTITION_INDEX = "partition"
TTL_INDEX = "ttl"
_DIFFERENT = "PK or SK attribute different from existing data."

_lock = threading.Lock()
_open: Dict[str, Shared] = {}


class Shared:
    """The store, collection and metadata of one table directory."""

    def __init__(self, path: Path, store: shoal.Store, coll: shoal.Collection, meta: dict) -> None:
        self.path = path
        self.store = store
        self.coll = coll
        self.meta = meta
        self.users = 0
        self.lock = threading.RLock()
        """Serialises metadata changes (index creation, meta.json)."""

    def save_meta(self) -> None:
        """Write ``meta.json`` atomically (temporary file, fsync, rename)."""
        target = self.path / "meta.json"
        tmp = target.with_name(f".meta.json.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.meta, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)


def read_meta(path: Path) -> Optional[dict]:
    """``meta.json`` of ``path`` (``None`` if there is none)."""
    try:
        with open(path / "meta.json", encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DynafileError(f"cannot read {path / 'meta.json'}: {exc}") from exc
    if not isinstance(meta, dict):
        raise DynafileError(f"{path / 'meta.json'} does not hold an object")
    return meta


def _check(meta: dict, pk: Optional[str], sk: Optional[str]) -> None:
    if (pk is not None and pk != meta.get("pk_attribute")) or (
        sk is not None and sk != meta.get("sk_attribute")
    ):
        raise DynafileError(_DIFFERENT)


def _attribute(value: Any, what: str) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise TypeError(f"{what} must be a non-empty str, not {value!r}")


def acquire(
    path: Path,
    pk: Optional[str],
    sk: Optional[str],
    ttl: Any,
    durability: str,
    on_first_open: Any,
) -> Shared:
    """The shared engine of ``path``, opened (and created) if needed.

    ``on_first_open(shared)`` runs once, when this process opens the
    directory (the migration hook).
    """
    _attribute(pk, "pk_attribute")
    _attribute(sk, "sk_attribute")
    if ttl is not None and ttl is not False:
        _attribute(ttl, "ttl_attribute")
    path.mkdir(parents=True, exist_ok=True)
    real = os.path.realpath(path)
    with _lock:
        shared = _open.get(real)
        if shared is None:
            shared = _open_shared(Path(real), pk, sk, durability)
            try:
                on_first_open(shared)
            except BaseException:
                shared.store.close()
                raise
            _open[real] = shared
        else:
            _check(shared.meta, pk, sk)
        _set_ttl(shared, ttl)
        shared.users += 1
        return shared


def _open_shared(path: Path, pk: Optional[str], sk: Optional[str], durability: str) -> Shared:
    meta = read_meta(path)
    if meta is None:
        meta = {"pk_attribute": pk or "PK", "sk_attribute": sk or "SK"}
    else:
        meta.setdefault("pk_attribute", "PK")
        meta.setdefault("sk_attribute", "SK")
        _check(meta, pk, sk)
    meta.setdefault("gsi", {})
    meta.setdefault("lsi", {})
    meta.setdefault("ttl_attribute", None)
    try:
        store = shoal.open(path / "_shoal", durability=durability)
    except shoal.LockedError as exc:
        raise DynafileError(f"the table {str(path)!r} is open in another process") from exc
    try:
        coll = store.collection(COLLECTION, key=(meta["pk_attribute"], meta["sk_attribute"]))
        if any(ix["name"] == PARTITION_INDEX for ix in coll.indexes()):
            # Tables made before primary-key prefixes were planned carried
            # this index; a partition is now one range of keys.
            coll.drop_index(PARTITION_INDEX)
        shared = Shared(path, store, coll, meta)
        meta["engine"] = "shoal"
        shared.save_meta()
    except BaseException:
        store.close()
        raise
    return shared


def _set_ttl(shared: Shared, ttl: Any) -> None:
    """Apply a ``ttl_attribute`` argument: ``None`` keeps the stored one, ``False`` clears it."""
    if ttl is None:
        ttl = shared.meta.get("ttl_attribute")
    elif ttl is False:
        ttl = None
    coll = shared.coll
    if coll.ttl != ttl:
        coll.set_ttl(ttl)
    current = [ix for ix in coll.indexes() if ix["name"] == TTL_INDEX]
    if current and (ttl is None or current[0]["fields"] != [(ttl, 1)]):
        coll.drop_index(TTL_INDEX)
        current = []
    if ttl is not None and not current:
        # expire() finds the expired items through this index.
        try:
            coll.create_index([ttl], sparse=True, name=TTL_INDEX)
        except shoal.InvalidArgumentError:  # same fields as an existing index: it serves
            pass
    if shared.meta.get("ttl_attribute") != ttl:
        shared.meta["ttl_attribute"] = ttl
        shared.save_meta()


def release(shared: Shared) -> None:
    """Drop one user of ``shared``; the last one closes the store."""
    with _lock:
        shared.users -= 1
        if shared.users > 0:
            return
        real = str(shared.path)
        if _open.get(real) is shared:
            del _open[real]
    shared.store.close()
