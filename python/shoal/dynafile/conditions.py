"""Condition objects in boto3's style: ``Key("PK").eq("x") & Attr("n").gt(1)``.

They build the same trees as the expression strings (:mod:`._dexpr`), so
``FilterExpression=Attr("n").gt(1)`` and ``FilterExpression="n > :v"`` are
equivalent. Objects of ``boto3.dynamodb.conditions`` are accepted too
(converted by class name), so code importing ``Key``/``Attr`` from boto3
keeps working.
"""

from __future__ import annotations

from typing import Any, Tuple

from ._dexpr import Node


class Condition:
    """A condition: combine with ``&``, ``|`` and ``~``."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node

    def __and__(self, other: Any) -> Condition:
        return Condition(("and", self.node, to_node(other)))

    def __or__(self, other: Any) -> Condition:
        return Condition(("or", self.node, to_node(other)))

    def __invert__(self) -> Condition:
        return Condition(("not", self.node))

    def __repr__(self) -> str:
        return f"Condition({self.node!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other.node == self.node

    def __hash__(self) -> int:
        return hash(repr(self.node))


def _value(v: Any) -> Node:
    return ("value", v)


class _Operand:
    """Something comparable: an attribute or ``size(attribute)``."""

    node: Node

    def _cmp(self, op: str, value: Any) -> Condition:
        return Condition(("cmp", op, self.node, _value(value)))

    def eq(self, value: Any) -> Condition:
        """``operand = value``."""
        return self._cmp("=", value)

    def lt(self, value: Any) -> Condition:
        """``operand < value``."""
        return self._cmp("<", value)

    def lte(self, value: Any) -> Condition:
        """``operand <= value``."""
        return self._cmp("<=", value)

    def gt(self, value: Any) -> Condition:
        """``operand > value``."""
        return self._cmp(">", value)

    def gte(self, value: Any) -> Condition:
        """``operand >= value``."""
        return self._cmp(">=", value)

    def between(self, low: Any, high: Any) -> Condition:
        """``low <= operand <= high``."""
        return Condition(("between", self.node, _value(low), _value(high)))


class Key(_Operand):
    """A key attribute, for ``KeyConditionExpression``."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"an attribute name is a non-empty str, not {name!r}")
        self.name = name
        self.node = ("path", _split(name))

    def begins_with(self, value: Any) -> Condition:
        """The attribute starts with ``value``."""
        return Condition(("fn", "begins_with", [self.node, _value(value)]))


class _Size(_Operand):
    def __init__(self, path: Node) -> None:
        self.node = ("size", path)

    def ne(self, value: Any) -> Condition:
        """``size(...) <> value``."""
        return self._cmp("<>", value)


class Attr(Key):
    """Any attribute (dots separate nested names), for filter and condition expressions."""

    def ne(self, value: Any) -> Condition:
        """``attribute <> value``."""
        return self._cmp("<>", value)

    def is_in(self, values: Any) -> Condition:
        """The attribute equals one of ``values``."""
        return Condition(("in", self.node, [_value(v) for v in values]))

    def exists(self) -> Condition:
        """``attribute_exists``."""
        return Condition(("fn", "attribute_exists", [self.node]))

    def not_exists(self) -> Condition:
        """``attribute_not_exists``."""
        return Condition(("fn", "attribute_not_exists", [self.node]))

    def contains(self, value: Any) -> Condition:
        """A string attribute containing ``value``, or a list/set holding it."""
        return Condition(("fn", "contains", [self.node, _value(value)]))

    def size(self) -> _Size:
        """``size(attribute)``, to compare."""
        return _Size(self.node)

    def attribute_type(self, value: str) -> Condition:
        """The attribute's DynamoDB type is ``value`` (``S N B BOOL NULL L M SS NS BS``)."""
        return Condition(("fn", "attribute_type", [self.node, _value(value)]))


def _split(name: str) -> Tuple[Any, ...]:
    return tuple(name.split("."))


_BOTO_CMP = {
    "Equals": "=",
    "NotEquals": "<>",
    "LessThan": "<",
    "LessThanEquals": "<=",
    "GreaterThan": ">",
    "GreaterThanEquals": ">=",
}
_BOTO_FN = {
    "BeginsWith": "begins_with",
    "Contains": "contains",
    "AttributeType": "attribute_type",
    "AttributeExists": "attribute_exists",
    "AttributeNotExists": "attribute_not_exists",
}


def _boto_operand(v: Any) -> Node:
    name = type(v).__name__
    if name in ("Key", "Attr") and hasattr(v, "name"):
        return ("path", _split(v.name))
    if name == "Size":
        return ("size", _boto_operand(v.get_expression()["values"][0]))
    return _value(v)


def to_node(cond: Any) -> Node:
    """The tree of a condition object (ours or boto3's)."""
    if isinstance(cond, Condition):
        return cond.node
    if hasattr(cond, "get_expression"):  # boto3.dynamodb.conditions
        kind = type(cond).__name__
        values = cond.get_expression()["values"]
        if kind in _BOTO_CMP:
            return ("cmp", _BOTO_CMP[kind], _boto_operand(values[0]), _boto_operand(values[1]))
        if kind == "Between":
            return ("between", *(_boto_operand(v) for v in values))
        if kind == "In":
            return ("in", _boto_operand(values[0]), [_value(v) for v in values[1]])
        if kind in _BOTO_FN:
            return ("fn", _BOTO_FN[kind], [_boto_operand(v) for v in values])
        if kind == "And":
            return ("and", to_node(values[0]), to_node(values[1]))
        if kind == "Or":
            return ("or", to_node(values[0]), to_node(values[1]))
        if kind == "Not":
            return ("not", to_node(values[0]))
    raise TypeError(f"not a condition: {cond!r}")


__all__ = ["Attr", "Condition", "Key"]
