"""Point-in-time snapshots and atomic write batches."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import pytest
import shoal
from _util import LETTERS, assert_all_raise


class Boom(Exception):
    pass


def mutate(letters: shoal.KV) -> None:
    letters["a"] = "changed"
    del letters["b"]
    letters["bb"] = "new"
    letters["z"] = "last"


# -- snapshots -----------------------------------------------------------


def test_kv_snapshot_is_a_frozen_mapping(letters: shoal.KV) -> None:
    with letters.snapshot() as snap:
        assert isinstance(snap, shoal.SnapshotKV)
        assert isinstance(snap, Mapping)
        assert not isinstance(snap, MutableMapping)
        assert snap.kv.name == letters.name
        assert isinstance(snap.snapshot, shoal.Snapshot)
        mutate(letters)
        assert snap["a"] == 0
        assert snap["b"] == 1
        assert "b" in snap
        assert "bb" not in snap
        assert snap.get("bb") is None
        assert snap.get("bb", "dflt") == "dflt"
        with pytest.raises(KeyError):
            snap["z"]  # noqa: B018
        assert len(snap) == 10
        assert list(snap) == list(LETTERS)
        assert list(reversed(snap)) == list(LETTERS)[::-1]
        assert dict(snap.items()) == LETTERS
        assert list(snap.values()) == list(LETTERS.values())
        assert snap.first() == ("a", 0)
        assert snap.last() == ("j", 9)
        assert list(snap["b":"d"]) == [("b", 1), ("c", 2)]
        assert list(snap["d":"b"]) == [("d", 3), ("c", 2)]
        assert list(snap[::-1])[0] == ("j", 9)
        assert list(snap.cursor(prefix="b", values=False)) == ["b"]
        assert list(snap.cursor("a", "c", include_start=False, include_stop=True)) == [
            ("b", 1),
            ("c", 2),
        ]
        assert snap == LETTERS
    assert letters["a"] == "changed"
    assert letters["z"] == "last"


def test_snapshot_is_read_only(letters: shoal.KV) -> None:
    with letters.snapshot() as snap:
        with pytest.raises(TypeError):
            snap["a"] = 1  # type: ignore[index]
        with pytest.raises((TypeError, AttributeError)):
            del snap["a"]  # type: ignore[attr-defined]
    assert dict(letters.items()) == LETTERS


def test_snapshot_cursor_created_after_writes_still_sees_snapshot(letters: shoal.KV) -> None:
    snap = letters.snapshot()
    mutate(letters)
    cur = snap.cursor()
    letters["c"] = "later"
    assert list(cur) == list(LETTERS.items())
    snap.close()


def test_snapshot_close(letters: shoal.KV) -> None:
    snap = letters.snapshot()
    cur = snap.cursor()
    snap.close()
    assert_all_raise(
        shoal.ClosedError,
        {
            'snap["a"]': lambda: snap["a"],
            'snap.get("a")': lambda: snap.get("a"),
            '"a" in snap': lambda: "a" in snap,
            "len(snap)": lambda: len(snap),
            "list(snap)": lambda: list(snap),
            "snap.first()": lambda: snap.first(),
            "snap.last()": lambda: snap.last(),
            "snap.cursor()": lambda: snap.cursor(),
            'list(snap["a":"c"])': lambda: list(snap["a":"c"]),
        },
    )
    # A cursor opened from the snapshot keeps working, or reports the close;
    # it never returns other data.
    try:
        assert list(cur) == list(LETTERS.items())
    except shoal.ClosedError:
        pass
    snap.close()  # idempotent
    assert dict(letters.items()) == LETTERS


def test_store_snapshot_across_spaces(store: shoal.Store) -> None:
    a = store.kv("a")
    b = store.kv("b", key="str", value="str")
    a.update({1: "one", 2: "two"})
    b["x"] = "ex"
    with store.snapshot() as snap:
        assert isinstance(snap, shoal.Snapshot)
        assert snap.closed is False
        a[3] = "three"
        del a[1]
        b["x"] = "changed"
        sa = snap.view(a)
        sb = snap[b]
        assert isinstance(sa, shoal.SnapshotKV)
        assert dict(sa.items()) == {1: "one", 2: "two"}
        assert dict(sb.items()) == {"x": "ex"}
        assert snap.get(a, 1) == "one"
        assert snap.get(a, 3) is None
        assert snap.get(a, 3, "dflt") == "dflt"
        assert snap.get(b, "x") == "ex"
    assert snap.closed
    with pytest.raises(shoal.ClosedError):
        snap.get(a, 1)
    with pytest.raises(shoal.ClosedError):
        sa[1]  # noqa: B018
    assert dict(a.items()) == {2: "two", 3: "three"}


def test_snapshot_sees_space_created_later(store: shoal.Store) -> None:
    snap = store.snapshot()
    late = store.kv("late")
    late["k"] = 1
    assert len(snap.view(late)) == 0
    assert snap.get(late, "k") is None
    snap.close()


def test_many_snapshots(letters: shoal.KV) -> None:
    snaps = []
    for i in range(20):
        letters["a"] = i
        snaps.append(letters.snapshot())
    for i, s in enumerate(snaps):
        assert s["a"] == i
        s.close()


# -- batches -------------------------------------------------------------


def test_batch_commits_on_exit(store: shoal.Store, letters: shoal.KV) -> None:
    other = store.kv("other", key="str", value="bytes")
    with store.batch() as b:
        assert isinstance(b, shoal.Batch)
        assert len(b) == 0
        b.put(letters, "k", {"v": 1})
        b.put(other, "raw", b"\x00")
        b.delete(letters, "a")
        b.delete(letters, "not-there")  # blind delete: no error
        assert len(b) == 4
        # Nothing is visible before the commit.
        assert "k" not in letters
        assert letters["a"] == 0
        assert "raw" not in other
    assert letters["k"] == {"v": 1}
    assert "a" not in letters
    assert other["raw"] == b"\x00"


def test_batch_discarded_on_exception(store: shoal.Store, letters: shoal.KV) -> None:
    with pytest.raises(Boom), store.batch() as b:
        b.put(letters, "k", 1)
        b.delete(letters, "a")
        raise Boom
    assert dict(letters.items()) == LETTERS


def test_batch_explicit_commit(store: shoal.Store, letters: shoal.KV) -> None:
    b = store.batch()
    b.put(letters, "k", 1)
    b.put(letters, "k", 2)
    b.delete(letters, "b")
    b.commit()
    assert letters["k"] == 2
    assert "b" not in letters


def test_batch_last_write_wins(store: shoal.Store, letters: shoal.KV) -> None:
    with store.batch() as b:
        b.put(letters, "a", "first")
        b.delete(letters, "a")
        b.put(letters, "a", "second")
        b.put(letters, "c", "x")
        b.delete(letters, "c")
    assert letters["a"] == "second"
    assert "c" not in letters


def test_batch_rejects_bad_items_at_put(store: shoal.Store, letters: shoal.KV) -> None:
    raw = store.kv("raw", key="bytes", value="bytes")
    with store.batch() as b:
        b.put(letters, "ok", 1)
        with pytest.raises(TypeError):
            b.put(letters, "bad", object())
        with pytest.raises(TypeError):
            b.put(raw, "str key", b"v")
        with pytest.raises(TypeError):
            b.put(raw, b"k", "str value")
        with pytest.raises(TypeError):
            b.delete(letters, {"dict": "key"})
        with pytest.raises(shoal.InvalidArgumentError):
            b.put(letters, b"k" * shoal.MAX_KEY_SIZE, 1)
        assert len(b) == 1
    assert dict(letters.items()) == dict(LETTERS, ok=1)
    assert len(raw) == 0


def test_large_batch(store: shoal.Store, kv: shoal.KV) -> None:
    with store.batch() as b:
        for i in range(10_000):
            b.put(kv, i, "x" * 50)
        assert len(b) == 10_000
    assert len(kv) == 10_000
    assert kv.last() == (9999, "x" * 50)


def test_spaces_of_another_store_are_refused():
    with shoal.open() as a, shoal.open() as b:
        ka, kb = a.kv("x"), b.kv("x")
        ka["k"] = 1
        kb["k"] = 2
        with pytest.raises(shoal.InvalidArgumentError):
            a.transaction().put(kb, "k", 3)
        with pytest.raises(shoal.InvalidArgumentError):
            a.snapshot().get(kb, "k")
        with pytest.raises(shoal.InvalidArgumentError), a.batch() as batch:
            batch.put(kb, "k", 3)
        with pytest.raises(shoal.InvalidArgumentError):
            a.transaction().view(kb)
        assert ka["k"] == 1 and kb["k"] == 2
