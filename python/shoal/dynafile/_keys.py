"""Key attributes: validation, normalisation and partition hashing."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Mapping

import shoal

from .errors import ValidationError

_MISSING = object()


def _number(v: Decimal) -> Any:
    if not v.is_finite():
        raise ValidationError(f"a key attribute cannot be {v}")
    return int(v) if v == v.to_integral_value() else float(v)


def partition_key(value: Any, attribute: str) -> Any:
    """The partition key ``value`` checked: a str, int, float, bytes or Decimal (as a number)."""
    if value is _MISSING or value is None:
        raise ValidationError(f"the partition key attribute {attribute!r} is missing")
    if isinstance(value, bool):
        raise TypeError(f"partition key {attribute!r} cannot be a bool")
    if isinstance(value, (str, int, float, bytes)):
        return value
    if isinstance(value, Decimal):
        return _number(value)
    raise TypeError(
        f"partition key {attribute!r} must be a str, int, float, bytes or Decimal, "
        f"not {type(value).__name__}"
    )


def sort_key(value: Any, attribute: str) -> Any:
    """The sort key ``value`` checked: None, str, int, float, bytes, bool or Decimal."""
    if value is None or isinstance(value, (str, int, float, bytes)):
        return value
    if isinstance(value, Decimal):
        return _number(value)
    raise TypeError(
        f"sort key {attribute!r} must be None, a str, int, float, bytes, bool or Decimal, "
        f"not {type(value).__name__}"
    )


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else a ``TypeError`` naming ``what``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict, not {type(value).__name__}")
    return value


def partition_hash(pk: Any) -> int:
    """The partition's hash: sha256 of the UTF-8 text (str) or of shoal's key encoding."""
    data = pk.encode() if isinstance(pk, str) else shoal.encode_key(pk)
    return int(hashlib.sha256(data).hexdigest(), 16)


MISSING = _MISSING
