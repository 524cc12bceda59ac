"""Error paths: every bad call raises the documented error and writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import shoal
from _util import LETTERS, dir_listing


def test_exception_hierarchy() -> None:
    for cls in [
        shoal.ClosedError,
        shoal.LockedError,
        shoal.ConflictError,
        shoal.CorruptionError,
        shoal.InvalidArgumentError,
        shoal.StorageError,
    ]:
        assert issubclass(cls, shoal.Error)
    assert issubclass(shoal.Error, Exception)
    assert issubclass(shoal.InvalidArgumentError, ValueError)
    assert not issubclass(shoal.ClosedError, ValueError)


def test_limits_are_exported() -> None:
    assert shoal.MAX_KEY_SIZE == 65535
    assert shoal.MAX_VALUE_SIZE == 256 * 1024 * 1024
    assert isinstance(shoal.__version__, str) and shoal.__version__


BAD_KEYS = {
    "any": [[1], {"a": 1}, object(), {1}, 1j, (1, [2]), ("a", {"b": 1})],
    "bytes": ["str", 1, None, (b"a",), [b"a"]],
    "str": [b"bytes", 1, None, ("a",), 1.5],
    "int": ["1", 1.5, b"1", None, (1,)],
}
GOOD_KEY = {"any": "k", "bytes": b"k", "str": "k", "int": 7}


@pytest.mark.parametrize(
    ("codec", "bad"),
    [(codec, bad) for codec, keys in BAD_KEYS.items() for bad in keys],
    ids=lambda x: repr(x)[:20],
)
def test_wrong_key_type_is_a_type_error(store: shoal.Store, codec: str, bad: object) -> None:
    kv = store.kv("t", key=codec)
    good = GOOD_KEY[codec]
    kv[good] = "before"
    with pytest.raises(TypeError):
        kv[bad] = 1
    with pytest.raises(TypeError):
        kv.update([(good, "changed"), (bad, 1)])
    with pytest.raises(TypeError):
        kv.delete_many([good, bad])
    with pytest.raises(TypeError):
        kv.setdefault(bad, 1)
    with pytest.raises(TypeError), store.batch() as b:
        b.put(kv, bad, 1)
    with pytest.raises(TypeError), kv.transaction() as tx:
        tx[bad] = 1
    assert dict(kv.items()) == {good: "before"}
    assert len(kv) == 1


BAD_VALUES = {
    "msgpack": [object(), {1, 2}, frozenset([1]), 1j, [1, object()], {"a": {"b": object()}}],
    "bytes": ["str", 1, None, [b"x"]],
    "str": [b"bytes", 1, None, ["x"]],
    "json": [b"bytes", object(), {1, 2}],
}


@pytest.mark.parametrize(
    ("codec", "bad"),
    [(codec, bad) for codec, values in BAD_VALUES.items() for bad in values],
    ids=lambda x: repr(x)[:20],
)
def test_unsupported_value_is_a_type_error(store: shoal.Store, codec: str, bad: object) -> None:
    kv = store.kv("t", value=codec)
    good = {"msgpack": [1], "bytes": b"v", "str": "v", "json": {"v": 1}}[codec]
    kv["k"] = good
    with pytest.raises(TypeError):
        kv["k"] = bad
    with pytest.raises(TypeError):
        kv["new"] = bad
    with pytest.raises(TypeError):
        kv.setdefault("new", bad)
    with pytest.raises(TypeError):
        kv.update({"k2": good, "k3": bad, "k4": good})
    with pytest.raises(TypeError), store.batch() as b:
        b.put(kv, "k5", good)
        b.put(kv, "k6", bad)
    assert dict(kv.items()) == {"k": good}


def test_update_is_atomic(letters: shoal.KV) -> None:
    def pairs():
        yield "a", "changed"
        yield "new", 1
        yield "bad", object()
        yield "after", 2

    with pytest.raises(TypeError):
        letters.update(pairs())
    with pytest.raises(TypeError):
        letters.update({"x": 1}, y=object())
    with pytest.raises(TypeError):
        letters.update({"x": 1, "y": {2, 3}})
    assert dict(letters.items()) == LETTERS


def test_update_with_non_pairs_fails_cleanly(letters: shoal.KV) -> None:
    with pytest.raises((TypeError, ValueError)):
        letters.update([("a", 1), ("b",)])
    with pytest.raises((TypeError, ValueError)):
        letters.update([("a", 1), 5])
    assert dict(letters.items()) == LETTERS


def test_delete_many_is_atomic(letters: shoal.KV) -> None:
    with pytest.raises(TypeError):
        letters.delete_many(["a", "b", ["bad"], "c"])
    assert dict(letters.items()) == LETTERS


BAD_NAMES = [
    "",
    ".hidden",
    "_meta",
    "a/b",
    "../evil",
    "..",
    ".",
    "a\\b",
    "/abs",
    "sp ace",
    "\u00e9",
    "a\x00b",
    "x" * 201,
    "tab\t",
    "new\nline",
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_invalid_space_names(tmp_path: Path, name: str) -> None:
    db = tmp_path / "db"
    with shoal.open(db) as store:
        store.kv("ok")["k"] = 1
        parent_before = sorted(os.listdir(tmp_path))
        store_before = dir_listing(db)
        with pytest.raises(shoal.InvalidArgumentError) as info:
            store.kv(name)
        assert isinstance(info.value, ValueError)
        with pytest.raises(shoal.InvalidArgumentError):
            store.drop_kv(name)
        assert sorted(os.listdir(tmp_path)) == parent_before
        assert sorted(os.listdir(tmp_path.parent)).count(tmp_path.name) == 1
        assert not (tmp_path / "evil").exists()
        assert dir_listing(db) == store_before
        assert store.spaces() == ["ok"]
        assert store.kv("ok")["k"] == 1


@pytest.mark.parametrize("name", ["a", "x" * 200, "A-b_c.9", "0", "a.", "a..b", "-x"])
def test_valid_space_names(store: shoal.Store, name: str) -> None:
    kv = store.kv(name)
    kv["k"] = 1
    assert store.spaces() == [name]
    assert kv.name == name


def test_space_name_must_be_a_str(store: shoal.Store) -> None:
    store.kv("keep")["k"] = 1
    with pytest.raises(TypeError):
        store.kv(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.kv(1)  # type: ignore[arg-type]
    assert store.spaces() == ["keep"]
    assert dict(store.kv("keep").items()) == {"k": 1}


def test_key_size_limit_bytes_codec(store: shoal.Store) -> None:
    kv = store.kv("raw", key="bytes", value="bytes")
    kv[b"small"] = b"1"
    biggest = b"k" * shoal.MAX_KEY_SIZE
    kv[biggest] = b"2"
    assert kv[biggest] == b"2"
    too_big = b"k" * (shoal.MAX_KEY_SIZE + 1)
    with pytest.raises(shoal.InvalidArgumentError):
        kv[too_big] = b"3"
    with pytest.raises(shoal.InvalidArgumentError):
        kv.update({b"other": b"4", too_big: b"3"})
    assert dict(kv.items()) == {b"small": b"1", biggest: b"2"}


def test_key_size_limit_any_codec(kv: shoal.KV) -> None:
    kv["small"] = 1
    kv["k" * 60_000] = 2
    for too_big in ["k" * 70_000, b"k" * 70_000, ("k" * 40_000, "k" * 40_000)]:
        with pytest.raises(shoal.InvalidArgumentError):
            kv[too_big] = 3
        with pytest.raises(shoal.InvalidArgumentError), kv.transaction() as tx:
            tx[too_big] = 3
    assert dict(kv.items()) == {"small": 1, "k" * 60_000: 2}


def test_empty_bytes_key_is_refused(store: shoal.Store) -> None:
    kv = store.kv("raw", key="bytes")
    kv[b"a"] = 1
    with pytest.raises(shoal.InvalidArgumentError):
        kv[b""] = 1
    with pytest.raises(shoal.InvalidArgumentError):
        kv.update({b"b": 2, b"": 1})
    assert dict(kv.items()) == {b"a": 1}


def test_value_size_limit(store: shoal.Store) -> None:
    kv = store.kv("raw", key="str", value="bytes")
    kv["small"] = b"1"
    too_big = bytes(shoal.MAX_VALUE_SIZE + 1)
    with pytest.raises(shoal.InvalidArgumentError):
        kv["big"] = too_big
    with pytest.raises(shoal.InvalidArgumentError):
        kv.update({"other": b"2", "big": too_big})
    del too_big
    assert dict(kv.items()) == {"small": b"1"}


def test_bad_slice_bound_types(store: shoal.Store) -> None:
    kv = store.kv("s", key="str")
    kv["a"] = 1
    with pytest.raises(TypeError):
        list(kv[1:5])
    with pytest.raises(TypeError):
        list(kv.cursor(prefix=b"a"))
    with pytest.raises(TypeError):
        del kv[b"a":b"z"]
    assert dict(kv.items()) == {"a": 1}


def test_cursor_seek_with_bad_key_type(store: shoal.Store) -> None:
    kv = store.kv("s", key="str")
    kv.update({"a": 1, "b": 2})
    cur = kv.cursor(values=False)
    with pytest.raises(TypeError):
        cur.seek(5)
    assert list(cur) == ["a", "b"]


def test_errors_leave_the_store_usable(letters: shoal.KV) -> None:
    for bad in [lambda: letters.__setitem__([1], 1), lambda: letters.__setitem__("x", {1})]:
        with pytest.raises(TypeError):
            bad()
        letters["after"] = "ok"
        assert letters["after"] == "ok"
    with pytest.raises(KeyError):
        letters["missing"]  # noqa: B018
    with pytest.raises(KeyError):
        del letters["missing"]
    with pytest.raises(KeyError):
        letters.pop("missing")
    assert dict(letters.items()) == dict(LETTERS, after="ok")


def test_open_on_a_file_fails_cleanly(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_bytes(b"not a store")
    with pytest.raises(shoal.Error):
        shoal.open(f)
    assert f.read_bytes() == b"not a store"


def test_pickle_codec_only_when_asked(store: shoal.Store) -> None:
    kv = store.kv("t")
    with pytest.raises(TypeError):
        kv["k"] = {1, 2}
    p = store.kv("p", value="pickle")
    p["k"] = {1, 2}
    assert p["k"] == {1, 2}
    assert len(kv) == 0
