"""Compile a parsed filter (:mod:`._fparse`) into a MongoDB filter the engine runs in Rust.

The translation keeps the semantics of :mod:`._feval` (list attributes are
guarded so ``a == 1`` does not match ``a = [1]`` the way MongoDB's
"any element" rule would). Two known differences remain: a symbol is always a
dotted path (a top-level attribute literally named ``a.b`` is not looked up
first) and a dotted path walks into lists of dicts. What has no engine
equivalent (a symbol on both sides, a subnet, a literal on the left, a
substring ``in``) raises :class:`Unsupported`; the caller then evaluates the
filter in Python.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from ._fparse import Node

Filter = Dict[str, Any]

_OPS = {"==": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_NOT_ARRAY = {"$not": {"$type": "array"}}
_FLAGS = {2: "i", 8: "m", 16: "s"}  # re.IGNORECASE, re.MULTILINE, re.DOTALL


class Unsupported(Exception):
    """The filter needs Python evaluation."""


def falsy(path: str) -> Filter:
    """Matches documents whose ``path`` is missing or falsy (None, False, 0, "", b"", [], {})."""
    return {
        "$or": [
            {path: {"$exists": False}},
            {"$and": [{path: _NOT_ARRAY}, {path: {"$in": [None, False, 0, "", b""]}}]},
            {path: {"$size": 0}},
            {path: {"$eq": {}}},
        ]
    }


def truthy(path: str) -> Filter:
    """Matches documents whose ``path`` holds a truthy value."""
    return {"$nor": [falsy(path)]}


def _options(flags: int) -> str:
    return "".join(letter for bit, letter in _FLAGS.items() if flags & bit)


def _statement(node: Node) -> Filter:
    _, lhs, op, rhs = node
    if lhs[0] != "sym":
        raise Unsupported("a literal on the left")
    path = lhs[1]
    if op is None:
        return truthy(path)
    if op == "=~":
        if rhs[0] != "re":
            raise Unsupported("=~ without a regular expression")
        cond: Dict[str, Any] = {"$regex": rhs[1]}
        options = _options(rhs[2])
        if options:
            cond["$options"] = options
        if re.compile(rhs[1], rhs[2]).search("") is None:
            return {path: cond}  # cannot match "": falsy values never match anyway
        return {"$and": [{path: cond}, truthy(path)]}
    if op == "in":
        if rhs[0] != "list":
            raise Unsupported("in without a list of values")
        # x in [...] is false for a falsy x: dropping the falsy values says that.
        return {path: {"$in": [v for v in rhs[1] if v], **_NOT_ARRAY}}
    if rhs[0] != "val":
        raise Unsupported("a comparison with something other than a value")
    value = rhs[1]
    if op == "!=":
        return {"$or": [{path: {"$ne": value}}, {path: {"$type": "array"}}]}
    return {path: {_OPS[op]: value, **_NOT_ARRAY}}


def compile_filter(node: Node) -> Filter:
    """The MongoDB filter equivalent to ``node``; :class:`Unsupported` if there is none."""
    kind = node[0]
    if kind == "and":
        return {"$and": [compile_filter(p) for p in node[1]]}
    if kind == "or":
        return {"$or": [compile_filter(p) for p in node[1]]}
    if kind == "not":
        return {"$nor": [compile_filter(node[1])]}
    return _statement(node)


def conjunction(parts: List[Filter]) -> Filter:
    """``parts`` ANDed: merged into one document when their keys do not clash."""
    parts = [p for p in parts if p]
    merged: Filter = {}
    for part in parts:
        if merged.keys() & part.keys():
            return {"$and": parts}
        merged.update(part)
    return merged
