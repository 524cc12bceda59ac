"""The ``filtration`` filter language: tokenizer and parser (spec section 2).

The grammar is the one ``filtration`` 2.3.2 accepts::

    expression := "not" expression | expression "and" expression
                | expression "or" expression | "(" expression ")" | statement
    statement  := lhs [ op rhs ]          (precedence: not > and > or)
    lhs        := symbol | value | regex
    rhs        := symbol | subnet | list | value | regex
    op         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "=~"

but the whole text must parse: anything left over raises
:class:`~shoal.dynafile.errors.FilterSyntaxError` naming the position (the
original silently ignored it, so ``a == -1`` meant ``a``). Keywords are whole
words (``notes`` is a symbol, not ``not es``).

The result is a small tree of tuples:

- ``("sym", name)``, ``("val", value)``, ``("re", pattern, flags)``,
  ``("net", ip_network)``, ``("list", [value, ...])``
- ``("cmp", lhs, op, rhs)`` (``op`` is ``None`` for a bare ``lhs``)
- ``("not", node)``, ``("and", [node, ...])``, ``("or", [node, ...])``
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import re
from typing import Any, Callable, List, Tuple

from .errors import FilterSyntaxError

Node = Tuple[Any, ...]

_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9._]*")
_OPS = ("==", "!=", "<=", ">=", "=~", "<", ">")
# pyparsing's quoted_string: no newlines; backslash escapes and doubled quotes kept verbatim.
_DQ = re.compile(r'"(?:[^"\n\r\\]|(?:"")|(?:\\(?:[^x]|x[0-9a-fA-F]+)))*"')
_SQ = re.compile(r"'(?:[^'\n\r\\]|(?:'')|(?:\\(?:[^x]|x[0-9a-fA-F]+)))*'")
_REGEX = re.compile(r"/([^/]*)/((?:\s*[ims])*)")
_DATE = r"(\d{1,4})-(\d{1,2})-(\d{1,2})(?![0-9])"
_TIME = r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?![0-9])"
_DATETIME = re.compile(_DATE[: -len("(?![0-9])")] + r"\s*T?\s*" + _TIME)
_DATE_RE = re.compile(_DATE)
_TIME_RE = re.compile(_TIME)
_SUBNET = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})(?![0-9])")
_INT = re.compile(r"\d+")
_KEYWORDS = {"and", "or", "not", "in"}


class _Tok:
    """One token: kind (``word kw op ( ) , val re net``), value, position."""

    __slots__ = ("kind", "pos", "value")

    def __init__(self, kind: str, value: Any, pos: int) -> None:
        self.kind = kind
        self.value = value
        self.pos = pos


def _fail(text: str, pos: int, what: str) -> FilterSyntaxError:
    found = repr(text[pos : pos + 20]) if pos < len(text) else "the end"
    return FilterSyntaxError(
        f"invalid filter expression {text!r}: expected {what} at position {pos}, found {found}",
        text,
        pos,
    )


def _number_token(text: str, pos: int) -> Tuple[_Tok, int]:
    """A datetime, date, time, subnet or unsigned integer starting at ``pos``."""
    m = _DATETIME.match(text, pos)
    try:
        if m:
            y, mo, d, h, mi, s = (int(g) for g in m.groups())
            return _Tok("val", datetime.datetime(y, mo, d, h, mi, s), pos), m.end()
        m = _DATE_RE.match(text, pos)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            return _Tok("val", datetime.datetime(y, mo, d), pos), m.end()
        m = _TIME_RE.match(text, pos)
        if m:
            h, mi, s = (int(g) for g in m.groups())
            today = datetime.date.today()
            return _Tok("val", datetime.datetime.combine(today, datetime.time(h, mi, s)), pos), (
                m.end()
            )
    except ValueError as exc:
        raise _fail(text, pos, f"a valid date or time ({exc})") from None
    m = _SUBNET.match(text, pos)
    if m and all(int(g) <= 255 for g in m.groups()[:4]) and int(m.group(5)) <= 32:
        net = ipaddress.ip_network(m.group(0), strict=False)
        return _Tok("net", net, pos), m.end()
    m = _INT.match(text, pos)
    assert m is not None
    return _Tok("val", int(m.group(0)), pos), m.end()


def _tokenize(text: str) -> List[_Tok]:
    toks: List[_Tok] = []
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    n = len(text)
    while pos < n:
        c = text[pos]
        if c in "(),":
            toks.append(_Tok(c, c, pos))
            pos += 1
        elif text.startswith(_OPS, pos):
            op = next(o for o in _OPS if text.startswith(o, pos))
            toks.append(_Tok("op", op, pos))
            pos += len(op)
        elif c in "\"'":
            m = (_DQ if c == '"' else _SQ).match(text, pos)
            if m is None:
                raise _fail(text, pos, "a closing quote")
            toks.append(_Tok("val", m.group(0)[1:-1], pos))
            pos = m.end()
        elif c == "/":
            m = _REGEX.match(text, pos)
            if m is None:
                raise _fail(text, pos, "a regular expression /.../ with a closing slash")
            flags = 0
            for f in re.sub(r"\s", "", m.group(2)):
                flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[f]
            try:
                re.compile(m.group(1), flags)
            except re.error as exc:
                raise _fail(text, pos, f"a valid regular expression ({exc})") from None
            toks.append(_Tok("re", (m.group(1), flags), pos))
            pos = m.end()
        elif c.isdigit() and c.isascii():
            tok, pos = _number_token(text, pos)
            toks.append(tok)
        else:
            m = _WORD.match(text, pos)
            if m is None:
                raise _fail(text, pos, "a symbol, value, operator or parenthesis")
            word = m.group(0)
            if word.lower() in _KEYWORDS:
                kind = "op" if word.lower() == "in" else "kw"
                toks.append(_Tok(kind, word.lower(), pos))
            else:
                toks.append(_Tok("word", word, pos))
            pos = m.end()
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    toks.append(_Tok("end", None, n))
    return toks


_MAX_NESTING = 100
"""Most levels of ``not`` and parentheses (deeper ones would exhaust Python's stack)."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, what: str) -> FilterSyntaxError:
        return _fail(self.text, self.peek().pos, what)

    def expression(self) -> Node:
        parts = [self.conjunction()]
        while self.peek().kind == "kw" and self.peek().value == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.peek().kind == "kw" and self.peek().value == "and":
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def nested(self, parse: Callable[[], Node]) -> Node:
        """``parse()`` one level deeper; a clear error beyond :data:`_MAX_NESTING`."""
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise self.fail(f"at most {_MAX_NESTING} nested 'not' and '(', not more")
        node = parse()
        self.depth -= 1
        return node

    def negation(self) -> Node:
        tok = self.peek()
        if tok.kind == "kw" and tok.value == "not":
            self.take()
            return ("not", self.nested(self.negation))
        if tok.kind == "(":
            self.take()
            node = self.nested(self.expression)
            if self.peek().kind != ")":
                raise self.fail("')' or a boolean operator")
            self.take()
            return node
        return self.statement()

    def operand(self, rhs: bool) -> Node:
        tok = self.peek()
        if tok.kind == "word":
            self.take()
            return ("sym", tok.value)
        if tok.kind == "re":
            self.take()
            return ("re", tok.value[0], tok.value[1])
        if tok.kind == "net" and rhs:
            self.take()
            return ("net", tok.value)
        if tok.kind == "val":
            self.take()
            if rhs and self.peek().kind == ",":
                values = [tok.value]
                while self.peek().kind == ",":
                    self.take()
                    nxt = self.peek()
                    if nxt.kind != "val":
                        raise self.fail("a value after ','")
                    values.append(self.take().value)
                return ("list", values)
            return ("val", tok.value)
        raise self.fail("a symbol, value or regular expression")

    def statement(self) -> Node:
        lhs = self.operand(rhs=False)
        if self.peek().kind == "op":
            op = self.take().value
            return ("cmp", lhs, op, self.operand(rhs=True))
        return ("cmp", lhs, None, None)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail("an expression")
        node = self.expression()
        if self.peek().kind != "end":
            raise self.fail("the end of the expression or a boolean operator")
        return node


@functools.lru_cache(maxsize=256)
def parse(text: str) -> Node:
    """Parse a filter string into its tree (cached); :class:`FilterSyntaxError` if invalid."""
    if not isinstance(text, str):
        raise TypeError(f"a filter expression must be a str, not {type(text).__name__}")
    return _Parser(text).parse()
