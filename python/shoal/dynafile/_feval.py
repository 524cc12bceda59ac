"""Evaluate a parsed filter (:mod:`._fparse`) in Python against one item.

Used for ``condition=`` checks (a single item, or ``{}`` when there is none)
and for the few filters the engine cannot run (a symbol on both sides, a
subnet, a literal on the left). The semantics are ``filtration``'s, made
total so a filter never raises on odd data:

- a symbol is the top-level attribute spelled exactly like it, else the
  walk through nested dicts along the dots (``None`` when a step is missing
  or not a dict);
- ``== != < <= > >=`` are Python's, except that values of different kinds
  (a bool and a number, a list and a number, ``None`` and a number...) are
  never equal and never ordered: the comparison is false (``!=`` true);
- ``x in rhs`` is false when either side is falsy, else membership (a list
  of values or of a list attribute), substring (a string), or address
  containment (a subnet);
- ``x =~ /re/`` is ``re.search`` on a string, on any string of a list; false
  for falsy or non-string values;
- a bare ``lhs`` is its truthiness.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from decimal import Decimal
from typing import Any, Callable, Dict

from .. import _regex
from ._fparse import Node

Predicate = Callable[[Dict[str, Any]], bool]

_NUMBER = (int, float, Decimal)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, _NUMBER):
        return "number"
    if isinstance(v, str):
        return "str"
    if isinstance(v, (bytes, bytearray)):
        return "bytes"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, dict):
        return "dict"
    if v is None:
        return "none"
    return type(v).__name__


def _compare(op: Callable[[Any, Any], bool], negate: bool) -> Callable[[Any, Any], bool]:
    def run(a: Any, b: Any) -> bool:
        if _kind(a) != _kind(b):
            return negate
        try:
            return bool(op(a, b))
        except TypeError:
            return negate

    return run


_CMP = {
    "==": _compare(operator.eq, False),
    "!=": _compare(operator.ne, True),
    "<": _compare(operator.lt, False),
    "<=": _compare(operator.le, False),
    ">": _compare(operator.gt, False),
    ">=": _compare(operator.ge, False),
}
_EQ = _CMP["=="]


def lookup(item: Dict[str, Any], name: str) -> Any:
    """The value a symbol names in ``item`` (see the module docstring)."""
    if name in item:
        return item[name]
    value: Any = item
    for part in name.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _in(lhs: Any, rhs: Any) -> bool:
    if not lhs or not rhs:
        return False
    if isinstance(rhs, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        values = lhs if isinstance(lhs, list) else [lhs]
        for v in values:
            try:
                if ipaddress.ip_network(str(v), strict=False).subnet_of(rhs):  # type: ignore[arg-type]
                    return True
            except (ValueError, TypeError):
                continue
        return False
    if isinstance(rhs, str):
        return isinstance(lhs, str) and lhs in rhs
    if isinstance(rhs, (bytes, bytearray)):
        return isinstance(lhs, (bytes, bytearray)) and lhs in rhs
    if isinstance(rhs, (list, tuple)):
        return any(_EQ(lhs, v) for v in rhs)
    if isinstance(rhs, dict):
        return isinstance(lhs, str) and lhs in rhs
    return False


def _match(lhs: Any, rx: re.Pattern[str] | _regex.Matcher) -> bool:
    if not lhs:
        return False
    if isinstance(lhs, list):
        return any(isinstance(v, str) and bool(rx.search(v)) for v in lhs)
    return isinstance(lhs, str) and bool(rx.search(lhs))


def _operand(node: Node) -> Callable[[Dict[str, Any]], Any]:
    kind = node[0]
    if kind == "sym":
        name = node[1]
        return lambda item: lookup(item, name)
    if kind == "re":
        rx = re.compile(node[1], node[2])
        return lambda item: rx
    value = node[1]
    if kind == "list":
        value = list(value)
    return lambda item: value


def predicate(node: Node) -> Predicate:
    """Compile a tree into a Python predicate over one item."""
    kind = node[0]
    if kind == "and":
        parts = [predicate(p) for p in node[1]]
        return lambda item: all(p(item) for p in parts)
    if kind == "or":
        parts = [predicate(p) for p in node[1]]
        return lambda item: any(p(item) for p in parts)
    if kind == "not":
        inner = predicate(node[1])
        return lambda item: not inner(item)
    _, lhs_node, op, rhs_node = node
    lhs = _operand(lhs_node)
    if op is None:
        return lambda item: bool(lhs(item))
    rhs = _operand(rhs_node)
    if op == "in":
        return lambda item: _in(lhs(item), rhs(item))
    if op == "=~":
        if rhs_node[0] == "re":
            # A literal pattern: matched in linear time where possible.
            matcher = _regex.compile(rhs_node[1], rhs_node[2])
            return lambda item: _match(lhs(item), matcher)

        def regex(item: Dict[str, Any]) -> bool:
            r = rhs(item)
            return isinstance(r, re.Pattern) and _match(lhs(item), r)

        return regex
    cmp = _CMP[op]
    return lambda item: cmp(lhs(item), rhs(item))
