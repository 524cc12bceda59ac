"""``shoal._regex``: linear-time matching that answers as Python's ``re`` does."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shoal import _regex
from shoal._core import Regex

# Pattern pieces in both syntaxes, including the ones translate() rewrites or
# refuses ($, \Z, braces, classes with [ and ]).
ATOMS = st.sampled_from(["a", "b", ".", r"\d", r"\w", r"\s", "[ab]", "[^a]", "[[]", "[]a]",
                         r"\n", "\\$", r"\.", "é", "A"])
SUFFIX = st.sampled_from(["", "*", "+", "?", "{2}", "{1,2}", "*?", "{", "{x}"])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(ATOMS, SUFFIX), min_size=1, max_size=5))
    body = "".join(a + s for a, s in parts)
    if draw(st.booleans()):
        body = f"({body})" + draw(st.sampled_from(["", "+", "|b"]))
    return draw(st.sampled_from(["", "^", r"\A"])) + body + draw(
        st.sampled_from(["", "$", r"\Z", "$)", "$b"]))


# Python warns about "[[" and "&&" (possible future set syntax): expected here.
@pytest.mark.filterwarnings("ignore::FutureWarning")
@settings(max_examples=400, deadline=None)
@given(patterns(), st.text(alphabet="ab1 .\n$[]éA", max_size=10),
       st.sampled_from([0, re.IGNORECASE, re.MULTILINE, re.DOTALL]))
def test_matcher_answers_as_re_does(pattern: str, text: str, flags: int) -> None:
    try:
        expected = re.compile(pattern, flags)
    except re.error:
        with pytest.raises((re.error, ValueError)):
            _regex.compile(pattern, flags)
        return
    m = _regex.compile(pattern, flags)
    assert m.search(text) == (expected.search(text) is not None), (pattern, text)
    assert m.match(text) == (expected.match(text) is not None), (pattern, text)
    assert m.fullmatch(text) == (expected.fullmatch(text) is not None), (pattern, text)


def test_catastrophic_patterns_answer_at_once() -> None:
    text = "a" * 32 + "!"
    start = time.monotonic()
    for p in ["^(a+)+$", r"^(a+)+\Z", "(a|aa)+$", "(a*)*b"]:
        m = _regex.compile(p)
        assert m.linear is not None, p
        assert not m.search(text) and not m.match(text) and not m.fullmatch(text), p
    assert time.monotonic() - start < 5  # hang detection, not a benchmark


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_what_rust_cannot_keep_falls_back_to_re() -> None:
    for p in [r"(a)\1", "(?=a)a", "(?<!b)a", "[a&&b]", "a # c"]:
        flags = re.VERBOSE if "#" in p else 0
        with pytest.raises(ValueError, match="needs Python's re"):
            Regex(p, flags)
        m = _regex.compile(p, flags)
        assert m.linear is None
        assert m.search("aa") == (re.search(p, "aa", flags) is not None)
    # bytes patterns and texts with lone surrogates go to re as well
    assert _regex.compile(b"a+").search(b"xaa")
    assert _regex.compile("a").search("\ud800a")
