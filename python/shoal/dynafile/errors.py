"""Exceptions of :mod:`shoal.dynafile` (spec section 4).

Every error the face raises for a table-level reason is a
:class:`DynafileError`; bad input additionally subclasses the matching
builtin (``ValueError``, ``TypeError``, ``KeyError``) so code written for the
original keeps catching what it caught.
"""

from __future__ import annotations

from typing import Any, List, Optional


class DynafileError(Exception):
    """Base class of the face's errors."""


class ConditionalCheckFailed(DynafileError):
    """A ``condition`` was false: nothing was written and no event was emitted."""

    code = "ConditionalCheckFailedException"
    """The DynamoDB error code, for code that inspects it."""


class TransactionCanceled(DynafileError):
    """A transaction applied nothing because at least one of its actions failed.

    :attr:`reasons` has one entry per action, in order: ``None`` for an action
    that would have succeeded, else the exception it raised.
    """

    code = "TransactionCanceledException"
    """The DynamoDB error code."""

    def __init__(self, message: str, reasons: Optional[List[Optional[BaseException]]] = None):
        super().__init__(message)
        self.reasons: List[Optional[BaseException]] = list(reasons or [])


class IndexNotFound(DynafileError, KeyError):
    """No GSI or LSI of that name exists (text: ``Index does not exist``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Index does not exist"


class ValidationError(DynafileError, ValueError):
    """Bad input: a missing key attribute, a key change, an item twice in a transaction..."""


class FilterSyntaxError(DynafileError, ValueError):
    """A filter string that does not parse completely; names the position.

    :attr:`text` is the filter, :attr:`position` the 0-based offset of the
    first character that could not be read.
    """

    def __init__(self, message: str, text: str = "", position: int = 0):
        super().__init__(message)
        self.text = text
        self.position = position


def _reason(exc: Any) -> str:
    """A short description of ``exc`` for messages."""
    return f"{type(exc).__name__}: {exc}"


__all__ = [
    "ConditionalCheckFailed",
    "DynafileError",
    "FilterSyntaxError",
    "IndexNotFound",
    "TransactionCanceled",
    "ValidationError",
]
