"""Evaluate DynamoDB expression trees (:mod:`._dexpr`) in Python.

Used for ``ConditionExpression`` checks on one item, for filters with
``Limit`` (DynamoDB filters after the limit) or without an engine equivalent,
for update expressions and for projections. Semantics follow DynamoDB:
values compare only within one type (numbers, strings, binary; ``=`` and
``<>`` on every type), a missing attribute makes a comparison false (``<>``
true), ``size`` is a length.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Callable, Dict, List, Tuple

from ._dexpr import Node, chain
from .errors import ExpressionError

_MISSING: Any = object()
_NUMBER = (int, float, Decimal)


def type_code(v: Any) -> str:
    """DynamoDB's type code of a Python value (``S N B BOOL NULL L M SS NS BS``)."""
    if isinstance(v, bool):
        return "BOOL"
    if isinstance(v, _NUMBER):
        return "N"
    if isinstance(v, str):
        return "S"
    if isinstance(v, (bytes, bytearray)):
        return "B"
    if v is None:
        return "NULL"
    if isinstance(v, (list, tuple)):
        return "L"
    if isinstance(v, dict):
        return "M"
    if isinstance(v, (set, frozenset)):
        kinds = {type_code(x) for x in v}
        return {"N": "NS", "B": "BS"}.get(kinds.pop() if len(kinds) == 1 else "S", "SS")
    return type(v).__name__


def resolve(item: Any, parts: Tuple[Any, ...]) -> Any:
    """The value at a path (``_MISSING`` if it does not resolve)."""
    value = item
    for part in parts:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return _MISSING
            value = value[part]
        else:
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
    return value


def _operand(node: Node, item: Dict[str, Any]) -> Any:
    kind = node[0]
    if kind == "value":
        return node[1]
    if kind == "path":
        return resolve(item, node[1])
    value = resolve(item, node[1][1])  # size(path)
    if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)):
        return len(value)
    return _MISSING


def _ordered(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return False
    ca, cb = type_code(a), type_code(b)
    return ca == cb and ca in ("N", "S", "B")


def _eq(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return False
    if type_code(a) != type_code(b):
        return False
    return bool(a == b)


def _cmp(op: str, a: Any, b: Any) -> bool:
    if op == "=":
        return _eq(a, b)
    if op == "<>":
        return not _eq(a, b)
    if not _ordered(a, b):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _function(name: str, args: List[Node], item: Dict[str, Any]) -> bool:
    value = resolve(item, args[0][1])
    if name == "attribute_exists":
        return value is not _MISSING
    if name == "attribute_not_exists":
        return value is _MISSING
    arg = _operand(args[1], item)
    if value is _MISSING or arg is _MISSING:
        return False
    if name == "attribute_type":
        return type_code(value) == arg
    if name == "begins_with":
        if isinstance(value, str) and isinstance(arg, str):
            return value.startswith(arg)
        if isinstance(value, (bytes, bytearray)) and isinstance(arg, (bytes, bytearray)):
            return bytes(value).startswith(bytes(arg))
        return False
    # contains
    if isinstance(value, str):
        return isinstance(arg, str) and arg in value
    if isinstance(value, (bytes, bytearray)):
        return isinstance(arg, (bytes, bytearray)) and bytes(arg) in bytes(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_eq(v, arg) for v in value)
    return False


def matches(node: Node, item: Dict[str, Any]) -> bool:
    """Whether ``item`` satisfies the condition tree ``node``."""
    kind = node[0]
    if kind == "and":
        return all(matches(n, item) for n in chain(node))
    if kind == "or":
        return any(matches(n, item) for n in chain(node))
    if kind == "not":
        return not matches(node[1], item)
    if kind == "cmp":
        return _cmp(node[1], _operand(node[2], item), _operand(node[3], item))
    if kind == "between":
        v = _operand(node[1], item)
        lo, hi = _operand(node[2], item), _operand(node[3], item)
        return _cmp(">=", v, lo) and _cmp("<=", v, hi)
    if kind == "in":
        v = _operand(node[1], item)
        return any(_eq(v, _operand(o, item)) for o in node[2])
    return _function(node[1], node[2], item)


def predicate(node: Node) -> Callable[[Dict[str, Any]], bool]:
    """``node`` as a predicate over one item."""
    return lambda item: matches(node, item)


# --- updates ------------------------------------------------------------------------------


def _value(node: Node, item: Dict[str, Any]) -> Any:
    kind = node[0]
    if kind in ("+", "-"):
        a, b = _value(node[1], item), _value(node[2], item)
        if not (_ordered(a, b) and type_code(a) == "N"):
            raise ExpressionError(f"{kind} needs two numbers, not {a!r} and {b!r}")
        return a + b if kind == "+" else a - b
    if kind == "if_not_exists":
        current = resolve(item, node[1][1])
        return current if current is not _MISSING else _value(node[2], item)
    if kind == "list_append":
        a, b = _value(node[1], item), _value(node[2], item)
        if not isinstance(a, list) or not isinstance(b, list):
            raise ExpressionError(f"list_append needs two lists, not {a!r} and {b!r}")
        return a + b
    value = _operand(node, item)
    if value is _MISSING:
        raise ExpressionError(f"the update refers to a missing attribute ({node!r})")
    return copy.deepcopy(value)


def _parent(item: Dict[str, Any], parts: Tuple[Any, ...]) -> Any:
    parent = resolve(item, parts[:-1])
    last = parts[-1]
    if isinstance(last, int) and isinstance(parent, list):
        return parent
    if not isinstance(last, int) and isinstance(parent, dict):
        return parent
    raise ExpressionError(f"the document path {parts!r} is not valid for an update")


def _assign(item: Dict[str, Any], parts: Tuple[Any, ...], value: Any) -> None:
    parent = _parent(item, parts)
    last = parts[-1]
    if isinstance(parent, list):
        if last >= len(parent):
            parent.append(value)
        else:
            parent[last] = value
    else:
        parent[last] = value


def _as_list(v: Any) -> List[Any]:
    if isinstance(v, (set, frozenset)):
        return sorted(v, key=repr)
    if isinstance(v, (list, tuple)):
        return list(v)
    raise ExpressionError(f"ADD and DELETE take a number or a set, not {v!r}")


def apply_update(actions: List[Node], item: Dict[str, Any]) -> Dict[str, Any]:
    """The item after the update actions (values computed from the item before them)."""
    before = item
    new = copy.deepcopy(item)
    values = [
        _value(a[2], before) if a[0] == "SET" else (a[2][1] if a[0] in ("ADD", "DELETE") else None)
        for a in actions
    ]
    removals = []
    for action, value in zip(actions, values):
        parts = action[1][1]
        kind = action[0]
        if kind == "SET":
            _assign(new, parts, value)
        elif kind == "REMOVE":
            removals.append(parts)
        elif kind == "ADD":
            current = resolve(new, parts)
            if isinstance(value, _NUMBER) and not isinstance(value, bool):
                if current is _MISSING:
                    _assign(new, parts, value)
                elif type_code(current) == "N":
                    _assign(new, parts, current + value)
                else:
                    raise ExpressionError(f"ADD of a number to {current!r}")
            else:
                add = _as_list(value)
                base = [] if current is _MISSING else _as_list(current)
                _assign(new, parts, base + [v for v in add if v not in base])
        else:  # DELETE
            current = resolve(new, parts)
            if current is not _MISSING:
                drop = _as_list(value)
                _assign(new, parts, [v for v in _as_list(current) if v not in drop])
    # REMOVE list elements from the highest index down, so indexes stay valid.
    for parts in sorted(removals, key=lambda p: [(-x if isinstance(x, int) else 0) for x in p]):
        parent = resolve(new, parts[:-1])
        last = parts[-1]
        if isinstance(last, int) and isinstance(parent, list) and last < len(parent):
            del parent[last]
        elif not isinstance(last, int) and isinstance(parent, dict):
            parent.pop(last, None)
    return new


def project(item: Dict[str, Any], paths: List[Node]) -> Dict[str, Any]:
    """``item`` reduced to the attributes of a projection expression."""
    out: Dict[str, Any] = {}
    for node in paths:
        parts = node[1]
        value = resolve(item, parts)
        if value is _MISSING:
            continue
        target: Any = out
        for part in parts[:-1]:
            key = part if not isinstance(part, int) else part
            if isinstance(target, dict):
                target = target.setdefault(key, {} if not isinstance(key, int) else [])
        if isinstance(target, dict):
            target[parts[-1]] = copy.deepcopy(value)
        elif isinstance(target, list):
            target.append(copy.deepcopy(value))
    return out
