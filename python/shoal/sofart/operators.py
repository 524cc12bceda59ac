"""The sofart query language, evaluated in Python: the reference semantics.

The engine evaluates queries (see :mod:`shoal.sofart._translate`); this module
states what a query *means*, exactly as the original's ``find`` and
``operators`` modules do, minus their defects. It serves the conditions the
engine cannot express exactly (literal dotted field names, ``$all``,
``$mod``, Python regexes beyond the shared syntax, dict equality, ...) on the
candidates the engine returns, and it is the model the tests check against.

Rules (spec section 1.5, defects of section 4 fixed):

- ``{field: {"$op": x, ...}}`` with at least one known operator (``$gt $gte
  $lt $lte $all $exists $mod $ne $in $nin``) is an operator condition on
  ``v = doc.get(field)`` (``None`` = missing). Unknown keys are ignored. All
  operators must pass (the original let a passing ``$exists`` skip the rest).
  ``$exists: x`` passes when ``v`` is present unless ``x == False`` and when it
  is absent unless ``x == True``; every other operator fails on an absent ``v``.
- A compiled pattern matches a present string with ``pattern.match``.
- Anything else is whole-value Python equality with a present field.
- Comparisons between incompatible types (``'a' > 1``) do not match instead of
  raising; ``$mod`` without two elements raises :class:`QueryError`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .. import _regex
from .exceptions import QueryError

__all__ = ["OPERATORS", "computequery", "isadvancedquery", "matches"]

OPERATORS = frozenset({"gt", "lt", "gte", "lte", "all", "exists", "mod", "ne", "in", "nin"})
"""The operator names (without ``$``) the query language knows."""

_PATTERN = re.Pattern
_FAILED = (TypeError, ValueError, ArithmeticError, AttributeError)


def isadvancedquery(value: Any, query: Any) -> bool:
    """Whether ``query`` is an operator condition (a dict with a known ``$op`` key)."""
    del value  # kept for the original's signature
    if not isinstance(query, dict):
        return False
    return any(isinstance(k, str) and k[:1] == "$" and k[1:] in OPERATORS for k in query)


def check_mod(arg: Any) -> tuple[Any, Any]:
    """The ``(divisor, remainder)`` of a ``$mod`` argument, or :class:`QueryError`."""
    try:
        if len(arg) == 2:
            return arg[0], arg[1]
    except TypeError:
        pass
    raise QueryError("Modulo take a list of two elements")


def _op(name: str, v: Any, x: Any) -> bool:
    """One operator other than ``$exists`` on a present value ``v``."""
    if name == "gt":
        return bool(v > x)
    if name == "gte":
        return bool(v >= x)
    if name == "lt":
        return bool(v < x)
    if name == "lte":
        return bool(v <= x)
    if name == "ne":
        return not (x == v)
    if name == "all":
        return all(e in v for e in x)
    if name == "mod":
        d, r = check_mod(x)
        return bool(v % d == r)
    items = v if isinstance(v, list) else [v]
    found = any(i in x for i in items)
    return found if name == "in" else not found


def computequery(value: Any, query: dict[Any, Any]) -> bool:
    """Whether ``value`` (``None`` = missing) passes the operator condition ``query``."""
    for key, x in query.items():
        if not (isinstance(key, str) and key[:1] == "$" and key[1:] in OPERATORS):
            continue
        name = key[1:]
        if name == "exists":
            if value is not None:
                if x == False:  # noqa: E712 - the original's rule: False and 0 fail
                    return False
            elif x == True:  # noqa: E712 - True and 1 fail
                return False
            continue
        if value is None:
            return False
        if name == "mod":
            check_mod(x)
        try:
            if not _op(name, value, x):
                return False
        except QueryError:
            raise
        except _FAILED:
            return False
    return True


@functools.lru_cache(maxsize=256)
def _matcher(pattern: re.Pattern[Any]) -> _regex.Matcher:
    """``pattern`` matched in linear time where possible (compiled once)."""
    return _regex.compile(pattern)


def condition_matches(doc: dict[str, Any], field: Any, cond: Any) -> bool:
    """Whether ``doc`` passes one ``field: condition`` pair of a query."""
    if isadvancedquery(None, cond):
        return computequery(doc.get(field), cond)
    if field not in doc:
        return False
    v = doc[field]
    try:
        if isinstance(cond, _PATTERN):
            return _matcher(cond).match(v)
        return bool(v == cond)
    except _FAILED:
        return False


def matches(doc: dict[str, Any], spec: dict[Any, Any] | None) -> bool:
    """Whether ``doc`` matches the query ``spec`` (every pair must match)."""
    if not spec:
        return True
    return all(condition_matches(doc, f, c) for f, c in spec.items())
