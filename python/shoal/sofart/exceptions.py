"""Exception classes of the ``sofart`` face (the names the original exports).

``DatabaseError``, ``CollectionError`` and ``QueryError`` print their message
with quotes (``repr``), as the original does; ``CollectionException`` raised
with a message prints it plainly. :class:`DuplicateKeyError` (pymongo's name)
is a :class:`CollectionException` *and* a :class:`shoal.DuplicateKeyError`, so
``save()`` of a taken ``_id`` is caught by code written for either.
"""

from __future__ import annotations

from typing import Any

import shoal

__all__ = [
    "CollectionError",
    "CollectionException",
    "DatabaseError",
    "DatabaseException",
    "DuplicateKeyError",
    "QueryError",
    "QueryException",
]


class DatabaseException(RuntimeError):
    """Base class of database-level errors."""


class DatabaseError(DatabaseException):
    """A database-level failure; ``str()`` is the quoted message."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.parameter = value

    def __str__(self) -> str:
        return repr(self.parameter)


class CollectionException(RuntimeError):
    """A collection-level failure (raised with a plain message)."""


class CollectionError(CollectionException):
    """Collection error class of the original (never raised); ``str()`` is quoted."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.parameter = value

    def __str__(self) -> str:
        return repr(self.parameter)


class QueryException(RuntimeError):
    """Base class of query errors."""


class QueryError(QueryException):
    """A malformed query (e.g. ``$mod`` without two elements); ``str()`` is quoted."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.parameter = value

    def __str__(self) -> str:
        return repr(self.parameter)


class DuplicateKeyError(CollectionException, shoal.DuplicateKeyError):
    """The ``_id`` (or a unique index value) is already taken; nothing was written."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
