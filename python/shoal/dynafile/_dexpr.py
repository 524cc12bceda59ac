"""DynamoDB expressions (the boto3 ``Table`` conventions): tokenizer and parsers.

Condition, filter and key-condition expressions::

    cond    := cond OR cond | cond AND cond | NOT cond | "(" cond ")"
             | operand comparator operand | operand BETWEEN operand AND operand
             | operand IN "(" operand ("," operand)* ")"
             | attribute_exists(path) | attribute_not_exists(path)
             | attribute_type(path, :t) | begins_with(path, operand) | contains(path, operand)
    operand := path | :placeholder | size(path)
    path    := name ("." name | "[" int "]")*       name := word | #placeholder

update expressions (``SET a = :v, b = b + :n, c = if_not_exists(c, :z), d =
list_append(d, :l) REMOVE e, f[0] ADD n :one DELETE s :x``) and projection
expressions (``a, b.c, #n``). ``#name`` and ``:value`` placeholders are
resolved from ``ExpressionAttributeNames``/``ExpressionAttributeValues`` while
parsing; an unknown or unused placeholder raises
:class:`~shoal.dynafile.errors.ExpressionError`.

Trees (tuples):

- operands: ``("path", (part, ...))`` (str names, int list indexes),
  ``("value", v)``, ``("size", path)``
- conditions: ``("cmp", op, a, b)`` with op one of ``= <> < <= > >=``,
  ``("between", a, lo, hi)``, ``("in", a, [b, ...])``, ``("fn", name, [args])``,
  ``("and", x, y)``, ``("or", x, y)``, ``("not", x)``
- update: ``[("SET", path, value_expr), ("REMOVE", path), ("ADD", path, v),
  ("DELETE", path, v)]`` with value_expr an operand, ``("+", a, b)``,
  ``("-", a, b)``, ``("if_not_exists", path, operand)`` or
  ``("list_append", a, b)``
"""

from __future__ import annotations

import re
from typing import Any, Callable, List, Mapping, Optional, Set, Tuple

from .errors import ExpressionError

Node = Tuple[Any, ...]

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<hash>#[A-Za-z0-9_]+)|(?P<colon>:[A-Za-z0-9_]+)"
    r"|(?P<int>\d+)|(?P<op><>|<=|>=|=|<|>)|(?P<punct>[()\[\],.+\-]))"
)
_MAX_NESTING = 100
"""Most levels of NOT and parentheses (deeper ones would exhaust Python's stack)."""
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"}
_CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}


class _Tok:
    __slots__ = ("kind", "pos", "text")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind = kind
        self.text = text
        self.pos = pos


def _tokenize(text: str) -> List[_Tok]:
    toks: List[_Tok] = []
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(
                f"invalid expression {text!r}: unexpected {text[pos : pos + 10]!r} "
                f"at position {pos}"
            )
        kind = m.lastgroup or ""
        value = m.group(kind)
        start = m.start(kind)
        if kind == "name" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        toks.append(_Tok(kind, value, start))
        pos = m.end()
    toks.append(_Tok("end", "", n))
    return toks


class _Parser:
    def __init__(
        self,
        text: str,
        names: Optional[Mapping[str, str]],
        values: Optional[Mapping[str, Any]],
    ) -> None:
        if not isinstance(text, str):
            raise TypeError(f"an expression must be a str, not {type(text).__name__}")
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.names = dict(names or {})
        self.values = dict(values or {})
        self.used_names: Set[str] = set()
        self.used_values: Set[str] = set()
        self.depth = 0

    # -- helpers
    def peek(self, offset: int = 0) -> _Tok:
        return self.toks[min(self.i + offset, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, what: str) -> ExpressionError:
        tok = self.peek()
        found = repr(tok.text) if tok.kind != "end" else "the end"
        return ExpressionError(
            f"invalid expression {self.text!r}: expected {what} at position {tok.pos}, "
            f"found {found}"
        )

    def expect(self, kind: str, text: Optional[str] = None) -> _Tok:
        tok = self.peek()
        if tok.kind != kind or (text is not None and tok.text != text):
            raise self.fail(repr(text) if text else kind)
        return self.take()

    def is_kw(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "kw" and tok.text == word

    def is_punct(self, char: str) -> bool:
        tok = self.peek()
        return tok.kind == "punct" and tok.text == char

    # -- operands
    def name(self) -> str:
        tok = self.peek()
        if tok.kind == "name":
            return self.take().text
        if tok.kind == "hash":
            self.take()
            if tok.text not in self.names:
                raise ExpressionError(
                    f"{tok.text} is not defined in ExpressionAttributeNames ({self.text!r})"
                )
            self.used_names.add(tok.text)
            return self.names[tok.text]
        raise self.fail("an attribute name")

    def path(self) -> Node:
        parts: List[Any] = [self.name()]
        while True:
            if self.is_punct("."):
                self.take()
                parts.append(self.name())
            elif self.is_punct("["):
                self.take()
                parts.append(int(self.expect("int").text))
                self.expect("punct", "]")
            else:
                return ("path", tuple(parts))

    def value(self) -> Node:
        tok = self.expect("colon")
        if tok.text not in self.values:
            raise ExpressionError(
                f"{tok.text} is not defined in ExpressionAttributeValues ({self.text!r})"
            )
        self.used_values.add(tok.text)
        return ("value", self.values[tok.text])

    def operand(self) -> Node:
        tok = self.peek()
        if tok.kind == "colon":
            return self.value()
        if tok.kind == "name" and tok.text == "size" and self.peek(1).text == "(":
            self.take()
            self.take()
            path = self.path()
            self.expect("punct", ")")
            return ("size", path)
        if tok.kind in ("name", "hash"):
            return self.path()
        raise self.fail("an attribute, a :value or size(...)")

    # -- conditions
    def condition(self) -> Node:
        node = self.conjunction()
        while self.is_kw("OR"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.is_kw("AND"):
            self.take()
            node = ("and", node, self.negation())
        return node

    def nested(self, parse: Callable[[], Node]) -> Node:
        """``parse()`` one level deeper; a clear error beyond :data:`_MAX_NESTING`."""
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise self.fail(f"at most {_MAX_NESTING} nested NOT and '(', not more")
        node = parse()
        self.depth -= 1
        return node

    def negation(self) -> Node:
        if self.is_kw("NOT"):
            self.take()
            return ("not", self.nested(self.negation))
        if self.is_punct("("):
            self.take()
            node = self.nested(self.condition)
            self.expect("punct", ")")
            return node
        tok = self.peek()
        if tok.kind == "name" and tok.text in _CONDITION_FUNCTIONS and self.peek(1).text == "(":
            return self.function()
        left = self.operand()
        tok = self.peek()
        if tok.kind == "op":
            self.take()
            return ("cmp", tok.text, left, self.operand())
        if self.is_kw("BETWEEN"):
            self.take()
            lo = self.operand()
            self.expect("kw", "AND")
            return ("between", left, lo, self.operand())
        if self.is_kw("IN"):
            self.take()
            self.expect("punct", "(")
            options = [self.operand()]
            while self.is_punct(","):
                self.take()
                options.append(self.operand())
            self.expect("punct", ")")
            return ("in", left, options)
        raise self.fail("a comparator, BETWEEN or IN")

    def function(self) -> Node:
        name = self.take().text
        self.expect("punct", "(")
        args = [self.path()]
        for _ in range(_CONDITION_FUNCTIONS[name] - 1):
            self.expect("punct", ",")
            args.append(self.operand())
        self.expect("punct", ")")
        return ("fn", name, args)

    # -- updates
    def update_value(self) -> Node:
        left = self.update_term()
        tok = self.peek()
        if tok.kind == "punct" and tok.text in "+-":
            self.take()
            return (tok.text, left, self.update_term())
        return left

    def update_term(self) -> Node:
        tok = self.peek()
        if tok.kind == "name" and tok.text in ("if_not_exists", "list_append"):
            if self.peek(1).text == "(":
                self.take()
                self.take()
                if tok.text == "if_not_exists":
                    first: Node = self.path()
                else:
                    first = self.operand()
                self.expect("punct", ",")
                second = self.operand()
                self.expect("punct", ")")
                return (tok.text, first, second)
        return self.operand()

    def update(self) -> List[Node]:
        actions: List[Node] = []
        seen: Set[str] = set()
        if self.peek().kind == "end":
            raise self.fail("SET, REMOVE, ADD or DELETE")
        while self.peek().kind != "end":
            tok = self.peek()
            if tok.kind != "kw" or tok.text not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.fail("SET, REMOVE, ADD or DELETE")
            if tok.text in seen:
                raise self.fail(f"each clause once ({tok.text} appears twice)")
            seen.add(tok.text)
            self.take()
            while True:
                path = self.path()
                if tok.text == "SET":
                    self.expect("op", "=")
                    actions.append(("SET", path, self.update_value()))
                elif tok.text == "REMOVE":
                    actions.append(("REMOVE", path))
                else:
                    actions.append((tok.text, path, self.value()))
                if not self.is_punct(","):
                    break
                self.take()
        return actions

    def projection(self) -> List[Node]:
        paths = [self.path()]
        while self.is_punct(","):
            self.take()
            paths.append(self.path())
        return paths

    def done(self, result: Any) -> Any:
        if self.peek().kind != "end":
            raise self.fail("the end of the expression")
        return result


def _check_unused(parsers: List[_Parser], names: Any, values: Any) -> None:
    used_names: Set[str] = set().union(*(p.used_names for p in parsers))
    used_values: Set[str] = set().union(*(p.used_values for p in parsers))
    extra = sorted(set(names or {}) - used_names) + sorted(set(values or {}) - used_values)
    if extra:
        raise ExpressionError(f"placeholders defined but not used in any expression: {extra}")


class Expressions:
    """Parse the expressions of one request, sharing its placeholders."""

    def __init__(self, names: Optional[Mapping[str, str]], values: Optional[Mapping[str, Any]]):
        if names is not None and not isinstance(names, Mapping):
            raise TypeError("ExpressionAttributeNames must be a dict")
        if values is not None and not isinstance(values, Mapping):
            raise TypeError("ExpressionAttributeValues must be a dict")
        self.names = names
        self.values = values
        self._parsers: List[_Parser] = []

    def _parser(self, text: str) -> _Parser:
        p = _Parser(text, self.names, self.values)
        self._parsers.append(p)
        return p

    def condition(self, text: str) -> Node:
        """A condition, filter or key-condition expression."""
        p = self._parser(text)
        return p.done(p.condition())  # type: ignore[no-any-return]

    def update(self, text: str) -> List[Node]:
        """An update expression."""
        p = self._parser(text)
        return p.done(p.update())  # type: ignore[no-any-return]

    def projection(self, text: str) -> List[Node]:
        """A projection expression (attribute paths)."""
        p = self._parser(text)
        return p.done(p.projection())  # type: ignore[no-any-return]

    def finish(self) -> None:
        """Refuse placeholders no expression used (DynamoDB's rule)."""
        _check_unused(self._parsers, self.names, self.values)


def chain(node: Node) -> List[Node]:
    """The operands of a left-nested chain ``a AND b AND c`` (or ``OR``), in order.

    The parser builds ``(kind, (kind, a, b), c)``; walking it iteratively lets
    evaluators treat a chain of thousands of operands without deep recursion.
    """
    kind, out = node[0], []
    while node[0] == kind:
        out.append(node[2])
        node = node[1]
    out.append(node)
    out.reverse()
    return out


def paths_of(actions: List[Node]) -> List[Tuple[Any, ...]]:
    """The paths an update changes (for ``UPDATED_NEW``/``UPDATED_OLD``)."""
    return [a[1][1] for a in actions]
