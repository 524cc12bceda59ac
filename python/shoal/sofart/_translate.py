"""Translates a sofart query into an engine filter (MongoDB dialect) plus a residue.

The engine evaluates MongoDB filters: typed comparisons, array fields matched
element by element, ``None`` matching missing fields, dotted paths. sofart
queries mean Python's rules instead (see :mod:`shoal.sofart.operators`):
whole-value equality, ``1 == True``, literal field names. Each
``field: condition`` pair therefore becomes

- an **exact** engine clause when the condition is expressible (equality with
  a scalar, ``$gt/$gte/$lt/$lte/$ne/$in/$nin/$exists`` on scalars, regexes in
  the syntax both engines share): the clause splits the document's value by
  kind (bools, arrays, the rest) so that Python's rules hold for each kind;
- or a **prefilter** (an engine clause that never misses a match) plus a
  **residual** check in Python on the candidates, for the rest (``$all``,
  ``$mod``, dict and list equality, literal dotted names, other regexes).

Equality and ranges on one field stay plain conjuncts, so the planner uses a
secondary index on that field (``create_index``) for them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .exceptions import QueryError
from .operators import OPERATORS, check_mod, computequery, condition_matches, isadvancedquery

SEQ = "\x00s"
"""Hidden primary-key field: the insertion sequence number (documents keep their order)."""
TUP = "\x00t"
"""Hidden field listing the paths of tuples (pickle serializer only)."""
HIDDEN = (SEQ, TUP)

_NONNULL = ["bool", "number", "string", "object", "array", "binData", "date", "regex"]
_PRESENT: dict[str, Any] = {"$type": _NONNULL}
_ABSENT: dict[str, Any] = {"$not": {"$type": _NONNULL}}
_NOT_ARRAY: dict[str, Any] = {"$not": {"$type": "array"}}
_RANGE = ("gt", "gte", "lt", "lte")
_RE_FLAGS = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s", re.VERBOSE: "x"}
# Patterns that mean the same in Python's re (match at the start) and the
# engine's linear-time regex: no `$`, no `(?...)`, only these escapes.
_SAFE_PATTERN = re.compile(r"(?:[^\\${}]|\{\d+(?:,\d*)?\}|\\[dDwWsS.\\\-\[\](){}*+?|^/ntr])*")
_UNSAFE_IN_CLASS = ("(?", "[[", "&&", "--", "~~")


class _Residual(Exception):
    """The condition cannot be expressed exactly: check it in Python."""


@dataclass(frozen=True)
class Query:
    """A sofart query compiled for the engine."""

    filter: dict[str, Any] | None
    """Engine filter that every match passes (``None``: everything)."""
    residual: tuple[tuple[Any, Any, bool], ...] = ()
    """``(field, condition, only_lists)`` pairs to check in Python on candidates."""
    never: bool = False
    """Nothing can match."""
    spec: dict[Any, Any] = field(default_factory=dict)
    """The normalised query (tuples as lists)."""

    def check(self, doc: dict[str, Any]) -> bool:
        """Whether a candidate from the engine passes the residual conditions."""
        for f, cond, only_lists in self.residual:
            if only_lists and not isinstance(doc.get(f), list):
                continue
            if not condition_matches(doc, f, cond):
                return False
        return True


def _kind(x: Any) -> str:
    """``num``, ``bool``, ``nan``, ``none``, ``str`` (also bytes, UUID) or ``other``."""
    t = type(x)
    if t is bool:
        return "bool"
    if t is int or t is float or t is Decimal:
        try:
            return "nan" if x != x else "num"  # noqa: PLR0124 - NaN test
        except (TypeError, ArithmeticError):  # signalling Decimal NaN
            return "nan"
    if t is str or t is bytes or t is uuid.UUID:
        return "str"
    if x is None:
        return "none"
    return "other"


_MAX_DEPTH = 100
"""Deepest query value: stored values nest at most 100 levels (the engine's limit)."""


def _listify(x: Any, depth: int = 0) -> Any:
    """``x`` with tuples turned into lists (stored documents hold lists).

    A value nested deeper than any stored one raises :class:`QueryError`
    (instead of a ``RecursionError`` from a query nested thousands deep).
    """
    if depth > _MAX_DEPTH and isinstance(x, (list, tuple, dict)):
        raise QueryError(f"query values may nest at most {_MAX_DEPTH} levels")
    if isinstance(x, (list, tuple)):
        return [_listify(i, depth + 1) for i in x]
    if type(x) is dict:
        return {k: _listify(v, depth + 1) for k, v in x.items()}
    return x


def _is_01(x: Any) -> bool:
    return bool(x == 0 or x == 1)


def equality(f: str, x: Any, flat: bool = False) -> dict[str, Any] | None:
    """The exact engine clause for ``doc[f] == x`` (``None``: never matches).

    ``flat``: no document holds a list at ``f`` (a non-multikey index says
    so), which makes the guard against list elements unnecessary.
    """
    k = _kind(x)
    na = {} if flat else _NOT_ARRAY
    if k == "none":
        return {f: {"$type": "null", **na}}
    if k == "nan":
        return None
    if k == "bool" or (k == "num" and _is_01(x)):
        return {f: {"$in": [int(x), bool(x)], **na}}
    if k in ("num", "str"):
        return {f: {"$eq": x, **na}} if na else {f: x}
    raise _Residual


def _prefilter_equality(f: str, x: Any) -> dict[str, Any] | None:
    if isinstance(x, list):
        return {f: {"$size": len(x)}}
    if type(x) is dict:
        return {f: {"$type": "object"}}
    return {f: {"$exists": True}}


def _members(x: Any) -> list[Any]:
    """Engine values for ``v in x`` with ``v`` a present non-bool, non-array value."""
    if not isinstance(x, (list, set, frozenset)):
        raise _Residual
    out: list[Any] = []
    for e in x:
        k = _kind(e)
        if k == "num" or k == "str":
            out.append(e)
        elif k == "bool":
            out.append(int(e))
        elif k in ("none", "nan") or isinstance(e, list):
            continue  # never equal to a present scalar
        else:
            raise _Residual
    return out


def _check_mods(cond: dict[Any, Any]) -> None:
    for k, x in cond.items():
        if k == "$mod":
            check_mod(x)


def _operators(
    f: str, cond: dict[Any, Any], flat: bool = False
) -> tuple[dict[str, Any] | None, bool]:
    """The engine clause for an operator condition (``None``: never).

    The flag says whether array values still need the Python check (the
    clause then lets every array through).
    """
    ops = [
        (k[1:], x)
        for k, x in cond.items()
        if isinstance(k, str) and k[:1] == "$" and k[1:] in OPERATORS
    ]
    others = [(n, x) for n, x in ops if n != "exists"]
    exists = [x for n, x in ops if n == "exists"]
    if not others:
        if any(x == True for x in exists):  # noqa: E712 - the original's rule
            return {f: dict(_PRESENT)}, False
        if any(x == False for x in exists):  # noqa: E712
            return {f: dict(_ABSENT)}, False
        return {}, False
    if any(x == False for x in exists):  # noqa: E712 - present and absent
        return None, False
    cops: dict[str, Any] = {}
    c_never = False
    arrays_possible = not flat
    negated = False
    na = {} if flat else _NOT_ARRAY
    for name, x in others:
        k = _kind(x)
        if name in _RANGE:
            if isinstance(x, list):
                raise _Residual
            arrays_possible = False
            if k == "num" or (k == "str" and type(x) is not uuid.UUID):
                cops["$" + name] = x
            elif k == "bool":
                cops["$" + name] = int(x)
            elif k in ("nan", "none"):
                c_never = True
            else:
                raise _Residual
        elif name == "ne":
            negated = True
            if k == "bool" or (k == "num" and _is_01(x)):
                cops.setdefault("$nin", []).extend([int(x), bool(x)])
            elif k in ("num", "str"):
                cops.setdefault("$nin", []).append(x)
            elif k in ("nan", "none") or isinstance(x, list):
                continue
            else:
                raise _Residual
        elif name == "in":
            cops["$in"] = _members(x)
            if not cops["$in"]:
                c_never = True
        elif name == "nin":
            negated = True
            cops.setdefault("$nin", []).extend(_members(x))
        else:  # all, mod
            raise _Residual
    branches: list[dict[str, Any]] = []
    if not c_never:
        if negated or not cops:
            # Negations would let bools, None and lists through: exclude them
            # (they have their own branches). Comparisons and $in are typed.
            guard: dict[str, Any] = {"$exists": True, "$not": {"$type": ["bool", "array", "null"]}}
        else:
            guard = na
        branches.append({f: {**cops, **guard}})
    bools = [b for b in (False, True) if computequery(b, cond)]
    if bools:
        branches.append({f: {"$in": bools, **na}})
    if arrays_possible:
        branches.append({f: {"$type": "array"}})
    if not branches:
        return None, False
    clause = branches[0] if len(branches) == 1 else {"$or": branches}
    return clause, arrays_possible


def _final_dollar(text: str, flags: int) -> tuple[str, str]:
    r"""Split an unescaped ``$`` off the end of ``text``: ``(body, engine equivalent)``.

    Python's ``$`` matches at the end or before a final newline; nothing of
    its alternative follows a final one, so the engine's ``\n?\z`` is the same
    test (in MULTILINE mode both engines' ``$`` agree). Without this, the
    common ``^...$`` patterns ran in Python's backtracking ``re`` (``^(a+)+$``
    took minutes on ``"a" * 32 + "!"``).
    """
    body = text[:-1]
    if not text.endswith("$") or (len(body) - len(body.rstrip("\\"))) % 2:
        return text, ""
    return body, "$" if flags & re.MULTILINE else r"(?:\n?\z)"


def _regex(f: str, pattern: re.Pattern[Any], flat: bool = False) -> dict[str, Any]:
    flags = pattern.flags & ~re.UNICODE
    if not isinstance(pattern.pattern, str):
        raise _Residual
    body, tail = _final_dollar(pattern.pattern, flags)
    if (
        flags & ~sum(_RE_FLAGS)
        or not _SAFE_PATTERN.fullmatch(body)
        or any(u in body for u in _UNSAFE_IN_CLASS)
    ):
        raise _Residual
    options = "".join(c for bit, c in _RE_FLAGS.items() if flags & bit)
    na = {} if flat else _NOT_ARRAY
    cond: dict[str, Any] = {"$regex": rf"\A(?:{body}{tail})", **na}
    if options:
        cond["$options"] = options
    return {f: cond}


def _plain_field(f: Any) -> bool:
    return isinstance(f, str) and f != "" and "." not in f and f[0] != "$" and f not in HIDDEN


def compile_query(spec: Any, flat: frozenset[str] | set[str] = frozenset()) -> Query:
    """Compile a sofart query (``None``, a dict, or an ``_id`` value) for the engine.

    ``flat``: fields known to hold no list in any document (non-multikey
    indexes); conditions on them need no guard against list elements, so the
    planner can answer them from the index alone (counts without documents).
    Raises :class:`~shoal.sofart.QueryError` for a malformed ``$mod``.
    """
    if spec is None:
        return Query(None)
    if not isinstance(spec, dict):
        spec = {"_id": spec}
    spec = {k: (v if isinstance(v, re.Pattern) else _listify(v)) for k, v in spec.items()}
    clauses: list[dict[str, Any]] = []
    residual: list[tuple[Any, Any, bool]] = []
    for f, cond in spec.items():
        advanced = isadvancedquery(None, cond)
        if advanced:
            _check_mods(cond)
        if not _plain_field(f):
            residual.append((f, cond, False))
            continue
        lists_only = False
        clause: dict[str, Any] | None
        try:
            if advanced:
                clause, lists_only = _operators(f, cond, f in flat)
            elif isinstance(cond, re.Pattern):
                clause = _regex(f, cond, f in flat)
            else:
                clause = equality(f, cond, f in flat)
        except _Residual:
            residual.append((f, cond, False))
            if advanced:
                clause = {f: dict(_PRESENT)}
            elif isinstance(cond, re.Pattern):
                clause = {f: {"$exists": True}}
            else:
                clause = _prefilter_equality(f, cond)
        if clause is None:
            return Query(None, never=True, spec=spec)
        if lists_only:
            residual.append((f, cond, True))
        if clause:
            clauses.append(clause)
    if not clauses:
        flt = None
    elif len(clauses) == 1:
        flt = clauses[0]
    else:
        flt = {"$and": clauses}
    return Query(flt, tuple(residual), spec=spec)
