"""Environment transactions (0.7), their per-database views, legacy transactions.

Isolation comes from shoal's optimistic transactions: a snapshot taken at
``begin()`` plus the transaction's own writes, and a conflict (reported as
"rolled back") when a key the transaction read was changed by any commit
after it began. shoal lets blind writes to the same key both commit; Sophia
does not, so :class:`ConflictTracker` adds its write-write rule on top:

* a younger transaction committing a key that an older, still active one also
  wrote gets "waiting for a concurrent transaction" and stays retryable;
* a transaction committing a key that a transaction committed after it began
  gets "rolled back" and is finished.

Plain (non-transactional) writes take no part in the write-write rule: a later
transaction commit simply overwrites them, as in Sophia.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any, Iterable, Optional

import shoal

from ._errors import (
    NOT_ACTIVE,
    TX_GETITEM,
    TX_INVALIDATED,
    TX_NOT_ACTIVE,
    TX_NOT_OPEN,
    TX_ROLLED_BACK,
    TX_STARTED,
    TX_WAITING,
    SophiaError,
    engine_error,
)
from ._reader import Reader

if TYPE_CHECKING:
    from ._env import Sophia

_MISSING = object()


class ConflictTracker:
    """Sophia's write-write conflict rule for one environment (see the module doc)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clock = 0
        # weak: a transaction dropped without commit or rollback takes no part
        self.active: weakref.WeakKeyDictionary[Transaction, int] = weakref.WeakKeyDictionary()
        self.log: list[tuple[int, frozenset[Any]]] = []
        self.commits = 0
        self.rollbacks = 0
        self.conflicts = 0

    def begin(self, tx: Transaction) -> int:
        """Register ``tx``; returns its start sequence number."""
        with self.lock:
            self.clock += 1
            self.active[tx] = self.clock
            return self.clock

    def end(self, tx: Transaction, *, rolled_back: bool = False) -> None:
        """Forget ``tx`` (committed or rolled back)."""
        with self.lock:
            self._end(tx, rolled_back)

    def _end(self, tx: Transaction, rolled_back: bool) -> None:
        if self.active.pop(tx, None) is not None and rolled_back:
            self.rollbacks += 1
        oldest = min(list(self.active.values()), default=self.clock)
        if self.log and self.log[0][0] <= oldest:
            self.log = [entry for entry in self.log if entry[0] > oldest]

    def commit(self, tx: Transaction, native: shoal.Transaction) -> None:
        """Check the write-write rule, then commit ``native``."""
        with self.lock:
            writes = tx._writes
            start = self.active.get(tx, 0)
            if writes:
                for other, seq in list(self.active.items()):
                    if seq < start and other is not tx and not other._writes.isdisjoint(writes):
                        self.conflicts += 1
                        raise SophiaError(TX_WAITING)
                for seq, written in self.log:
                    if seq > start and not written.isdisjoint(writes):
                        native.rollback()
                        self.conflicts += 1
                        self._end(tx, True)
                        raise SophiaError(TX_ROLLED_BACK)
            try:
                native.commit()
            except shoal.ConflictError:
                self.conflicts += 1
                self._end(tx, True)
                raise SophiaError(TX_ROLLED_BACK) from None
            except shoal.Error as exc:
                self._end(tx, True)
                raise engine_error(exc) from None
            if writes:
                self.clock += 1
                self.log.append((self.clock, frozenset(writes)))
            self.commits += 1
            self._end(tx, False)


class Transaction:
    """A transaction across the databases of one environment (``env.transaction()``).

    ``begin()`` (or ``with``) starts it; ``txn[db]`` is a
    :class:`DatabaseTransaction`; ``commit(begin=True)`` and
    ``rollback(begin=True)`` finish it and by default begin afresh, so a
    ``with`` block may continue. Leaving a ``with`` block commits (rolling
    back if that fails) or, on an exception, rolls back.
    """

    def __init__(self, env: Sophia) -> None:
        self._env = env
        self._tx: Optional[shoal.Transaction] = None
        self._gen = -1
        self._writes: set[Any] = set()

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    @property
    def active(self) -> bool:
        """Whether the transaction has begun and not finished."""
        return self._tx is not None and self._gen == self._env._gen

    def _live(self, message: str) -> shoal.Transaction:
        """The native transaction, or ``SophiaError(message)`` when inactive."""
        tx = self._tx
        if tx is None:
            raise SophiaError(message)
        if self._gen != self._env._gen:
            self._drop()
            raise SophiaError(TX_INVALIDATED)
        return tx

    def _drop(self) -> None:
        self._tx = None
        self._writes = set()
        self._on_end()

    def _on_begin(self) -> None:
        """Hook for subclasses."""

    def _on_end(self) -> None:
        """Hook for subclasses."""

    def begin(self) -> Transaction:
        """Start the transaction; returns it."""
        if self.active:
            raise SophiaError(TX_STARTED)
        store = self._env._require_open()
        try:
            self._tx = store.transaction()
        except shoal.Error as exc:
            raise engine_error(exc) from None
        self._gen = self._env._gen
        self._writes = set()
        self._env._tracker.begin(self)
        self._on_begin()
        return self

    def __getitem__(self, db: Any) -> DatabaseTransaction:
        if not getattr(db, "_is_database", False):
            raise SophiaError(TX_GETITEM)
        return DatabaseTransaction(self, db)

    def commit(self, begin: bool = True) -> None:
        """Commit every write atomically; then begin again if ``begin``."""
        tx = self._live(TX_NOT_OPEN.format("commit"))
        try:
            self._env._tracker.commit(self, tx)
        except SophiaError as exc:
            if exc.args != (TX_WAITING,):
                self._drop()
            raise
        self._drop()
        if begin:
            self.begin()

    def rollback(self, begin: bool = True) -> None:
        """Discard every write; then begin again if ``begin``."""
        tx = self._live(TX_NOT_OPEN.format("rollback"))
        tx.rollback()
        self._env._tracker.end(self, rolled_back=True)
        self._drop()
        if begin:
            self.begin()

    def __enter__(self) -> Transaction:
        self.begin()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._tx is None:
            return
        if self._gen != self._env._gen:
            self._drop()
            if exc_type is None:
                raise SophiaError(TX_INVALIDATED)
            return
        if exc_type is not None:
            self.rollback(begin=False)
            return
        try:
            self.commit(begin=False)
        except BaseException:
            if self._tx is not None:
                self.rollback(begin=False)
            raise


class DatabaseTransaction:
    """A database seen through a :class:`Transaction` (``txn[db]``).

    ``get``/``set``/``delete``/``exists``/``[]``/``in``/``update``/``multi_*``
    go through the transaction (reads see its own writes). As in Sophia,
    ``cursor()``, iteration, ``keys()``/``values()``/``items()`` and slices
    read the committed state; every other attribute is the database's.
    """

    def __init__(self, txn: Transaction, db: Any) -> None:
        self._txn = txn
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def _native(self) -> shoal.Transaction:
        return self._txn._live(TX_NOT_ACTIVE)

    def set(self, key: Any, value: Any) -> None:
        """Buffer ``key = value`` in the transaction."""
        txn = self._txn
        tx = txn._tx
        if tx is None or txn._gen != txn._env._gen:
            tx = txn._live(TX_NOT_ACTIVE)
        db = self._db
        nk = key if type(key) is db._kt else db._ek(key)
        if type(value) is not db._vt or len(value) > db._vg:
            value = db._ev(value)
        try:
            tx.put(db._src, nk, value)
        except shoal.Error as exc:
            raise engine_error(exc) from None
        txn._writes.add((db._space, nk))

    __setitem__ = set

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key`` as this transaction sees it, or ``default``."""
        txn = self._txn
        tx = txn._tx
        if tx is None or txn._gen != txn._env._gen:
            tx = txn._live(TX_NOT_ACTIVE)
        db = self._db
        try:
            value = tx.get(db._src, db._ek(key), _MISSING)
        except shoal.Error as exc:
            raise engine_error(exc) from None
        if value is _MISSING:
            return default
        dv = db._dv
        return value if dv is None else dv(value)

    def __getitem__(self, key: Any) -> Any:
        if type(key) is slice:
            return self._db.get_range(key.start, key.stop, key.step)
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(self._db._missing(key))
        return value

    def exists(self, key: Any) -> bool:
        """Whether ``key`` exists as this transaction sees it."""
        return self.get(key, _MISSING) is not _MISSING

    __contains__ = exists

    def delete(self, key: Any) -> None:
        """Buffer the deletion of ``key`` (no error when missing)."""
        tx = self._native()
        db = self._db
        nk = db._ek(key)
        try:
            tx.delete(db._src, nk)
        except KeyError:
            pass
        except shoal.Error as exc:
            raise engine_error(exc) from None
        self._txn._writes.add((db._space, nk))

    __delitem__ = delete

    def update(self, _data: Optional[dict[Any, Any]] = None, **kwargs: Any) -> None:
        """Buffer every pair (joins the enclosing transaction)."""
        tx = self._native()
        db = self._db
        pairs = db._pairs(_data, kwargs)
        writes = self._txn._writes
        src, space = db._src, db._space
        try:
            for nk, nv in pairs:
                tx.put(src, nk, nv)
                writes.add((space, nk))
        except shoal.Error as exc:
            raise engine_error(exc) from None

    multi_set = update

    def multi_get(self, keys: Iterable[Any]) -> list[Any]:
        """Values of ``keys`` (``None`` for missing) as this transaction sees them."""
        return [self.get(k) for k in keys]

    def multi_get_dict(self, keys: Iterable[Any]) -> dict[Any, Any]:
        """``{key: value}`` for the ``keys`` that exist."""
        out = {}
        for k in keys:
            value = self.get(k, _MISSING)
            if value is not _MISSING:
                out[k] = value
        return out

    def multi_delete(self, keys: Iterable[Any]) -> None:
        """Buffer the deletion of every key."""
        for k in keys:
            self.delete(k)

    def __iter__(self) -> Any:
        return iter(self._db)

    def __len__(self) -> int:
        return len(self._db)


class LegacyTransaction(Reader, Transaction):
    """Legacy (0.1.x) transaction bound to one database (``db.transaction()``).

    Begins on ``with`` entry or :meth:`open`. ``txn[key]``, ``txn[key] = v``,
    ``del txn[key]`` (no error if missing), ``in``, ``update()``, and, unlike
    the original, iteration, ``len()``, slices and ``cursor()``, all seeing the
    transaction's own writes.
    """

    def __init__(self, db: Any) -> None:
        Transaction.__init__(self, db._env)
        self._db = db
        self._legacy = db._legacy
        self._set_layout(db._layout)
        self._src: Any = NOT_ACTIVE

    __hash__ = Transaction.__hash__
    __eq__ = Transaction.__eq__

    def open(self) -> LegacyTransaction:
        """Begin the transaction (legacy name)."""
        self.begin()
        return self

    def _on_begin(self) -> None:
        assert self._tx is not None
        self._set_layout(self._db._layout)
        self._src = shoal.TxKV(self._tx, self._db._src)

    def _on_end(self) -> None:
        self._src = NOT_ACTIVE

    def __setitem__(self, key: Any, value: Any) -> None:
        DatabaseTransaction(self, self._db).set(key, value)

    def __delitem__(self, key: Any) -> None:
        DatabaseTransaction(self, self._db).delete(key)

    def update(self, _data: Optional[dict[Any, Any]] = None, **kwargs: Any) -> None:
        """Buffer every pair in this transaction."""
        DatabaseTransaction(self, self._db).update(_data, **kwargs)

    def __enter__(self) -> LegacyTransaction:
        self.begin()
        return self
