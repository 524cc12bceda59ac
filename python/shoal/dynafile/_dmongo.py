"""Compile a DynamoDB condition tree (:mod:`._dexpr`) into a MongoDB filter run in Rust.

Comparisons are guarded so MongoDB's "a list matches if an element does" rule
does not apply (DynamoDB compares whole values). ``size(...)``, value-only
comparisons and attribute-to-attribute comparisons raise :class:`Unsupported`
(the caller evaluates those in Python).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Dict

from ._dexpr import Node, chain

Filter = Dict[str, Any]

_OPS = {"=": "$eq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_NOT_ARRAY = {"$not": {"$type": "array"}}
_TYPES = {
    "S": "string",
    "N": "number",
    "B": "binData",
    "BOOL": "bool",
    "NULL": "null",
    "L": "array",
    "M": "object",
}


class Unsupported(Exception):
    """The condition needs Python evaluation."""


def _path(node: Node) -> str:
    if node[0] != "path":
        raise Unsupported("not an attribute")
    parts = node[1]
    if any(isinstance(p, int) for p in parts) or any("." in p or p.startswith("$") for p in parts):
        raise Unsupported("list indexes or dotted names")
    return ".".join(parts)


def _value(node: Node) -> Any:
    if node[0] != "value":
        raise Unsupported("not a value")
    return node[1]


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, bytes, int, float, Decimal)) and not isinstance(v, bool)


def _cmp(op: str, left: Node, right: Node) -> Filter:
    if left[0] == "value" and right[0] == "path":
        flipped = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        return _cmp(flipped, right, left)
    path, value = _path(left), _value(right)
    if op in ("=", "<>"):
        if not _scalar(value) and not isinstance(value, bool) and value is not None:
            raise Unsupported("whole-document equality")
        cond: Filter = {path: {"$eq": value, **_NOT_ARRAY}}
        if value is None:  # None matches missing attributes in MongoDB: require presence
            cond = {path: {"$eq": None, "$exists": True}}
        return cond if op == "=" else {"$nor": [cond]}
    if not _scalar(value):
        return {path: {"$in": []}}  # ordering only numbers, strings, binary: never true
    return {path: {_OPS[op]: value, **_NOT_ARRAY}}


def compile_condition(node: Node) -> Filter:
    """The MongoDB filter equivalent to ``node``; :class:`Unsupported` if there is none."""
    kind = node[0]
    if kind in ("and", "or"):  # one flat $and/$or per chain: no nesting limit reached
        return {"$" + kind: [compile_condition(n) for n in chain(node)]}
    if kind == "not":
        return {"$nor": [compile_condition(node[1])]}
    if kind == "cmp":
        return _cmp(node[1], node[2], node[3])
    if kind == "between":
        path, lo, hi = _path(node[1]), _value(node[2]), _value(node[3])
        if not (_scalar(lo) and _scalar(hi)):
            return {path: {"$in": []}}
        return {path: {"$gte": lo, "$lte": hi, **_NOT_ARRAY}}
    if kind == "in":
        path = _path(node[1])
        values = [_value(v) for v in node[2]]
        if not all(_scalar(v) or isinstance(v, bool) for v in values):
            raise Unsupported("IN with documents")
        return {path: {"$in": values, **_NOT_ARRAY}}
    name, args = node[1], node[2]
    path = _path(args[0])
    if name == "attribute_exists":
        return {path: {"$exists": True}}
    if name == "attribute_not_exists":
        return {path: {"$exists": False}}
    arg = _value(args[1])
    if name == "attribute_type":
        if arg not in _TYPES:
            raise Unsupported(f"attribute_type {arg!r}")
        if arg == "NULL":
            return {path: {"$type": "null", "$exists": True}}
        if arg == "L":
            return {path: {"$type": "array"}}
        return {path: {"$type": _TYPES[arg], **_NOT_ARRAY}}
    if name == "begins_with":
        if isinstance(arg, str):
            return {path: {"$regex": "^" + re.escape(arg), **_NOT_ARRAY}}
        raise Unsupported("begins_with on binary")
    # contains: substring of a string attribute, or element of a list attribute
    if isinstance(arg, str):
        return {
            "$or": [
                {path: {"$regex": re.escape(arg), **_NOT_ARRAY}},
                {"$and": [{path: {"$type": "array"}}, {path: arg}]},
            ]
        }
    if _scalar(arg) or isinstance(arg, bool):
        return {"$and": [{path: {"$type": "array"}}, {path: arg}]}
    raise Unsupported("contains with a document")
