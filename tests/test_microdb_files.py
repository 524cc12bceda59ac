"""shoal.microdb file reading: the JSON fast path must read exactly what ast.literal_eval reads.

Property tests compare the face's parser with ``ast.literal_eval`` on the repr of random
records (every literal type, quotes, escapes, surrogates) and on random text built from
Python-literal fragments (both must fail, or both must give the same values, types
included).
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shoal import microdb
from shoal.microdb import MicroDB, _loads_as_json, _NotJson, _parse, _reads_back


def canon(x: Any) -> Any:
    """A comparable form that keeps types (1 vs 1.0 vs True, -0.0, tuple vs list...)."""
    kind = type(x).__name__
    if isinstance(x, (float, complex)):
        return (kind, repr(x))
    if isinstance(x, dict):
        return (kind, [(canon(k), canon(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (kind, [canon(v) for v in x])
    if isinstance(x, (set, frozenset)):
        return (kind, sorted(repr(canon(v)) for v in x))
    return (kind, x)


texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("'\"\\\n\t\x00"),
    max_size=12,
)
strings = texts | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3)
floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    floats,
    st.complex_numbers(allow_nan=False, allow_infinity=False).filter(_reads_back),
    strings,
    st.binary(max_size=8),
)
hashables = st.recursive(scalars, lambda inner: st.tuples(inner, inner), max_leaves=4)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.sets(hashables, max_size=3),
        st.dictionaries(strings, inner, max_size=3),
        st.dictionaries(hashables, inner, max_size=3),
    ),
    max_leaves=10,
)
records = st.dictionaries(strings, values, max_size=5)
plain_records = st.dictionaries(
    st.text("abcé'\" ", max_size=5),
    st.one_of(st.none(), st.booleans(), st.integers(), floats, st.text("aTrueNonë'\"", max_size=8),
              st.lists(st.integers(), max_size=3)),
    max_size=5,
)


def quiet_literal_eval(text: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.literal_eval(text)


@given(st.lists(records, max_size=5))
def test_repr_of_any_records_parses_exactly(rows: list[dict]) -> None:
    text = repr(rows) + "\n"
    assert canon(_parse(text, "x")) == canon(quiet_literal_eval(text))


@given(st.lists(plain_records, max_size=6))
def test_plain_records_take_the_fast_path(rows: list[dict]) -> None:
    text = repr(rows) + "\n"
    try:
        fast = _loads_as_json(text)
    except _NotJson:
        assert "\\" in text or "'''" in text or '"""' in text
        return
    assert canon(fast) == canon(rows)


fragments = st.sampled_from(
    [
        "[", "]", "{", "}", "(", ")", ",", ":", " ", "\n", "'", '"', "\\", "True", "False",
        "None", "true", "null", "NaN", "Infinity", "1", "-", "0", ".5", "e", "E", "+", "j",
        "b", "r", "u", "#", "'a'", '"b"', "'it''s'", "'\\n'", "'\\x41'", "'\\u00e9'",
        "'\\ud800'", "'\\'", "\"'\"", "'\"'", "set()", "1e400", "x", "'''", "é", "\t",
        "'True'", "'\\\\'", "\"\\\"\"", "'\\/'", "\"\\/\"", "'\\\n'", "{}", "[]", "()",
    ]
)


@given(st.lists(fragments, max_size=14).map("".join))
def test_fuzz_text_agrees_with_literal_eval(text: str) -> None:
    try:
        expected = quiet_literal_eval(text)
    except Exception:  # noqa: BLE001 - any failure: the face must fail too
        with pytest.raises(microdb.FileFormatError):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _parse(text, "x")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert canon(_parse(text, "x")) == canon(expected)


@pytest.mark.parametrize(
    "text",
    [
        "[\"x', 'y\"]",  # quotes of the other kind inside a string
        "['a\"', '\"b']",
        "['True', \"None\", 'x: False']",
        "['\\\\', '\\'', \"\\\"\"]",
        "[\"\\/\"]",  # JSON would read '/', Python reads backslash + '/'
        "['\\ud83d\\ude00']",  # two lone surrogates, not one emoji
        "[1e400, -1e400]",
        "[-0.0, -0, 0.1, 12345678901234567890123]",
        "['''a''']",
        "[{'a': 1, 'a': 2, 'b': 3}]",
    ],
)
def test_tricky_texts(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "\/" is an invalid escape for Python too
        parsed = _parse(text, "x")
    assert canon(parsed) == canon(quiet_literal_eval(text))


@given(st.lists(records, max_size=4))
def test_saved_tables_reload_exactly(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict]
) -> None:
    path = tmp_path_factory.mktemp("files") / "t.json"
    m = MicroDB(path, ["k"])
    for i, row in enumerate(rows):
        m.upsert({**row, "k": i})
    m.save()
    assert path.read_text("utf-8") == repr(list(m)) + "\n"
    assert canon(list(MicroDB(path, ["k"]))) == canon(list(m))


def test_large_file_fast_path(tmp_path: Path) -> None:
    m = MicroDB(tmp_path / "big.json", ["id"])
    for i in range(5000):
        m.upsert({"id": i, "name": f"n{i}", "ok": i % 2 == 0, "none": None, "f": i / 7})
    m.save()
    text = (tmp_path / "big.json").read_text()
    assert canon(_loads_as_json(text)) == canon(list(m))
    assert canon(list(MicroDB(tmp_path / "big.json", ["id"]))) == canon(list(m))


@pytest.mark.parametrize(
    "value", [-0j, -1j, complex(-0.0, 1), complex(1, -0.0), complex(0, float("inf"))]
)
def test_complex_that_would_change_is_refused(tmp_path: Path, value: complex) -> None:
    m = MicroDB(tmp_path / "c.json", ["k"])
    m.upsert({"k": 1, "c": value})
    with pytest.raises(microdb.UnsavableValueError, match="'c'"):
        m.save()
