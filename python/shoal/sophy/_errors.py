"""Exceptions of the sophy face and the exact messages the original raises.

``SophiaError`` is the base of every error the face raises for an engine
failure; engine errors from shoal are translated by :func:`engine_error`.
Legacy (0.1.x) code that catches ``Exception`` keeps working, since
``SophiaError`` subclasses it.
"""

from __future__ import annotations

import shoal


class SophiaError(Exception):
    """An error reported by the storage engine (or a misuse of the environment)."""


class CannotCloseException(Exception):
    """Legacy (0.1.x): a database cannot be closed while its environment is open."""


ENV_CLOSED = "Sophia environment is closed."
TX_ROLLED_BACK = "transaction was rolled back by another concurrent transaction."
TX_WAITING = "transaction is not finished, waiting for a concurrent transaction to finish."
TX_STARTED = "This transaction has already been started."
TX_NOT_OPEN = "Transaction is not currently open. Cannot {}."
TX_INVALIDATED = "Transaction was invalidated when its environment was closed."
TX_NOT_ACTIVE = "Transaction is not active."
TX_GETITEM = "Transaction __getitem__ value must be a Database instance."
CURSOR_INVALIDATED = "Cursor was invalidated when its environment was closed."
VIEW_READ_ONLY = "Views are read-only."


def engine_error(exc: shoal.Error) -> SophiaError:
    """Translate a shoal engine error into a :class:`SophiaError` (message kept)."""
    if isinstance(exc, shoal.ConflictError):
        err = SophiaError(TX_ROLLED_BACK)
    else:
        err = SophiaError(str(exc))
    err.__cause__ = exc
    return err


class Unavailable:
    """Stands in for a native object that cannot be used now.

    Every use raises ``SophiaError(message)``, so the hot paths that read
    ``self._src`` need no "is open" check of their own.
    """

    __slots__ = ("_message",)

    def __init__(self, message: str) -> None:
        object.__setattr__(self, "_message", message)

    def _fail(self) -> SophiaError:
        return SophiaError(object.__getattribute__(self, "_message"))

    def __getattr__(self, name: str) -> object:
        raise self._fail()

    def __getitem__(self, key: object) -> object:
        raise self._fail()

    def __setitem__(self, key: object, value: object) -> None:
        raise self._fail()

    def __delitem__(self, key: object) -> None:
        raise self._fail()

    def __contains__(self, key: object) -> bool:
        raise self._fail()

    def __len__(self) -> int:
        raise self._fail()


CLOSED = Unavailable(ENV_CLOSED)
"""The ``_src`` of a database whose environment is closed."""
NOT_ACTIVE = Unavailable(TX_NOT_ACTIVE)
"""The ``_src`` of a legacy transaction that is not active."""
