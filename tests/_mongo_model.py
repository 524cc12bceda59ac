"""A reference evaluator of MongoDB filter documents, in plain Python.

It is the oracle of ``test_query_model.py`` (and a cross-check in
``test_query.py``): ``model_match(doc, filter)`` says whether a document
matches a filter with MongoDB's semantics as the shoal contract states them:

- implicit equality ``{"a": v}``: the field equals ``v``, or it is a list with
  an element equal to ``v`` (one level), or ``v`` is a list equal to the whole
  field; ``{"a": None}`` also matches a missing field;
- equality is MongoDB's: numbers compare numerically across int and float,
  bool is its own type, dicts compare field-order-sensitively, lists
  elementwise;
- comparisons only within a type class ("type bracketing"); a list field
  matches when the field or one of its elements satisfies the operator;
  several operators on one field each apply independently;
- dotted paths go into sub-dicts, through lists of dicts, and numeric
  components index into lists.

Where MongoDB's behaviour is not pinned down by the contract, the model raises
:class:`Ambiguous` (or gives different answers under the two
``empty_as_missing`` policies, see :func:`resolve`); the property test leaves
such documents out of the comparison instead of guessing.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from typing import Any

from _util import model_key


class Ambiguous(Exception):
    """The contract does not decide whether this document matches."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}

TYPE_ALIASES = (
    "null",
    "bool",
    "int",
    "long",
    "double",
    "number",
    "string",
    "object",
    "array",
    "binData",
    "date",
)


# --- values ---------------------------------------------------------------


def is_number(v: Any) -> bool:
    """int, float or Decimal, but not bool (bool is its own BSON type)."""
    return isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool)


def is_nan(v: Any) -> bool:
    """A float or Decimal NaN (quiet or signalling)."""
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, decimal.Decimal) and v.is_nan()


def type_class(v: Any) -> str | None:
    """The comparison bracket of a value (None for lists and dicts)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "bytes"
    if isinstance(v, datetime.datetime):
        return "date"
    return None


def mongo_eq(x: Any, v: Any) -> bool:
    """MongoDB equality of two stored values."""
    if x is MISSING or v is MISSING:
        return False
    if x is None or v is None:
        return x is None and v is None
    if isinstance(x, bool) or isinstance(v, bool):
        return isinstance(x, bool) and isinstance(v, bool) and x == v
    if is_number(x) or is_number(v):
        if not (is_number(x) and is_number(v)):
            return False
        if is_nan(x) or is_nan(v):
            return is_nan(x) and is_nan(v)  # MongoDB: NaN equals NaN
        return bool(x == v)  # Python compares int, float and Decimal exactly
    if isinstance(x, list) or isinstance(v, list):
        return (
            isinstance(x, list)
            and isinstance(v, list)
            and len(x) == len(v)
            and all(mongo_eq(a, b) for a, b in zip(x, v))
        )
    if isinstance(x, dict) or isinstance(v, dict):
        return (
            isinstance(x, dict)
            and isinstance(v, dict)
            and list(x) == list(v)
            and all(mongo_eq(x[k], v[k]) for k in x)
        )
    if type(x) is not type(v):
        return False
    if isinstance(x, datetime.datetime) and (x.tzinfo is None) != (v.tzinfo is None):
        raise Ambiguous("naive vs aware datetime")
    return bool(x == v)


def _compare(x: Any, v: Any, op: str) -> bool:
    """``x op v`` for two values of the same type class."""
    if isinstance(x, bytes) and len(x) != len(v):
        # MongoDB orders BinData by length first; the contract only says
        # "bytes with bytes".
        raise Ambiguous("bytes of different lengths compared")
    if isinstance(x, datetime.datetime) and (x.tzinfo is None) != (v.tzinfo is None):
        raise Ambiguous("naive vs aware datetime")
    if is_nan(x) or is_nan(v):
        # MongoDB: NaN only compares equal to NaN; never less or greater.
        return is_nan(x) and is_nan(v) and op in ("$gte", "$lte")
    if op == "$gt":
        return bool(x > v)
    if op == "$gte":
        return bool(x >= v)
    if op == "$lt":
        return bool(x < v)
    return bool(x <= v)


def c_mod(a: int, d: int) -> int:
    """``a % d`` with the sign of the dividend (C, Rust and MongoDB)."""
    r = abs(a) % abs(d)
    return -r if a < 0 else r


def _mod(x: Any, d: int, r: int) -> bool:
    """``$mod`` on one value: ints exactly (any size), floats truncated."""
    if isinstance(x, decimal.Decimal):
        raise Ambiguous("$mod on a Decimal")
    if not is_number(x) or not math.isfinite(x):
        return False
    if isinstance(x, float) and not -(2.0**63) <= x < 2.0**63:
        raise Ambiguous("$mod on a float beyond 64-bit ints")
    return c_mod(int(x), d) == r


def has_type(x: Any, alias: str) -> bool:
    """Whether one (non-list-expanded) value has the ``$type`` alias."""
    if x is MISSING:
        return False
    if alias == "null":
        return x is None
    if alias == "bool":
        return isinstance(x, bool)
    if alias in ("int", "long"):
        return isinstance(x, int) and not isinstance(x, bool)
    if alias == "double":
        return isinstance(x, float)
    if alias == "number":
        return is_number(x)
    if alias == "string":
        return isinstance(x, str)
    if alias == "object":
        return isinstance(x, dict)
    if alias == "array":
        return isinstance(x, list)
    if alias == "binData":
        return isinstance(x, (bytes, uuid.UUID))
    if alias == "date":
        return isinstance(x, datetime.datetime)
    raise ValueError(f"unknown $type alias {alias!r}")


# --- paths ----------------------------------------------------------------


def resolve(value: Any, parts: list[str], empty_as_missing: bool = True) -> list[Any]:
    """The values found at a dotted path (``MISSING`` where a field is absent).

    Lists met before the last component are traversed: a numeric component
    indexes into the list, and every dict element is searched for the
    component. When such a traversal finds nothing at all (a list of
    scalars, an empty list, an index out of range), MongoDB versions differ
    on whether that counts as one "missing" value (``empty_as_missing``) or
    as no value; callers compare both policies.
    """
    if not parts:
        return [value]
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        if head in value:
            return resolve(value[head], rest, empty_as_missing)
        return [MISSING]
    if isinstance(value, list):
        out: list[Any] = []
        numeric = head.isdigit()
        if numeric:
            if any(isinstance(el, dict) for el in value):
                raise Ambiguous("numeric path component on a list holding dicts")
            i = int(head)
            if i < len(value):
                out += resolve(value[i], rest, empty_as_missing)
        else:
            if any(isinstance(el, list) for el in value):
                raise Ambiguous("dotted path through a list of lists")
            for el in value:
                if isinstance(el, dict):
                    out += resolve(el, parts, empty_as_missing)
        if not out and empty_as_missing:
            out = [MISSING]
        return out
    return [MISSING]


def expand(values: list[Any]) -> list[Any]:
    """The values, each list followed by its elements (one level)."""
    out = []
    for v in values:
        out.append(v)
        if isinstance(v, list):
            out.extend(v)
    return out


# --- operators ------------------------------------------------------------


def is_operator_dict(v: Any) -> bool:
    """A dict of ``$operators`` (as opposed to a literal sub-document)."""
    return isinstance(v, dict) and bool(v) and all(k.startswith("$") for k in v)


def _regex(pattern: Any, options: str = "") -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        return pattern
    flags = 0
    for ch in options:
        flags |= _REGEX_FLAGS[ch]
    return re.compile(pattern, flags)


def _eq(vals: list[Any], exp: list[Any], v: Any) -> bool:
    if v is None:
        return any(x is MISSING or x is None for x in exp)
    return any(mongo_eq(x, v) for x in exp)


def _ops_match(vals: list[Any], exp: list[Any], ops: dict[str, Any], policy: bool) -> bool:
    """All operators of ``ops`` hold for a field whose values are ``vals``
    (``exp``: the same with list elements expanded)."""
    for op, arg in ops.items():
        if op == "$options":
            continue
        if not _op_match(vals, exp, op, arg, ops, policy):
            return False
    return True


def _op_match(
    vals: list[Any], exp: list[Any], op: str, arg: Any, ops: dict[str, Any], policy: bool
) -> bool:
    if op == "$eq":
        return _eq(vals, exp, arg)
    if op == "$ne":
        return not _eq(vals, exp, arg)
    if op == "$in":
        return any(_eq(vals, exp, v) for v in arg)
    if op == "$nin":
        return not any(_eq(vals, exp, v) for v in arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if arg is None:
            return op in ("$gte", "$lte") and _eq(vals, exp, None)
        cls = type_class(arg)
        if cls is None:
            raise Ambiguous("comparison with a list or dict operand")
        return any(x is not MISSING and type_class(x) == cls and _compare(x, arg, op) for x in exp)
    if op == "$exists":
        return any(x is not MISSING for x in vals) == arg
    if op == "$regex":
        rx = _regex(arg, ops.get("$options", ""))
        return any(isinstance(x, str) and rx.search(x) is not None for x in exp)
    if op == "$size":
        return any(isinstance(x, list) and len(x) == arg for x in vals)
    if op == "$all":
        return bool(arg) and all(_eq(vals, exp, v) for v in arg)
    if op == "$elemMatch":
        return any(
            isinstance(x, list) and any(_elem_match(e, arg, policy) for e in x) for x in vals
        )
    if op == "$mod":
        d, r = arg
        return any(_mod(x, d, r) for x in exp)
    if op == "$type":
        if arg == "array":
            return any(isinstance(x, list) for x in vals)
        return any(has_type(x, arg) for x in exp)
    if op == "$not":
        if isinstance(arg, re.Pattern):
            return not _op_match(vals, exp, "$regex", arg, {}, policy)
        return not _ops_match(vals, exp, arg, policy)
    raise ValueError(f"unknown operator {op}")


def _elem_match(e: Any, spec: dict[str, Any], policy: bool) -> bool:
    """Whether one list element satisfies an ``$elemMatch`` spec."""
    if is_operator_dict(spec) and not any(k in ("$and", "$or", "$nor") for k in spec):
        # Operators apply to the element itself, without expanding it.
        return _ops_match([e], [e], spec, policy)
    if isinstance(e, list):
        raise Ambiguous("document $elemMatch over a list element that is a list")
    return isinstance(e, dict) and _match(e, spec, policy)


def _field_match(doc: dict[str, Any], path: str, cond: Any, policy: bool) -> bool:
    vals = resolve(doc, path.split("."), policy)
    exp = expand(vals)
    if isinstance(cond, re.Pattern):
        return _op_match(vals, exp, "$regex", cond, {}, policy)
    if is_operator_dict(cond):
        return _ops_match(vals, exp, cond, policy)
    return _eq(vals, exp, cond)


def _match(doc: dict[str, Any], flt: dict[str, Any], policy: bool) -> bool:
    for k, v in flt.items():
        if k == "$and":
            ok = all(_match(doc, f, policy) for f in v)
        elif k == "$or":
            ok = any(_match(doc, f, policy) for f in v)
        elif k == "$nor":
            ok = not any(_match(doc, f, policy) for f in v)
        elif k.startswith("$"):
            raise ValueError(f"unknown top-level operator {k}")
        else:
            ok = _field_match(doc, k, v, policy)
        if not ok:
            return False
    return True


def _lists(v: Any) -> Any:
    """A filter with its tuples read as lists (as shoal encodes them)."""
    if isinstance(v, (list, tuple)):
        return [_lists(x) for x in v]
    if isinstance(v, dict):
        return {k: _lists(x) for k, x in v.items()}
    return v


def model_match(doc: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    """Whether ``doc`` matches ``flt``; raises :class:`Ambiguous` when the
    contract leaves the answer open."""
    if flt is None:
        return True
    flt = _lists(flt)
    a = _match(doc, flt, True)
    b = _match(doc, flt, False)
    if a != b:
        raise Ambiguous("depends on whether an empty list traversal counts as missing")
    return a


def is_ambiguous(doc: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    """Whether :func:`model_match` cannot decide ``doc``."""
    try:
        model_match(doc, flt)
    except Ambiguous:
        return True
    return False


def model_find(
    docs: list[dict[str, Any]], flt: dict[str, Any] | None, key: tuple[str, ...] = ("_id",)
) -> list[dict[str, Any]]:
    """The matching documents in primary-key order (ambiguous ones raise)."""

    def pk(d: dict[str, Any]) -> Any:
        return model_key(d[key[0]] if len(key) == 1 else tuple(d[k] for k in key))

    return [d for d in sorted(docs, key=pk) if model_match(d, flt)]
