"""Collections: creation and key specs, CRUD, generated ids, atomic batches,
key order, find/count paging; a property test against a dict model."""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shoal
from _util import model_key, same_key
from hypothesis import given, settings
from hypothesis import strategies as st

HEX24 = re.compile(r"[0-9a-f]{24}")


def examples(n: int) -> int:
    """``n`` examples, or the profile's count if larger (SHOAL_HYPOTHESIS_PROFILE=thorough)."""
    return max(n, settings.default.max_examples)


@pytest.fixture
def coll(store: shoal.Store) -> Any:
    return store.collection("c")


def ids(docs: list[dict[str, Any]]) -> list[Any]:
    return [d["_id"] for d in docs]


# --- collections ----------------------------------------------------------


def test_collection_properties(store: shoal.Store) -> None:
    c = store.collection("people")
    assert c.name == "people"
    assert c.key == ("_id",)
    assert isinstance(c.key, tuple)
    d = store.collection("pairs", key=("a", "b"))
    assert d.key == ("a", "b")
    assert isinstance(d.key, tuple)


def test_collections_are_listed_sorted(store: shoal.Store) -> None:
    assert store.collections() == []
    store.collection("b")
    store.collection("a", key=("k",))
    store.collection("C")
    store.kv("kv-space")["x"] = 1
    assert store.collections() == sorted(["a", "b", "C"])


def test_reopening_with_the_same_key(store: shoal.Store) -> None:
    c = store.collection("c", key=("k",))
    c.insert({"k": 1, "v": "one"})
    again = store.collection("c", key=("k",))
    assert again.key == ("k",)
    assert again.get(1) == {"k": 1, "v": "one"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("_id",), ("k",)),
        (("k",), ("_id",)),
        (("a", "b"), ("b", "a")),
        (("a", "b"), ("a",)),
        (("a",), ("a", "b")),
    ],
    ids=repr,
)
def test_reopening_with_another_key_is_refused(
    store: shoal.Store, first: tuple[str, ...], second: tuple[str, ...]
) -> None:
    c = store.collection("c", key=first)
    c.insert({"_id": 1, "k": 2, "a": 3, "b": 4})
    with pytest.raises(shoal.InvalidArgumentError):
        store.collection("c", key=second)
    assert store.collection("c", key=first).key == first
    assert len(c) == 1


def test_collections_persist(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        store.collection("plain").insert({"_id": "x", "v": [1, 2]})
        store.collection("pairs", key=("a", "b")).insert({"a": 1, "b": "z", "v": 3})
    with shoal.open(db_path) as store:
        assert store.collections() == ["pairs", "plain"]
        assert store.collection("plain").get("x") == {"_id": "x", "v": [1, 2]}
        pairs = store.collection("pairs", key=("a", "b"))
        assert pairs.get((1, "z")) == {"a": 1, "b": "z", "v": 3}
        with pytest.raises(shoal.InvalidArgumentError):
            store.collection("pairs", key=("a",))


@pytest.mark.parametrize(
    "name", ["", ".hidden", "_private", "a b", "a/b", "a\\b", "é", "a\x00", "x" * 201], ids=repr
)
def test_bad_collection_names_are_refused(store: shoal.Store, name: str) -> None:
    with pytest.raises(shoal.InvalidArgumentError):
        store.collection(name)
    assert store.collections() == []


@pytest.mark.parametrize("name", ["a", "Z", "0", "a.b-c_d", "x" * 200, "users.v2"])
def test_good_collection_names(store: shoal.Store, name: str) -> None:
    c = store.collection(name)
    assert c.name == name
    c.insert({"_id": 1})
    assert store.collections() == [name]


# --- insert and generated ids ---------------------------------------------


def test_insert_returns_the_key(coll: Any) -> None:
    assert coll.insert({"_id": 7, "v": "seven"}) == 7
    assert coll.insert({"_id": "s"}) == "s"
    assert coll.get(7) == {"_id": 7, "v": "seven"}
    assert coll.get("s") == {"_id": "s"}


def test_generated_id(coll: Any) -> None:
    doc = {"name": "ada", "tags": ["x"]}
    key = coll.insert(doc)
    assert isinstance(key, str) and HEX24.fullmatch(key), key
    assert doc == {"name": "ada", "tags": ["x"]}, "the caller's dict was mutated"
    stored = coll.get(key)
    assert stored["_id"] == key
    assert {k: v for k, v in stored.items() if k != "_id"} == doc
    assert [k for k in stored if k != "_id"] == ["name", "tags"]
    assert list(coll) == [stored]


def test_generated_ids_increase(store: shoal.Store) -> None:
    a = store.collection("a")
    b = store.collection("b")
    keys = []
    for i in range(50):
        keys.append((a if i % 3 else b).insert({"i": i}))
    assert all(HEX24.fullmatch(k) for k in keys)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    # In one collection, key order is insertion order.
    assert [d["i"] for d in a] == [i for i in range(50) if i % 3]
    many = a.insert_many([{"j": j} for j in range(20)])
    assert many == sorted(many) and many[0] > keys[-1]
    assert [d["j"] for d in a.find({"j": {"$exists": True}})] == list(range(20))


def test_generated_ids_increase_across_stores(tmp_path: Path) -> None:
    keys = []
    for i in range(4):
        with shoal.open(tmp_path / f"db{i % 2}") as store:
            keys.append(store.collection("c").insert({}))
            keys.append(store.collection("d").insert({}))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_explicit_id_is_kept_as_given(coll: Any) -> None:
    for key in [None, True, False, 0, -5, 2**70, 1.5, "", "x", b"\x00"]:
        assert same_key(coll.insert({"_id": key}), key)
        assert coll.get(key)["_id"] == key
        assert key in coll
    assert len(coll) == 10


def test_tuple_key_field_values(store: shoal.Store) -> None:
    # "key field values must be None/bool/int/float/str/bytes (or tuples of them)"
    c = store.collection("c")
    assert same_key(_as_key(c.insert({"_id": (1, "a"), "v": 1})), (1, "a"))
    assert c.get((1, "a"))["v"] == 1
    assert (1, "a") in c and (1, "b") not in c
    with pytest.raises(shoal.DuplicateKeyError):
        c.insert({"_id": (1.0, "a")})
    pairs = store.collection("p", key=("k", "n"))
    assert pairs.insert({"k": ("x", b"y"), "n": 2}) == (("x", b"y"), 2)
    assert pairs.get((("x", b"y"), 2))["n"] == 2


def test_insert_requires_a_dict(coll: Any) -> None:
    for bad in [[("_id", 1)], "doc", 1, None, (("_id", 1),)]:
        with pytest.raises((TypeError, shoal.InvalidArgumentError)):
            coll.insert(bad)
    assert len(coll) == 0


def test_missing_key_field(store: shoal.Store) -> None:
    c = store.collection("c", key=("k",))
    with pytest.raises(shoal.InvalidArgumentError):
        c.insert({"_id": 1, "v": 2})
    pair = store.collection("p", key=("a", "b"))
    with pytest.raises(shoal.InvalidArgumentError):
        pair.insert({"a": 1})
    with pytest.raises(shoal.InvalidArgumentError):
        pair.insert_many([{"a": 1, "b": 2}, {"b": 2}])
    for call in (c.put, c.replace, pair.put, pair.replace):
        with pytest.raises(shoal.InvalidArgumentError):
            call({"a": 1, "v": 2})
    assert len(c) == 0 and len(pair) == 0


def test_custom_key(store: shoal.Store) -> None:
    c = store.collection("c", key=("email",))
    assert c.insert({"email": "b@x", "n": 1}) == "b@x"
    assert c.insert({"email": "a@x", "n": 2}) == "a@x"
    assert "_id" not in c.get("a@x"), "no _id is generated for other key specs"
    assert [d["n"] for d in c] == [2, 1]


def test_compound_key(store: shoal.Store) -> None:
    c = store.collection("c", key=("a", "b"))
    assert c.insert({"a": 2, "b": "x"}) == (2, "x")
    assert c.insert({"b": "y", "a": 1, "v": 0}) == (1, "y")
    assert c.insert({"a": 1, "b": "x"}) == (1, "x")
    assert c.insert({"a": 1, "b": 5}) == (1, 5)
    assert c.get((1, "y")) == {"b": "y", "a": 1, "v": 0}
    assert (2, "x") in c and (2, "y") not in c
    # Tuple order: element by element, numbers before strings.
    assert [(d["a"], d["b"]) for d in c] == [(1, 5), (1, "x"), (1, "y"), (2, "x")]
    with pytest.raises(shoal.DuplicateKeyError):
        c.insert({"a": 1.0, "b": "x", "other": True})
    assert c.delete((1, "x")) is True
    assert len(c) == 3


@pytest.mark.parametrize(
    "bad",
    [
        [1],
        {"x": 1},
        datetime.datetime(2020, 1, 1),
        uuid.UUID(int=1),
        decimal.Decimal("1.5"),
        (1, [2]),
        ({"x": 1},),
    ],
    ids=repr,
)
def test_key_field_of_the_wrong_type(store: shoal.Store, bad: Any) -> None:
    c = store.collection("c")
    k = store.collection("k", key=("k", "n"))
    with pytest.raises(TypeError):
        c.insert({"_id": bad})
    with pytest.raises(TypeError):
        c.put({"_id": bad})
    with pytest.raises(TypeError):
        k.insert({"k": bad, "n": 1})
    with pytest.raises(TypeError):
        c.insert_many([{"_id": 1}, {"_id": bad}])
    assert len(c) == 0 and len(k) == 0


# --- duplicates -----------------------------------------------------------


def test_duplicate_key_error_hierarchy() -> None:
    assert issubclass(shoal.DuplicateKeyError, shoal.Error)
    assert issubclass(shoal.DuplicateKeyError, KeyError)


def test_duplicate_key(coll: Any) -> None:
    coll.insert({"_id": 1, "v": "first"})
    with pytest.raises(shoal.DuplicateKeyError):
        coll.insert({"_id": 1, "v": "second"})
    with pytest.raises(shoal.DuplicateKeyError):
        coll.insert({"_id": 1.0, "v": "float"})
    assert coll.get(1) == {"_id": 1, "v": "first"}
    # bool is not a number: True is another key.
    coll.insert({"_id": True, "v": "bool"})
    assert len(coll) == 2
    assert coll.get(1.0) == {"_id": 1, "v": "first"}
    assert coll.get(True) == {"_id": True, "v": "bool"}


def test_duplicate_key_is_a_key_error(coll: Any) -> None:
    coll.insert({"_id": "k"})
    with pytest.raises(KeyError):
        coll.insert({"_id": "k"})
    with pytest.raises(shoal.Error):
        coll.insert({"_id": "k"})


def test_insert_many(coll: Any) -> None:
    assert coll.insert_many([]) == []
    keys = coll.insert_many([{"_id": 3}, {"_id": 1, "v": 1}, {"x": 0}])
    assert keys[:2] == [3, 1] and HEX24.fullmatch(keys[2])
    assert ids(list(coll)) == [1, 3, keys[2]]


@pytest.mark.parametrize(
    "batch",
    [
        [{"_id": 10}, {"_id": 10}],
        [{"_id": 10}, {"_id": 10.0}],
        [{"_id": 10}, {"_id": 1}],
        [{"_id": 10}, {"_id": 11, "v": {1, 2}}],
        [{"_id": 10}, {"_id": 11, "v": {"x": object()}}],
        [{"_id": 10}, {"_id": 11, "v": {3: "int key"}}],
        [{"_id": 10}, {"_id": 11, "v": datetime.date(2020, 1, 1)}],
        [{"_id": 10}, "not a dict"],
        [{"_id": 10}, {"_id": [11]}],
    ],
    ids=repr,
)
def test_insert_many_is_all_or_nothing(coll: Any, batch: list[Any]) -> None:
    coll.insert({"_id": 1, "v": "before"})
    with pytest.raises((shoal.DuplicateKeyError, TypeError, shoal.InvalidArgumentError)):
        coll.insert_many(batch)
    assert list(coll) == [{"_id": 1, "v": "before"}]


def test_insert_many_duplicate_is_a_duplicate_key_error(coll: Any) -> None:
    coll.insert({"_id": 1})
    with pytest.raises(shoal.DuplicateKeyError):
        coll.insert_many([{"_id": 2}, {"_id": 1}])
    with pytest.raises(shoal.DuplicateKeyError):
        coll.insert_many([{"_id": 2}, {"_id": 3}, {"_id": 2}])
    assert ids(list(coll)) == [1]


@pytest.mark.parametrize("indexed", [False, True], ids=["plain", "indexed"])
def test_insert_many_large_batches_find_every_existing_key(store: Any, indexed: bool) -> None:
    # Batches of 8 or more first probe their key range once; a stored key
    # anywhere in that range (colliding or not) must fall back to checking
    # each key, and a batch past every stored key must still be checked for
    # duplicates within itself.
    coll = store.collection("big")
    if indexed:
        coll.create_index("v")
    coll.insert_many({"_id": i, "v": i} for i in range(0, 100, 10))
    with pytest.raises(shoal.DuplicateKeyError, match="50"):
        coll.insert_many({"_id": i, "v": i} for i in range(45, 55))
    assert coll.insert_many({"_id": i, "v": i} for i in range(41, 50)) == list(range(41, 50))
    with pytest.raises(shoal.DuplicateKeyError, match="105"):
        coll.insert_many({"_id": i, "v": i} for i in [*range(100, 110), 105])
    assert coll.insert_many({"_id": i, "v": i} for i in range(100, 110)) == list(range(100, 110))
    assert ids(list(coll)) == [*range(0, 41, 10), *range(41, 50), *range(50, 100, 10),
                               *range(100, 110)]
    assert coll.count({"v": {"$gte": 41, "$lt": 50}}) == 9


def test_insert_many_with_generated_ids_is_atomic(coll: Any) -> None:
    with pytest.raises(TypeError):
        coll.insert_many([{"v": 1}, {"v": 2}, {"v": {3}}])
    assert len(coll) == 0


# --- get, put, replace, delete --------------------------------------------


def test_get_default(coll: Any) -> None:
    assert coll.get("nope") is None
    assert coll.get("nope", 5) == 5
    sentinel = object()
    assert coll.get("nope", default=sentinel) is sentinel
    coll.insert({"_id": "yes"})
    assert coll.get("yes", 5) == {"_id": "yes"}


def test_put_inserts_or_replaces(coll: Any) -> None:
    assert coll.put({"_id": 1, "v": "a"}) == 1
    assert coll.put({"_id": 1, "w": "b"}) == 1
    assert coll.get(1) == {"_id": 1, "w": "b"}
    assert coll.put({"_id": 1.0, "x": "c"}) in (1, 1.0)
    assert len(coll) == 1
    assert coll.get(1)["x"] == "c"


def test_replace(coll: Any) -> None:
    coll.insert({"_id": "k", "v": 1, "old": True})
    assert coll.replace({"_id": "k", "v": 2}) == "k"
    assert coll.get("k") == {"_id": "k", "v": 2}
    with pytest.raises(KeyError):
        coll.replace({"_id": "missing", "v": 3})
    assert "missing" not in coll and len(coll) == 1


def test_replace_on_compound_key(store: shoal.Store) -> None:
    c = store.collection("c", key=("a", "b"))
    c.insert({"a": 1, "b": 2, "v": "x"})
    assert c.replace({"b": 2, "a": 1, "v": "y"}) == (1, 2)
    assert c.get((1, 2)) == {"b": 2, "a": 1, "v": "y"}
    with pytest.raises(KeyError):
        c.replace({"a": 2, "b": 1})


def test_delete(coll: Any) -> None:
    coll.insert_many([{"_id": 1}, {"_id": 2}])
    assert coll.delete(1) is True
    assert coll.delete(1) is False
    assert coll.delete("never") is False
    assert coll.delete(2.0) is True
    assert len(coll) == 0


def test_contains_and_len(coll: Any) -> None:
    assert len(coll) == 0 and 1 not in coll
    coll.insert_many([{"_id": i} for i in range(10)])
    assert len(coll) == 10
    assert 3 in coll and 3.0 in coll and "3" not in coll and True not in coll
    coll.delete(3)
    assert 3 not in coll and len(coll) == 9


def test_iteration_is_in_key_order(coll: Any) -> None:
    keys = [True, b"b", "b", 2.5, None, -(2**70), "a", False, b"a", 1, -0.5, "", b"", 2**64]
    for k in keys:
        coll.insert({"_id": k})
    got = [d["_id"] for d in coll]
    assert [model_key(k) for k in got] == sorted(model_key(k) for k in keys)
    assert coll.find() == list(coll)


def test_returned_documents_are_fresh(coll: Any) -> None:
    doc = {"_id": 1, "list": [1, [2]], "sub": {"x": 1}}
    coll.insert(doc)
    doc["list"].append("caller")
    doc["sub"]["x"] = "caller"
    got = coll.get(1)
    assert got == {"_id": 1, "list": [1, [2]], "sub": {"x": 1}}
    got["list"][1].append(3)
    got["sub"]["y"] = 2
    assert coll.get(1) == {"_id": 1, "list": [1, [2]], "sub": {"x": 1}}
    found = coll.find()[0]
    found["list"].clear()
    assert coll.find_one({"_id": 1}) == {"_id": 1, "list": [1, [2]], "sub": {"x": 1}}
    assert coll.get(1) is not coll.get(1)


# --- find, find_one, count ------------------------------------------------


def test_find_skip_and_limit(coll: Any) -> None:
    coll.insert_many([{"_id": i, "even": i % 2 == 0} for i in range(10)])
    assert ids(coll.find()) == list(range(10))
    assert ids(coll.find(skip=3)) == list(range(3, 10))
    assert ids(coll.find(limit=4)) == [0, 1, 2, 3]
    assert ids(coll.find(skip=8, limit=5)) == [8, 9]
    assert ids(coll.find(skip=20)) == []
    assert ids(coll.find({"even": True}, skip=1, limit=2)) == [2, 4]
    assert ids(coll.find({"even": False}, limit=100)) == [1, 3, 5, 7, 9]
    assert ids(coll.find(None, skip=0, limit=None)) == list(range(10))


def test_many_documents(coll: Any) -> None:
    # More documents than one internal read batch: paging, counting and
    # iteration must not lose or repeat any across batch boundaries.
    n = 2500
    keys = coll.insert_many([{"_id": i, "m": i % 7} for i in range(n)])
    assert keys == list(range(n))
    assert len(coll) == n == coll.count() == coll.count({"m": {"$gte": 0}})
    assert ids(list(coll)) == list(range(n))
    assert ids(coll.find()) == list(range(n))
    assert ids(coll.find({"m": 3})) == list(range(3, n, 7))
    assert coll.count({"m": 3}) == len(range(3, n, 7))
    assert ids(coll.find(skip=1020, limit=10)) == list(range(1020, 1030))
    assert ids(coll.find({"m": 0}, skip=140, limit=20)) == list(range(980, 1120, 7))
    assert ids(coll.find(skip=2040)) == list(range(2040, n))
    assert coll.find_one({"_id": {"$gte": 2047}}) == {"_id": 2047, "m": 2047 % 7}


def test_find_with_limit_zero(coll: Any) -> None:
    # MongoDB reads limit 0 as "no limit", Python slicing as "nothing"; either
    # will do, but the same for every filter (and never a single document).
    coll.insert_many([{"_id": i, "even": i % 2 == 0} for i in range(5)])
    everything = ids(coll.find(limit=0))
    assert everything in ([], [0, 1, 2, 3, 4])
    odd = ids(coll.find({"even": False}, limit=0))
    assert odd == ([] if not everything else [1, 3])
    assert ids(coll.find({"even": True}, skip=1, limit=0)) == ([] if not everything else [2, 4])


def test_find_one_and_count(coll: Any) -> None:
    assert coll.find_one() is None
    assert coll.find_one({"a": 1}) is None
    assert coll.count() == 0 and coll.find() == []
    coll.insert_many([{"_id": 5, "a": 1}, {"_id": 2, "a": 2}, {"_id": 9, "a": 1}])
    assert coll.find_one() == {"_id": 2, "a": 2}
    assert coll.find_one({"a": 1}) == {"_id": 5, "a": 1}
    assert coll.find_one({"a": 3}) is None
    assert coll.count() == 3 and coll.count({"a": 1}) == 2 and coll.count({"a": 0}) == 0


def test_find_on_custom_key_is_in_key_order(store: shoal.Store) -> None:
    c = store.collection("c", key=("name",))
    c.insert_many([{"name": n, "n": len(n)} for n in ["carol", "al", "bob", "Zed"]])
    assert [d["name"] for d in c.find({"n": {"$gte": 3}})] == ["Zed", "bob", "carol"]


def test_closed_store_closes_its_collections(db_path: Path) -> None:
    store = shoal.open(db_path)
    c = store.collection("c")
    c.insert({"_id": 1})
    store.close()
    for call in [
        lambda: c.get(1),
        lambda: c.insert({"_id": 2}),
        lambda: c.find(),
        lambda: c.count(),
        lambda: list(c),
        lambda: len(c),
    ]:
        with pytest.raises(shoal.ClosedError):
            call()
    with shoal.open(db_path) as again:
        assert list(again.collection("c")) == [{"_id": 1}]


# --- property test: CRUD against a dict model -----------------------------

KEYS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.5, None, True, False, "", "a", "b", "ab", b"", b"a"]),
)
OPS = st.lists(
    st.tuples(st.sampled_from(["insert", "put", "replace", "delete", "get"]), KEYS, st.integers()),
    max_size=30,
)


@pytest.fixture(scope="module")
def module_store() -> Iterator[shoal.Store]:
    with shoal.open(durability="memory") as store:
        yield store


_counter = iter(range(10**9))


@settings(max_examples=examples(60), deadline=None)
@given(OPS)
def test_crud_matches_a_dict_model(module_store: shoal.Store, ops: list[Any]) -> None:
    coll = module_store.collection(f"m{next(_counter)}")
    model: dict[Any, dict[str, Any]] = {}
    for op, key, v in ops:
        doc = {"_id": key, "v": v}
        mk = model_key(key)
        if op == "insert":
            if mk in model:
                with pytest.raises(shoal.DuplicateKeyError):
                    coll.insert(doc)
            else:
                assert same_key(_as_key(coll.insert(doc)), key)
                model[mk] = doc
        elif op == "put":
            assert same_key(_as_key(coll.put(doc)), key)
            model[mk] = doc
        elif op == "replace":
            if mk in model:
                assert same_key(_as_key(coll.replace(doc)), key)
                model[mk] = doc
            else:
                with pytest.raises(KeyError):
                    coll.replace(doc)
        elif op == "delete":
            assert coll.delete(key) is (mk in model)
            model.pop(mk, None)
        else:
            got = coll.get(key)
            assert (got is None) == (mk not in model)
            if got is not None:
                assert got["v"] == model[mk]["v"]
                assert same_key(_as_key(got["_id"]), key)
        assert (key in coll) == (mk in model)
    want = [model[k] for k in sorted(model)]
    got_docs = list(coll)
    assert [d["v"] for d in got_docs] == [d["v"] for d in want]
    assert [model_key(_as_key(d["_id"])) for d in got_docs] == sorted(model)
    assert len(coll) == len(model) == coll.count()
    assert coll.find() == got_docs


def _as_key(v: Any) -> Any:
    """A key read back from a document (tuples come back as lists)."""
    return tuple(_as_key(x) for x in v) if isinstance(v, list) else v


@pytest.mark.parametrize("indexed", [False, True])
def test_put_many_inserts_or_replaces_atomically(indexed: bool) -> None:
    with shoal.open(durability="memory") as s:
        c = s.collection("c")
        if indexed:
            c.create_index("v", unique=True)
        c.insert({"_id": 1, "v": "a"})
        events: list = []
        c.watch(events.append)
        keys = c.put_many([{"_id": 1, "v": "b"}, {"_id": 2, "v": "c"}, {"_id": 2, "v": "d"}])
        assert keys == [1, 2, 2]
        assert c.find() == [{"_id": 1, "v": "b"}, {"_id": 2, "v": "d"}]
        assert [(e.action, e.key) for e in events] == [("replace", 1), ("insert", 2)]
        if indexed:
            with pytest.raises(shoal.DuplicateKeyError):
                c.put_many([{"_id": 3, "v": "x"}, {"_id": 4, "v": "b"}])
            assert c.get(3) is None and c.count({"v": "b"}) == 1
        with pytest.raises(TypeError):
            c.put_many([{"_id": 5}, "not a dict"])
        assert c.get(5) is None


def test_get_many_reads_in_order_with_defaults() -> None:
    with shoal.open(durability="memory") as s:
        c = s.collection("c", key=("a", "b"))
        c.insert_many([{"a": 1, "b": 2}, {"a": 1, "b": 3}])
        assert c.get_many([(1, 3), (9, 9), (1, 2)], default="-") == [
            {"a": 1, "b": 3},
            "-",
            {"a": 1, "b": 2},
        ]
        assert c.get_many([]) == []
        with pytest.raises(TypeError):
            c.get_many([1])  # a two-field key needs a tuple
        with s.transaction() as tx:
            tx[c].insert({"a": 5, "b": 5})
            assert tx[c].get_many([(5, 5)]) == [{"a": 5, "b": 5}]
            assert c.get_many([(5, 5)]) == [None]
