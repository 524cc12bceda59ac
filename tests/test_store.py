"""Store lifecycle: open/close, temporary stores, locking, spaces, stats, backup."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import shoal
from _util import DURABILITIES, assert_all_raise


def test_open_creates_directory_and_reports_properties(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        assert isinstance(store, shoal.Store)
        assert os.path.isdir(store.path)
        assert os.path.samefile(store.path, db_path)
        assert store.temporary is False
        assert store.durability == "flush"
        assert store.closed is False
        assert "closed" not in repr(store)
    assert store.closed is True
    assert "closed" in repr(store)
    # A named store survives its close.
    assert db_path.is_dir()


@pytest.mark.parametrize("durability", DURABILITIES)
def test_durability_property(db_path: Path, durability: str) -> None:
    with shoal.open(db_path, durability=durability) as store:
        assert store.durability == durability


def test_invalid_durability_is_rejected(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        store.kv("t")["a"] = 1
    with pytest.raises(shoal.InvalidArgumentError):
        shoal.open(db_path, durability="sometimes")
    # The failed open neither damaged the store nor kept it locked.
    with shoal.open(db_path) as store:
        assert dict(store.kv("t").items()) == {"a": 1}


def test_negative_cache_size_is_rejected(db_path: Path) -> None:
    # Reading of the contract: a bad option is an InvalidArgumentError.
    with shoal.open(db_path) as store:
        store.kv("t")["a"] = 1
    with pytest.raises(shoal.InvalidArgumentError):
        shoal.open(db_path, cache_size=-1)
    with shoal.open(db_path) as store:
        assert dict(store.kv("t").items()) == {"a": 1}


def test_cache_size_is_accepted(db_path: Path) -> None:
    with shoal.open(db_path, cache_size=1024 * 1024) as store:
        kv = store.kv("t")
        kv["a"] = 1
        assert kv["a"] == 1


def test_temporary_store_is_removed_on_close() -> None:
    store = shoal.open()
    path = store.path
    assert store.temporary is True
    assert os.path.isdir(path)
    kv = store.kv("t")
    kv.update({i: "x" * 100 for i in range(100)})
    store.kv("other")["k"] = "v"
    store.close()
    assert not os.path.exists(path)


def test_temporary_store_as_context_manager() -> None:
    with shoal.open() as store:
        path = store.path
        store.kv("t")["a"] = 1
    assert store.closed
    assert not os.path.exists(path)


def test_temporary_stores_are_distinct() -> None:
    with shoal.open() as a, shoal.open() as b:
        assert a.path != b.path
        a.kv("t")["k"] = 1
        assert "k" not in b.kv("t")


def test_close_is_idempotent(db_path: Path) -> None:
    store = shoal.open(db_path)
    store.kv("t")["a"] = 1
    store.close()
    store.close()
    assert store.closed
    with shoal.open(db_path) as again:
        assert again.kv("t")["a"] == 1


def test_context_manager_closes_on_exception(db_path: Path) -> None:
    with pytest.raises(RuntimeError), shoal.open(db_path) as store:
        store.kv("t")["a"] = 1
        raise RuntimeError("boom")
    assert store.closed
    with shoal.open(db_path) as again:
        assert again.kv("t")["a"] == 1


@pytest.mark.parametrize("durability", DURABILITIES)
def test_data_survives_close_and_reopen(db_path: Path, durability: str) -> None:
    data = {f"key{i:04d}": {"n": i, "blob": b"\x00\xff" * i} for i in range(500)}
    with shoal.open(db_path, durability=durability) as store:
        kv = store.kv("t")
        kv.update(data)
        kv["single"] = [1, 2, 3]
        del kv["key0007"]
        store.kv("second", key="str", value="json")["x"] = {"y": [1, 2]}
    expected = dict(data, single=[1, 2, 3])
    del expected["key0007"]
    with shoal.open(db_path, durability=durability) as store:
        kv = store.kv("t")
        assert dict(kv.items()) == expected
        assert len(kv) == len(expected)
        assert store.kv("second")["x"] == {"y": [1, 2]}


def test_reopen_with_other_durability(db_path: Path) -> None:
    with shoal.open(db_path, durability="memory") as store:
        store.kv("t")["a"] = 1
    with shoal.open(db_path, durability="sync") as store:
        assert store.kv("t")["a"] == 1
        store.kv("t")["b"] = 2
    with shoal.open(db_path) as store:
        assert dict(store.kv("t").items()) == {"a": 1, "b": 2}


def test_second_open_in_same_process_is_locked(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        store.kv("t")["a"] = 1
        with pytest.raises(shoal.LockedError, match="already open here"):
            shoal.open(db_path)
        # The failed open left the first store untouched.
        assert store.kv("t")["a"] == 1
        assert not store.closed
    # Once closed, the directory can be opened again.
    with shoal.open(db_path) as again:
        assert again.kv("t")["a"] == 1


_OPEN_IN_CHILD = textwrap.dedent(
    """
    import sys, time
    import shoal
    t0 = time.monotonic()
    try:
        s = shoal.open(sys.argv[1])
    except shoal.LockedError as exc:
        print("LOCKED", time.monotonic() - t0, exc)
    else:
        print("OPENED", s.kv("t").get("a"))
        s.close()
    """
)


def test_second_process_is_locked_out(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        store.kv("t")["a"] = 1
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", _OPEN_IN_CHILD, str(db_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        elapsed = time.monotonic() - started
        print(f"second process got: {proc.stdout.strip()!r} after {elapsed:.3f}s (incl. startup)")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("LOCKED"), proc.stdout + proc.stderr
        # The error names the process holding the lock.
        assert proc.stdout.rstrip().endswith(f"is locked by process {os.getpid()}"), proc.stdout
        assert store.kv("t")["a"] == 1
    # After close, another process can open it and sees the data.
    proc = subprocess.run(
        [sys.executable, "-c", _OPEN_IN_CHILD, str(db_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OPENED 1", proc.stdout + proc.stderr


def test_spaces_lists_sorted_names(store: shoal.Store) -> None:
    assert store.spaces() == []
    for name in ["zeta", "alpha", "Mid", "b-2.x"]:
        store.kv(name)
    assert store.spaces() == sorted(["zeta", "alpha", "Mid", "b-2.x"])
    # Opening an existing space again does not duplicate it.
    store.kv("alpha")
    assert store.spaces() == sorted(["zeta", "alpha", "Mid", "b-2.x"])


def test_spaces_persist(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        store.kv("one")
        store.kv("two")["k"] = 1
    with shoal.open(db_path) as store:
        assert store.spaces() == ["one", "two"]


def test_drop_kv(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        keep = store.kv("keep")
        keep["k"] = "kept"
        doomed = store.kv("doomed")
        doomed.update({i: i for i in range(50)})
        assert store.drop_kv("doomed") is True
        assert store.spaces() == ["keep"]
        assert store.drop_kv("doomed") is False
        assert store.drop_kv("never-existed") is False
        # A space of the same name starts empty, and may take other codecs.
        fresh = store.kv("doomed", key="str", value="str")
        assert len(fresh) == 0
        fresh["a"] = "b"
        assert keep["k"] == "kept"
    with shoal.open(db_path) as store:
        assert store.spaces() == ["doomed", "keep"]
        assert dict(store.kv("doomed").items()) == {"a": "b"}
        assert store.kv("doomed").key_codec == "str"


def test_dropped_space_handle_is_unusable(store: shoal.Store) -> None:
    kv = store.kv("doomed")
    kv["a"] = 1
    keep = store.kv("keep")
    keep["k"] = "v"
    store.drop_kv("doomed")
    with pytest.raises(shoal.Error):
        kv["a"]  # noqa: B018
    with pytest.raises(shoal.Error):
        kv["b"] = 2
    assert store.spaces() == ["keep"]
    assert dict(keep.items()) == {"k": "v"}


def test_sync_and_compact_keep_data(store: shoal.Store) -> None:
    kv = store.kv("t")
    kv.update({i: str(i) * 10 for i in range(2000)})
    del kv[100:200]
    store.sync()
    kv.sync()
    store.compact()
    assert len(kv) == 1900
    assert kv[99] == "99" * 10
    assert 150 not in kv
    assert kv[1999] == "1999" * 10


def test_stats(store: shoal.Store) -> None:
    a = store.kv("a")
    a.update({i: "v" * 100 for i in range(100)})
    store.kv("b")
    store.sync()
    stats = store.stats()
    assert isinstance(stats, dict)
    for key in ["spaces", "disk_bytes", "journal_count", "write_buffer_bytes", "cache_bytes"]:
        assert key in stats, key
    for key in ["disk_bytes", "journal_count", "write_buffer_bytes", "cache_bytes"]:
        assert isinstance(stats[key], int) and stats[key] >= 0, (key, stats[key])
    spaces = {s["name"]: s for s in stats["spaces"]}
    assert set(spaces) == {"a", "b"}
    for s in stats["spaces"]:
        assert isinstance(s["approximate_items"], int) and s["approximate_items"] >= 0
        assert isinstance(s["disk_bytes"], int) and s["disk_bytes"] >= 0
    assert spaces["a"]["approximate_items"] > 0
    assert spaces["b"]["approximate_items"] == 0


@pytest.mark.parametrize("dest_state", ["missing", "empty"])
def test_backup(tmp_path: Path, db_path: Path, dest_state: str) -> None:
    dest = tmp_path / "backup"
    if dest_state == "empty":
        dest.mkdir()
    data = {i: {"n": i} for i in range(300)}
    with shoal.open(db_path) as store:
        store.kv("nums").update(data)
        store.kv("strs", key="str", value="str").update({"x": "1", "y": "2"})
        store.kv("empty")
        store.backup(dest)
        # The original stays usable after a backup, and later writes do
        # not reach the backup.
        store.kv("nums")["later"] = 1
    with shoal.open(dest) as copy:
        assert copy.spaces() == ["empty", "nums", "strs"]
        assert dict(copy.kv("nums").items()) == data
        strs = copy.kv("strs")
        assert (strs.key_codec, strs.value_codec) == ("str", "str")
        assert dict(strs.items()) == {"x": "1", "y": "2"}
        assert len(copy.kv("empty")) == 0
    with shoal.open(db_path) as store:
        assert store.kv("nums")["later"] == 1


def test_backup_of_temporary_store(tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    with shoal.open() as store:
        store.kv("t")["a"] = 1
        store.backup(str(dest))
    with shoal.open(dest) as copy:
        assert copy.temporary is False
        assert dict(copy.kv("t").items()) == {"a": 1}


def test_backup_into_non_empty_directory_is_refused(tmp_path: Path, db_path: Path) -> None:
    # Reading of the contract: a bad destination is a bad argument.
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / "precious.txt").write_text("keep me")
    with shoal.open(db_path) as store:
        store.kv("t")["a"] = 1
        with pytest.raises(shoal.InvalidArgumentError):
            store.backup(dest)
        assert store.kv("t")["a"] == 1
    assert os.listdir(dest) == ["precious.txt"]
    assert (dest / "precious.txt").read_text() == "keep me"


def test_kv_close_closes_only_that_handle(store: shoal.Store) -> None:
    kv = store.kv("t")
    kv["a"] = 1
    other = store.kv("t")
    with kv:
        assert kv.closed is False
    assert kv.closed is True
    with pytest.raises(shoal.ClosedError):
        kv["a"]  # noqa: B018
    with pytest.raises(shoal.ClosedError):
        kv["b"] = 2
    with pytest.raises(shoal.ClosedError):
        len(kv)
    kv.close()  # idempotent
    assert not store.closed
    assert other["a"] == 1
    assert "b" not in other
    assert store.kv("t")["a"] == 1


def test_everything_is_closed_after_store_close(db_path: Path) -> None:
    store = shoal.open(db_path)
    kv = store.kv("t")
    kv.update({i: i for i in range(10)})
    cursor = kv.cursor()
    assert next(cursor) == (0, 0)
    tx = kv.transaction()
    tx[100] = 100
    store_tx = store.transaction()
    snap = kv.snapshot()
    store_snap = store.snapshot()
    batch = store.batch()
    batch.put(kv, 200, 200)
    store.close()

    assert kv.closed
    assert_all_raise(
        shoal.ClosedError,
        {
            "kv[1]": lambda: kv[1],
            "kv.__setitem__(1, 2)": lambda: kv.__setitem__(1, 2),
            "kv.__delitem__(1)": lambda: kv.__delitem__(1),
            "1 in kv": lambda: 1 in kv,
            "len(kv)": lambda: len(kv),
            "list(kv)": lambda: list(kv),
            "kv.get(1)": lambda: kv.get(1),
            "kv.first()": lambda: kv.first(),
            "kv.cursor()": lambda: kv.cursor(),
            "list(kv[0:5])": lambda: list(kv[0:5]),
            "kv.update({1: 1})": lambda: kv.update({1: 1}),
            "kv.transaction()": lambda: kv.transaction(),
            "kv.snapshot()": lambda: kv.snapshot(),
            "next(cursor)": lambda: next(cursor),
            "cursor.fetch(2)": lambda: cursor.fetch(2),
            "tx[1]": lambda: tx[1],
            "tx.__setitem__(1, 1)": lambda: tx.__setitem__(1, 1),
            "tx.commit()": lambda: tx.commit(),
            "store_tx.get(kv, 1)": lambda: store_tx.get(kv, 1),
            "store_tx.put(kv, 1, 1)": lambda: store_tx.put(kv, 1, 1),
            "snap[1]": lambda: snap[1],
            "len(snap)": lambda: len(snap),
            "store_snap.get(kv, 1)": lambda: store_snap.get(kv, 1),
            "batch.commit()": lambda: batch.commit(),
            'store.kv("t")': lambda: store.kv("t"),
            'store.kv("new")': lambda: store.kv("new"),
            "store.spaces()": lambda: store.spaces(),
            "store.batch()": lambda: store.batch(),
            "store.transaction()": lambda: store.transaction(),
            "store.snapshot()": lambda: store.snapshot(),
            "store.sync()": lambda: store.sync(),
            "store.stats()": lambda: store.stats(),
        },
    )

    # Nothing written after the close (or left pending) reached the disk.
    with shoal.open(db_path) as again:
        assert dict(again.kv("t").items()) == {i: i for i in range(10)}
        assert again.spaces() == ["t"]


def test_many_spaces(db_path: Path) -> None:
    names = [f"space-{i:03d}" for i in range(60)]
    with shoal.open(db_path) as store:
        for i, name in enumerate(names):
            store.kv(name, key="int")[i] = name
    with shoal.open(db_path) as store:
        assert store.spaces() == names
        for i, name in enumerate(names):
            assert dict(store.kv(name).items()) == {i: name}


@pytest.mark.parametrize("durability", DURABILITIES)
def test_large_values_survive_reopen(db_path: Path, durability: str) -> None:
    big = bytes(range(256)) * (20 * 1024)  # 5 MiB
    with shoal.open(db_path, durability=durability) as store:
        kv = store.kv("blobs", key="str", value="bytes")
        kv["big"] = big
        kv["small"] = b"s"
        kv["big2"] = big[::-1]
        assert kv["big"] == big
    with shoal.open(db_path) as store:
        kv = store.kv("blobs")
        assert kv["big"] == big
        assert kv["big2"] == big[::-1]
        assert list(kv) == ["big", "big2", "small"]


def test_overwrites_and_deletes_after_compaction(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        kv = store.kv("t", key="int")
        for rnd in range(3):
            kv.update((i, (rnd, i)) for i in range(3000))
            del kv[rnd * 1000 : rnd * 1000 + 500]
            store.compact()
        assert len(kv) == 3000 - 500
    with shoal.open(db_path) as store:
        kv = store.kv("t")
        assert len(kv) == 2500
        assert kv[2999] == [2, 2999]
        assert 2100 not in kv
        assert 100 in kv  # rewritten by the later rounds


def test_drop_kv_with_open_readers_and_writers(store: shoal.Store) -> None:
    # Handles on a dropped space fail with a shoal error (or finish from
    # their point in time); they never crash, and other spaces are untouched.
    keep = store.kv("keep")
    keep["k"] = "v"
    doomed = store.kv("doomed")
    doomed.update({i: i for i in range(100)})
    cur = doomed.cursor()
    assert next(cur) == (0, 0)
    snap = doomed.snapshot()
    tx = store.transaction()
    tx.put(keep, "from-tx", 1)
    tx.put(doomed, "from-tx", 1)
    assert store.drop_kv("doomed") is True

    def either(call, expected) -> None:
        try:
            result = call()
        except shoal.Error:
            return
        assert result == expected

    either(lambda: cur.fetch(3), [(1, 1), (2, 2), (3, 3)])
    either(lambda: snap[5], 5)
    try:
        tx.commit()
    except shoal.Error:
        assert "from-tx" not in keep  # all or nothing
    else:
        assert keep["from-tx"] == 1
    assert store.spaces() == ["keep"]
    assert keep["k"] == "v"
    # The name can be reused at once, and starts empty.
    assert len(store.kv("doomed")) == 0
