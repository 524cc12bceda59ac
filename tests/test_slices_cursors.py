"""Range reads: slices, ``del kv[a:b]`` and cursors (bounds, prefix, fetch, seek, close).

Reading of the contract used for ``cursor(start, stop, reverse=True)`` (the
one documented in src/py/range.rs): ``start``/``stop`` bound the range in key
order whatever the direction, and ``reverse`` only flips the direction, as in
``sortedcontainers.SortedList.irange``. Slices differ: ``kv[hi:lo]`` and
``kv[hi:lo:-1]`` run from ``hi`` (inclusive) down to ``lo`` (exclusive).
"""

from __future__ import annotations

import pytest
import shoal
from _util import LETTERS


def keys_of(items) -> list:
    return [k for k, _ in items]


# -- slices ---------------------------------------------------------------


def test_slice_is_a_cursor_of_items(letters: shoal.KV) -> None:
    cur = letters["c":"f"]
    assert isinstance(cur, shoal.Cursor)
    assert list(cur) == [("c", 2), ("d", 3), ("e", 4)]


@pytest.mark.parametrize(
    ("sl", "expected"),
    [
        (slice("c", "f"), "cde"),
        (slice(None, "c"), "ab"),
        (slice("h", None), "hij"),
        (slice(None, None), "abcdefghij"),
        (slice("c", "f", 1), "cde"),
        (slice("c", "c"), ""),
        (slice("bb", "dd"), "cd"),  # bounds need not be keys
        (slice("0", "a"), ""),
        (slice("k", "z"), ""),
        (slice(0, "c"), "ab"),  # numbers sort before str
        (slice("i", b""), "ij"),  # bytes sort after str
        (slice(None, None, -1), "jihgfedcba"),
        (slice("f", "c"), "fed"),  # start above stop: descending
        (slice("f", "c", -1), "fed"),
        (slice("m", "a", -1), "jihgfedcb"),
        (slice("ee", "cc", -1), "ed"),
        (slice("c", "f", -1), ""),  # step -1 with start below stop: empty
        (slice("f", None, -1), "fedcba"),
        (slice(None, "c", -1), "jihgfed"),
        (slice("c", "c", -1), ""),
    ],
)
def test_slice_bounds(letters: shoal.KV, sl: slice, expected: str) -> None:
    got = list(letters[sl])
    assert keys_of(got) == list(expected)
    assert got == [(k, LETTERS[k]) for k in expected]
    assert dict(letters.items()) == LETTERS


@pytest.mark.parametrize("step", [2, 0, -2, 10])
def test_other_slice_steps_are_refused(letters: shoal.KV, step: int) -> None:
    with pytest.raises(shoal.InvalidArgumentError) as info:
        list(letters["a":"f":step])
    assert isinstance(info.value, ValueError)
    assert dict(letters.items()) == LETTERS


def test_slice_assignment_is_a_type_error(letters: shoal.KV) -> None:
    with pytest.raises(TypeError):
        letters["a":"c"] = [("a", 1)]
    assert dict(letters.items()) == LETTERS


@pytest.mark.parametrize(
    ("sl", "remaining"),
    [
        (slice("c", "f"), "abfghij"),
        (slice(None, "c"), "cdefghij"),
        (slice("h", None), "abcdefg"),
        (slice(None, None), ""),
        (slice("bb", "dd"), "abefghij"),
        (slice("x", "z"), "abcdefghij"),
    ],
)
def test_del_slice(letters: shoal.KV, sl: slice, remaining: str) -> None:
    del letters[sl]
    assert list(letters) == list(remaining)
    assert len(letters) == len(remaining)


def test_del_slice_keeps_other_types_and_spaces(store: shoal.Store, kv: shoal.KV) -> None:
    other = store.kv("other")
    other.update({"b": 1, "c": 2})
    kv.update({1: 1, "a": 2, "b": 3, "c": 4, b"b": 5, ("b",): 6})
    del kv["a":"c"]
    assert list(kv) == [1, "c", ("b",), b"b"]
    assert dict(other.items()) == {"b": 1, "c": 2}


def test_large_ranges_cross_internal_batches(kv: shoal.KV) -> None:
    n = 5000
    kv.update((i, -i) for i in range(n))
    assert list(kv[100:4900]) == [(i, -i) for i in range(100, 4900)]
    assert list(kv[4900:100]) == [(i, -i) for i in range(4900, 100, -1)]
    assert list(kv[::-1]) == [(i, -i) for i in reversed(range(n))]
    del kv[10 : n - 10]
    assert list(kv) == list(range(10)) + list(range(n - 10, n))


# -- cursors ---------------------------------------------------------------


def test_cursor_defaults(letters: shoal.KV) -> None:
    cur = letters.cursor()
    assert isinstance(cur, shoal.Cursor)
    assert iter(cur) is cur
    assert list(cur) == list(LETTERS.items())


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"start": "c", "stop": "f"}, "cde"),
        ({"start": "c"}, "cdefghij"),
        ({"stop": "c"}, "ab"),
        ({"start": "c", "stop": "f", "include_start": False}, "de"),
        ({"start": "c", "stop": "f", "include_stop": True}, "cdef"),
        ({"start": "c", "stop": "f", "include_start": False, "include_stop": True}, "def"),
        ({"start": "cc", "stop": "ff", "include_start": False, "include_stop": True}, "def"),
        ({"reverse": True}, "jihgfedcba"),
        ({"start": "c", "stop": "f", "reverse": True}, "edc"),
        ({"start": "c", "reverse": True}, "jihgfedc"),
        ({"stop": "f", "reverse": True}, "edcba"),
        ({"start": "c", "stop": "f", "reverse": True, "include_start": False}, "ed"),
        ({"start": "c", "stop": "f", "reverse": True, "include_stop": True}, "fedc"),
        ({"start": "f", "stop": "c"}, ""),
        ({"start": "f", "stop": "c", "reverse": True}, ""),
        ({"start": "c", "stop": "c", "include_stop": True}, "c"),
        ({"start": "c", "stop": "c"}, ""),
    ],
)
def test_cursor_bounds(letters: shoal.KV, kwargs: dict, expected: str) -> None:
    assert keys_of(letters.cursor(**kwargs)) == list(expected)
    assert letters.cursor(**kwargs, values=False).fetch(100) == list(expected)
    assert list(letters.cursor(**kwargs, keys=False)) == [LETTERS[k] for k in expected]


def test_cursor_keys_or_values_only(letters: shoal.KV) -> None:
    assert list(letters.cursor(values=False)) == list(LETTERS)
    assert list(letters.cursor(keys=False)) == list(LETTERS.values())
    assert list(letters.cursor(keys=False, reverse=True)) == list(LETTERS.values())[::-1]


def test_str_prefix(kv: shoal.KV) -> None:
    for k in ["a", "ab", "abc", "abd", "ac", "b", b"ab", ("ab",), 1, "", "a\x00b"]:
        kv[k] = 0
    assert list(kv.cursor(prefix="ab", values=False)) == ["ab", "abc", "abd"]
    assert list(kv.cursor(prefix="ab", values=False, reverse=True)) == ["abd", "abc", "ab"]
    assert list(kv.cursor(prefix="a", values=False)) == ["a", "a\x00b", "ab", "abc", "abd", "ac"]
    assert list(kv.cursor(prefix="", values=False)) == ["", "a", "a\x00b", "ab", "abc", "abd"] + [
        "ac",
        "b",
    ]
    assert list(kv.cursor(prefix="abz")) == []
    assert kv.count(prefix="ab") == 3


def test_bytes_prefix(store: shoal.Store) -> None:
    kv = store.kv("raw", key="bytes", value="bytes")
    for k in [b"\x00", b"\x00\x00", b"\x00\x01", b"\x01", b"ab", b"abc", b"ab\xff", b"b"]:
        kv[k] = k
    assert list(kv.cursor(prefix=b"ab", values=False)) == [b"ab", b"abc", b"ab\xff"]
    assert list(kv.cursor(prefix=b"\x00", values=False)) == [b"\x00", b"\x00\x00", b"\x00\x01"]
    assert list(kv.cursor(prefix=b"ab", keys=False, reverse=True)) == [b"ab\xff", b"abc", b"ab"]


def test_bytes_prefix_on_any_codec(kv: shoal.KV) -> None:
    for k in [b"ab", b"abc", b"b", "ab", ("ab",)]:
        kv[k] = 0
    assert list(kv.cursor(prefix=b"ab", values=False)) == [b"ab", b"abc"]


def test_str_prefix_on_str_codec(store: shoal.Store) -> None:
    kv = store.kv("s", key="str")
    for k in ["x", "xy", "xyz", "y", "\u00e9t\u00e9", "\u00e9"]:
        kv[k] = 1
    assert list(kv.cursor(prefix="xy", values=False)) == ["xy", "xyz"]
    assert list(kv.cursor(prefix="\u00e9", values=False)) == ["\u00e9", "\u00e9t\u00e9"]


def test_tuple_prefix(kv: shoal.KV) -> None:
    keys = [
        (1,),
        (1, "a"),
        (1, "b", 2),
        (1, ("x",)),
        (1.5, "a"),
        (10, "a"),
        (2, "a"),
        ("ab", 1),
        ("abc", 1),
        (),
        1,
        "x",
    ]
    for k in keys:
        kv[k] = 0
    assert list(kv.cursor(prefix=(1,), values=False)) == [(1,), (1, "a"), (1, "b", 2), (1, ("x",))]
    assert list(kv.cursor(prefix=(1, "b"), values=False)) == [(1, "b", 2)]
    assert list(kv.cursor(prefix=("ab",), values=False)) == [("ab", 1)]
    assert list(kv.cursor(prefix=(1,), reverse=True, values=False))[0] == (1, ("x",))
    assert kv.count(prefix=(1,)) == 4
    # The empty tuple prefix matches every tuple key.
    assert kv.count(prefix=()) == 10


def test_fetch(kv: shoal.KV) -> None:
    kv.update((i, i) for i in range(25))
    cur = kv.cursor(values=False)
    assert cur.fetch(10) == list(range(10))
    assert next(cur) == 10
    assert cur.fetch(10) == list(range(11, 21))
    assert cur.fetch(10) == [21, 22, 23, 24]
    assert cur.fetch(10) == []
    assert cur.fetch() == []
    with pytest.raises(StopIteration):
        next(cur)
    big = kv.cursor()
    assert big.fetch() == [(i, i) for i in range(25)]


def test_seek_forward(letters: shoal.KV) -> None:
    cur = letters.cursor(values=False)
    assert next(cur) == "a"
    cur.seek("d")
    assert next(cur) == "d"
    cur.seek("dd")
    assert next(cur) == "e"
    cur.seek("d", inclusive=False)
    assert next(cur) == "e"
    cur.seek("b")  # seeking backwards repositions too
    assert cur.fetch(3) == ["b", "c", "d"]
    cur.seek("z")
    assert cur.fetch(3) == []
    cur.seek("i")  # an exhausted cursor can be repositioned
    assert list(cur) == ["i", "j"]


def test_seek_reverse(letters: shoal.KV) -> None:
    cur = letters.cursor(reverse=True, values=False)
    assert next(cur) == "j"
    cur.seek("d")
    assert next(cur) == "d"
    cur.seek("dd")
    assert next(cur) == "d"
    cur.seek("d", inclusive=False)
    assert list(cur) == ["c", "b", "a"]
    cur.seek("0")
    assert list(cur) == []
    cur.seek("h")
    assert cur.fetch(2) == ["h", "g"]


def test_seek_stays_inside_the_original_bounds(letters: shoal.KV) -> None:
    cur = letters.cursor("c", "g", values=False)
    cur.seek("a")
    assert next(cur) == "c"
    cur.seek("f")
    assert list(cur) == ["f"]
    cur.seek("z")
    assert list(cur) == []
    rev = letters.cursor("c", "g", reverse=True, values=False)
    rev.seek("z")
    assert next(rev) == "f"
    rev.seek("a")
    assert list(rev) == []
    rev.seek("d")
    assert list(rev) == ["d", "c"]
    rev.seek("dd", inclusive=False)
    assert list(rev) == ["d", "c"]
    excl = letters.cursor("c", "g", include_start=False, values=False)
    excl.seek("c")
    assert next(excl) == "d"
    pre = letters.cursor(prefix="b", values=False)
    pre.seek("a")
    assert list(pre) == ["b"]


def test_seek_on_slice_cursor(letters: shoal.KV) -> None:
    cur = letters["b":"h"]
    cur.seek("e")
    assert list(cur) == [("e", 4), ("f", 5), ("g", 6)]


def test_close_cursor(letters: shoal.KV) -> None:
    cur = letters.cursor()
    assert cur.closed is False
    assert next(cur) == ("a", 0)
    cur.close()
    assert cur.closed is True
    with pytest.raises(shoal.ClosedError):
        next(cur)
    with pytest.raises(shoal.ClosedError):
        cur.fetch(1)
    with pytest.raises(shoal.ClosedError):
        cur.seek("a")
    cur.close()  # idempotent
    assert dict(letters.items()) == LETTERS


def test_cursor_context_manager(letters: shoal.KV) -> None:
    with letters.cursor() as cur:
        assert next(cur) == ("a", 0)
    assert cur.closed
    with pytest.raises(shoal.ClosedError):
        next(cur)


def test_cursor_reads_from_its_creation_time(letters: shoal.KV) -> None:
    cur = letters.cursor(values=False)
    sliced = letters["a":"z"]
    rev = reversed(letters)
    letters["bb"] = 100
    letters["c"] = 200
    del letters["d"]
    del letters["j"]
    assert list(cur) == list(LETTERS)
    assert list(sliced) == list(LETTERS.items())
    assert list(rev) == list(LETTERS)[::-1]
    assert list(letters) == ["a", "b", "bb", "c", "e", "f", "g", "h", "i"]
    assert letters["c"] == 200


def test_cursor_sees_its_point_in_time_after_seek(letters: shoal.KV) -> None:
    cur = letters.cursor()
    assert next(cur) == ("a", 0)
    letters["b"] = "changed"
    letters["ba"] = "new"
    cur.seek("b")
    assert cur.fetch(2) == [("b", 1), ("c", 2)]


def test_mutating_while_iterating(letters: shoal.KV) -> None:
    for k in letters:
        del letters[k]
        letters[k.upper()] = 1
    assert list(letters) == list("ABCDEFGHIJ")


def test_count_ranges(letters: shoal.KV) -> None:
    assert letters.count() == 10
    assert letters.count("c", "f") == 3
    assert letters.count(start="h") == 3
    assert letters.count(stop="b") == 1
    assert letters.count("bb", "dd") == 2
