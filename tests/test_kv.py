"""The KV dict protocol, value codecs and recorded codecs."""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import pytest
import shoal
from _util import LETTERS


def test_kv_is_a_mutable_mapping(kv: shoal.KV) -> None:
    assert isinstance(kv, MutableMapping)
    assert isinstance(kv, Mapping)
    assert kv.name == "t"
    assert kv.key_codec == "any"
    assert kv.value_codec == "msgpack"
    assert kv.closed is False
    assert repr(kv) == "<shoal.KV 't' key='any' value='msgpack'>"


def test_kv_store_property(store: shoal.Store, kv: shoal.KV) -> None:
    assert kv.store.path == store.path


def test_set_get_delete(kv: shoal.KV) -> None:
    kv["a"] = 1
    kv[2] = "two"
    kv[(1, "x")] = [1, 2]
    assert kv["a"] == 1
    assert kv[2] == "two"
    assert kv[(1, "x")] == [1, 2]
    kv["a"] = "replaced"
    assert kv["a"] == "replaced"
    assert len(kv) == 3
    del kv["a"]
    assert "a" not in kv
    with pytest.raises(KeyError):
        kv["a"]  # noqa: B018
    with pytest.raises(KeyError):
        del kv["a"]
    assert len(kv) == 2
    assert kv[2] == "two"


def test_missing_key_error_carries_the_key(letters: shoal.KV) -> None:
    with pytest.raises(KeyError) as info:
        letters["nope"]  # noqa: B018
    assert info.value.args == ("nope",)
    # A tuple key is the one argument of the KeyError, as with a dict.
    with pytest.raises(KeyError) as info:
        letters[("t", 1)]  # noqa: B018
    assert info.value.args == (("t", 1),)
    with pytest.raises(KeyError) as info:
        del letters[("t", 1)]
    assert info.value.args == (("t", 1),)
    with pytest.raises(KeyError) as info:
        letters.pop(("t",))
    assert info.value.args == (("t",),)
    assert dict(letters.items()) == LETTERS


def test_contains_and_len(letters: shoal.KV) -> None:
    assert "a" in letters
    assert "z" not in letters
    assert 1 not in letters
    assert len(letters) == 10
    assert bool(letters) is True


def test_empty_kv(kv: shoal.KV) -> None:
    assert len(kv) == 0
    assert list(kv) == []
    assert list(reversed(kv)) == []
    assert kv.first() is None
    assert kv.last() is None
    assert kv.count() == 0
    with pytest.raises(KeyError):
        kv.popitem()


def test_iteration_is_in_key_order(kv: shoal.KV) -> None:
    keys = [5, -3, "b", "a", b"z", (1, 2), None, 2.5, True, False, (1,), "", b""]
    for i, k in enumerate(keys):
        kv[k] = i
    expected = [None, -3, 2.5, 5, "", "a", "b", (1,), (1, 2), b"", b"z", False, True]
    assert list(kv) == expected
    assert list(kv.keys()) == expected
    assert list(reversed(kv)) == expected[::-1]
    assert list(reversed(kv.keys())) == expected[::-1]
    assert list(kv.values()) == [keys.index(k) for k in expected]
    assert list(kv.items()) == [(k, keys.index(k)) for k in expected]
    assert list(reversed(kv.items())) == [(k, keys.index(k)) for k in expected][::-1]


def test_views(letters: shoal.KV) -> None:
    assert len(letters.keys()) == 10
    assert len(letters.values()) == 10
    assert len(letters.items()) == 10
    assert "c" in letters.keys()
    assert ("c", 2) in letters.items()
    assert ("c", 3) not in letters.items()
    assert 9 in letters.values()
    assert letters.keys() == set(LETTERS)
    assert dict(letters) == LETTERS
    assert letters == LETTERS


def test_views_are_live(kv: shoal.KV) -> None:
    keys = kv.keys()
    assert list(keys) == []
    kv["x"] = 1
    assert list(keys) == ["x"]
    assert len(keys) == 1


def test_get_and_get_many(letters: shoal.KV) -> None:
    assert letters.get("a") == 0
    assert letters.get("zz") is None
    assert letters.get("zz", "dflt") == "dflt"
    assert letters.get_many(["c", "zz", "a", "c"]) == [2, None, 0, 2]
    assert letters.get_many(iter(["j", "q"]), default=-1) == [9, -1]
    assert letters.get_many([]) == []


def test_pop(letters: shoal.KV) -> None:
    assert letters.pop("c") == 2
    assert "c" not in letters
    with pytest.raises(KeyError):
        letters.pop("c")
    assert letters.pop("c", "dflt") == "dflt"
    assert letters.pop("c", None) is None
    assert len(letters) == 9


def test_popitem_removes_the_first_item(letters: shoal.KV) -> None:
    assert letters.popitem() == ("a", 0)
    assert letters.popitem() == ("b", 1)
    assert letters.first() == ("c", 2)
    assert len(letters) == 8
    while letters:
        letters.popitem()
    with pytest.raises(KeyError):
        letters.popitem()


def test_setdefault(kv: shoal.KV) -> None:
    assert kv.setdefault("a", [1]) == [1]
    assert kv["a"] == [1]
    assert kv.setdefault("a", [2]) == [1]
    assert kv["a"] == [1]
    assert kv.setdefault("n") is None
    assert "n" in kv
    assert kv["n"] is None


def test_update_forms(kv: shoal.KV) -> None:
    kv.update({"a": 1, "b": 2})
    kv.update([("c", 3), ("a", 10)])
    kv.update(d=4, e=5)
    kv.update({"f": 6}, g=7)
    kv.update(((k, v) for k, v in [("h", 8)]))
    kv.update()
    assert dict(kv.items()) == {"a": 10, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8}


def test_update_from_another_kv(store: shoal.Store, letters: shoal.KV) -> None:
    other = store.kv("other")
    other.update(letters)
    assert dict(other.items()) == LETTERS


def test_update_with_duplicate_keys_last_wins(kv: shoal.KV) -> None:
    kv.update([("a", 1), ("a", 2), (1, "int"), (1.0, "float")])
    assert dict(kv.items()) == {1: "float", "a": 2}


def test_clear(store: shoal.Store, letters: shoal.KV) -> None:
    other = store.kv("other")
    other["keep"] = 1
    letters.clear()
    assert len(letters) == 0
    assert list(letters) == []
    assert other["keep"] == 1
    letters["again"] = 1
    assert list(letters) == ["again"]


def test_discard(letters: shoal.KV) -> None:
    letters.discard("a")
    letters.discard("a")
    letters.discard("not-there")
    assert "a" not in letters
    assert len(letters) == 9


def test_delete_many(letters: shoal.KV) -> None:
    letters.delete_many(["a", "c", "missing", "c"])
    assert list(letters) == list("bdefghij")
    letters.delete_many(iter(["b"]))
    letters.delete_many([])
    assert list(letters) == list("defghij")


def test_first_last(letters: shoal.KV) -> None:
    assert letters.first() == ("a", 0)
    assert letters.last() == ("j", 9)
    del letters["a"]
    letters["k"] = 10
    assert letters.first() == ("b", 1)
    assert letters.last() == ("k", 10)


def test_count(letters: shoal.KV) -> None:
    letters.update({"ab": 1, "abc": 2, "b0": 3})
    assert letters.count() == 13
    assert letters.count("b") == 10
    assert letters.count("b", "d") == 3  # b, b0, c
    assert letters.count(stop="b") == 3
    assert letters.count(prefix="a") == 3
    assert letters.count(prefix="ab") == 2
    assert letters.count(prefix="x") == 0


def test_int_and_float_are_one_key(kv: shoal.KV) -> None:
    kv[1.0] = "float"
    assert kv[1] == "float"
    kv[1] = "int"
    assert kv[1.0] == "int"
    assert len(kv) == 1
    (key,) = list(kv)
    assert key == 1 and type(key) is int
    kv[-0.0] = "zero"
    assert kv[0] == "zero"
    assert kv[0.0] == "zero"
    assert len(kv) == 2
    kv[2.5] = "frac"
    assert list(kv) == [0, 1, 2.5]
    assert [type(k) for k in kv] == [int, int, float]


def test_bool_keys_are_not_ints(kv: shoal.KV) -> None:
    kv[1] = "one"
    kv[True] = "true"
    kv[0] = "zero"
    kv[False] = "false"
    assert len(kv) == 4
    assert kv[1] == "one"
    assert kv[True] == "true"
    assert kv[False] == "false"
    assert [type(k) for k in kv] == [int, int, bool, bool]


def test_huge_int_and_special_float_keys(kv: shoal.KV) -> None:
    keys = [2**200, -(2**200), 2**64, -(2**63) - 1, math.inf, -math.inf, 1e300, 5e-324]
    for i, k in enumerate(keys):
        kv[k] = i
    assert list(kv) == sorted(keys)
    for i, k in enumerate(keys):
        assert kv[k] == i
    kv[math.nan] = "nan"
    assert math.isnan(kv.first()[0])
    assert kv.first()[1] == "nan"


def test_nested_tuple_keys(kv: shoal.KV) -> None:
    keys = [(1, ("a", b"b")), (1, ("a",)), (1,), (), ((),), (None, (True, 2.5))]
    for i, k in enumerate(keys):
        kv[k] = i
    for i, k in enumerate(keys):
        assert kv[k] == i
    assert set(kv) == set(keys)
    assert list(kv)[0] == ()


def test_msgpack_values_round_trip(kv: shoal.KV) -> None:
    values = {
        "none": None,
        "true": True,
        "false": False,
        "int": -(2**63),
        "uint": 2**64 - 1,
        "float": 1.5,
        "inf": math.inf,
        "str": "h\u00e9llo \U0001f600",
        "bytes": b"\x00\x01\xff",
        "list": [1, "two", [3.0, None], {"k": b"v"}],
        "dict": {"a": {"b": {"c": [True]}}, "n": None},
        "empty": [],
        "empty_dict": {},
        "empty_str": "",
        "empty_bytes": b"",
    }
    kv.update(values)
    for k, v in values.items():
        got = kv[k]
        assert got == v and type(got) is type(v), k
    kv["tuple"] = (1, (2, 3))
    assert kv["tuple"] == [1, [2, 3]]
    kv["nan"] = math.nan
    assert math.isnan(kv["nan"])


def test_stored_values_are_copies(kv: shoal.KV) -> None:
    value = {"list": [1, 2]}
    kv["k"] = value
    value["list"].append(3)
    assert kv["k"] == {"list": [1, 2]}
    got = kv["k"]
    got["list"].append(4)
    assert kv["k"] == {"list": [1, 2]}


def test_bytes_codecs(store: shoal.Store) -> None:
    kv = store.kv("raw", key="bytes", value="bytes")
    assert (kv.key_codec, kv.value_codec) == ("bytes", "bytes")
    kv[b"b"] = b"2"
    kv[b"a\x00"] = b""
    kv[b"a"] = b"\x00" * 10
    assert list(kv.items()) == [(b"a", b"\x00" * 10), (b"a\x00", b""), (b"b", b"2")]
    assert kv.count(prefix=b"a") == 2


def test_str_codecs(store: shoal.Store) -> None:
    kv = store.kv("s", key="str", value="str")
    kv["b"] = "two"
    kv["\u00e9"] = "accent"
    kv["a"] = ""
    kv["\U0001f600"] = "emoji"
    assert list(kv.items()) == [
        ("a", ""),
        ("b", "two"),
        ("\u00e9", "accent"),
        ("\U0001f600", "emoji"),
    ]


def test_int_key_codec_order(store: shoal.Store) -> None:
    kv = store.kv("ints", key="int")
    keys = [0, -1, 1, 2**62, -(2**62), 255, 256, -256, -255, 2**63 - 1, -(2**63)]
    for k in keys:
        kv[k] = k
    assert list(kv) == sorted(keys)
    assert list(kv.values()) == sorted(keys)
    assert [type(k) for k in kv] == [int] * len(keys)


def test_json_values(store: shoal.Store) -> None:
    kv = store.kv("j", value="json")
    doc = {"a": [1, 2.5, "x", None, True], "b": {"c": {}}}
    kv["doc"] = doc
    kv["list"] = [1, 2]
    kv["scalar"] = "s"
    assert kv["doc"] == doc
    assert kv["list"] == [1, 2]
    assert kv["scalar"] == "s"


def test_pickle_values(store: shoal.Store) -> None:
    kv = store.kv("p", value="pickle")
    value = {"set": {1, 2, 3}, "frozen": frozenset("ab"), "complex": 1 + 2j, "tuple": (1, 2)}
    kv["k"] = value
    got = kv["k"]
    assert got == value
    assert type(got["tuple"]) is tuple


def test_codecs_are_recorded(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        kv = store.kv("s", key="str", value="json")
        kv["a"] = {"x": 1}
        again = store.kv("s")
        assert (again.key_codec, again.value_codec) == ("str", "json")
        same = store.kv("s", key="str", value="json")
        assert same["a"] == {"x": 1}
        only_key = store.kv("s", key="str")
        assert only_key.value_codec == "json"
    with shoal.open(db_path) as store:
        kv = store.kv("s")
        assert (kv.key_codec, kv.value_codec) == ("str", "json")
        assert kv["a"] == {"x": 1}
        with pytest.raises(TypeError):
            kv[1] = "int key on a str space"
        assert dict(kv.items()) == {"a": {"x": 1}}


@pytest.mark.parametrize(
    ("key", "value"),
    [("bytes", None), (None, "pickle"), ("any", "json"), ("str", "msgpack")],
)
def test_conflicting_codecs_are_refused(db_path: Path, key: str, value: str) -> None:
    with shoal.open(db_path) as store:
        store.kv("s", key="str", value="json")["a"] = {"x": 1}
    with shoal.open(db_path) as store:
        with pytest.raises(shoal.InvalidArgumentError) as info:
            store.kv("s", key=key, value=value)
        assert isinstance(info.value, ValueError)
        assert store.spaces() == ["s"]
        kv = store.kv("s")
        assert (kv.key_codec, kv.value_codec) == ("str", "json")
        assert kv["a"] == {"x": 1}


def test_unknown_codec_names_are_refused(store: shoal.Store) -> None:
    store.kv("keep")["k"] = 1
    with pytest.raises(shoal.InvalidArgumentError):
        store.kv("a", key="float")
    with pytest.raises(shoal.InvalidArgumentError):
        store.kv("b", value="xml")
    with pytest.raises(shoal.InvalidArgumentError):
        store.kv("keep", value="xml")
    assert store.spaces() == ["keep"]
    assert dict(store.kv("keep").items()) == {"k": 1}


def test_many_keys(kv: shoal.KV) -> None:
    n = 20_000
    kv.update((i, i * 2) for i in range(n))
    assert len(kv) == n
    assert kv.count(100, 200) == 100
    total = 0
    previous = -1
    for k, v in kv.items():
        assert k > previous and v == 2 * k
        previous = k
        total += 1
    assert total == n
