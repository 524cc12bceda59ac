"""Exceptions of :mod:`shoal.dynafile` (spec section 4).

Every error the face raises for a table-level reason is a
:class:`DynafileError`; bad input additionally subclasses the matching
builtin (``ValueError``, ``TypeError``, ``KeyError``) so code written for the
original keeps catching what it caught.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class DynafileError(Exception):
    """Base class of the face's errors.

    :attr:`code` is the matching DynamoDB error code and :attr:`response`
    the botocore ``ClientError``-shaped dict, for code written against boto3.
    """

    code = "DynafileError"
    """The DynamoDB error code."""

    @property
    def response(self) -> Dict[str, Any]:
        """``{"Error": {"Code": ..., "Message": ...}}`` as botocore reports errors."""
        return {"Error": {"Code": self.code, "Message": str(self)}}


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

    @property
    def response(self) -> Dict[str, Any]:
        """The botocore-shaped error, with ``CancellationReasons`` (one per action)."""
        reasons = [
            {"Code": "None"}
            if r is None
            else {
                "Code": getattr(r, "code", type(r).__name__).replace("Exception", ""),
                "Message": str(r),
            }
            for r in self.reasons
        ]
        return {
            "Error": {"Code": self.code, "Message": str(self)},
            "CancellationReasons": reasons,
        }


class IndexNotFound(DynafileError, KeyError):
    """No GSI or LSI of that name exists (text: ``Index does not exist``)."""

    code = "ValidationException"

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Index does not exist"


class ValidationError(DynafileError, ValueError):
    """Bad input: a missing key attribute, a key change, an item twice in a transaction..."""

    code = "ValidationException"


class FilterSyntaxError(DynafileError, ValueError):
    """A filter string that does not parse completely; names the position.

    :attr:`text` is the filter, :attr:`position` the 0-based offset of the
    first character that could not be read.
    """

    def __init__(self, message: str, text: str = "", position: int = 0):
        super().__init__(message)
        self.text = text
        self.position = position


class ExpressionError(DynafileError, ValueError):
    """A DynamoDB expression (condition, update, projection) that is not valid."""

    code = "ValidationException"
    """The DynamoDB error code."""


__all__ = [
    "ConditionalCheckFailed",
    "DynafileError",
    "ExpressionError",
    "FilterSyntaxError",
    "IndexNotFound",
    "TransactionCanceled",
    "ValidationError",
]
